"""The exchange's v2 request signature. Pure functions: no I/O, no clock, no logging."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any, Protocol

PUBLIC_KEY_HEADER = "X-Api-Public-Key"
TIMESTAMP_HEADER = "X-Api-Timestamp"
SIGNATURE_HEADER = "X-Api-Signature"
# Header names whose values must never reach a log line, an error or a response.
SENSITIVE_HEADERS = frozenset({PUBLIC_KEY_HEADER.lower(), SIGNATURE_HEADER.lower(), "authorization"})


class KeyPair(Protocol):
    """Anything holding the partner key pair (cryptosdk.exchange.secrets.ApiKeys satisfies it)."""

    @property
    def public_key(self) -> str: ...

    def secret_value(self) -> str: ...


def compact_json(obj: Any) -> bytes:
    """Serialise once, the way the exchange re-serialises (JSON.stringify: no spaces, UTF-8 kept)."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sign(secret_key: str, timestamp: str, payload: bytes | str, public_key: str) -> str:
    """Base64 HMAC-SHA256 over timestamp + payload + publicKey, keyed by the secret's UTF-8 bytes."""
    body = payload if isinstance(payload, bytes) else payload.encode("utf-8")
    message = timestamp.encode("utf-8") + body + public_key.encode("utf-8")
    digest = hmac.new(secret_key.encode("utf-8"), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def signed_headers(keys: KeyPair, payload: bytes | str, now_ms: int) -> dict[str, str]:
    """Every header a protected call needs.

    `payload` is what goes on the wire after the headers: the body bytes of a POST (bytes), or
    the raw query string of a GET without "?" (str, "" when none).
    """
    timestamp = str(now_ms)
    headers = {
        PUBLIC_KEY_HEADER: keys.public_key,
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(keys.secret_value(), timestamp, payload, keys.public_key),
        "Accept": "application/json",
    }
    if isinstance(payload, bytes):
        headers["Content-Type"] = "application/json"
    return headers
