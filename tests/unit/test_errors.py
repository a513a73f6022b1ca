"""Error mapping: each contract status becomes its class, carrying what an operator needs and no secret."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from cryptosdk.exchange import errors
from cryptosdk.exchange.errors import error_from_response


def body(message: str, code: str | None = None, **data: object) -> bytes:
    payload: dict[str, object] = {"statusCode": 0, "message": message}
    if code:
        payload["error"] = {"code": code}
    if data:
        payload["data"] = data
    return json.dumps(payload).encode()


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, errors.InvalidRequestError),
        (401, errors.AuthError),
        (402, errors.RequestFailedError),
        (403, errors.ForbiddenError),
        (404, errors.NotFoundError),
        (406, errors.AmountOutOfLimitsError),
        (409, errors.ConflictError),
        (422, errors.UnsupportedRouteError),
        (424, errors.DependencyFailedError),
        (429, errors.RateLimitedError),
        (500, errors.UpstreamUnavailableError),
        (502, errors.UpstreamUnavailableError),
        (503, errors.UpstreamUnavailableError),
        (504, errors.UpstreamUnavailableError),
    ],
)
def test_each_contract_status_maps_to_its_class(status: int, cls: type[errors.ExchangeError]) -> None:
    error = error_from_response(status, body(f"upstream says {status}", code=f"E{status}"), "req-1")
    assert type(error) is cls
    assert isinstance(error, errors.ExchangeError)
    assert (error.status, error.message, error.code, error.request_id) == (
        status,
        f"upstream says {status}",
        f"E{status}",
        "req-1",
    )


def test_unlisted_statuses_fall_into_the_nearest_family() -> None:
    assert type(error_from_response(418, b"")) is errors.InvalidRequestError
    assert type(error_from_response(507, b"")) is errors.UpstreamUnavailableError
    assert isinstance(error_from_response(302, b""), errors.UpstreamUnavailableError)


def test_without_upstream_code_the_class_code_is_used() -> None:
    error = error_from_response(409, {"message": "order already paid"})
    assert error.code == "conflict"
    assert error.message == "order already paid"


@pytest.mark.parametrize("raw", [b"", b"<html>Bad gateway</html>", b"[1,2]", b"\xff\xfe", None, "{}"])
def test_unreadable_bodies_still_give_a_message(raw: bytes | str | None) -> None:
    error = error_from_response(502, raw)
    assert error.message == "exchange answered HTTP 502"


def test_list_messages_are_joined() -> None:
    assert (
        error_from_response(400, {"message": ["a is missing", "b is bad"]}).message
        == "a is missing; b is bad"
    )


class TestAmountOutOfLimits:
    def test_too_small_carries_min_limit(self) -> None:
        error = error_from_response(406, body("Amount Too Small", details={"expected": "0.00120000"}))
        assert isinstance(error, errors.AmountOutOfLimitsError)
        assert error.bound == "min"
        assert error.limit == Decimal("0.00120000")

    def test_too_big_carries_max_limit_from_a_number(self) -> None:
        raw = b'{"message":"Amount Too Big","data":{"details":{"expected":12.5}}}'
        error = error_from_response(406, raw)
        assert isinstance(error, errors.AmountOutOfLimitsError)
        assert (error.bound, error.limit) == ("max", Decimal("12.5"))

    @pytest.mark.parametrize("details", [{}, {"expected": "lots"}, {"expected": True}, {"expected": "NaN"}])
    def test_missing_or_bad_limit_is_none(self, details: dict[str, object]) -> None:
        error = error_from_response(406, body("Amount out of range", details=details))
        assert isinstance(error, errors.AmountOutOfLimitsError)
        assert (error.limit, error.bound) == (None, None)


def test_rate_limited_keeps_retry_after() -> None:
    error = error_from_response(429, body("Too Many Requests"), retry_after=2.0)
    assert isinstance(error, errors.RateLimitedError)
    assert error.retry_after == 2.0


def test_str_is_one_loggable_line_with_code_status_and_request_id() -> None:
    error = error_from_response(424, body("liquidity\nprovider   down", code="LP_DOWN"), "abc-123")
    assert str(error) == "LP_DOWN: liquidity provider down status=424 request_id=abc-123"
    assert repr(error) == f"DependencyFailedError({error})"


def test_long_messages_are_shortened() -> None:
    error = error_from_response(500, body("x" * 5000))
    assert len(error.message) <= 300
    assert error.message.endswith("…")


def test_client_side_errors_have_no_status() -> None:
    for cls in (errors.UpstreamTimeoutError, errors.TransportError, errors.OrderOutcomeUnknownError):
        error = cls("no answer")
        assert error.status is None
        assert error.request_id is None
        assert str(error) == f"{cls.default_code}: no answer"


def test_unexpected_response_is_an_upstream_failure() -> None:
    # Handlers map UpstreamUnavailableError to one answer; an unreadable 200 belongs there too.
    assert issubclass(errors.UnexpectedResponseError, errors.UpstreamUnavailableError)


def test_retryable_statuses_are_exactly_429_and_temporary_5xx() -> None:
    assert frozenset({429, 500, 502, 503, 504}) == errors.RETRYABLE_STATUSES
