"""Hostile requests through the real handlers: never a 500, always our error shape, always a status
the OpenAPI document declares for the route. Each class here was found by fuzzing the local stack."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jsonschema
import pytest

from tests.handlers import handler_module, lambda_context
from tests.integration.api.conftest import (
    ETH_ADDRESS,
    Answer,
    Call,
    function_for,
    make_event,
    new_key,
    order_body,
)

ROOT = Path(__file__).resolve().parents[3]
VALIDATE_BODY = {"currency": "ETH", "network": "ERC20", "address": ETH_ADDRESS}


@cache
def _document() -> dict[str, Any]:
    return dict(json.loads((ROOT / "openapi.json").read_text()))


def declared_statuses(method: str, template: str) -> set[int]:
    responses = _document()["paths"][template][method.lower()]["responses"]
    return {int(code) for code in responses}


def assert_contract(answer: Answer, method: str, template: str) -> None:
    """The status is one the document declares for the route, and an error body is ErrorResponse."""
    assert answer.status < 500, answer.text
    assert answer.status in declared_statuses(method, template), (answer.status, answer.text)
    assert "Traceback" not in answer.text
    if answer.status >= 400:
        document = _document()
        schema = {"$ref": "#/components/schemas/ErrorResponse", "components": document["components"]}
        jsonschema.validate(answer.json, schema)
        assert answer.json["error"]["requestId"]


def send(event: dict[str, Any]) -> Answer:
    """One raw payload 2.0 event to the function that serves its route."""
    method = event["requestContext"]["http"]["method"]
    function = function_for(method, event["rawPath"])
    result = handler_module(function).lambda_handler(event, lambda_context(function))
    headers = {str(k): str(v) for k, v in (result.get("headers") or {}).items()}
    return Answer(result["statusCode"], headers, result.get("body") or "")


# -- content types Powertools does not parse (it raised, our catch-all answered 500) --------------


@pytest.mark.parametrize(
    "content_type",
    [
        "application/vnd.api+json",
        "application/problem+json; charset=utf-8",
        "Application/JSON",
        "APPLICATION/JSON; Charset=UTF-8",
    ],
)
def test_json_content_types_we_accept_reach_the_route(api: Call, content_type: str) -> None:
    answer = api(
        "POST",
        "/addresses/validate",
        raw_body=json.dumps(VALIDATE_BODY),
        headers={"content-type": content_type},
    )
    assert answer.status == 200, answer.text
    assert answer.json["valid"] is True


def test_content_type_header_name_in_any_case_reaches_the_route(api: Call) -> None:
    event = make_event("POST", "/addresses/validate", body=VALIDATE_BODY)
    event["headers"]["Content-Type"] = event["headers"].pop("content-type")
    answer = send(event)
    assert answer.status == 200, answer.text


def test_an_unparseable_content_type_from_powertools_is_our_415() -> None:
    from aws_lambda_powertools.event_handler.openapi.exceptions import RequestUnsupportedContentType

    from cryptosdk.api.error_mapping import answer_for

    answer = answer_for(RequestUnsupportedContentType("Unsupported content type", errors=[]))
    assert (answer.status, answer.code) == (415, "unsupported_media_type")


def test_echoed_content_type_is_short_and_printable(api: Call) -> None:
    answer = api(
        "POST", "/addresses/validate", raw_body="{}", headers={"content-type": "x\x00\x1b" + "y" * 500}
    )
    assert_contract(answer, "POST", "/addresses/validate")
    message = answer.json["error"]["message"]
    assert "\x00" not in message
    assert "\x1b" not in message
    assert len(message) < 120


# -- path parameters are percent-decoded, as API Gateway's own pathParameters are ---------------


def test_percent_encoded_order_id_finds_the_order(api: Call) -> None:
    created = api("POST", "/orders", body=order_body(), headers={"Idempotency-Key": new_key()})
    assert created.status == 201, created.text
    order_id = created.json["id"]
    escaped = order_id.replace("_", "%5F")
    assert escaped != order_id
    got = api("GET", f"/orders/{escaped}")
    assert got.status == 200, got.text
    assert got.json["id"] == order_id


@pytest.mark.parametrize("template", ["/orders/{orderId}", "/orders/{orderId}/refresh"])
def test_order_id_length_counts_characters_not_escapes(api: Call, template: str) -> None:
    order_id = "é" * 64  # within the documented maxLength, 384 characters once escaped
    path = template.replace("{orderId}", quote(order_id))
    method = "POST" if template.endswith("refresh") else "GET"
    answer = api(method, path)
    assert_contract(answer, method, template)
    assert answer.json["error"]["code"] == "order_not_found"


# -- control characters and pattern reasons ------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"userId": "user\x00-1"}, "userId"),
        ({"sessionId": "s\n1"}, "sessionId"),
        ({"destination": {"address": ETH_ADDRESS, "memo": "a\x1bb"}}, "destination.memo"),
        ({"from": {"currency": "B\x7fTC", "network": "BTC"}}, "from.currency"),
    ],
)
def test_control_characters_are_refused_before_anything_is_stored(
    api: Call, aws: Any, overrides: dict[str, Any], field: str
) -> None:
    answer = api("POST", "/orders", body=order_body(**overrides), headers={"Idempotency-Key": new_key()})
    assert_contract(answer, "POST", "/orders")
    reasons = answer.field_reasons()
    assert reasons[field] == "Must not contain control characters."
    assert not [i for i in aws.table().scan()["Items"] if i["id"].startswith("ord_")]


@pytest.mark.parametrize(
    "memo", ["\t", " 12345\n", "a\tb", "a\u0000b", "\u00e9\u202e", "x\u007f", "x\u0093y"]
)
def test_the_document_pattern_says_exactly_what_the_route_accepts(api: Call, memo: str) -> None:
    import re

    schema = _document()["components"]["schemas"]["AddressValidateBody"]["properties"]["memo"]
    pattern = next(option["pattern"] for option in schema["anyOf"] if option.get("type") == "string")
    answer = api("POST", "/addresses/validate", body={**VALIDATE_BODY, "memo": memo})
    assert_contract(answer, "POST", "/addresses/validate")
    assert (answer.status == 200) == (re.search(pattern, memo) is not None), answer.text


def test_pattern_errors_read_as_sentences_not_regular_expressions(api: Call) -> None:
    answer = api("POST", "/orders", body=order_body(amount="1e3"), headers={"Idempotency-Key": new_key()})
    assert_contract(answer, "POST", "/orders")
    reason = answer.field_reasons()["amount"]
    assert "decimal" in reason
    assert "^" not in reason
    assert "[0-9]" not in reason
    rates = api(
        "GET",
        "/rates",
        query={"from": "BTC", "fromNetwork": "BTC", "to": "ETH", "toNetwork": "ERC20", "amount": "NaN"},
    )
    assert_contract(rates, "GET", "/rates")
    assert "[0-9]" not in rates.field_reasons()["amount"]


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ('{{"userId": "a", {rest}, "userId": "b"}}', "userId"),
        ('{{"userId": "a", {rest}, "destination": {{"address": "x", "address": "y"}}}}', "address"),
    ],
)
def test_a_key_repeated_in_a_json_object_is_400_and_nothing_is_stored(
    api: Call, aws: Any, raw: str, key: str
) -> None:
    # Last-one-wins would create the order for "b" while a proxy reading the first value saw "a".
    body = order_body()
    body.pop("userId", None)
    if key == "address":
        body.pop("destination")
    rest = json.dumps(body)[1:-1]
    answer = api("POST", "/orders", raw_body=raw.format(rest=rest), headers={"Idempotency-Key": new_key()})
    assert_contract(answer, "POST", "/orders")
    assert answer.status == 400
    assert answer.json["error"]["code"] == "duplicate_key"
    assert answer.field_reasons() == {key: "The key appears more than once in one JSON object."}
    assert not [i for i in aws.table().scan()["Items"] if i["id"].startswith("ord_")]


@pytest.mark.parametrize("key", ["k\x00ey", "key\n", "\tkey", "k\x1b[2Jey", "k\x7fey", "k\x85ey"])
def test_control_characters_in_the_idempotency_key_are_422_naming_the_header(
    api: Call, aws: Any, key: str
) -> None:
    answer = api("POST", "/orders", body=order_body(), headers={"Idempotency-Key": key})
    assert_contract(answer, "POST", "/orders")
    assert answer.status == 422
    assert answer.field_reasons() == {"Idempotency-Key": "Must not contain control characters."}
    assert not [i for i in aws.table().scan()["Items"] if i["id"].startswith("ord_")]


def test_an_idempotency_key_of_printable_unicode_is_accepted(api: Call) -> None:
    answer = api("POST", "/orders", body=order_body(), headers={"Idempotency-Key": f"clé {new_key()}"})
    assert answer.status == 201, answer.text


# -- a sweep of hostile bodies and content types over every route that takes a body --------------

HOSTILE_BODIES: list[tuple[str, bytes, bool]] = [
    ("not utf-8", b'{"a": "\xff\xfe"}', True),
    ("utf-16", '{"a": 1}'.encode("utf-16"), True),
    ("byte order mark", b"\xef\xbb\xbf{}", True),
    ("deep arrays", b'{"a":' + b"[" * 50_000 + b"]" * 50_000 + b"}", False),
    ("deep objects", b'{"a":' * 3000 + b"1" + b"}" * 3000, False),
    ("huge integer", b'{"amount": ' + b"9" * 5000 + b"}", False),
    ("float amount", b'{"amount": 1e400}', False),
    ("NaN amount", b'{"amount": NaN}', False),
    ("lone surrogate", b'{"userId": "\\ud800", "currency": "\\udfff"}', False),
    ("duplicate keys", b'{"userId": "a", "userId": "b"}', False),
    ("top-level string", b'"hello"', False),
    ("truncated", b'{"from": {"currency": "BTC"', False),
]
HOSTILE_TYPES = [
    "application/json",
    "multipart/form-data",
    "multipart/form-data; boundary=",
    "text/plain",
    "",
    "application/x-www-form-urlencoded",
    "application/octet-stream",
    ";;;",
]
BODY_ROUTES = [
    ("/orders", "/orders"),
    ("/addresses/validate", "/addresses/validate"),
    ("/orders/ord_x/refresh", "/orders/{orderId}/refresh"),
]


@pytest.mark.parametrize(("path", "template"), BODY_ROUTES)
def test_hostile_bodies_get_a_declared_status_in_our_shape(api: Call, path: str, template: str) -> None:
    for name, raw, as_base64 in HOSTILE_BODIES:
        for content_type in HOSTILE_TYPES:
            headers = {"content-type": content_type, "Idempotency-Key": new_key()}
            event = make_event("POST", path, raw_body=raw, base64_body=as_base64, headers=headers)
            answer = send(event)
            assert_contract(answer, "POST", template)
            assert answer.status in (400, 404, 415, 422), (name, content_type, answer.text)


@pytest.mark.parametrize(("path", "template"), BODY_ROUTES)
def test_a_body_flagged_base64_that_is_not_is_400(api: Call, path: str, template: str) -> None:
    event = make_event("POST", path, raw_body="{}", headers={"Idempotency-Key": new_key()})
    event.update(body="!!!not base64!!!", isBase64Encoded=True)
    answer = send(event)
    assert_contract(answer, "POST", template)
    assert answer.json["error"]["code"] == "invalid_encoding"


@pytest.mark.parametrize(
    ("path", "query", "template"),
    [
        ("/instruments", {"kind": "crypto,fiat"}, "/instruments"),
        ("/rates", {"from": "BTC,ETH", "fromNetwork": "\x00", "to": "é" * 40, "toNetwork": "X"}, "/rates"),
        (
            "/rates",
            {"from": "BTC", "fromNetwork": "BTC", "to": "ETH", "toNetwork": "ERC20", "amount": "1e400"},
            "/rates",
        ),
        ("/orders", {"userId": "u", "limit": "1.5"}, "/orders"),
        ("/orders", {"userId": "u", "limit": "9" * 400}, "/orders"),
        ("/orders", {"userId": "u", "cursor": "%%%"}, "/orders"),
        ("/orders", {"userId": "u", "cursor": "x" * 5000}, "/orders"),
        ("/orders", {"userId": "u\x00"}, "/orders"),
    ],
)
def test_hostile_queries_get_a_declared_status_in_our_shape(
    api: Call, path: str, query: dict[str, str], template: str
) -> None:
    answer = api("GET", path, query=query)
    assert_contract(answer, "GET", template)
    assert answer.status in (400, 422), answer.text
