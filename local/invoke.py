"""`python -m local.invoke FUNCTION -e events/x.json`: what `sam local invoke` does, without Docker.

Looks FUNCTION up in template.yaml (logical id such as CreateOrderFunction, or its folder name
such as create_order), gives it the environment the template declares (Globals + its own), runs
its handler in a worker process and prints the handler's result as JSON on stdout (logs go to
stderr). Exit status 0 on success, 1 when the handler raised (the Lambda error payload is printed).

Where it runs: against the running `make run` stack when there is one (its .local-state/stack.json
names the endpoints), so an invoke sees the same orders as the API. Otherwise it starts an
embedded world for this one call: moto (DynamoDB included) and the sandbox exchange in process,
provisioned from the template; about two seconds, nothing left running afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Self

from local.runtime import FunctionSpec, FunctionWorker, InvocationError, function_specs
from local.service import Service
from local.stack import (
    DEFAULT_STATE_DIR,
    FAKE_AWS,
    LocalStack,
    StackOptions,
    function_environment,
    read_state,
)


class FunctionNotFoundError(LookupError):
    """FUNCTION names no function of the template; the message lists the ones that exist."""


def find_function(template: Any, name: str) -> Any:
    functions = template.functions()
    for fn in functions:
        if name.lower() in (fn.logical_id.lower(), fn.code_dir.name.lower()):
            return fn
    known = ", ".join(f"{fn.logical_id} ({fn.code_dir.name})" for fn in functions)
    raise FunctionNotFoundError(f"no function {name!r} in template.yaml; there are: {known}")


def _running_stack(state_dir: Path) -> dict[str, Any] | None:
    state = read_state(state_dir)
    if state is None:
        return None
    try:
        urllib.request.urlopen(state["sandbox"] + "/api/v2/instruments/public", timeout=2).close()  # noqa: S310
    except (OSError, ValueError):
        return None  # a stale stack.json from a stack that was killed
    return state


class Invoker(Service):
    """Runs template functions against a running stack, or an embedded world it starts itself."""

    def __init__(
        self,
        state_dir: Path = DEFAULT_STATE_DIR,
        *,
        use_running_stack: bool = True,
        dynamodb_local: bool = False,
    ) -> None:
        """`dynamodb_local`: the embedded world's tables in DynamoDB Local (where Java and the jar
        are; moto stands in otherwise), which keeps connections open as DynamoDB does."""
        self._state_dir = state_dir
        self._use_running = use_running_stack
        self._dynamodb_local = dynamodb_local
        self._embedded: LocalStack | None = None
        self._workers: dict[str, FunctionWorker] = {}
        self.endpoints: dict[str, Any] = {}
        self.mode = ""

    def start(self) -> Self:
        os.environ.update(FAKE_AWS)
        running = _running_stack(self._state_dir) if self._use_running else None
        if running is not None:
            self.endpoints, self.mode = running, "running stack"
            return self
        options = StackOptions(
            api_port=0,
            sandbox_port=0,
            moto_port=0,
            dynamodb_port=0,
            dynamodb_local=self._dynamodb_local,
            state_dir=self._state_dir / "invoke",
            sandbox_step_seconds=0,
            prewarm=False,
        )
        self._embedded = LocalStack(options, out=sys.stderr, quiet=True).start()
        assert self._embedded.info is not None
        self.endpoints, self.mode = dict(vars(self._embedded.info)), "embedded moto + sandbox"
        return self

    def stop(self) -> None:
        for worker in self._workers.values():
            worker.stop()
        self._workers.clear()
        if self._embedded is not None:
            self._embedded.stop()
            self._embedded = None

    def invoke(self, function: str, event: dict[str, Any]) -> Any:
        """The handler's result; raises InvocationError when the handler fails."""
        spec = self.spec(function)
        worker = self._workers.get(spec.name)
        if worker is None:  # later invokes of the same function are warm, as on Lambda
            env = function_environment(spec, self.endpoints["moto"], self.endpoints["dynamodb"])
            worker = self._workers[spec.name] = FunctionWorker(spec, env, log_sink=sys.stderr)
        return worker.invoke(event)

    def spec(self, function: str) -> FunctionSpec:
        from local.template import load_template

        template = load_template(
            parameters={
                "Stage": "dev",
                "AuthMode": self.endpoints.get("auth_mode", "NONE"),
                "ExchangeApiUrl": self.endpoints["sandbox"],
            }
        )
        return function_specs(template)[find_function(template, function).logical_id]


def read_event(source: str) -> dict[str, Any]:
    text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    event = json.loads(text) if text.strip() else {}
    if not isinstance(event, dict):
        raise ValueError("the event must be a JSON object")
    return event


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.invoke", description=__doc__.splitlines()[0])
    parser.add_argument("function", help="logical id (CreateOrderFunction) or folder name (create_order)")
    parser.add_argument("-e", "--event", default="-", help="event JSON file, or - for stdin (default)")
    parser.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR)
    parser.add_argument(
        "--standalone", action="store_true", help="ignore a running stack; use an embedded world"
    )
    args = parser.parse_args(argv)
    try:
        event = read_event(args.event)
    except (OSError, ValueError) as exc:
        print(f"error: cannot read the event: {exc}", file=sys.stderr)
        return 2
    with Invoker(args.state_dir, use_running_stack=not args.standalone) as invoker:
        print(f"invoking {args.function} against the {invoker.mode}", file=sys.stderr)
        try:
            result = invoker.invoke(args.function, event)
        except FunctionNotFoundError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        except InvocationError as error:
            print(json.dumps(error.payload, indent=2))
            return 1
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
