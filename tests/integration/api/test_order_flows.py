"""Idempotency, crash recovery, JWT isolation and secrecy, through the real handlers."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError

from tests.integration.api.conftest import Call, new_key, order_body, wait_for_intent


def orders_in_table(aws: Any) -> list[dict[str, Any]]:
    return [i for i in aws.table().scan()["Items"] if i["id"].startswith("ord_")]


# -- idempotency ------------------------------------------------------------------------------


def test_same_key_same_body_returns_the_same_order(api: Call, aws: Any) -> None:
    key = new_key()
    first = api("POST", "/orders", body=order_body(), headers={"Idempotency-Key": key})
    again = api("POST", "/orders", body=order_body(), headers={"Idempotency-Key": key})
    assert first.status == 201
    assert again.status == 201
    assert again.json["id"] == first.json["id"]
    assert again.json["exchangeOrderId"] == first.json["exchangeOrderId"]
    assert len(orders_in_table(aws)) == 1


def test_same_key_different_body_is_refused(api: Call, aws: Any) -> None:
    key = new_key()
    assert api("POST", "/orders", body=order_body(), headers={"Idempotency-Key": key}).status == 201
    other = api("POST", "/orders", body=order_body(amount="0.06"), headers={"Idempotency-Key": key})
    assert other.status == 422
    assert other.json["error"]["code"] == "idempotency_key_reused"
    assert len(orders_in_table(aws)) == 1


def _forget_idempotency_records(aws: Any) -> None:
    """Whatever the idempotency table holds is gone (records expire): the orders table decides."""
    table = aws.table(aws.idempotency_table)
    for item in table.scan()["Items"]:
        table.delete_item(Key={"id": item["id"]})


def test_a_retry_after_the_idempotency_record_is_gone_never_creates_twice(
    api: Call, aws: Any, sandbox: Any
) -> None:
    key = new_key()
    first = api("POST", "/orders", body=order_body(amount="0.0301"), headers={"Idempotency-Key": key})
    _forget_idempotency_records(aws)

    again = api("POST", "/orders", body=order_body(amount="0.0301"), headers={"Idempotency-Key": key})
    other = api("POST", "/orders", body=order_body(amount="0.0302"), headers={"Idempotency-Key": key})

    assert (first.status, again.status) == (201, 201)
    assert again.json["id"] == first.json["id"]
    assert other.status == 422
    assert other.json["error"]["code"] == "idempotency_key_reused"
    assert len(orders_in_table(aws)) == 1
    stats = requests.get(f"{sandbox.url}/_sandbox/stats", timeout=5).json()
    assert stats["requests"]["/api/v2/orders/public/create"] == 1


def test_a_key_whose_order_the_exchange_refused_keeps_that_answer(api: Call, aws: Any, faults: Any) -> None:
    # One key, one outcome (Stripe's rule): the refusal is final for that key; a new key is a new order.
    key = new_key()
    faults(endpoint="/api/v2/orders/public/create", kind="424", count=1)
    refused = api("POST", "/orders", body=order_body(), headers={"Idempotency-Key": key})

    retried = api("POST", "/orders", body=order_body(), headers={"Idempotency-Key": key})
    again = api("POST", "/orders", body=order_body(), headers={"Idempotency-Key": key})
    fresh = api("POST", "/orders", body=order_body(), headers={"Idempotency-Key": new_key()})

    assert refused.status == retried.status == again.status == 424
    first, second = refused.json["error"], retried.json["error"]
    assert first["code"] == "dependency_failed"
    assert {k: v for k, v in first.items() if k != "requestId"} == {
        k: v for k, v in second.items() if k != "requestId"
    }
    assert again.json["error"]["orderId"] == first["orderId"]
    assert "new Idempotency-Key" in first["message"]
    assert refused.headers.get("Retry-After") == retried.headers.get("Retry-After")
    assert fresh.status == 201
    assert fresh.json["id"] != first["orderId"]
    stored = {item["id"]: item for item in orders_in_table(aws)}
    failed = stored[first["orderId"]]
    assert failed["status"] == "failed"
    assert [h["status"] for h in failed["statusHistory"]] == ["pending_create", "failed"]
    assert [h["cause"] for h in failed["statusHistory"]] == ["request", "refusal"]
    assert int(failed["version"]) == 2  # the retries wrote nothing


def test_keys_are_scoped_per_user(api: Call, aws: Any) -> None:
    key = new_key()
    a = api("POST", "/orders", body=order_body(userId="alice"), headers={"Idempotency-Key": key})
    b = api("POST", "/orders", body=order_body(userId="bob"), headers={"Idempotency-Key": key})
    assert (a.status, b.status) == (201, 201)
    assert a.json["id"] != b.json["id"]


def test_a_refused_request_does_not_burn_its_key(api: Call) -> None:
    key = new_key()
    bad = api("POST", "/orders", body=order_body(amount="0.00001"), headers={"Idempotency-Key": key})
    assert bad.status == 422
    fixed = api("POST", "/orders", body=order_body(), headers={"Idempotency-Key": key})
    assert fixed.status == 201


def test_concurrent_duplicate_gets_409(api: Call, aws: Any, faults: Any) -> None:
    # The first request sits in the upstream create for a while; the duplicate arrives meanwhile.
    faults(endpoint="/api/v2/orders/public/create", kind="latency", latencyMs=1500, count=1)
    key = new_key()
    answers: dict[str, Any] = {}

    def send(name: str) -> None:
        answers[name] = api("POST", "/orders", body=order_body(), headers={"Idempotency-Key": key})

    first = threading.Thread(target=send, args=("first",))
    first.start()
    wait_for_intent()
    send("second")
    first.join()
    assert answers["first"].status == 201
    assert answers["second"].status == 409
    assert answers["second"].json["error"]["code"] == "request_in_progress"
    assert "Retry-After" in answers["second"].headers
    assert len(orders_in_table(aws)) == 1


# -- crash recovery ---------------------------------------------------------------------------


def fail_order_updates(table_name: str) -> None:
    """Make DynamoDB refuse UpdateItem on the orders table for clients built from now on."""

    def refuse(params: dict[str, Any], **_: Any) -> None:
        if params.get("TableName") == table_name:
            raise ClientError(
                {"Error": {"Code": "InternalServerError", "Message": "simulated outage"}}, "UpdateItem"
            )

    from cryptosdk.runtime.aws_sdk import reset_session, session

    reset_session()
    session().register("provide-client-params.dynamodb.UpdateItem", refuse)


def test_crash_between_create_and_store_leaves_a_reconcilable_intent(api: Call, aws: Any) -> None:
    # A unique amount so the search cannot confuse this order with an earlier test's.
    from cryptosdk.container import container
    from cryptosdk.orders.reconcile import find_matching_order, upstream_request
    from cryptosdk.storage.items import item_to_order

    fail_order_updates(aws.orders_table)
    key = new_key()
    try:
        answer = api("POST", "/orders", body=order_body(amount="0.0421"), headers={"Idempotency-Key": key})
        assert answer.status == 202, answer.text
        assert answer.json["status"] == "pending_create"
        assert answer.json["exchangeOrderId"] is None
        # A retry with the same key must not create a second upstream order.
        again = api("POST", "/orders", body=order_body(amount="0.0421"), headers={"Idempotency-Key": key})
        assert again.status == 202
        assert again.json["id"] == answer.json["id"]
    finally:
        from cryptosdk.runtime.aws_sdk import reset_session

        reset_session()

    [item] = orders_in_table(aws)
    assert item["status"] == "pending_create"
    schedule = aws.table().get_item(Key={"id": f"poll#{item['id']}"})["Item"]
    assert schedule["pollShard"]
    assert schedule["nextPollAt"]
    intent = item_to_order(item)
    upstream = container().exchange.list_orders(limit=20)
    since = intent.created_at - timedelta(seconds=1)
    match = find_matching_order(upstream, upstream_request(intent), since=since)
    assert match is not None
    assert match.destination_address == intent.destination.address


def test_a_pending_intent_without_its_answer_is_in_flight_until_the_window_passes(
    api: Call, aws: Any, sandbox: Any
) -> None:
    # What a killed invocation leaves: the intent, pending_create, and no recorded answer.
    fail_order_updates(aws.orders_table)
    key = new_key()
    body = order_body(amount="0.0433")
    try:
        first = api("POST", "/orders", body=body, headers={"Idempotency-Key": key})
        assert first.status == 202, first.text
        _forget_idempotency_records(aws)
        running = api("POST", "/orders", body=body, headers={"Idempotency-Key": key})
    finally:
        from cryptosdk.runtime.aws_sdk import reset_session

        reset_session()
    # The first request's deadline has passed (the window is the function's timeout, 25 s).
    aws.table().update_item(
        Key={"id": first.json["id"]},
        UpdateExpression="SET createdAt = :t",
        ExpressionAttributeValues={":t": "2020-01-01T00:00:00.000000Z"},
    )
    settled = api("POST", "/orders", body=body, headers={"Idempotency-Key": key})

    assert running.status == 409
    assert running.json["error"]["code"] == "request_in_progress"
    assert settled.status == 202
    assert settled.json["id"] == first.json["id"]
    assert len(orders_in_table(aws)) == 1
    stats = requests.get(f"{sandbox.url}/_sandbox/stats", timeout=5).json()
    assert stats["requests"]["/api/v2/orders/public/create"] == 1


def test_a_create_whose_answer_is_lost_is_found_by_the_request_itself(
    api: Call, aws: Any, sandbox: Any, faults: Any
) -> None:
    # The exchange makes the order, then the connection drops: the client reports the outcome
    # unknown, and the create service finds the order in one list read instead of leaving it pending.
    faults(endpoint="/api/v2/orders/public/create", kind="drop-after", count=1)
    answer = api("POST", "/orders", body=order_body(amount="0.0513"), headers={"Idempotency-Key": new_key()})

    assert answer.status == 201, answer.text
    assert answer.json["status"] == "awaiting_deposit"
    [item] = orders_in_table(aws)
    assert item["exchangeOrderId"] == answer.json["exchangeOrderId"]
    stats = requests.get(f"{sandbox.url}/_sandbox/stats", timeout=5).json()
    assert stats["requests"]["/api/v2/orders/public/create"] == 1
    assert stats["requests"]["/api/v2/orders"] == 1


def test_unknown_create_outcome_answers_202_and_keeps_the_intent(api: Call, aws: Any, faults: Any) -> None:
    # The create is lost on the wire and the order list cannot be read to find out what happened.
    faults(endpoint="/api/v2/orders/public/create", kind="drop", count=1)
    faults(endpoint="/api/v2/orders", kind="503")
    answer = api("POST", "/orders", body=order_body(amount="0.0512"), headers={"Idempotency-Key": new_key()})
    assert answer.status == 202, answer.text
    [item] = orders_in_table(aws)
    assert item["status"] == "pending_create"
    assert item["id"] == answer.json["id"]
    assert "nextPollAt" in aws.table().get_item(Key={"id": f"poll#{item['id']}"})["Item"]


# -- manual refresh -----------------------------------------------------------------------------


def test_refresh_pulls_the_exchange_state_now(api: Call, sandbox: Any) -> None:
    import requests

    created = api("POST", "/orders", body=order_body(), headers={"Idempotency-Key": new_key()}).json
    exchange_id = created["exchangeOrderId"]
    pushed = requests.post(
        f"{sandbox.url}/_sandbox/orders/{exchange_id}/events",
        json={"kind": "INCOMING_FUNDS_DETECTED"},
        timeout=5,
    )
    assert pushed.status_code < 300, pushed.text
    refreshed = api("POST", f"/orders/{created['id']}/refresh")
    assert refreshed.status == 200, refreshed.text
    assert refreshed.json["status"] == "confirming"
    assert [h["status"] for h in refreshed.json["statusHistory"]][-1] == "confirming"
    assert api("GET", f"/orders/{created['id']}").json["status"] == "confirming"
    assert api("POST", "/orders/ord_unknown/refresh").status == 404


# -- JWT mode ---------------------------------------------------------------------------------


@pytest.mark.usefixtures("jwt_mode")
def test_jwt_users_see_only_their_own_orders(api: Call) -> None:
    alice = {"sub": "alice"}
    bob = {"sub": "bob"}
    # The body's userId is ignored: the token names the user.
    created = api(
        "POST", "/orders", body=order_body(userId="bob"), headers={"Idempotency-Key": new_key()}, claims=alice
    )
    assert created.status == 201, created.text
    assert created.json["userId"] == "alice"
    order_id = created.json["id"]

    assert api("GET", f"/orders/{order_id}", claims=alice).status == 200
    assert api("GET", f"/orders/{order_id}", claims=bob).status == 404
    assert api("POST", f"/orders/{order_id}/refresh", claims=bob).status == 404
    assert api("GET", "/orders", query={"userId": "alice"}, claims=bob).status == 403
    assert api("GET", "/orders", claims=bob).json["orders"] == []
    assert [o["id"] for o in api("GET", "/orders", claims=alice).json["orders"]] == [order_id]


@pytest.mark.usefixtures("jwt_mode")
def test_jwt_without_subject_is_401(api: Call) -> None:
    answer = api("GET", "/orders", claims={"aud": "x"})
    assert answer.status == 401
    assert answer.json["error"]["code"] == "unauthenticated"


# -- secrecy ----------------------------------------------------------------------------------


BEARER = "caller-token-do-not-log-7f3a"


def test_no_response_or_log_contains_the_secret_or_a_signature(
    api: Call, sandbox: Any, faults: Any, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    answers = [
        api(
            "POST",
            "/orders",
            body=order_body(),
            headers={"Idempotency-Key": new_key(), "Authorization": f"Bearer {BEARER}"},
        ),
        api("POST", "/addresses/validate", body={"currency": "ETH", "network": "ERC20", "address": "0x12"}),
    ]
    faults(endpoint="/api/v2/orders/public/create", kind="424")
    answers.append(
        api("POST", "/orders", body=order_body(amount="0.07"), headers={"Idempotency-Key": new_key()})
    )
    out = capsys.readouterr()
    everything = "\n".join([out.out, out.err, caplog.text, *(a.text + str(a.headers) for a in answers)])
    secret = sandbox.keys["secretKey"]
    assert secret
    assert secret not in everything
    assert "x-api-signature" not in everything.lower()
    assert BEARER not in everything
    assert "Traceback" not in "".join(a.text for a in answers)


# -- round trips of a fresh create ----------------------------------------------------------------


def test_a_fresh_create_answers_what_it_stored_without_reading_it_back(api: Call) -> None:
    calls: list[str] = []

    def count(event_name: str, **_: Any) -> None:
        calls.append(event_name.rsplit(".", 1)[-1])

    # Clients copy their session's handlers when created; every client here is created after this.
    from cryptosdk.runtime.aws_sdk import session

    session().register("before-call.dynamodb", count)
    try:
        assert api("GET", "/instruments").status == 200  # the catalogue in memory, as when warm
        calls.clear()
        created = api("POST", "/orders", body=order_body(), headers={"Idempotency-Key": new_key()})
    finally:
        session().unregister("before-call.dynamodb", count)

    assert created.status == 201
    # The replay check by intent id (get, before anything is sent), the poll schedule and the
    # intent (conditional puts: the key's only lock), its completion (update; the schedule, due at
    # once, needs no write): the answer comes from the completed order itself.
    assert sorted(calls) == ["GetItem", "PutItem", "PutItem", "UpdateItem"], calls
    stored = api("GET", f"/orders/{created.json['id']}")
    assert stored.json == created.json


def test_the_quote_runs_beside_the_address_check(api: Call, faults: Any) -> None:
    body = order_body()
    del body["refund"]

    def create() -> float:
        started = time.monotonic()
        answer = api("POST", "/orders", body=body, headers={"Idempotency-Key": new_key()})
        assert answer.status == 201
        return time.monotonic() - started

    create()  # warm: catalogue, clients and keys in memory
    plain = create()
    delay = 2.0
    for endpoint in ("/api/v2/rates/public/one", "/api/v2/instruments/public/validate-address"):
        faults(endpoint=endpoint, kind="latency", latencyMs=int(delay * 1000), count=1)
    added = create() - plain

    # At once, the two delays add one delay; one after the other they would add two.
    assert added < 1.5 * delay, f"{added:.2f} s added: the quote and the address check ran in turn"
