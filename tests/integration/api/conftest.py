"""Run the HTTP handlers in process: payload 2.0 events in, moto for AWS, the sandbox over HTTP."""

from __future__ import annotations

import base64
import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import requests

from tests.handlers import handler_module, lambda_context

ROOT = Path(__file__).resolve().parents[3]
FUNCTIONS = ("instruments", "create_order", "orders")

BTC_ADDRESS = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
ETH_ADDRESS = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
XRP_ADDRESS = "rHb9CJAWyB4rj91VRWn96DkukG4bwdtyTh"


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    text: str

    @property
    def json(self) -> Any:
        return json.loads(self.text)

    def field_reasons(self) -> dict[str, str]:
        return {f["field"]: f["reason"] for f in self.json["error"].get("fields") or []}


ROUTE_FUNCTION = {
    ("GET", "/instruments"): "instruments",
    ("GET", "/rates"): "instruments",
    ("POST", "/addresses/validate"): "create_order",
    ("POST", "/orders"): "create_order",
    ("GET", "/orders"): "orders",
}


def function_for(method: str, path: str) -> str:
    if (method, path) in ROUTE_FUNCTION:
        return ROUTE_FUNCTION[(method, path)]
    return "orders"


def make_event(
    method: str,
    path: str,
    *,
    body: Any = None,
    raw_body: bytes | str | None = None,
    base64_body: bool = False,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    claims: dict[str, str] | None = None,
) -> dict[str, Any]:
    all_headers = {"accept": "application/json", "host": "api.test"}
    if body is not None or raw_body is not None:
        all_headers["content-type"] = "application/json"
    all_headers.update({k.lower(): v for k, v in (headers or {}).items()})
    text: str | None = None
    if body is not None:
        text = json.dumps(body)
    elif isinstance(raw_body, bytes):
        text = base64.b64encode(raw_body).decode() if base64_body else raw_body.decode("latin-1")
    elif raw_body is not None:
        text = raw_body
    route_path = path
    if path.startswith("/orders/"):
        route_path = "/orders/{orderId}/refresh" if path.endswith("/refresh") else "/orders/{orderId}"
    request_context: dict[str, Any] = {
        "accountId": "123456789012",
        "apiId": "api",
        "domainName": "api.test",
        "http": {
            "method": method,
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": "127.0.0.1",
            "userAgent": "t",
        },
        "requestId": f"req-{uuid.uuid4().hex[:12]}",
        "routeKey": f"{method} {route_path}",
        "stage": "$default",
        "time": "01/Mar/2026:12:00:00 +0000",
        "timeEpoch": 1772366400000,
    }
    if claims is not None:
        request_context["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": f"{method} {route_path}",
        "rawPath": path,
        "rawQueryString": urlencode(query or {}),
        "headers": all_headers,
        "requestContext": request_context,
        "isBase64Encoded": base64_body,
    }
    if query:
        event["queryStringParameters"] = dict(query)
    if path.startswith("/orders/"):
        event["pathParameters"] = {"orderId": path.split("/")[2]}
    if text is not None:
        event["body"] = text
    return event


Call = Callable[..., Answer]


@pytest.fixture(autouse=True)
def _fresh_layer_caches() -> Iterator[None]:
    from cryptosdk.container import reset_container

    reset_container()
    yield
    reset_container()


@pytest.fixture
def api(app_env: Any, monkeypatch: pytest.MonkeyPatch) -> Call:
    """Call a route as API Gateway would: `api("POST", "/orders", body=..., headers=...)`."""
    monkeypatch.setenv("AUTH_MODE", "IAM")

    def call(method: str, path: str, **kwargs: Any) -> Answer:
        function = function_for(method, path)
        result = handler_module(function).lambda_handler(
            make_event(method, path, **kwargs), lambda_context(function)
        )
        headers = {str(k): str(v) for k, v in (result.get("headers") or {}).items()}
        return Answer(result["statusCode"], headers, result.get("body") or "")

    return call


@pytest.fixture
def jwt_mode(api: Call, monkeypatch: pytest.MonkeyPatch) -> None:
    from cryptosdk.container import reset_container

    monkeypatch.setenv("AUTH_MODE", "JWT")
    reset_container()


@pytest.fixture
def faults(sandbox: Any) -> Callable[..., None]:
    def add(**spec: Any) -> None:
        response = requests.post(f"{sandbox.url}/_sandbox/faults", json=spec, timeout=5)
        response.raise_for_status()

    return add


def order_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "from": {"currency": "BTC", "network": "BTC"},
        "to": {"currency": "ETH", "network": "ERC20"},
        "amount": "0.05",
        "rateMode": "FLOATING",
        "destination": {"address": ETH_ADDRESS},
        "refund": {"address": BTC_ADDRESS},
        "userId": "user-1",
        "sessionId": "session-1",
        "externalRef": "cart-1",
    }
    body.update(overrides)
    return body


def new_key() -> str:
    return str(uuid.uuid4())


def wait_for_intent(timeout: float = 10.0) -> None:
    """Until a create holds its key and has written its intent, so it is inside the exchange call.

    Polled with a deadline instead of a fixed sleep: a slow machine waits longer, a fast one less.
    The orders table is the one the `aws` fixture provisioned and named in ORDERS_TABLE."""
    import boto3

    table = boto3.resource("dynamodb").Table(os.environ["ORDERS_TABLE"])
    deadline = time.monotonic() + timeout
    while not any(item["id"].startswith("ord_") for item in table.scan()["Items"]):
        assert time.monotonic() < deadline, "the first create never wrote its intent"
        time.sleep(0.02)
