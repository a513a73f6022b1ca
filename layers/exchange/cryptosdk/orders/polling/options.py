"""A poller run's options and dependencies (cryptosdk.container builds them once per container)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

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
