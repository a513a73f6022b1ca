"""One place that turns every failure into one HTTP answer of ours.

Shape: {"error": {"code", "message", "fields"?, "requestId"}}, with Retry-After where waiting
helps. Messages are written for the caller; nothing internal (stack, class names, keys, the
exchange's raw body) reaches a response.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from cryptosdk.domain.order import (
    AccessDeniedError,
    DomainError,
    FieldError,
    ForbiddenOrderError,
    IdempotencyKeyReusedError,
    InvalidCursorError,
    InvalidTransitionError,
    OrderExistsError,
    OrderNotFoundError,
    OrderRefusedError,
    StaleOrderError,
    UnauthenticatedError,
    ValidationFailedError,
)
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


def _seconds(value: float | None, default: int) -> int:
    if value is None or value != value or value < 0:  # None, NaN or negative
        return default
    return max(1, math.ceil(value))


def _exchange_answer(exc: errors.ExchangeError) -> ErrorAnswer:
    if isinstance(exc, errors.AmountOutOfLimitsError):
        reason = "The amount is outside the exchange's limits for this route."
        if exc.limit is not None and exc.bound in ("min", "max"):
            word = "minimum" if exc.bound == "min" else "maximum"
            reason = f"The amount is {'below' if exc.bound == 'min' else 'above'} the {word} of {exc.limit}."
        return ErrorAnswer(
            422,
            "validation_failed",
            "The request has invalid fields.",
            [FieldError(field="amount", reason=reason)],
        )
    if isinstance(exc, errors.UnsupportedRouteError):
        fields = [FieldError(field="to", reason="The exchange does not support this route.")]
        return ErrorAnswer(422, "unsupported_route", "The exchange does not support this route.", fields)
    if isinstance(exc, errors.ConflictError):
        return ErrorAnswer(409, "conflict", "The exchange refused the request in the order's current state.")
    if isinstance(exc, errors.InvalidRequestError):
        return ErrorAnswer(422, "exchange_rejected", "The exchange refused the request as invalid.")
    if isinstance(exc, errors.DependencyFailedError):
        return ErrorAnswer(
            424,
            "dependency_failed",
            "The exchange's liquidity provider failed; try again shortly.",
            retry_after=30,
        )
    if isinstance(exc, errors.RateLimitedError):
        return ErrorAnswer(
            429,
            "rate_limited",
            "The exchange is rate limiting us; try again later.",
            retry_after=_seconds(exc.retry_after, 5),
        )
    if isinstance(exc, errors.UpstreamTimeoutError):
        return ErrorAnswer(
            504, "upstream_timeout", "The exchange did not answer in time; try again.", retry_after=5
        )
    if isinstance(exc, errors.UnexpectedResponseError):
        return ErrorAnswer(502, "bad_upstream_response", "The exchange answered in a way we could not read.")
    if isinstance(exc, errors.UpstreamUnavailableError | errors.OrderOutcomeUnknownError):
        return ErrorAnswer(
            503, "upstream_unavailable", "The exchange is unavailable; try again shortly.", retry_after=10
        )
    if isinstance(exc, errors.TransportError):
        return ErrorAnswer(
            502, "upstream_unreachable", "The exchange could not be reached; try again.", retry_after=5
        )
    if isinstance(exc, errors.AuthError | errors.ForbiddenError | errors.RequestFailedError):
        # Our credentials or IP whitelist, not the caller's doing.
        return ErrorAnswer(
            502, "upstream_refused", "The exchange refused our credentials; the operator has been alerted."
        )
    if isinstance(exc, errors.NotFoundError):
        return ErrorAnswer(502, "upstream_not_found", "The exchange does not know the requested resource.")
    return ErrorAnswer(502, "upstream_error", "The exchange call failed.")


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


def _domain_answer(exc: DomainError) -> ErrorAnswer:
    if isinstance(exc, OrderRefusedError):
        return _refused_answer(exc)
    if isinstance(exc, ValidationFailedError):
        return ErrorAnswer(422, "validation_failed", exc.message, exc.fields)
    if isinstance(exc, UnauthenticatedError):
        return ErrorAnswer(401, "unauthenticated", exc.message)
    if isinstance(exc, AccessDeniedError):
        return ErrorAnswer(403, "forbidden", exc.message)
    if isinstance(exc, OrderNotFoundError | ForbiddenOrderError):
        return ErrorAnswer(404, "order_not_found", "No such order.")
    if isinstance(exc, IdempotencyKeyReusedError):
        return _key_reused()
    if isinstance(exc, InvalidCursorError):
        return ErrorAnswer(
            400, "invalid_cursor", exc.message, [FieldError(field="cursor", reason=exc.message)]
        )
    if isinstance(exc, StaleOrderError | InvalidTransitionError | OrderExistsError):
        return ErrorAnswer(409, "conflict", "The order changed meanwhile; read it again.", retry_after=1)
    return ErrorAnswer(400, exc.code, exc.message)


def _key_reused() -> ErrorAnswer:
    fields = [FieldError(field="Idempotency-Key", reason="This key was already used with a different body.")]
    return ErrorAnswer(
        422, "idempotency_key_reused", "The Idempotency-Key was used with another request.", fields
    )


def _idempotency_answer(exc: Exception) -> ErrorAnswer | None:
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyKeyError,
        IdempotencyValidationError,
    )

    if isinstance(exc, IdempotencyValidationError):
        return _key_reused()
    if isinstance(exc, IdempotencyAlreadyInProgressError):
        return ErrorAnswer(
            409, "request_in_progress", "A request with this Idempotency-Key is in progress.", retry_after=1
        )
    if isinstance(exc, IdempotencyKeyError):
        fields = [FieldError(field="Idempotency-Key", reason="The header is required.")]
        return ErrorAnswer(400, "idempotency_key_missing", "The Idempotency-Key header is required.", fields)
    return None


class RequestRejectedError(Exception):
    """A request refused before it reached a route (body encoding, content type, JSON)."""

    def __init__(self, answer: ErrorAnswer) -> None:
        super().__init__(answer.message)
        self.answer = answer


def answer_for(exc: Exception) -> ErrorAnswer:
    """The one answer for any exception; unknown ones become a bare 500 without details."""
    if isinstance(exc, RequestRejectedError):
        return exc.answer
    if isinstance(exc, DomainError):
        return _domain_answer(exc)
    if isinstance(exc, errors.ExchangeError):
        return _exchange_answer(exc)
    if isinstance(exc, errors.CredentialsError):
        return ErrorAnswer(
            503, "service_misconfigured", "The service is not configured to reach the exchange."
        )
    known = _idempotency_answer(exc) or _powertools_answer(exc)
    if known is not None:
        return known
    return ErrorAnswer(500, "internal_error", "Something went wrong on our side.")


def _powertools_answer(exc: Exception) -> ErrorAnswer | None:
    # Powertools raises this for a body type it cannot parse; our catch-all handler sees it before
    # Powertools' own 415 would, so without this it became a 500.
    from aws_lambda_powertools.event_handler.openapi.exceptions import RequestUnsupportedContentType

    if isinstance(exc, RequestUnsupportedContentType):
        return _unsupported_media(None)
    return None


def _unsupported_media(media: str | None) -> ErrorAnswer:
    # Echo only a short printable rendering of what the caller sent; the header is theirs, not ours.
    shown = "".join(c for c in (media or "")[:64] if c.isprintable()) or "none"
    return ErrorAnswer(415, "unsupported_media_type", f"Send the body as application/json (got {shown}).")


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
    return ErrorAnswer(422, "validation_failed", "The request has invalid fields.", fields)


# -- body pre-checks (before Powertools touches the body; it answers some of these with 500) -----


def precheck_body(event: dict[str, Any]) -> dict[str, Any]:
    """For a request with a body: insist on UTF-8 JSON with an application/json Content-Type and
    hand Powertools a decoded body. Raises RequestRejectedError with a 400/415 answer."""
    body = event.get("body")
    method = str(event.get("requestContext", {}).get("http", {}).get("method", "")).upper()
    if method not in ("POST", "PUT", "PATCH"):
        return event
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    content_type = headers.get("content-type", "").strip().lower()
    if not content_type and not body:
        # A bodiless command (e.g. refresh); routes that need a body refuse its absence themselves.
        return event
    media = content_type.split(";", 1)[0].strip()
    if media != "application/json" and not media.endswith("+json"):
        raise RequestRejectedError(_unsupported_media(media))
    raw = _raw_body(body, bool(event.get("isBase64Encoded")))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise RequestRejectedError(
            ErrorAnswer(400, "invalid_encoding", "The body is not valid UTF-8.")
        ) from None
    if not text.strip():
        raise RequestRejectedError(ErrorAnswer(400, "empty_body", "The request needs a JSON body."))
    try:
        parsed = json.loads(
            text, parse_float=str, parse_constant=_refuse_constant, object_pairs_hook=_unique_keys
        )
    except DuplicateKeyError as exc:
        raise RequestRejectedError(_duplicate_key(exc.key)) from None
    except (ValueError, RecursionError):
        raise RequestRejectedError(
            ErrorAnswer(400, "malformed_json", "The body is not valid JSON.")
        ) from None
    if not isinstance(parsed, dict):
        raise RequestRejectedError(ErrorAnswer(400, "malformed_json", "The body must be a JSON object."))
    return {**event, "headers": _json_headers(event), "body": text, "isBase64Encoded": False}


def _json_headers(event: dict[str, Any]) -> dict[str, str]:
    """The event's headers with one canonical Content-Type. Powertools parses a body only when the
    header starts with lower-case `application/json`; `+json` types or `Application/JSON` that we
    accepted above would otherwise reach it as an unsupported type."""
    headers = {k: v for k, v in (event.get("headers") or {}).items() if str(k).lower() != "content-type"}
    headers["content-type"] = "application/json"
    return headers


class DuplicateKeyError(ValueError):
    """A JSON object names one key twice (RFC 8259 leaves the meaning open)."""

    def __init__(self, key: str) -> None:
        super().__init__(f"duplicate key {key!r}")
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """json's object hook that refuses a repeated key instead of keeping the last value: a proxy or
    a signature check that reads the first value would otherwise see another request than we do."""
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise DuplicateKeyError(key)
        seen[key] = value
    return seen


def _duplicate_key(key: str) -> ErrorAnswer:
    # Only a short printable rendering of the caller's key goes back (it is theirs, not ours).
    shown = "".join(c for c in key[:64] if c.isprintable())
    return ErrorAnswer(
        400,
        "duplicate_key",
        f"The body names the key {shown!r} more than once.",
        [FieldError(field=shown or "body", reason="The key appears more than once in one JSON object.")],
    )


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _raw_body(body: Any, is_base64: bool) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    text = str(body)
    if not is_base64:
        # API Gateway hands non-UTF-8 bodies over as base64; a str here was already text.
        return text.encode("utf-8", errors="surrogatepass")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise RequestRejectedError(
            ErrorAnswer(400, "invalid_encoding", "The body could not be decoded.")
        ) from None
