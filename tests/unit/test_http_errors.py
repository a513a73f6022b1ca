"""Every failure kind maps to exactly one HTTP answer in our shape; bad bodies never reach a route."""

from __future__ import annotations

import base64
import json
from decimal import Decimal
from typing import Any

import pytest
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyKeyError,
    IdempotencyValidationError,
)

from cryptosdk.api.body import RequestRejectedError, precheck_body
from cryptosdk.api.error_mapping import EXCHANGE_ANSWERS, answer_for, validation_answer
from cryptosdk.domain.order import (
    AccessDeniedError,
    FieldError,
    ForbiddenOrderError,
    InvalidCursorError,
    OrderNotFoundError,
    StaleOrderError,
    UnauthenticatedError,
    ValidationFailedError,
)
from cryptosdk.exchange import errors


@pytest.mark.parametrize(
    ("exc", "status", "code", "retry_after"),
    [
        (ValidationFailedError([FieldError(field="amount", reason="r")]), 422, "validation_failed", None),
        (OrderNotFoundError("x"), 404, "order_not_found", None),
        (ForbiddenOrderError("x"), 404, "order_not_found", None),
        (InvalidCursorError("bad"), 400, "invalid_cursor", None),
        (StaleOrderError("x"), 409, "conflict", "1"),
        (UnauthenticatedError("x"), 401, "unauthenticated", None),
        (AccessDeniedError("x"), 403, "forbidden", None),
        (
            errors.AmountOutOfLimitsError("m", limit=Decimal("0.1"), bound="min"),
            422,
            "validation_failed",
            None,
        ),
        (errors.UnsupportedRouteError("m"), 422, "unsupported_route", None),
        (errors.InvalidRequestError("m"), 422, "exchange_rejected", None),
        (errors.ConflictError("m"), 409, "conflict", None),
        (errors.DependencyFailedError("m"), 424, "dependency_failed", "30"),
        (errors.RateLimitedError("m", retry_after=2.2), 429, "rate_limited", "3"),
        (errors.RateLimitedError("m"), 429, "rate_limited", "5"),
        (errors.UpstreamUnavailableError("m"), 503, "upstream_unavailable", "10"),
        (errors.UnexpectedResponseError("m"), 502, "bad_upstream_response", None),
        (errors.UpstreamTimeoutError("m"), 504, "upstream_timeout", "5"),
        (errors.TransportError("m"), 502, "upstream_unreachable", "5"),
        (errors.AuthError("m"), 502, "upstream_refused", None),
        (errors.ForbiddenError("m"), 502, "upstream_refused", None),
        (errors.OrderOutcomeUnknownError("m"), 503, "upstream_unavailable", "10"),
        (errors.CredentialsError("m"), 503, "service_misconfigured", None),
        (IdempotencyValidationError("m"), 422, "idempotency_key_reused", None),
        (IdempotencyAlreadyInProgressError("m"), 409, "request_in_progress", "1"),
        (IdempotencyKeyError("m"), 400, "idempotency_key_missing", None),
        (RuntimeError("boom at /var/task/x.py line 3"), 500, "internal_error", None),
    ],
)
def test_each_failure_has_one_answer(exc: Exception, status: int, code: str, retry_after: str | None) -> None:
    answer = answer_for(exc)
    assert (answer.status, answer.code) == (status, code)
    assert answer.response_headers().get("Retry-After") == retry_after
    body = answer.body("req-1")
    assert body["error"]["requestId"] == "req-1"
    assert set(body["error"]) <= {"code", "message", "fields", "requestId"}
    assert "/var/task" not in json.dumps(body)


def test_amount_limit_names_the_limit() -> None:
    answer = answer_for(errors.AmountOutOfLimitsError("Amount Too Big", limit=Decimal("2.5"), bound="max"))
    [reason] = answer.body(None)["error"]["fields"]
    assert reason["field"] == "amount"
    assert "2.5" in reason["reason"]


def test_powertools_validation_errors_become_field_paths() -> None:
    answer = validation_answer(
        [
            {"loc": ("body", "from", "network"), "msg": "Field required", "type": "missing"},
            {"loc": ("header", "idempotency-key"), "msg": "Field required", "type": "missing"},
            {"loc": ("query", "limit"), "msg": "too big", "type": "less_than_equal"},
        ]
    )
    assert answer.status == 422
    assert [f.field for f in answer.fields] == ["from.network", "Idempotency-Key", "limit"]


def event(
    body: Any, content_type: str | None = "application/json", b64: bool = False, method: str = "POST"
) -> dict[str, Any]:
    headers = {} if content_type is None else {"Content-Type": content_type}
    return {
        "requestContext": {"http": {"method": method}},
        "headers": headers,
        "body": body,
        "isBase64Encoded": b64,
    }


