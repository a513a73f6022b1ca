"""The client's transport reads proxy and CA settings once, at construction."""

from __future__ import annotations

import pytest

from cryptosdk.exchange.client import ExchangeClient
from cryptosdk.exchange.secrets import StaticKeyProvider
from cryptosdk.exchange.transport import HttpTransport


def _transport(base_url: str) -> HttpTransport:
    transport = ExchangeClient(base_url, StaticKeyProvider("pk", "sk"))._transport
    assert isinstance(transport, HttpTransport)
    return transport


@pytest.fixture(autouse=True)
def _no_proxy_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name in ("NO_PROXY", "no_proxy", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)


def test_given_a_proxy_in_the_environment_when_built_then_the_transport_uses_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")

    transport = _transport("https://exchange.example.com")

    assert transport.proxy == "http://proxy.internal:3128"
    pool = transport._pool
    assert getattr(pool, "proxy", None) is not None
    assert pool.proxy.host == "proxy.internal"  # type: ignore[attr-defined]
    assert pool.proxy.port == 3128  # type: ignore[attr-defined]


def test_given_a_proxy_for_another_scheme_when_built_then_no_proxy_is_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.internal:3128")

    assert _transport("https://exchange.example.com").proxy is None


def test_given_no_proxy_for_the_host_when_built_then_no_proxy_is_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "exchange.example.com")

    transport = _transport("https://exchange.example.com")

    assert transport.proxy is None
    assert getattr(transport._pool, "proxy", None) is None


def test_given_a_ca_bundle_in_the_environment_when_built_then_it_verifies_with_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/corp-ca.pem")

    transport = _transport("https://exchange.example.com")

    assert transport.ca_bundle == "/etc/ssl/corp-ca.pem"
    assert transport._pool.connection_pool_kw["ca_certs"] == "/etc/ssl/corp-ca.pem"
