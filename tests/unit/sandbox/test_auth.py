"""The sandbox's signature verification as pure functions (no server)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from local.sandbox.auth import AuthHeaders, AuthPolicy, timestamp_seconds, verify
from local.sandbox.errors import SandboxError

NOW = 1_750_000_000.0
POLICY = AuthPolicy({"pub": "sec"}, 30.0)


def expected_signature(timestamp: str, payload: str) -> str:
    digest = hmac.new(b"sec", f"{timestamp}{payload}pub".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def check(
    timestamp: str,
    signed_payload: str,
    body: bytes = b"",
    query: str = "",
    method: str = "POST",
    **kw: object,
) -> str:
    headers = AuthHeaders(
        str(kw.get("public", "pub")), timestamp, expected_signature(timestamp, signed_payload)
    )
    policy = kw.get("policy", POLICY)
    assert isinstance(policy, AuthPolicy)
    return verify(headers, method, body, query, str(kw.get("ip", "127.0.0.1")), policy, NOW)


def status_of(call: object) -> int:
    assert callable(call)
    with pytest.raises(SandboxError) as caught:
        call()
    return caught.value.status


def test_seconds_and_milliseconds_are_told_apart_by_magnitude() -> None:
    assert timestamp_seconds("1750000000") == NOW
    assert timestamp_seconds("1750000000123") == pytest.approx(NOW + 0.123)
    assert timestamp_seconds("-5") is None
    assert timestamp_seconds("1.5e9") is None


def test_raw_body_signature_is_accepted_in_both_units() -> None:
    body = b'{"a":1}'
    assert check("1750000000", body.decode(), body) == "pub"
    assert check("1750000000000", body.decode(), body) == "pub"


def test_compact_reserialisation_is_accepted_keeping_key_order_and_unicode() -> None:
    sent = json.dumps({"z": "ü", "a": [1, 2]}).encode()  # spaces and \\u escapes, like requests sends
    assert check("1750000000", '{"z":"ü","a":[1,2]}', sent) == "pub"
    assert status_of(lambda: check("1750000000", '{"a":[1,2],"z":"ü"}', sent)) == 401


def test_get_signs_the_raw_query_string() -> None:
    assert check("1750000000", "a=1&b=2", query="a=1&b=2", method="GET") == "pub"
    assert status_of(lambda: check("1750000000", "b=2&a=1", query="a=1&b=2", method="GET")) == 401


def test_window_edges() -> None:
    assert check("1750000030", "") == "pub"
    assert status_of(lambda: check("1750000031", "")) == 401
    assert status_of(lambda: check("1749999969", "")) == 401


def test_unknown_key_is_401_and_whitelist_is_403() -> None:
    assert status_of(lambda: check("1750000000", "", public="nobody")) == 401
    listed = AuthPolicy({"pub": "sec"}, 30.0, frozenset({"10.0.0.1"}))
    assert status_of(lambda: check("1750000000", "", policy=listed)) == 403
    assert check("1750000000", "", policy=listed, ip="10.0.0.1") == "pub"
