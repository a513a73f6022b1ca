"""The template's real handlers, loaded in process exactly as the local stack loads them."""

from __future__ import annotations

from functools import cache
from types import ModuleType

from local.runtime import FunctionSpec, LocalLambdaContext, function_specs, load_handler_module
from local.template import load_template


@cache
def _specs() -> dict[str, FunctionSpec]:
    specs = function_specs(load_template(parameters={"ExchangeApiUrl": "https://exchange.invalid"}))
    # Tests name a function by logical id (CreateOrderFunction) or folder (create_order).
    return {**specs, **{spec.code_dir.name: spec for spec in specs.values()}}


def handler_module(function: str) -> ModuleType:
    return load_handler_module(_specs()[function])


def lambda_context(function: str) -> LocalLambdaContext:
    """A context whose remaining time counts down from the function's template timeout."""
    return LocalLambdaContext(_specs()[function], "us-east-1")
