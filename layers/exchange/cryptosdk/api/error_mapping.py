"""One place that turns every failure into one HTTP answer of ours.

Shape: {"error": {"code", "message", "fields"?, "requestId"}}, with Retry-After where waiting
helps. Messages are written for the caller; nothing internal (stack, class names, keys, the
exchange's raw body) reaches a response.

Where the answer comes from:
- our own errors (domain errors, request rejections) state it on the class: `http_status`,
  `code`, `retry_after`, and the message and `fields` of the instance;
- exchange errors come from the client SDK, which is usable without this adapter and so knows
  nothing of our API: `EXCHANGE_ANSWERS` below says how our API answers each SDK class (its
  Retry-After is a default the exchange's own hint, `ExchangeError.retry_after`, overrides);
- Powertools' and the credential loader's errors, which we cannot annotate, have a small table.
Three answers need the instance: an amount limit names the limit, a refused create replays the
stored exchange error with the order id, and a domain error may hide its message.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any, TypeVar

from cryptosdk.api.body import RequestRejectedError, UnsupportedMediaTypeError
from cryptosdk.domain.order import DomainError, FieldError, IdempotencyKeyReusedError, OrderRefusedError
from cryptosdk.exchange import errors


@dataclass(frozen=True)
class ErrorAnswer:
    status: int
    code: str
    message: str
    fields: Sequence[FieldError] = ()
    retry_after: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    # The order the answer is about, when one was recorded (a refused create).
    order_id: str | None = None

    def body(self, request_id: str | None) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.fields:
            error["fields"] = [{"field": f.field, "reason": f.reason} for f in self.fields]
        if self.order_id is not None:
            error["orderId"] = self.order_id
        error["requestId"] = request_id
        return {"error": error}

    def response_headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", **self.headers}
        if self.retry_after is not None:
            headers["Retry-After"] = str(self.retry_after)
        return headers


INTERNAL_ERROR = ErrorAnswer(500, "internal_error", "Something went wrong on our side.")
_INVALID_FIELDS = "The request has invalid fields."
_UNSUPPORTED_ROUTE = "The exchange does not support this route."
# Our credentials or IP whitelist, not the caller's doing.
_UPSTREAM_REFUSED = ErrorAnswer(
    502, "upstream_refused", "The exchange refused our credentials; the operator has been alerted."
)
_UPSTREAM_UNAVAILABLE = ErrorAnswer(
    503, "upstream_unavailable", "The exchange is unavailable; try again shortly.", retry_after=10
)

# Our API's answer per exchange SDK class; a class not listed answers as its nearest listed base.
EXCHANGE_ANSWERS: dict[type[errors.ExchangeError], ErrorAnswer] = {
    errors.ExchangeError: ErrorAnswer(502, "upstream_error", "The exchange call failed."),
    errors.AmountOutOfLimitsError: ErrorAnswer(
        422,
        "validation_failed",
        _INVALID_FIELDS,
        (FieldError(field="amount", reason="The amount is outside the exchange's limits for this route."),),
    ),
    errors.UnsupportedRouteError: ErrorAnswer(
        422, "unsupported_route", _UNSUPPORTED_ROUTE, (FieldError(field="to", reason=_UNSUPPORTED_ROUTE),)
    ),
    errors.ConflictError: ErrorAnswer(
        409, "conflict", "The exchange refused the request in the order's current state."
    ),
    errors.InvalidRequestError: ErrorAnswer(
        422, "exchange_rejected", "The exchange refused the request as invalid."
    ),
    errors.DependencyFailedError: ErrorAnswer(
        424,
        "dependency_failed",
        "The exchange's liquidity provider failed; try again shortly.",
        retry_after=30,
    ),
    errors.RateLimitedError: ErrorAnswer(
        429, "rate_limited", "The exchange is rate limiting us; try again later.", retry_after=5
    ),
    errors.UpstreamTimeoutError: ErrorAnswer(
        504, "upstream_timeout", "The exchange did not answer in time; try again.", retry_after=5
    ),
    errors.UpstreamUnavailableError: _UPSTREAM_UNAVAILABLE,
    errors.UnexpectedResponseError: ErrorAnswer(
        502, "bad_upstream_response", "The exchange answered in a way we could not read."
    ),
    # The create may have happened; the caller should wait for reconciliation, not re-send now.
    errors.OrderOutcomeUnknownError: _UPSTREAM_UNAVAILABLE,
    errors.TransportError: ErrorAnswer(
        502, "upstream_unreachable", "The exchange could not be reached; try again.", retry_after=5
    ),
    errors.AuthError: _UPSTREAM_REFUSED,
    errors.ForbiddenError: _UPSTREAM_REFUSED,
    errors.RequestFailedError: _UPSTREAM_REFUSED,
    errors.NotFoundError: ErrorAnswer(
        502, "upstream_not_found", "The exchange does not know the requested resource."
    ),
}


def answer_for(exc: Exception) -> ErrorAnswer:
    """The one answer for any exception; unknown ones become a bare 500 without details."""
    if isinstance(exc, RequestRejectedError):
        return ErrorAnswer(exc.http_status, exc.code, exc.message, exc.fields, exc.retry_after)
    if isinstance(exc, OrderRefusedError):
        return _refused_answer(exc)
    if isinstance(exc, DomainError):
        message = exc.public_message or exc.message
        return ErrorAnswer(exc.http_status, exc.code, message, exc.fields, exc.retry_after)
    if isinstance(exc, errors.ExchangeError):
        return _exchange_answer(exc)
    return _nearest(_foreign_answers(), exc) or INTERNAL_ERROR


def _exchange_answer(exc: errors.ExchangeError) -> ErrorAnswer:
    answer = _nearest(EXCHANGE_ANSWERS, exc)
    assert answer is not None  # ExchangeError itself is listed
    if answer.retry_after is not None:
        answer = replace(answer, retry_after=_seconds(exc.retry_after, answer.retry_after))
    if (
        isinstance(exc, errors.AmountOutOfLimitsError)
        and exc.limit is not None
        and exc.bound in ("min", "max")
    ):
        word, side = ("minimum", "below") if exc.bound == "min" else ("maximum", "above")
        reason = f"The amount is {side} the {word} of {exc.limit}."
        answer = replace(answer, fields=(FieldError(field="amount", reason=reason),))
    return answer


def _refused_answer(exc: OrderRefusedError) -> ErrorAnswer:
    """A refused create, answered the same way on the first call and on every retry with its key:
    the exchange error's status and code, the order id, and that the key cannot place it again."""
    refusal = exc.refusal
    bound = refusal.bound if refusal.bound in ("min", "max") else None
    cause = errors.error_of_kind(
        refusal.kind,
        refusal.message,
        status=refusal.status,
        code=refusal.code,
        limit=refusal.limit,
        bound=bound,  # type: ignore[arg-type]
        retry_after=refusal.retry_after,
    )
    answer = _exchange_answer(cause)
    message = f"{answer.message} Order {exc.order_id} is failed; retry with a new Idempotency-Key."
    return replace(answer, message=message, order_id=exc.order_id)


