"""The client reports every HTTP attempt (the 429-rate alarm's ExchangeCalls / ExchangeRateLimited)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from cryptosdk.exchange import errors
from cryptosdk.exchange.client import INSTRUMENTS_PATH, PAIRS_PATH, ExchangeClient
from cryptosdk.runtime.observability import (
    EXCHANGE_CALLS_METRIC,
    EXCHANGE_RATE_LIMITED_METRIC,
    count_exchange_attempt,
    metrics,
)
from tests.integration.client.conftest import SandboxControl


@pytest.fixture
def metric_values() -> Iterator[Callable[[str], list[float]]]:
    metrics.metric_set.clear()

    def values(name: str) -> list[float]:
        return list(metrics.metric_set.get(name, {}).get("Value", []))

    yield values
    metrics.metric_set.clear()


def test_every_attempt_is_reported_with_its_status(
    control: SandboxControl, make_client: Callable[..., ExchangeClient]
) -> None:
    seen: list[int | None] = []
    client = make_client(on_attempt=seen.append)
    control.fault(INSTRUMENTS_PATH, "429", count=2)

    client.list_instruments()

    assert seen == [429, 429, 200]


def test_an_attempt_without_an_answer_is_reported_as_none(
    control: SandboxControl, make_client: Callable[..., ExchangeClient]
) -> None:
    seen: list[int | None] = []
    client = make_client(on_attempt=seen.append)
    control.fault(PAIRS_PATH, "drop", count=10)

    with pytest.raises(errors.TransportError):
        client.list_pairs(0, 3)

    assert len(seen) > 1  # retried
    assert set(seen) == {None}


def test_lambda_counts_calls_and_429s_as_metrics(
    control: SandboxControl,
    make_client: Callable[..., ExchangeClient],
    metric_values: Callable[[str], list[float]],
) -> None:
    client = make_client(on_attempt=count_exchange_attempt)
    control.fault(INSTRUMENTS_PATH, "429", count=2)

    client.list_instruments()

    assert sum(metric_values(EXCHANGE_CALLS_METRIC)) == 3
    assert sum(metric_values(EXCHANGE_RATE_LIMITED_METRIC)) == 2
