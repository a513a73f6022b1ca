"""`make run` options for concurrency, and how the gateway answers a throttled function."""

from __future__ import annotations

from typing import Any

import pytest

from local.gateway import Gateway, IncomingRequest
from local.runtime import DEFAULT_CONCURRENCY, InvocationError
from local.stack import parse_args
from local.template import Route


def test_functions_run_four_workers_unless_told_otherwise() -> None:
    assert DEFAULT_CONCURRENCY >= 4
    assert parse_args([]).concurrency == DEFAULT_CONCURRENCY
    assert parse_args(["--concurrency", "8"]).concurrency == 8


@pytest.mark.parametrize("value", ["0", "-2"])
def test_a_concurrency_below_one_is_refused(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        parse_args(["--concurrency", value])
    assert exited.value.code == 2
    assert "--concurrency must be at least 1" in capsys.readouterr().err


def test_a_throttled_function_is_api_gateways_500() -> None:
    def throttled(_name: str, _event: dict[str, Any]) -> Any:
        payload = {"errorType": "TooManyRequestsException", "errorMessage": "all 4 workers stayed busy"}
        raise InvocationError(payload)

    gateway = Gateway([Route("POST", "/orders", "CreateOrderFunction")], throttled)
    request = IncomingRequest("POST", "/orders", "", [], b"{}", "127.0.0.1", "HTTP/1.1")

    answer = gateway.handle(request)

    assert answer.status == 500
    assert answer.body == b'{"message": "Internal Server Error"}'
