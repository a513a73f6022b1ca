"""One exception class per way an exchange call can fail.

Every error carries what an operator needs (status, the exchange's message, a stable code and the
request id) and nothing a caller must not see: no key, no signature, no header value. `str()` is
therefore safe to log or to return.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, ClassVar, Literal

if TYPE_CHECKING:
    from datetime import datetime

    from cryptosdk.exchange.models import CreateOrderRequest

# The exchange's messages are short; anything longer is a proxy page or a stack trace.
_MAX_MESSAGE_CHARS = 300

Bound = Literal["min", "max"]


class ExchangeError(Exception):
    """Base class: a call to the exchange did not produce the answer asked for."""

    default_code: ClassVar[str] = "exchange_error"
    # The exchange's HTTP status for this kind of refusal (None: no HTTP answer came).
    default_status: ClassVar[int | None] = None
    # Seconds the exchange asked us to wait (its Retry-After), when it said; see RateLimitedError.
    retry_after: float | None = None

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
    ) -> None:
        self.status = status if status is not None else self.default_status
        self.message = _shorten(message)
        self.code = code or self.default_code
        self.request_id = request_id
        super().__init__(self.message)

    def __str__(self) -> str:
        parts = [f"{self.code}: {self.message}"]
        if self.status is not None:
            parts.append(f"status={self.status}")
        if self.request_id:
            parts.append(f"request_id={self.request_id}")
        return " ".join(parts)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self})"


class InvalidRequestError(ExchangeError):
    default_code = "invalid_request"
    default_status = 400


class AuthError(ExchangeError):
    """401: unknown key, bad signature or stale timestamp (also after one forced key refresh)."""

    default_code = "unauthorized"
    default_status = 401


class RequestFailedError(ExchangeError):
    default_code = "request_failed"
    default_status = 402


class ForbiddenError(ExchangeError):
    """403: the key may not do this, or the caller's IP is not on the key's whitelist."""

    default_code = "forbidden"
    default_status = 403


class NotFoundError(ExchangeError):
    default_code = "not_found"
    default_status = 404


class AmountOutOfLimitsError(ExchangeError):
    """406: the amount is below the minimum or above the maximum for the route."""

    default_code = "amount_out_of_limits"
    default_status = 406

    def __init__(
        self,
        message: str,
        *,
        limit: Decimal | None = None,
        bound: Bound | None = None,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message, status=status, code=code, request_id=request_id)
        self.limit = limit
        self.bound = bound


class ConflictError(ExchangeError):
    default_code = "conflict"
    default_status = 409


class UnsupportedRouteError(ExchangeError):
    """422: the pair or route is not supported (fiat legs on orders included)."""

    default_code = "unsupported_route"
    default_status = 422


class DependencyFailedError(ExchangeError):
    """424: the exchange's liquidity provider failed."""

    default_code = "dependency_failed"
    default_status = 424


class RateLimitedError(ExchangeError):
    default_code = "rate_limited"
    default_status = 429

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message, status=status, code=code, request_id=request_id)
        self.retry_after = retry_after


class UpstreamUnavailableError(ExchangeError):
    """5xx from the exchange (or an answer we could not read)."""

    default_code = "upstream_unavailable"
    default_status = 502


class UnexpectedResponseError(UpstreamUnavailableError):
    """A success status whose body is not the documented shape."""

    default_code = "unexpected_response"


class UpstreamTimeoutError(ExchangeError):
    """No answer within the connect or read timeout (or the retry deadline)."""

    default_code = "upstream_timeout"


class TransportError(ExchangeError):
    """The connection failed or was dropped before an HTTP answer arrived."""

    default_code = "transport_error"


class OrderOutcomeUnknownError(ExchangeError):
    """Create-order failed in a way that may or may not have created the order (a 5xx, a timeout,
    a dropped connection). The caller must not create it again blindly: it looks for the order in
    the order list (cryptosdk.orders.reconcile), now or later.

    Carries what that search needs: the request as sent, when the call began (`sent_at`, by the
    client's clock) and the failure that left the outcome unknown (`cause`)."""

    default_code = "order_outcome_unknown"

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        request: CreateOrderRequest | None = None,
        sent_at: datetime | None = None,
        cause: ExchangeError | None = None,
    ) -> None:
        super().__init__(message, status=status, code=code, request_id=request_id)
        self.request = request
        self.sent_at = sent_at
        self.cause = cause


