"""The env-vars file `make run` writes for the real `sam local invoke/start-api`: it covers every
variable each function declares in template.yaml, names the stack's own resources, and points
every SDK at the local stack, never at real AWS."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from local.sam_env import CONTAINER_HOST, FILE_NAME, container_url, sam_env_vars
from local.stack import LocalStack, StackOptions
from local.template import load_template


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalStack, Path]]:
    state_dir = tmp_path_factory.mktemp("sam-env-state")
    options = StackOptions(
        api_port=0,
        sandbox_port=0,
        moto_port=0,
        dynamodb_port=0,
        dynamodb_local=False,
        state_dir=state_dir,
        prewarm=False,
        serve_api=False,
        run_schedules=False,
    )
    with LocalStack(options, quiet=True) as running:
        yield running, state_dir


def test_the_file_covers_every_function_and_every_variable_it_declares(stack: tuple[Any, Path]) -> None:
    running, state_dir = stack
    files = json.loads((state_dir / FILE_NAME).read_text())
    template = load_template(parameters={"ExchangeApiUrl": "https://exchange.example.com"})
    declared = {fn.logical_id: set(fn.environment) for fn in template.functions()}
    assert set(files) == set(declared)
    for function, variables in files.items():
        assert set(variables) == declared[function], function
        # The stack's own resources, not the logical ids sam local would otherwise pass.
        assert variables["ORDERS_TABLE"] == running.info.orders_table
        assert variables["EVENT_BUS_NAME"] == running.info.event_bus
        assert variables["ORDERS_TABLE"] != "OrdersTable"


def test_every_sdk_points_at_the_running_stack_from_a_container(stack: tuple[Any, Path]) -> None:
    running, state_dir = stack
    files = json.loads((state_dir / FILE_NAME).read_text())
    info = running.info
    expected = {
        "AWS_ENDPOINT_URL": info.moto,
        "AWS_ENDPOINT_URL_DYNAMODB": info.dynamodb,
        "EXCHANGE_API_URL": info.sandbox,
    }
    for variables in files.values():
        for name, local_url in expected.items():
            url = urlsplit(variables[name])
            assert url.hostname == CONTAINER_HOST, name
            assert url.port == urlsplit(local_url).port, name
            # The port really is the stack's: something listens there now.
            with socket.create_connection(("127.0.0.1", url.port), timeout=5):
                pass
        assert not any("amazonaws.com" in value for value in variables.values())


def test_a_function_declaring_no_endpoint_variable_is_refused() -> None:
    from local.runtime import FunctionSpec

    spec = FunctionSpec(name="Bare", code_dir=Path("."), handler="app.lambda_handler", environment={"A": "1"})
    endpoints = {
        "moto": "http://127.0.0.1:1",
        "dynamodb": "http://127.0.0.1:2",
        "sandbox": "http://127.0.0.1:3",
    }
    with pytest.raises(ValueError, match="AWS_ENDPOINT_URL"):
        sam_env_vars({"Bare": spec}, endpoints)


def test_container_url_keeps_scheme_port_and_path() -> None:
    assert container_url("http://127.0.0.1:5000") == f"http://{CONTAINER_HOST}:5000"
    assert container_url("http://127.0.0.1:8081/api", "172.17.0.1") == "http://172.17.0.1:8081/api"
