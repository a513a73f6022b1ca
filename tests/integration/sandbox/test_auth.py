"""Signature checks over real HTTP: every 401 reason, the 403 whitelist, both timestamp units."""

from __future__ import annotations

import json
import time

import requests

from local.sandbox import SandboxServer
from tests.integration.sandbox.conftest import Signed, signature

ONE = "/api/v2/instruments/public/one"
BODY = {"currencyTitle": "BTC", "networkTitle": "BTC"}


def _error(response: requests.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["statusCode"] == status
    assert set(body) == {"statusCode", "message", "error", "data"}
    assert isinstance(body["error"]["code"], str)
    return body


def test_milliseconds_and_seconds_timestamps_are_both_accepted(signed: Signed) -> None:
    assert signed.post(ONE, BODY, millis=True).status_code == 200
    assert signed.post(ONE, BODY, millis=False).status_code == 200


def test_unknown_public_key_is_401(sandbox: SandboxServer) -> None:
    stranger = Signed(sandbox, public="someone-else", secret=sandbox.secret_key)
    assert "public key" in str(_error(stranger.post(ONE, BODY), 401)["message"]).lower()


def test_missing_headers_are_401(sandbox: SandboxServer) -> None:
    response = requests.post(sandbox.url + ONE, json=BODY, timeout=5)
    _error(response, 401)


def test_wrong_secret_is_401_and_the_secret_is_never_echoed(sandbox: SandboxServer) -> None:
    impostor = Signed(sandbox, secret="not-the-secret")
    response = impostor.post(ONE, BODY)
    assert _error(response, 401)["error"] == {"code": "INVALID_SIGNATURE"}
    assert sandbox.secret_key not in response.text


def test_stale_timestamp_is_401_in_either_unit(signed: Signed) -> None:
    old_seconds = str(int(time.time()) - 120)
    old_millis = str(int(time.time() * 1000) - 120_000)
    for stamp in (old_seconds, old_millis):
        assert _error(signed.post(ONE, BODY, timestamp=stamp), 401)["error"] == {"code": "STALE_TIMESTAMP"}


def test_timestamp_window_is_configurable(sandbox_factory) -> None:  # type: ignore[no-untyped-def]
    server = sandbox_factory(timestamp_window=300)
    client = Signed(server)
    assert client.post(ONE, BODY, timestamp=str(int(time.time()) - 120)).status_code == 200
    assert client.post(ONE, BODY, timestamp=str(int(time.time()) - 400)).status_code == 401


def test_malformed_timestamp_is_401(signed: Signed) -> None:
    assert _error(signed.post(ONE, BODY, timestamp="yesterday"), 401)["error"] == {
        "code": "INVALID_TIMESTAMP"
    }


def test_body_tampered_after_signing_is_401(sandbox: SandboxServer, signed: Signed) -> None:
    raw = json.dumps(BODY, separators=(",", ":"))
    headers = {**signed.headers(raw), "Content-Type": "application/json"}
    tampered = raw.replace("BTC", "LTC")
    response = requests.post(sandbox.url + ONE, data=tampered, headers=headers, timeout=5)
    _error(response, 401)


def test_signature_over_compact_json_accepted_when_body_is_sent_with_spaces(sandbox: SandboxServer) -> None:
    # What the provider's SDK does: signs compact JSON, lets requests re-serialise it with spaces.
    body = {"currencyTitle": "BTC", "networkTitle": "BTC", "note": "naïve ✓"}
    compact = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    stamp = str(int(time.time()))
    headers = {
        "X-Api-Public-Key": sandbox.public_key,
        "X-Api-Timestamp": stamp,
        "X-Api-Signature": signature(sandbox.secret_key, stamp, compact, sandbox.public_key),
    }
    response = requests.post(sandbox.url + ONE, json=body, headers=headers, timeout=5)
    assert response.status_code == 200, response.text


def test_get_signature_covers_the_raw_query_string(sandbox: SandboxServer, signed: Signed) -> None:
    query = "offset=0&limit=5&order=desc"
    assert signed.get("/api/v2/orders", query).status_code == 200
    headers = signed.headers("offset=0&limit=5")  # signed over a different query
    response = requests.get(f"{sandbox.url}/api/v2/orders?{query}", headers=headers, timeout=5)
    _error(response, 401)


def test_caller_outside_the_whitelist_is_403(sandbox_factory) -> None:  # type: ignore[no-untyped-def]
    refused = Signed(sandbox_factory(whitelist=["10.20.30.40"]))
    assert _error(refused.post(ONE, BODY), 403)["error"] == {"code": "IP_NOT_WHITELISTED"}
    allowed = Signed(sandbox_factory(whitelist=["10.20.30.40", "127.0.0.1"]))
    assert allowed.post(ONE, BODY).status_code == 200


def test_whitelist_comes_from_the_environment(sandbox_factory, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SANDBOX_WHITELIST", "192.0.2.1, 192.0.2.2")
    _error(Signed(sandbox_factory()).post(ONE, BODY), 403)


def test_keys_come_from_the_environment(sandbox_factory, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SANDBOX_PUBLIC_KEY", "env-public")
    monkeypatch.setenv("SANDBOX_SECRET_KEY", "env-secret")
    server = sandbox_factory()
    assert server.keys == {"publicKey": "env-public", "secretKey": "env-secret"}
    assert Signed(server).post(ONE, BODY).status_code == 200


def test_rotated_keys_refuse_the_old_pair(sandbox: SandboxServer, signed: Signed) -> None:
    new = {"publicKey": "rotated-public", "secretKey": "rotated-secret", "replace": True}
    assert signed.control("POST", "/_sandbox/keys", new).status_code == 200
    assert signed.post(ONE, BODY).status_code == 401
    assert Signed(sandbox, "rotated-public", "rotated-secret").post(ONE, BODY).status_code == 200


def test_public_endpoints_need_no_signature(sandbox: SandboxServer) -> None:
    assert requests.get(sandbox.url + "/api/v2/instruments/public", timeout=5).status_code == 200
    assert requests.get(sandbox.url + "/api/v2/pairs/public", timeout=5).status_code == 200
