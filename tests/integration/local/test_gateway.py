"""The local HTTP API: requests become payload 2.0 events for a real handler in a worker
process, and the handler's answers become HTTP, as API Gateway does."""

from __future__ import annotations

import base64
import json
import os
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from local.gateway import Gateway, GatewayServer, RouteTable
from local.runtime import FunctionPool, FunctionSpec
from local.template import Route

HANDLER = textwrap.dedent(
    """
    import base64, json, time

    def lambda_handler(event, context):
        path = event["rawPath"]
        if path == "/boom":
            raise RuntimeError("handler failed")
        if path == "/slow":
            time.sleep(5)
        if path == "/binary":
            return {"statusCode": 200, "isBase64Encoded": True,
                    "headers": {"content-type": "application/octet-stream"},
                    "body": base64.b64encode(b"\\x00\\xff").decode()}
        if path == "/plain":
            return {"hello": "world"}
        return {"statusCode": 201, "headers": {"x-echo": "yes"}, "cookies": ["a=1", "b=2"],
                "body": json.dumps({"event": event, "remaining": context.get_remaining_time_in_millis()})}
    """
)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[str]]]:
    code_dir: Path = tmp_path_factory.mktemp("echo_function")
    (code_dir / "app.py").write_text(HANDLER)
    spec = FunctionSpec("EchoFunction", code_dir, "app.lambda_handler", timeout_seconds=2)
    slow = FunctionSpec("SlowFunction", code_dir, "app.lambda_handler", timeout_seconds=1)
    pool = FunctionPool({"EchoFunction": spec, "SlowFunction": slow}, lambda _spec: dict(os.environ))
    routes = [
        Route("GET", "/orders/{orderId}", "EchoFunction"),
        Route("POST", "/orders/{orderId}/refresh", "EchoFunction"),
        Route("POST", "/upload", "EchoFunction"),
        Route("GET", "/boom", "EchoFunction"),
        Route("GET", "/binary", "EchoFunction"),
        Route("GET", "/plain", "EchoFunction"),
        Route("GET", "/slow", "SlowFunction"),
    ]
    log: list[str] = []
    with GatewayServer(Gateway(routes, pool.invoke, request_log=log.append)) as server:
        yield server.url, log
    pool.stop()


def test_a_request_becomes_a_payload_2_event(api: tuple[str, list[str]]) -> None:
    url, _ = api
    response = requests.get(
        f"{url}/orders/ord%201?limit=5&tag=a&tag=b",
        headers={"X-Custom": "Value", "Cookie": "session=abc; theme=dark"},
        timeout=10,
    )
    assert response.status_code == 201
    event = response.json()["event"]
    assert event["version"] == "2.0"
    assert event["routeKey"] == "GET /orders/{orderId}"
    assert event["rawPath"] == "/orders/ord%201"
    assert event["rawQueryString"] == "limit=5&tag=a&tag=b"
    assert event["queryStringParameters"] == {"limit": "5", "tag": "a,b"}
    assert event["pathParameters"] == {"orderId": "ord 1"}
    assert event["headers"]["x-custom"] == "Value"
    assert "cookie" not in event["headers"]
    assert event["cookies"] == ["session=abc", "theme=dark"]
    context = event["requestContext"]
    assert context["http"]["method"] == "GET"
    assert context["http"]["sourceIp"] == "127.0.0.1"
    assert context["stage"] == "$default"
    assert context["routeKey"] == "GET /orders/{orderId}"
    assert "authorizer" not in context  # auth mode NONE
    assert event["isBase64Encoded"] is False
    assert "body" not in event
    assert 0 < response.json()["remaining"] <= 2000


def test_the_handlers_answer_becomes_http(api: tuple[str, list[str]]) -> None:
    url, _ = api
    response = requests.post(f"{url}/orders/x/refresh", json={"a": 1}, timeout=10)
    assert response.status_code == 201
    assert response.headers["x-echo"] == "yes"
    assert response.headers["apigw-requestid"]
    assert response.raw.headers.getlist("set-cookie") == ["a=1", "b=2"]
    assert response.json()["event"]["body"] == '{"a": 1}'