def _seconds(value: float | None, default: int) -> int:
    if value is None or value != value or value < 0:  # None, NaN or negative
        return default
    return max(1, math.ceil(value))


_Value = TypeVar("_Value")


def _nearest(table: Mapping[type[Any], _Value], exc: Exception) -> _Value | None:
    """The entry for the exception's class or, failing that, its nearest base that has one."""
    for cls in type(exc).__mro__:
        if cls in table:
            return table[cls]
    return None


@cache
def _foreign_answers() -> dict[type[Exception], ErrorAnswer]:
    """Errors raised by code we do not own. Imported on the first error, not at cold start."""
    from aws_lambda_powertools.event_handler.openapi.exceptions import RequestUnsupportedContentType
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyKeyError,
        IdempotencyValidationError,
    )

    key_missing = FieldError(field="Idempotency-Key", reason="The header is required.")
    return {
        IdempotencyValidationError: answer_for(IdempotencyKeyReusedError()),
        IdempotencyAlreadyInProgressError: ErrorAnswer(
            409, "request_in_progress", "A request with this Idempotency-Key is in progress.", retry_after=1
        ),
        IdempotencyKeyError: ErrorAnswer(
            400, "idempotency_key_missing", "The Idempotency-Key header is required.", (key_missing,)
        ),
        # Powertools raises this for a body type it cannot parse; our catch-all handler sees it
        # before Powertools' own 415 would, so without this it became a 500.
        RequestUnsupportedContentType: answer_for(UnsupportedMediaTypeError(None)),
        errors.CredentialsError: ErrorAnswer(
            503, "service_misconfigured", "The service is not configured to reach the exchange."
        ),
    }


def validation_answer(
    errors_: Sequence[dict[str, Any]], pattern_reasons: Mapping[str, str] | None = None
) -> ErrorAnswer:
    """Powertools' request validation errors as field-level reasons (paths as the caller wrote them).
    A pattern mismatch reads as the sentence in `pattern_reasons` rather than a regular expression."""
    fields = []
    for err in errors_:
        loc = [str(part) for part in err.get("loc", ())]
        where = loc[0] if loc else ""
        path = loc[1:] if where in ("body", "query", "header", "path") else loc
        name = ".".join(path) if path else "body"
        if where == "header" and name.lower() == "idempotency-key":
            name = "Idempotency-Key"
        pattern = (err.get("ctx") or {}).get("pattern")
        reason = (pattern_reasons or {}).get(pattern) if isinstance(pattern, str) else None
        reason = reason or str(err.get("msg") or err.get("type") or "invalid")
        fields.append(FieldError(field=name, reason=reason))
    return ErrorAnswer(422, "validation_failed", _INVALID_FIELDS, fields)
