"""The HTTP the exchange client sends through: the request and response it sees, the `Transport`
protocol (tests pass their own), and the pooled urllib3 transport with the environment's proxy and
CA settings."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib import request as urllib_request
from urllib.parse import urlsplit

import urllib3

DEFAULT_POOL_SIZE = 64


@dataclass(frozen=True)
class HttpRequest:
    """Exactly what goes on the wire: the URL holds the signed query as it was signed."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes | None


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: Mapping[str, str]  # case-insensitive (urllib3's HTTPHeaderDict)
    content: bytes


class Transport(Protocol):
    def send(self, request: HttpRequest, *, connect_timeout: float, read_timeout: float) -> HttpResponse: ...

    def close(self) -> None: ...


class HttpTransport:
    """One pooled urllib3 `PoolManager` (the urllib3 botocore already loads, so the client adds no
    HTTP stack of its own). Proxy and CA settings are read once, here, from the environment:
    HTTPS_PROXY / HTTP_PROXY / ALL_PROXY with NO_PROXY for this host, REQUESTS_CA_BUNDLE or
    CURL_CA_BUNDLE for a private CA (else the system's store; SSL_CERT_FILE works through OpenSSL).
    Retries and redirects are the client's business, never urllib3's.

    Tests subclass it and override `send` to watch or break real HTTP."""

    def __init__(self, base_url: str, pool_size: int = DEFAULT_POOL_SIZE) -> None:
        self.proxy = _environ_proxy(base_url)
        self.ca_bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or None
        options: dict[str, Any] = {"num_pools": 4, "maxsize": max(pool_size, 1), "block": False}
        if self.ca_bundle:
            options["ca_certs"] = self.ca_bundle
        self._pool: urllib3.PoolManager = (
            urllib3.ProxyManager(self.proxy, **options) if self.proxy else urllib3.PoolManager(**options)
        )

    def send(self, request: HttpRequest, *, connect_timeout: float, read_timeout: float) -> HttpResponse:
        """Raises urllib3's TimeoutError on a timeout, another urllib3 HTTPError (or OSError) when
        the connection fails."""
        response = self._pool.urlopen(
            request.method,
            request.url,
            body=request.body,
            headers=dict(request.headers),
            retries=False,
            redirect=False,
            timeout=urllib3.Timeout(connect=connect_timeout, read=read_timeout),
            preload_content=True,
        )
        return HttpResponse(status=response.status, headers=response.headers, content=response.data or b"")

    def close(self) -> None:
        self._pool.clear()


def _environ_proxy(base_url: str) -> str | None:
    """The proxy the environment names for `base_url` (None when NO_PROXY covers its host)."""
    parts = urlsplit(base_url)
    proxies = urllib_request.getproxies_environment()
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    bypass = urllib_request.proxy_bypass_environment  # type: ignore[attr-defined]  # in the stdlib, not its stubs
    if not proxy or bypass(parts.hostname or "", proxies):
        return None
    return proxy