def test_binary_bodies_travel_base64_both_ways(api: tuple[str, list[str]]) -> None:
    url, _ = api
    upload = requests.post(
        f"{url}/upload",
        data=b"\x00\x01\xfe",
        headers={"content-type": "application/octet-stream"},
        timeout=10,
    )
    event = upload.json()["event"]
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\x00\x01\xfe"
    binary = requests.get(f"{url}/binary", timeout=10)
    assert binary.content == b"\x00\xff"


def test_a_result_without_status_code_is_a_200_json_body(api: tuple[str, list[str]]) -> None:
    url, _ = api
    response = requests.get(f"{url}/plain", timeout=10)
    assert response.status_code == 200
    assert response.json() == {"hello": "world"}


def test_undeclared_routes_and_methods_get_404(api: tuple[str, list[str]]) -> None:
    url, _ = api
    assert requests.get(f"{url}/nope", timeout=10).json() == {"message": "Not Found"}
    assert requests.delete(f"{url}/orders/1", timeout=10).status_code == 404
    for method in ("TRACE", "QUERY"):
        answer = requests.request(method, f"{url}/orders", timeout=10)
        assert answer.status_code == 404
        assert answer.json() == {"message": "Not Found"}


def test_a_failing_handler_is_a_500_and_the_worker_survives(api: tuple[str, list[str]]) -> None:
    url, _ = api
    failed = requests.get(f"{url}/boom", timeout=10)
    assert failed.status_code == 500
    assert failed.json() == {"message": "Internal Server Error"}
    assert "handler failed" not in failed.text
    assert requests.get(f"{url}/plain", timeout=10).status_code == 200


def test_a_handler_past_its_timeout_is_a_503_and_is_replaced(api: tuple[str, list[str]]) -> None:
    url, _ = api
    assert requests.get(f"{url}/slow", timeout=20).status_code == 503


def test_the_request_log_has_no_query_strings_or_headers(api: tuple[str, list[str]]) -> None:
    url, log = api
    requests.get(f"{url}/orders/abc?secret=s3cr3t", headers={"Authorization": "Bearer t0k3n"}, timeout=10)
    line = _logged(log, "/orders/abc")
    assert line.startswith("GET /orders/abc 201 ")
    assert line.endswith("ms")
    assert "s3cr3t" not in "".join(log)
    assert "t0k3n" not in "".join(log)


def _logged(log: list[str], fragment: str) -> str:
    # The line is written just after the answer is sent: the client can read the answer first.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        found = [entry for entry in log if fragment in entry]
        if found:
            return found[-1]
        time.sleep(0.01)
    raise AssertionError(f"no request log line with {fragment!r} in {log}")


def test_control_bytes_in_a_path_are_escaped_in_the_request_log(api: tuple[str, list[str]]) -> None:
    import socket
    from urllib.parse import urlsplit

    url, log = api
    parts = urlsplit(url)
    # A raw request line: requests would percent-encode these bytes before they reached the gateway.
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as conn:
        conn.sendall(b"GET /orders/a\x01b\x1b[2Jc\x7f HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        while conn.recv(65536):
            pass
    line = _logged(log, "GET /orders/a")
    assert line.startswith("GET /orders/a\\x01b\\x1b[2Jc\\x7f ")
    assert not any(ord(char) < 0x20 or 0x7F <= ord(char) <= 0x9F for char in line)


def test_literal_paths_win_over_parameters() -> None:
    table = RouteTable([Route("GET", "/orders/{orderId}", "A"), Route("GET", "/orders/latest", "B")])
    match = table.match("GET", "/orders/latest")
    assert match is not None
    assert match.route.function == "B"
    other = table.match("GET", "/orders/42")
    assert other is not None
    assert other.path_parameters == {"orderId": "42"}
    assert table.match("GET", "/orders/42/extra") is None


def test_iam_mode_refuses_unsigned_requests() -> None:
    gateway = Gateway([Route("GET", "/x", "F")], lambda _name, event: json.dumps(event), auth_mode="IAM")
    with GatewayServer(gateway) as server:
        refused = requests.get(f"{server.url}/x", timeout=10)
        signed = requests.get(
            f"{server.url}/x", headers={"Authorization": "AWS4-HMAC-SHA256 Credential=x"}, timeout=10
        )
    assert refused.status_code == 403
    assert signed.status_code == 200
    assert "iam" in signed.json()["requestContext"]["authorizer"]
