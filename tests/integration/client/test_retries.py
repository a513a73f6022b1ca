"""Retries under injected faults: attempt counts from the sandbox, backoff from the injected sleep."""

from __future__ import annotations

import random
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from cryptosdk.exchange import errors
from cryptosdk.exchange.client import (
    INSTRUMENT_PATH,
    INSTRUMENTS_PATH,
    ORDERS_PATH,
    PAIRS_PATH,
    RATE_PATH,
    ExchangeClient,
)
from cryptosdk.exchange.retry import RetryPolicy
from tests.integration.client.conftest import RecordingSleep, SandboxControl
from tests.integration.client.routes import BTC, ETH, rate


def test_429_without_retry_after_backs_off_exponentially(
    control: SandboxControl, client: ExchangeClient, slept: RecordingSleep
) -> None:
    control.fault(INSTRUMENTS_PATH, "429", count=3)
    assert client.list_instruments()
    assert control.requests_to(INSTRUMENTS_PATH) == 4
    # Jitter pinned to its ceiling (conftest): base 0.01 doubling.
    assert slept.delays == pytest.approx([0.01, 0.02, 0.04])


def test_429_with_retry_after_waits_what_the_server_asked(
    control: SandboxControl, client: ExchangeClient, slept: RecordingSleep
) -> None:
    control.fault(PAIRS_PATH, "429", count=2, retryAfter=0.5)
    assert len(client.list_pairs(0, 3)) == 3
    assert control.requests_to(PAIRS_PATH) == 3
    assert slept.delays == [0.5, 0.5]


def test_retry_after_beyond_the_deadline_is_not_waited_for(
    control: SandboxControl, make_client: Callable[..., ExchangeClient], slept: RecordingSleep
) -> None:
    control.fault(PAIRS_PATH, "429", count=1, retryAfter=60)
    client = make_client(retry=RetryPolicy(deadline=5.0))
    with pytest.raises(errors.RateLimitedError) as caught:
        client.list_pairs()
    assert caught.value.retry_after == 60
    assert slept.delays == []
    assert control.requests_to(PAIRS_PATH) == 1


@pytest.mark.parametrize("kind", ["500", "502", "503", "504"])
def test_temporary_5xx_is_retried_until_success(
    kind: str, control: SandboxControl, client: ExchangeClient, slept: RecordingSleep
) -> None:
    control.fault(RATE_PATH, kind, count=2)
    quote = client.get_rate(rate(BTC, ETH, "0.1"))
    assert quote.amount_to_get
    assert control.requests_to(RATE_PATH) == 3
    assert slept.delays == pytest.approx([0.01, 0.02])


def test_signed_read_only_post_is_retried(
    control: SandboxControl, client: ExchangeClient, slept: RecordingSleep
) -> None:
    # Each attempt is signed afresh (new timestamp) over the same body bytes.
    control.fault(INSTRUMENT_PATH, "503", count=3)
    assert client.get_instrument("BTC", "BTC").currency_title == "BTC"
    assert control.requests_to(INSTRUMENT_PATH) == 4
    assert slept.delays == sorted(slept.delays)
    assert slept.delays[-1] > slept.delays[0]


def test_dropped_connections_are_retried(
    control: SandboxControl, client: ExchangeClient, slept: RecordingSleep
) -> None:
    control.fault(ORDERS_PATH, "drop", count=2)
    assert isinstance(client.list_orders(), list)
    assert control.requests_to(ORDERS_PATH) == 3
    assert len(slept.delays) == 2


def test_latency_beyond_the_read_timeout_is_retried(
    control: SandboxControl, make_client: Callable[..., ExchangeClient], slept: RecordingSleep
) -> None:
    control.fault(INSTRUMENTS_PATH, "latency", count=2, latencyMs=2000)
    client = make_client(read_timeout=0.4)
    assert client.list_instruments()
    assert control.requests_to(INSTRUMENTS_PATH) == 3
    assert slept.delays == pytest.approx([0.01, 0.02])


def test_latency_within_the_read_timeout_is_just_slow(
    control: SandboxControl, client: ExchangeClient, slept: RecordingSleep
) -> None:
    control.fault(INSTRUMENTS_PATH, "latency", count=1, latencyMs=100)
    assert client.list_instruments()
    assert control.requests_to(INSTRUMENTS_PATH) == 1
    assert slept.delays == []


def test_backoff_is_capped(
    control: SandboxControl, make_client: Callable[..., ExchangeClient], slept: RecordingSleep
) -> None:
    control.fault(INSTRUMENTS_PATH, "502", count=5)
    client = make_client(
        retry=RetryPolicy(max_attempts=6, base_delay=0.01, max_delay=0.03, uniform=lambda low, high: high)
    )
    assert client.list_instruments()
    assert slept.delays == pytest.approx([0.01, 0.02, 0.03, 0.03, 0.03])


def test_full_jitter_stays_under_the_growing_ceiling(
    control: SandboxControl, make_client: Callable[..., ExchangeClient], slept: RecordingSleep
) -> None:
    control.fault(INSTRUMENTS_PATH, "503", count=5)
    policy = RetryPolicy(max_attempts=6, base_delay=0.01, max_delay=1.0, uniform=random.Random(3).uniform)
    assert make_client(retry=policy).list_instruments()
    assert len(slept.delays) == 5
    for number, delay in enumerate(slept.delays):
        assert 0 <= delay <= policy.backoff_ceiling(number)


def test_client_errors_are_never_retried(
    control: SandboxControl, client: ExchangeClient, slept: RecordingSleep
) -> None:
    with pytest.raises(errors.NotFoundError):
        client.get_instrument("NOPE", "NOPE")
    assert control.requests_to(INSTRUMENT_PATH) == 1
    assert slept.delays == []


def test_pool_serves_concurrent_calls(client: ExchangeClient) -> None:
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(lambda _: client.list_orders(limit=1), range(64)))
    assert len(results) == 64