class CredentialsError(RuntimeError):
    """The exchange key pair could not be read or is malformed (a deployment problem, not upstream)."""


_BY_STATUS: dict[int, type[ExchangeError]] = {
    400: InvalidRequestError,
    401: AuthError,
    402: RequestFailedError,
    403: ForbiddenError,
    404: NotFoundError,
    406: AmountOutOfLimitsError,
    409: ConflictError,
    422: UnsupportedRouteError,
    424: DependencyFailedError,
    429: RateLimitedError,
}

# Statuses worth another attempt on a call that is safe to repeat.
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


def error_class_for(status: int) -> type[ExchangeError]:
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status >= 500:
        return UpstreamUnavailableError
    if status >= 400:
        return InvalidRequestError
    return UnexpectedResponseError


def error_of_kind(
    kind: str,
    message: str,
    *,
    status: int | None = None,
    code: str | None = None,
    limit: Decimal | None = None,
    bound: Bound | None = None,
    retry_after: float | None = None,
) -> ExchangeError:
    """An error rebuilt from its class's code (`default_code`), e.g. a stored refusal of a create."""
    classes = {cls.default_code: cls for cls in _all_error_classes()}
    cls = classes.get(kind, ExchangeError)
    if cls is AmountOutOfLimitsError:
        return AmountOutOfLimitsError(message, limit=limit, bound=bound, status=status, code=code)
    if cls is RateLimitedError:
        return RateLimitedError(message, retry_after=retry_after, status=status, code=code)
    return cls(message, status=status, code=code)


def _all_error_classes() -> list[type[ExchangeError]]:
    found: list[type[ExchangeError]] = [ExchangeError]
    for cls in found:
        found.extend(cls.__subclasses__())
    return found


def error_from_response(
    status: int,
    body: bytes | str | dict[str, Any] | None,
    request_id: str | None = None,
    *,
    retry_after: float | None = None,
) -> ExchangeError:
    """The error for one non-2xx answer; depends on nothing in the body beyond what is present."""
    parsed = _as_mapping(body)
    message = _message_of(parsed, status)
    code = _code_of(parsed)
    cls = error_class_for(status)
    if cls is AmountOutOfLimitsError:
        return AmountOutOfLimitsError(
            message,
            limit=_limit_of(parsed),
            bound=_bound_of(message),
            status=status,
            code=code,
            request_id=request_id,
        )
    if cls is RateLimitedError:
        return RateLimitedError(
            message, retry_after=retry_after, status=status, code=code, request_id=request_id
        )
    return cls(message, status=status, code=code, request_id=request_id)


def _shorten(message: str) -> str:
    flat = " ".join(message.split())
    return flat if len(flat) <= _MAX_MESSAGE_CHARS else flat[: _MAX_MESSAGE_CHARS - 1] + "…"


def _as_mapping(body: bytes | str | dict[str, Any] | None) -> dict[str, Any]:
    if isinstance(body, dict):
        return body
    if not body:
        return {}
    try:
        loaded = json.loads(body, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _message_of(body: dict[str, Any], status: int) -> str:
    message = body.get("message")
    if isinstance(message, list):  # some frameworks answer a list of validation messages
        message = "; ".join(str(item) for item in message)
    if isinstance(message, str) and message.strip():
        return message
    return f"exchange answered HTTP {status}"


def _code_of(body: dict[str, Any]) -> str | None:
    error = body.get("error")
    if isinstance(error, dict) and isinstance(error.get("code"), str | int):
        return str(error["code"])
    return None


def _limit_of(body: dict[str, Any]) -> Decimal | None:
    data = body.get("data")
    details = data.get("details") if isinstance(data, dict) else None
    expected = details.get("expected") if isinstance(details, dict) else None
    if expected is None or isinstance(expected, bool):
        return None
    try:
        limit = Decimal(str(expected))
    except InvalidOperation:
        return None
    return limit if limit.is_finite() else None


def _bound_of(message: str) -> Bound | None:
    lowered = message.lower()
    if "too small" in lowered or "minimum" in lowered:
        return "min"
    if "too big" in lowered or "maximum" in lowered:
        return "max"
    return None
