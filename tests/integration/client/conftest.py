"""Helpers for driving ExchangeClient against the sandbox over real HTTP."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from cryptosdk.exchange.client import ExchangeClient
from cryptosdk.exchange.retry import RetryPolicy
from cryptosdk.exchange.secrets import StaticKeyProvider
from local.sandbox import SandboxServer


class RecordingSleep:
    """Stands in for time.sleep: records every backoff the client asks for and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


class SandboxControl:
    """The sandbox's control API, spoken over HTTP like any other client of it."""

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self.http = requests.Session()

    def fault(self, endpoint: str, kind: str, **spec: Any) -> None:
        answer = self.http.post(
            f"{self.server.url}/_sandbox/faults", json={"endpoint": endpoint, "kind": kind, **spec}, timeout=5
        )
        assert answer.status_code == 201, answer.text

    def clear_faults(self) -> None:
        self.http.delete(f"{self.server.url}/_sandbox/faults", timeout=5).raise_for_status()

    def requests_to(self, path: str) -> int:
        stats = self.http.get(f"{self.server.url}/_sandbox/stats", timeout=5).json()
        return int(stats["requests"].get(path, 0))

    def answered(self, path: str, status: int) -> int:
        stats = self.http.get(f"{self.server.url}/_sandbox/stats", timeout=5).json()
        return int(stats["responses"].get(path, {}).get(str(status), 0))

    def wait_until_answered(self, path: str, status: int, timeout: float = 10.0) -> None:
        """Until the sandbox has finished one `path` call with `status` (polled, with a deadline)."""
        deadline = time.monotonic() + timeout
        while not self.answered(path, status):
            assert time.monotonic() < deadline, f"the sandbox never answered {path} with {status}"
            time.sleep(0.02)

    def new_keys(self) -> StaticKeyProvider:
        """A fresh key pair known to the sandbox: its order list starts empty."""
        public, secret = f"pk-{uuid.uuid4().hex[:12]}", f"sk-{uuid.uuid4().hex}"
        answer = self.http.post(
            f"{self.server.url}/_sandbox/keys", json={"publicKey": public, "secretKey": secret}, timeout=5
        )
        answer.raise_for_status()
        return StaticKeyProvider(public, secret)


def ceiling(low: float, high: float) -> float:
    # Jitter pinned to its upper bound so the test can see the backoff ceiling grow.
    return high


@pytest.fixture
def control(sandbox: SandboxServer) -> Iterator[SandboxControl]:
    helper = SandboxControl(sandbox)
    yield helper
    helper.clear_faults()
    helper.http.close()


@pytest.fixture
def slept() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
def make_client(
    sandbox: SandboxServer, sandbox_keys: dict[str, str], slept: RecordingSleep
) -> Iterator[Callable[..., ExchangeClient]]:
    clients: list[ExchangeClient] = []

    def build(**options: Any) -> ExchangeClient:
        options.setdefault("keys", StaticKeyProvider(sandbox_keys["publicKey"], sandbox_keys["secretKey"]))
        options.setdefault(
            "retry",
            RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.08, deadline=10.0, uniform=ceiling),
        )
        options.setdefault("sleep", slept)
        options.setdefault("read_timeout", 5.0)
        base_url = options.pop("base_url", sandbox.url)
        client = ExchangeClient(base_url, options.pop("keys"), **options)
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., ExchangeClient]) -> ExchangeClient:
    return make_client()
