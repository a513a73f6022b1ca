"""What travels between the client and the wire: the signed query's encoding, the answer's JSON
decoded (amounts as Decimal), parsed into the SDK's models, its request id, and error bodies
scrubbed of anything secret before they reach an exception or a log."""

from __future__ import annotations

import json
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import quote

from pydantic import BaseModel, ValidationError

from cryptosdk.exchange import errors
from cryptosdk.exchange.money import decimal_text
from cryptosdk.exchange.secrets import ApiKeys
from cryptosdk.exchange.transport import HttpRequest, HttpResponse

# Response headers that may carry the exchange's (or a proxy's) request id, first match wins.
_REQUEST_ID_HEADERS = ("X-Request-Id", "X-Amzn-Requestid", "X-Amz-Request-Id", "Request-Id", "X-Trace-Id")

M = TypeVar("M", bound=BaseModel)


def build_query(items: Iterable[tuple[str, Any]]) -> str:
    """The raw query string that is both signed and sent: every byte outside the unreserved set
    percent-encoded (so no layer below can re-encode it), None values left out."""
    parts = []
    for name, value in items:
        if value is None:
            continue
        text = decimal_text(value) if isinstance(value, Decimal) else str(value)
        parts.append(f"{quote(name, safe='')}={quote(text, safe='')}")
    return "&".join(parts)


def request_id_of(headers: Any) -> str | None:
    for name in _REQUEST_ID_HEADERS:
        value = headers.get(name)
        if value:
            return str(value)[:128]
    return None


def sensitive_values(keys: ApiKeys | None, prepared: HttpRequest) -> list[str]:
    values = [str(prepared.headers.get("X-Api-Signature", ""))]
    if keys is not None:
        values.append(keys.secret_value())
    return [value for value in values if len(value) >= 8]


def scrub(content: bytes, secrets: Iterable[str]) -> str:
    # Defence in depth: an error body that echoes our signature or secret must not carry it on.
    text = content.decode("utf-8", errors="replace")
    for secret in secrets:
        text = text.replace(secret, "[redacted]")
    return text


def decode(response: HttpResponse, path: str, request_id: str | None) -> Any:
    try:
        # parse_float keeps every digit of numeric amounts; json's float would not.
        return json.loads(response.content, parse_float=Decimal)
    except ValueError:
        raise errors.UnexpectedResponseError(
            f"{path} answered {response.status} with a body that is not JSON",
            status=response.status,
            request_id=request_id,
        ) from None


def parse(model: type[M], data: Any, path: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        # Field locations only: the values may be personal data.
        where = ", ".join(
            ".".join(str(part) for part in err["loc"]) or "body"
            for err in exc.errors(include_input=False, include_url=False)[:5]
        )
        raise errors.UnexpectedResponseError(
            f"{path} answered a shape we cannot read (at {where})", status=200
        ) from None
