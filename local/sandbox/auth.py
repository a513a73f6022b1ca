"""v2 request signing as the exchange verifies it: pure functions, no I/O.

signature = Base64(HMAC-SHA256(secret, timestamp + payload + publicKey)), where payload is the raw
POST body or the raw GET query string. The provider's own SDK signs compact JSON but sends the body
re-serialised with spaces, so a POST signature is also accepted over the compact re-serialisation
of the parsed body (JSON.stringify semantics: no spaces, non-ASCII kept, key order as received).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from local.sandbox.errors import SandboxError

# Epoch seconds stay below 10**11 until the year 5138; epoch milliseconds are above it since 1973.
_MILLIS_THRESHOLD = 10**11


@dataclass(frozen=True)
class AuthHeaders:
    public_key: str | None
    timestamp: str | None
    signature: str | None


@dataclass(frozen=True)
class AuthPolicy:
    keys: Mapping[str, str]
    window_seconds: float
    whitelist: frozenset[str] = field(default_factory=frozenset)


def sign(secret_key: str, timestamp: str, payload: bytes, public_key: str) -> str:
    """The signature a correct client sends (used by the sandbox and its own tooling)."""
    message = timestamp.encode() + payload + public_key.encode()
    return base64.b64encode(hmac.new(secret_key.encode(), message, hashlib.sha256).digest()).decode()


def timestamp_seconds(raw: str) -> float | None:
    """Epoch seconds from a seconds or milliseconds timestamp; None when it is not an integer."""
    text = raw.strip()
    if not text.isdigit():
        return None
    value = int(text)
    return value / 1000 if value >= _MILLIS_THRESHOLD else float(value)


def candidate_payloads(method: str, body: bytes, query_string: str) -> Iterator[bytes]:
    """Payloads a valid signature may cover, cheapest first."""
    if method == "GET":
        yield query_string.encode()
        return
    yield body
    try:
        parsed = json.loads(body)
    except ValueError:
        return
    compact = json.dumps(parsed, separators=(",", ":"), ensure_ascii=False).encode()
    if compact != body:
        yield compact


def verify(
    headers: AuthHeaders,
    method: str,
    body: bytes,
    query_string: str,
    client_ip: str,
    policy: AuthPolicy,
    now: float,
) -> str:
    """Return the caller's public key, or raise the 401/403 the exchange would answer."""
    secret = policy.keys.get(headers.public_key or "")
    if not headers.public_key or secret is None:
        raise SandboxError(401, "Unknown or missing public key", "INVALID_PUBLIC_KEY")
    if policy.whitelist and client_ip not in policy.whitelist:
        raise SandboxError(403, "Request from an address not on this key's whitelist", "IP_NOT_WHITELISTED")
    seconds = timestamp_seconds(headers.timestamp or "")
    if seconds is None:
        raise SandboxError(401, "Missing or malformed timestamp", "INVALID_TIMESTAMP")
    if abs(now - seconds) > policy.window_seconds:
        raise SandboxError(401, "Timestamp outside the allowed window", "STALE_TIMESTAMP")
    received = (headers.signature or "").encode()
    for payload in candidate_payloads(method, body, query_string):
        expected = sign(secret, headers.timestamp or "", payload, headers.public_key).encode()
        if hmac.compare_digest(expected, received):
            return headers.public_key
    raise SandboxError(401, "Invalid signature", "INVALID_SIGNATURE")
