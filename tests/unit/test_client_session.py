"""The client's pooled session reads proxy and CA settings once, at construction."""

from __future__ import annotations

import pytest

from cryptosdk.exchange.client import ExchangeClient
from cryptosdk.exchange.secrets import StaticKeyProvider


def _client(base_url: str) -> ExchangeClient:
    return ExchangeClient(base_url, StaticKeyProvider("pk", "sk"))


def test_given_a_proxy_in_the_environment_when_built_then_the_session_uses_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)

    session = _client("https://exchange.example.com")._session

    assert session.proxies.get("https") == "http://proxy.internal:3128"
    assert session.trust_env is False


def test_given_no_proxy_for_the_host_when_built_then_no_proxy_is_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "exchange.example.com")

    session = _client("https://exchange.example.com")._session

    assert "https" not in session.proxies


def test_given_a_ca_bundle_in_the_environment_when_built_then_it_verifies_with_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/corp-ca.pem")

    assert _client("https://exchange.example.com")._session.verify == "/etc/ssl/corp-ca.pem"
