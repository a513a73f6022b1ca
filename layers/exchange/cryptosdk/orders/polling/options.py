"""A poller run's options and the clients it uses (built once per container)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from cryptosdk.domain.order import utc_now
from cryptosdk.orders.polling.pacing import poll_interval_cap
from cryptosdk.orders.settle import CREATE_SETTLE_WINDOW

if TYPE_CHECKING:
    from cryptosdk.exchange.client import ExchangeClient
    from cryptosdk.runtime.config import Settings
    from cryptosdk.storage.orders import OrderStore

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class PollerOptions:
    shard_count: int = 4
    concurrency: int = 16
    page_size: int = 100
    unpaid_ttl: timedelta = timedelta(hours=1)
    # An intent not found upstream after this long is marked failed (the create never happened).
    reconcile_deadline: timedelta = timedelta(minutes=15)
    # From a create attempt's start until a list read may prove it absent (cryptosdk.orders.settle).
    settle_window: timedelta = CREATE_SETTLE_WINDOW
    # A run waits, before its deadline, for settle windows that close within this (0: never waits).
    settle_wait: timedelta = timedelta(seconds=45)
    # No new order starts with less than this left: room for the in-flight calls and writes.
    stop_margin_seconds: float = 10.0
    # An in-flight order with less than this left drops its write (stays untouched, due next run).
    write_margin_seconds: float = 3.0
    # The run's first pause after a persistent 429 (doubling while it persists).
    rate_limit_pause_seconds: float = 1.0
    # POLL_INTERVAL_MAX_SECONDS: every poll interval at most this (local demos); None in AWS.
    max_poll_interval: timedelta | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> PollerOptions:
        return cls(
            shard_count=settings.poll_shards,
            concurrency=settings.poller_concurrency,
            page_size=max(100, settings.poller_concurrency * 4),
            unpaid_ttl=timedelta(seconds=settings.unpaid_order_ttl_seconds),
            max_poll_interval=poll_interval_cap(settings.poll_interval_max_seconds),
        )


@dataclass
class PollerDeps:
    client: ExchangeClient
    store: OrderStore
    clock: Clock = utc_now
    # How the run waits for settle windows (tests move their clock instead).
    sleep: Callable[[float], None] = time.sleep


def dynamodb_client(concurrency: int, **kwargs: Any) -> Any:
    """A DynamoDB client sized for `concurrency` workers (extra kwargs go to boto3.client)."""
    import boto3  # heavy: only when a run really starts
    from botocore.config import Config

    config = Config(
        # botocore's default pool (10) would make every worker past the tenth open a fresh connection.
        max_pool_connections=concurrency + 4,
        # Checksums only where an operation requires them: DynamoDB needs none and TLS guards the
        # bytes; every UpdateItem of a run is CPU on the GIL-bound hot path.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        # OrderStore builds every request itself; botocore re-validating each one costs ~6% of a
        # run's CPU, and a malformed request is still refused by DynamoDB.
        parameter_validation=False,
    )
    return boto3.client("dynamodb", config=config, **kwargs)


def default_deps(concurrency: int | None = None) -> PollerDeps:
    """Client and store for the configured stack, built once per container and
    concurrency: a warm invocation reuses their connection pools."""
    from cryptosdk.exchange.client import get_client
    from cryptosdk.runtime.config import get_settings

    settings = get_settings()
    # Keyed by the process-wide client too, so whoever resets get_client (a test's new stack)
    # gets dependencies bound to the new endpoints, never a stale one.
    return _container_deps(concurrency or settings.poller_concurrency, settings, get_client())


@lru_cache(maxsize=8)
def _container_deps(workers: int, settings: Settings, client: ExchangeClient) -> PollerDeps:
    from cryptosdk.storage.orders import OrderStore

    return PollerDeps(
        client=client,
        store=OrderStore(settings.orders_table, client=dynamodb_client(workers)),
    )


def clear_default_deps() -> None:
    """Forget the cached dependencies (tests that swap the stack under one process)."""
    _container_deps.cache_clear()


def default_options() -> PollerOptions:
    from cryptosdk.runtime.config import get_settings

    return PollerOptions.from_settings(get_settings())