@pytest.mark.parametrize(
    ("evt", "status", "code"),
    [
        (event("{"), 400, "malformed_json"),
        (event("[]"), 400, "malformed_json"),
        (event('{"a": Infinity}'), 400, "malformed_json"),
        (event(None), 400, "empty_body"),
        (event("{}", content_type=None), 415, "unsupported_media_type"),
        (event("", content_type="text/plain"), 415, "unsupported_media_type"),
        (event("{}", content_type="text/plain"), 415, "unsupported_media_type"),
        (event("--x", content_type="multipart/form-data"), 415, "unsupported_media_type"),
        (event(base64.b64encode(b"\xff\xfe{}").decode(), b64=True), 400, "invalid_encoding"),
        (event("not base64!", b64=True), 400, "invalid_encoding"),
        (event("[" * 100_000), 400, "malformed_json"),
    ],
)
def test_bad_bodies_are_refused_before_routing(evt: dict[str, Any], status: int, code: str) -> None:
    with pytest.raises(RequestRejectedError) as caught:
        precheck_body(evt)
    answer = answer_for(caught.value)
    assert (answer.status, answer.code) == (status, code)


def test_good_bodies_are_handed_on_decoded() -> None:
    raw = json.dumps({"memo": "héllo"}).encode()
    out = precheck_body(event(base64.b64encode(raw).decode(), "application/json; charset=utf-8", b64=True))
    assert out["isBase64Encoded"] is False
    assert json.loads(out["body"]) == {"memo": "héllo"}


def test_requests_without_bodies_pass_untouched() -> None:
    evt = event(None, content_type=None, method="GET")
    assert precheck_body(evt) is evt


def test_a_bodiless_command_without_content_type_passes() -> None:
    evt = event(None, content_type=None)
    assert precheck_body(evt) is evt


# -- a refused create: the stored refusal answers the same as the exchange's error did -----------

REFUSALS = [
    errors.DependencyFailedError("LP down", status=424, code="LIQUIDITY_PROVIDER_FAILED"),
    errors.AmountOutOfLimitsError("Amount Too Small", limit=Decimal("0.001"), bound="min", status=406),
    errors.RateLimitedError("slow down", retry_after=7.0, status=429),
    errors.UnsupportedRouteError("no such pair", status=422),
    errors.AuthError("bad key", status=401),
]


@pytest.mark.parametrize("refused", REFUSALS, ids=lambda e: type(e).__name__)
def test_a_stored_refusal_answers_like_the_exchange_error_plus_the_order_id(
    refused: errors.ExchangeError,
) -> None:
    from cryptosdk.domain.order import OrderRefusedError, Refusal
    from cryptosdk.orders.service import refusal_of

    stored = Refusal.model_validate_json(refusal_of(refused).model_dump_json(by_alias=True))
    replayed = answer_for(OrderRefusedError("ord_1", stored))
    original = answer_for(refused)

    assert (replayed.status, replayed.code, replayed.fields, replayed.retry_after) == (
        original.status,
        original.code,
        original.fields,
        original.retry_after,
    )
    assert replayed.order_id == "ord_1"
    assert replayed.message.startswith(original.message)
    assert "new Idempotency-Key" in replayed.message
    assert replayed.body("req-1")["error"]["orderId"] == "ord_1"


def test_a_repeated_json_key_is_400_at_any_depth() -> None:
    for raw in ('{"a": 1, "a": 2}', '{"x": [{"b": 1, "b": 1}]}'):
        event = {
            "requestContext": {"http": {"method": "POST"}},
            "headers": {"content-type": "application/json"},
            "body": raw,
        }
        with pytest.raises(RequestRejectedError) as refused:
            precheck_body(event)
        answer = answer_for(refused.value)
        assert (answer.status, answer.code) == (400, "duplicate_key")
        assert [f.field for f in answer.fields] in (["a"], ["b"])


# -- the mapping reads data, so a new class cannot silently fall through to a 500 ----------------


def _subclasses(root: type[Exception]) -> list[type[Exception]]:
    found = [root]
    for cls in found:
        found.extend(cls.__subclasses__())
    return found


@pytest.mark.parametrize("cls", _subclasses(errors.ExchangeError), ids=lambda c: c.__name__)
def test_every_exchange_error_class_has_its_own_answer(cls: type[errors.ExchangeError]) -> None:
    # A new SDK class answers as its base until it is listed; listing it is a decision, so each one is.
    assert cls in EXCHANGE_ANSWERS


def test_an_unlisted_exchange_subclass_answers_as_its_nearest_base() -> None:
    class SlowLaneError(errors.UpstreamTimeoutError):
        pass

    assert answer_for(SlowLaneError("m")) == answer_for(errors.UpstreamTimeoutError("m"))


def test_a_domain_error_answers_from_its_class_data() -> None:
    from cryptosdk.domain.order import DomainError

    class FrozenOrderError(DomainError):
        http_status = 423
        code = "order_frozen"
        retry_after = 60

    answer = answer_for(FrozenOrderError("The order is frozen."))
    assert (answer.status, answer.code, answer.message) == (423, "order_frozen", "The order is frozen.")
    assert answer.response_headers()["Retry-After"] == "60"


def test_a_hidden_domain_message_never_reaches_the_caller() -> None:
    answer = answer_for(ForbiddenOrderError("No order ord_secret for user u_1."))
    assert "ord_secret" not in json.dumps(answer.body(None))
