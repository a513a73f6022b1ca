"""One correlation id per request, end to end: the API Gateway request id is on every log line of
the invocation (the exchange client's included), in the error the client gets, on the order item
the request wrote, and in the OrderStatusChanged event the request caused."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from cryptosdk.runtime.observability import logger
from tests.handlers import handler_module, lambda_context
from tests.integration.api.conftest import function_for, make_event, new_key, order_body


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """The Powertools logger's JSON output while the test runs (every level)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    std_logger = logging.getLogger(logger.name)
    std_logger.addHandler(handler)
    previous = std_logger.level
    std_logger.setLevel(logging.DEBUG)
    yield stream
    std_logger.setLevel(previous)
    std_logger.removeHandler(handler)


def invoke(method: str, path: str, **kwargs: Any) -> tuple[str, dict[str, Any]]:
    """Run the route's real handler; returns (the event's request id, the handler's answer)."""
    event = make_event(method, path, **kwargs)
    function = function_for(method, path)
    answer = handler_module(function).lambda_handler(event, lambda_context(function))
    return event["requestContext"]["requestId"], answer


def records(stream: io.StringIO) -> list[dict[str, Any]]:
    text = stream.getvalue()
    stream.seek(0)
    stream.truncate()
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_every_log_line_of_a_create_carries_the_request_id(app_env: Any, log_lines: io.StringIO) -> None:
    request_id, answer = invoke("POST", "/orders", body=order_body(), headers={"Idempotency-Key": new_key()})

    assert answer["statusCode"] == 201
    lines = records(log_lines)
    exchange_lines = [line for line in lines if line["message"].startswith("exchange call")]
    assert exchange_lines, "the exchange client logged nothing"
    assert {line.get("correlation_id") for line in lines} == {request_id}


def test_the_order_item_a_create_writes_names_its_request(app_env: Any) -> None:
    request_id, answer = invoke("POST", "/orders", body=order_body(), headers={"Idempotency-Key": new_key()})

    order_id = json.loads(answer["body"])["id"]
    item = app_env.table().get_item(Key={"id": order_id}, ConsistentRead=True)["Item"]
    assert item["correlationId"] == request_id


def test_the_error_a_client_gets_names_the_id_its_log_lines_carry(
    app_env: Any, log_lines: io.StringIO
) -> None:
    request_id, answer = invoke("GET", "/orders/ord_doesnotexist")

    assert answer["statusCode"] == 404
    assert json.loads(answer["body"])["error"]["requestId"] == request_id
    lines = records(log_lines)
    assert lines
    assert {line.get("correlation_id") for line in lines} == {request_id}


def test_ids_do_not_leak_from_one_invocation_to_the_next(app_env: Any, log_lines: io.StringIO) -> None:
    first, _ = invoke("GET", "/orders/ord_doesnotexist")
    records(log_lines)
    second, _ = invoke("GET", "/instruments")

    assert first != second
    assert {line.get("correlation_id") for line in records(log_lines)} == {second}


def test_a_refresh_stamps_its_request_on_the_item_and_the_event(app_env: Any, sandbox: Any) -> None:
    _, created = invoke("POST", "/orders", body=order_body(), headers={"Idempotency-Key": new_key()})
    order = json.loads(created["body"])
    url = f"{sandbox.url}/_sandbox/orders/{order['exchangeOrderId']}/events"
    requests.post(url, json={"kind": "INCOMING_FUNDS_DETECTED"}, timeout=5).raise_for_status()
    # The create's own event (pending_create -> awaiting_deposit) is already on the bus.
    seen = len(app_env.received_events())

    request_id, answer = invoke("POST", f"/orders/{order['id']}/refresh")

    assert answer["statusCode"] == 200
    assert json.loads(answer["body"])["status"] == "confirming"
    item = app_env.table().get_item(Key={"id": order["id"]}, ConsistentRead=True)["Item"]
    assert item["correlationId"] == request_id
    (event,) = [e for e in app_env.received_events()[seen:] if e["detail"]["orderId"] == order["id"]]
    assert event["detail"]["oldStatus"] == "awaiting_deposit"
    assert event["detail"]["newStatus"] == "confirming"
    assert event["detail"]["correlationId"] == request_id


def test_a_create_request_id_reaches_the_event_only_through_the_stream(app_env: Any) -> None:
    # request id -> order item -> the orders table's stream -> OrderEventsFunction -> event detail.
    request_id, answer = invoke("POST", "/orders", body=order_body(), headers={"Idempotency-Key": new_key()})

    assert answer["statusCode"] == 201
    order_id = json.loads(answer["body"])["id"]
    item = app_env.table().get_item(Key={"id": order_id}, ConsistentRead=True)["Item"]
    assert item["correlationId"] == request_id
    # The create itself published nothing: the event exists only once the stream is delivered.
    assert app_env.received_events(deliver=False) == []
    assert app_env.deliver_stream() >= 1
    (event,) = [e for e in app_env.received_events(deliver=False) if e["detail"]["orderId"] == order_id]
    detail = event["detail"]
    assert (detail["oldStatus"], detail["newStatus"]) == ("pending_create", "awaiting_deposit")
    assert detail["correlationId"] == request_id
    assert detail["eventId"] == f"{order_id}:{item['version']}"
    assert app_env.failure_queue_messages() == []
