"""A deliberately independent v2 signer for talking to the sandbox with plain `requests`."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from local.sandbox import SandboxServer


def signature(secret: str, timestamp: str, payload: str, public: str) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}{payload}{public}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class Signed:
    """requests with the v2 headers; `millis=False` sends epoch seconds like the provider's SDK."""

    def __init__(self, server: SandboxServer, public: str | None = None, secret: str | None = None) -> None:
        self.url = server.url
        self.public = public or server.public_key
        self.secret = secret or server.secret_key
        self.http = requests.Session()

    def headers(self, payload: str, millis: bool = True, timestamp: str | None = None) -> dict[str, str]:
        stamp = timestamp or str(int(time.time() * 1000) if millis else int(time.time()))
        return {
            "Accept": "application/json",
            "X-Api-Public-Key": self.public,
            "X-Api-Timestamp": stamp,
            "X-Api-Signature": signature(self.secret, stamp, payload, self.public),
        }

    def post(self, path: str, body: Any, **options: Any) -> requests.Response:
        raw = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
        headers = {**self.headers(raw, **options), "Content-Type": "application/json"}
        return self.http.post(self.url + path, data=raw.encode(), headers=headers, timeout=10)

    def get(self, path: str, query: str = "", **options: Any) -> requests.Response:
        target = f"{self.url}{path}?{query}" if query else self.url + path
        return self.http.get(target, headers=self.headers(query, **options), timeout=10)

    def control(self, method: str, path: str, body: Any = None) -> requests.Response:
        return self.http.request(method, self.url + path, json=body, timeout=10)


@pytest.fixture
def signed(sandbox: SandboxServer) -> Iterator[Signed]:
    client = Signed(sandbox)
    yield client
    client.http.close()


class ManualClock:
    """The sandbox's clock in a test: it moves only when told, so lifecycle tests never sleep.

    It starts at the real time, so signed timestamps stay inside the sandbox's window."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def deposit_leg(currency: str, network: str) -> dict[str, str]:
    return {"currencyTitle": currency, "networkTitle": network}
