"""Each route's success and each error class, through the real handlers, moto and the sandbox."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import requests

from tests.integration.api.conftest import (
    ETH_ADDRESS,
    XRP_ADDRESS,
    Call,
    new_key,
    order_body,
)

RATE_QUERY = {"from": "BTC", "fromNetwork": "BTC", "to": "ETH", "toNetwork": "ERC20", "amount": "0.05"}


def create(api: Call, **overrides: Any) -> Any:
    return api("POST", "/orders", body=order_body(**overrides), headers={"Idempotency-Key": new_key()})


def assert_error_shape(answer: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert answer.status == status, answer.text
    error = answer.json["error"]
    assert set(error) <= {"code", "message", "fields", "orderId", "requestId"}
    assert error["requestId"]
    assert error["message"]
    if code:
        assert error["code"] == code
    assert "Traceback" not in answer.text
    return dict(error)


# -- success ----------------------------------------------------------------------------------


def test_instruments_lists_the_catalogue_and_filters_by_kind(api: Call) -> None:
    everything = api("GET", "/instruments").json["instruments"]
    fiat = api("GET", "/instruments", query={"kind": "fiat"}).json["instruments"]
    assert fiat
    assert {i["kind"] for i in fiat} == {"fiat"}
    assert len(fiat) < len(everything)
    xrp = next(i for i in everything if i["currency"] == "XRP" and i["network"] == "XRP")
    assert xrp["requiresMemo"] is True


def test_instruments_cost_one_upstream_call_per_cache_period(api: Call, sandbox: Any) -> None:
    from cryptosdk.container import container

    requests.delete(f"{sandbox.url}/_sandbox/stats", timeout=5)
    for _ in range(3):
        assert api("GET", "/instruments").status == 200
        container().instruments.forget()  # a new container: memory empty, the shared item still warm
    stats = requests.get(f"{sandbox.url}/_sandbox/stats", timeout=5).json()
    assert stats["requests"]["/api/v2/instruments/public"] == 1


def test_instruments_rejects_an_unknown_kind(api: Call) -> None:
    error = assert_error_shape(api("GET", "/instruments", query={"kind": "stock"}), 422, "validation_failed")
    assert "kind" in {f["field"] for f in error["fields"]}


def test_rates_quote_has_amounts_as_strings_and_limits(api: Call) -> None:
    answer = api("GET", "/rates", query=RATE_QUERY)
    assert answer.status == 200
    quote = answer.json
    assert Decimal(quote["amountToReceive"]) > 0
    assert Decimal(quote["min"]) < Decimal("0.05") < Decimal(quote["max"])
    assert all(isinstance(quote[k], str) for k in ("amountToReceive", "rate", "min"))


def test_rates_allow_fiat_as_the_to_side(api: Call) -> None:
    answer = api("GET", "/rates", query={**RATE_QUERY, "to": "USD", "toNetwork": "USD"})
    assert answer.status == 200, answer.text


def test_rates_amount_outside_limits_is_a_field_error(api: Call) -> None:
    error = assert_error_shape(api("GET", "/rates", query={**RATE_QUERY, "amount": "5000"}), 422)
    assert error["fields"][0]["field"] == "amount"


def test_validate_address_reports_valid_and_memo_rules(api: Call) -> None:
    ok = api(
        "POST", "/addresses/validate", body={"currency": "ETH", "network": "ERC20", "address": ETH_ADDRESS}
    )
    assert ok.json == {"valid": True, "memoRequired": False, "reason": None}
    no_tag = api(
        "POST", "/addresses/validate", body={"currency": "XRP", "network": "XRP", "address": XRP_ADDRESS}
    )
    assert no_tag.status == 200
    assert no_tag.json["valid"] is False
    assert no_tag.json["memoRequired"] is True
    assert "tag" in no_tag.json["reason"]
    bad = api(
        "POST",
        "/addresses/validate",
        body={"currency": "ETH", "network": "ERC20", "address": ETH_ADDRESS[:-1] + "D"},
    )
    assert bad.json["valid"] is False
    assert "checksum" in bad.json["reason"]


def test_create_order_returns_deposit_instructions_and_stores_the_order(api: Call, aws: Any) -> None:
    answer = create(api)
    assert answer.status == 201, answer.text
    order = answer.json
    assert order["id"].startswith("ord_")
    assert order["status"] == "awaiting_deposit"
    assert order["deposit"]["address"]
    assert order["deposit"]["amount"] == "0.05"
    assert isinstance(order["exchangeOrderId"], int)
    assert answer.headers["Location"] == f"/orders/{order['id']}"
    stored = aws.table().get_item(Key={"id": order["id"]})["Item"]
    assert stored["status"] == "awaiting_deposit"
    assert stored["version"] == 2
    assert stored["claimedDepositAmount"] == "0.05"
    # The order is written without its poll schedule, which has an item of its own.
    assert "pollShard" not in stored
    schedule = aws.table().get_item(Key={"id": f"poll#{order['id']}"})["Item"]
    assert schedule["orderId"] == order["id"]
    assert schedule["pollShard"]
    assert schedule["nextPollAt"]


def test_create_order_with_memo_destination(api: Call) -> None:
    answer = create(
        api, to={"currency": "XRP", "network": "XRP"}, destination={"address": XRP_ADDRESS, "memo": "12345"}
    )
    assert answer.status == 201, answer.text
    assert answer.json["destination"]["memo"] == "12345"


def test_create_fixed_rate_order_honours_the_quote(api: Call) -> None:
    quote = api("GET", "/rates", query={**RATE_QUERY, "rateMode": "FIXED"})
    assert quote.status == 200
    assert quote.json["expiresAt"]
    answer = create(api, rateMode="FIXED")
    assert answer.status == 201, answer.text
    assert answer.json["rateMode"] == "FIXED"
    assert Decimal(answer.json["amountToReceive"]) > 0


def test_get_order_returns_history(api: Call) -> None:
    created = create(api).json
    answer = api("GET", f"/orders/{created['id']}")
    assert answer.status == 200
    assert answer.json["id"] == created["id"]
    assert [h["status"] for h in answer.json["statusHistory"]] == ["pending_create", "awaiting_deposit"]


def test_list_orders_is_newest_first_and_paginates(api: Call) -> None:
    ids = [create(api, userId="lister").json["id"] for _ in range(3)]
    create(api, userId="someone-else")
    first = api("GET", "/orders", query={"userId": "lister", "limit": "2"}).json
    assert first["nextCursor"]
    second = api(
        "GET", "/orders", query={"userId": "lister", "limit": "2", "cursor": first["nextCursor"]}
    ).json
    assert [o["id"] for o in first["orders"] + second["orders"]] == list(reversed(ids))
    assert second["nextCursor"] is None


# -- errors -----------------------------------------------------------------------------------


def test_unknown_order_is_404(api: Call) -> None:
    assert_error_shape(api("GET", "/orders/ord_0000"), 404, "order_not_found")
    assert_error_shape(api("GET", "/orders/whatever"), 404, "order_not_found")


def test_list_without_user_is_a_field_error(api: Call) -> None:
    error = assert_error_shape(api("GET", "/orders"), 422)
    assert error["fields"][0]["field"] == "userId"


def test_tampered_cursor_is_400(api: Call) -> None:
    assert_error_shape(
        api("GET", "/orders", query={"userId": "u", "cursor": "bm9wZQ"}), 400, "invalid_cursor"
    )


@pytest.mark.parametrize(
    ("raw", "headers", "status", "code"),
    [
        ("{not json", {"content-type": "application/json"}, 400, "malformed_json"),
        ("[1, 2]", {"content-type": "application/json"}, 400, "malformed_json"),
        ("", {"content-type": "application/json"}, 400, "empty_body"),
        ('{"a": NaN}', {"content-type": "application/json"}, 400, "malformed_json"),
        ("{}", {"content-type": "text/plain"}, 415, "unsupported_media_type"),
        ("{}", {"content-type": "multipart/form-data"}, 415, "unsupported_media_type"),
        ("a=1", {"content-type": "application/x-www-form-urlencoded"}, 415, "unsupported_media_type"),
    ],
)
def test_bad_bodies_never_reach_a_500(
    api: Call, raw: str, headers: dict[str, str], status: int, code: str
) -> None:
    for path in ("/orders", "/addresses/validate"):
        answer = api("POST", path, raw_body=raw, headers={**headers, "Idempotency-Key": new_key()})
        assert_error_shape(answer, status, code)


def test_missing_content_type_is_415(api: Call) -> None:
    event_headers = {"Idempotency-Key": new_key()}
    answer = api("POST", "/orders", raw_body="{}", headers={**event_headers, "content-type": ""})
    assert_error_shape(answer, 415, "unsupported_media_type")


def test_non_utf8_body_is_400(api: Call) -> None:
    raw = b'{"amount": "\xff\xfe"}'
    answer = api("POST", "/orders", raw_body=raw, base64_body=True, headers={"Idempotency-Key": new_key()})
    assert_error_shape(answer, 400, "invalid_encoding")


def test_missing_fields_get_field_level_reasons(api: Call) -> None:
    answer = api(
        "POST", "/orders", body={"from": {"currency": "BTC"}}, headers={"Idempotency-Key": new_key()}
    )
    error = assert_error_shape(answer, 422, "validation_failed")
    fields = {f["field"] for f in error["fields"]}
    assert {"from.network", "to", "amount", "destination"} <= fields


def test_missing_idempotency_key_is_a_field_error(api: Call) -> None:
    error = assert_error_shape(api("POST", "/orders", body=order_body()), 422)
    assert "Idempotency-Key" in {f["field"] for f in error["fields"]}


def test_missing_user_is_a_field_error(api: Call, aws: Any) -> None:
    body = order_body()
    del body["userId"]
    error = assert_error_shape(api("POST", "/orders", body=body, headers={"Idempotency-Key": new_key()}), 422)
    assert "userId" in {f["field"] for f in error["fields"]}
    assert not [i for i in aws.table().scan()["Items"] if i["id"].startswith("ord_")]


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"destination": {"address": "0x1234"}}, "destination.address", "ERC20"),
        ({"refund": {"address": "bc1notanaddress"}}, "refund.address", "BTC"),
        (
            {"to": {"currency": "XRP", "network": "XRP"}, "destination": {"address": XRP_ADDRESS}},
            "destination.memo",
            "tag",
        ),
        ({"amount": "0.00001"}, "amount", "minimum"),
        ({"amount": "900"}, "amount", "maximum"),
        ({"amount": "0.123456789"}, "amount", "decimal places"),
        ({"amount": "0"}, "amount", "positive"),
        ({"from": {"currency": "OMG", "network": "ERC20"}}, "from", "disabled"),
        ({"from": {"currency": "NOPE", "network": "ERC20"}}, "from", "not an instrument"),
        ({"to": {"currency": "USD", "network": "USD"}}, "to", "fiat"),
    ],
)
def test_validation_refuses_before_anything_is_created(
    api: Call, aws: Any, overrides: dict[str, Any], field: str, words: str
) -> None:
    answer = create(api, **overrides)
    error = assert_error_shape(answer, 422)
    reasons = {f["field"]: f["reason"] for f in error["fields"]}
    assert field in reasons, reasons
    assert words.lower() in reasons[field].lower()
    assert not [i for i in aws.table().scan()["Items"] if i["id"].startswith("ord_")]


@pytest.mark.parametrize(
    ("fault", "status", "code", "retry_after"),
    [
        ({"kind": "424"}, 424, "dependency_failed", True),
        ({"kind": "429", "retryAfter": 0.2}, 429, "rate_limited", True),
        ({"kind": "503"}, 503, "upstream_unavailable", True),
    ],
)
def test_upstream_failures_map_to_our_answers(
    api: Call, faults: Any, fault: dict[str, Any], status: int, code: str, retry_after: bool
) -> None:
    faults(endpoint="/api/v2/rates/public/one", **fault)
    answer = api("GET", "/rates", query=RATE_QUERY)
    assert_error_shape(answer, status, code)
    assert ("Retry-After" in answer.headers) is retry_after
    if fault.get("retryAfter"):
        assert answer.headers["Retry-After"] == "1"  # whole seconds, rounded up


def test_upstream_timeout_is_504(api: Call, faults: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from cryptosdk.container import reset_container

    monkeypatch.setenv("EXCHANGE_READ_TIMEOUT", "0.3")
    monkeypatch.setenv("EXCHANGE_MAX_ATTEMPTS", "1")
    reset_container()
    faults(endpoint="/api/v2/rates/public/one", kind="hang", hangSeconds=2)
    assert_error_shape(api("GET", "/rates", query=RATE_QUERY), 504, "upstream_timeout")


def test_upstream_failure_on_create_marks_the_intent_failed(api: Call, aws: Any, faults: Any) -> None:
    faults(endpoint="/api/v2/orders/public/create", kind="424")
    answer = create(api)
    error = assert_error_shape(answer, 424, "dependency_failed")
    items = [i for i in aws.table().scan()["Items"] if i["id"].startswith("ord_")]
    assert [i["status"] for i in items] == ["failed"]
    assert error["orderId"] == items[0]["id"]
    assert items[0]["refusal"]["kind"] == "dependency_failed"
    assert "nextPollAt" not in items[0]


def test_unknown_route_is_our_404(api: Call) -> None:
    assert_error_shape(api("GET", "/orders/ord_x/nothing"), 404)


def test_no_answer_carries_a_stack_trace_or_python_names(api: Call) -> None:
    answer = api("POST", "/orders", body={"amount": 5}, headers={"Idempotency-Key": new_key()})
    assert answer.status == 422
    assert "pydantic" not in answer.text.lower()
    assert ".py" not in answer.text


def test_error_bodies_match_the_openapi_document(api: Call) -> None:
    import json
    from pathlib import Path

    import jsonschema

    document = json.loads((Path(__file__).resolve().parents[3] / "openapi.json").read_text())
    schema = {"$ref": "#/components/schemas/ErrorResponse", "components": document["components"]}
    answers = [
        api("POST", "/orders", body={"from": {}}, headers={"Idempotency-Key": new_key()}),
        api("POST", "/orders", raw_body="{", headers={"Idempotency-Key": new_key()}),
        create(api, amount="0.00001"),
        api("GET", "/orders/ord_missing"),
    ]
    assert [a.status for a in answers] == [422, 400, 422, 404]
    for answer in answers:
        jsonschema.validate(answer.json, schema)
    order = create(api)
    jsonschema.validate(
        order.json, {"$ref": "#/components/schemas/OrderOut", "components": document["components"]}
    )
