"""The checks every request body passes before a route sees it, and the errors they raise.

Powertools parses a body only when the Content-Type starts with lower-case `application/json`, and
answers some bodies it cannot read with a 500; these checks answer each such body with a 400 or 415
of ours and hand Powertools a decoded UTF-8 body with one canonical Content-Type.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Any, ClassVar

from cryptosdk.domain.order import FieldError

_BODY_METHODS = ("POST", "PUT", "PATCH")


class RequestRejectedError(Exception):
    """A request refused before it reached a route. Like the domain errors, each class states its
    answer (status, stable code, Retry-After) for the error mapping to read."""

    http_status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    retry_after: ClassVar[int | None] = None
    default_message: ClassVar[str] = "The request could not be read."

    def __init__(self, message: str | None = None, fields: Sequence[FieldError] = ()) -> None:
        self.message = message or self.default_message
        self.fields = tuple(fields)
        super().__init__(self.message)


class MalformedJsonError(RequestRejectedError):
    code = "malformed_json"
    default_message = "The body is not valid JSON."


class EmptyBodyError(RequestRejectedError):
    code = "empty_body"
    default_message = "The request needs a JSON body."


class InvalidEncodingError(RequestRejectedError):
    code = "invalid_encoding"
    default_message = "The body is not valid UTF-8."


class UnsupportedMediaTypeError(RequestRejectedError):
    http_status = 415
    code = "unsupported_media_type"

    def __init__(self, media: str | None) -> None:
        # Echo only a short printable rendering of what the caller sent; the header is theirs, not ours.
        shown = _printable(media or "") or "none"
        super().__init__(f"Send the body as application/json (got {shown}).")


class DuplicateKeyError(RequestRejectedError):
    """A JSON object names one key twice (RFC 8259 leaves the meaning open)."""

    code = "duplicate_key"

    def __init__(self, key: str) -> None:
        # Only a short printable rendering of the caller's key goes back (it is theirs, not ours).
        shown = _printable(key)
        reason = "The key appears more than once in one JSON object."
        super().__init__(
            f"The body names the key {shown!r} more than once.",
            [FieldError(field=shown or "body", reason=reason)],
        )
        self.key = key


def precheck_body(event: dict[str, Any]) -> dict[str, Any]:
    """For a request with a body: insist on UTF-8 JSON with an application/json Content-Type and
    return the event with a decoded body. Raises a RequestRejectedError (400/415)."""
    body = event.get("body")
    method = str(event.get("requestContext", {}).get("http", {}).get("method", "")).upper()
    if method not in _BODY_METHODS:
        return event
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    content_type = headers.get("content-type", "").strip().lower()
    if not content_type and not body:
        # A bodiless command (e.g. refresh); routes that need a body refuse its absence themselves.
        return event
    media = content_type.split(";", 1)[0].strip()
    if media != "application/json" and not media.endswith("+json"):
        raise UnsupportedMediaTypeError(media)
    raw = _raw_body(body, bool(event.get("isBase64Encoded")))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidEncodingError() from None
    if not text.strip():
        raise EmptyBodyError()
    try:
        parsed = json.loads(
            text, parse_float=str, parse_constant=_refuse_constant, object_pairs_hook=_unique_keys
        )
    except (ValueError, RecursionError):
        raise MalformedJsonError() from None
    if not isinstance(parsed, dict):
        raise MalformedJsonError("The body must be a JSON object.")
    return {**event, "headers": _json_headers(event), "body": text, "isBase64Encoded": False}


def _json_headers(event: dict[str, Any]) -> dict[str, str]:
    """The event's headers with one canonical Content-Type. Powertools parses a body only when the
    header starts with lower-case `application/json`; `+json` types or `Application/JSON` that we
    accepted above would otherwise reach it as an unsupported type."""
    headers = {k: v for k, v in (event.get("headers") or {}).items() if str(k).lower() != "content-type"}
    headers["content-type"] = "application/json"
    return headers


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """json's object hook that refuses a repeated key instead of keeping the last value: a proxy or
    a signature check that reads the first value would otherwise see another request than we do."""
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise DuplicateKeyError(key)
        seen[key] = value
    return seen


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
        raise InvalidEncodingError("The body could not be decoded.") from None


def _printable(text: str) -> str:
    return "".join(c for c in text[:64] if c.isprintable())
