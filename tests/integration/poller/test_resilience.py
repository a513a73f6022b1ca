"""Faults, rate limits, concurrent pollers and deadlines: no update lost, none moves backwards,
every order either updated in one write or untouched, and exactly one event per change."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

import pytest

from cryptosdk.domain.order import Order
from cryptosdk.domain.status import OrderStatus
from cryptosdk.orders.polling.run import PollSummary
from cryptosdk.storage.orders import OrderStore
from tests.fixtures.dynamodb_local import DynamoDBLocalTables
from tests.integration.poller.conftest import World, history

INFO = "/api/v2/orders/public-info"


def paid_orders(world: World, count: int) -> list[Order]:
    """Orders whose deposit the exchange has seen but we have not polled yet."""
    orders = [world.active_order() for _ in range(count)]
    for order in orders:
        world.drive(order, "INCOMING_FUNDS_DETECTED")
    return orders


def budget(seconds: float) -> Callable[[], int]:
    """A Lambda context's remaining-time clock that runs out `seconds` from now."""
    ends = time.monotonic() + seconds
    return lambda: max(0, int((ends - time.monotonic()) * 1000))


def test_a_failing_exchange_backs_the_orders_off_and_a_later_run_catches_up(world: World) -> None:
    orders = paid_orders(world, 6)
    world.fault(INFO, "503")

    failing = world.poll(deps=world.deps(world.client(max_attempts=2)))

    assert (failing.failed, failing.changed) == (6, 0)
    for order in orders:
        stored = world.stored(order)
        assert stored.status == OrderStatus.AWAITING_DEPOSIT
        assert stored.poll_failures == 1
        # Doubled interval: the exchange keeps failing on it, so it is asked less often.
        assert stored.next_poll_at == world.clock() + 2 * timedelta(minutes=1)  # awaiting: 1 min
    world.clear_faults()
    assert world.poll().due == 0  # backed off: not due yet
    world.later()

    recovered = world.poll()

    assert recovered.changed == 6
    for order in orders:
        stored = world.stored(order)
        assert stored.status == OrderStatus.CONFIRMING
        assert stored.poll_failures == 0
        assert world.events_for(order) == [("awaiting_deposit", "confirming")]


def test_random_429_5xx_drops_and_latency_lose_no_update(world: World) -> None:
    orders = paid_orders(world, 8)
    for kind in ("429", "503", "drop"):
        world.fault(INFO, kind, probability=0.35, retryAfter=0.01)
    world.fault(INFO, "latency", latencyMs=20)
    deps = world.deps(world.client(max_attempts=2))

    for _ in range(12):
        world.poll(deps=deps, rate_limit_pause_seconds=0.05)
        world.later()
        if all(world.stored(o).status == OrderStatus.CONFIRMING for o in orders):
            break
    world.clear_faults()
    world.poll(deps=deps)

    for order in orders:
        stored = world.stored(order)
        assert stored.status == OrderStatus.CONFIRMING
        assert history(stored)[-2:] == ["awaiting_deposit", "confirming"]
        assert world.events_for(order) == [("awaiting_deposit", "confirming")]


def test_a_persistent_429_shrinks_the_run_instead_of_hammering(world: World) -> None:
    orders = [world.active_order() for _ in range(16)]
    world.fault(INFO, "429", retryAfter=0.3)
    before = world.requests_to(INFO)

    summary = world.poll(
        deps=world.deps(world.client(max_attempts=2)),
        remaining_ms=budget(2.5),
        concurrency=8,
        stop_margin_seconds=0.5,
        write_margin_seconds=0.1,
    )

    sent = world.requests_to(INFO) - before
    assert summary.rate_limited >= 1
    assert summary.min_concurrency <= 2  # halved at least twice
    assert summary.stopped_early
    # Unpaced, every due order would be tried (2 attempts each) within the budget; paced, the run
    # gives up part of its work to the next tick rather than hammering the exchange.
    assert summary.polled < len(orders)
    assert sent <= 2 * summary.polled
    assert sent < 2 * len(orders)
    for order in orders:
        stored = world.stored(order)
        untouched = stored.version == 1
        backed_off = stored.version == 2 and stored.poll_failures == 1
        assert untouched or backed_off
        assert stored.status == OrderStatus.AWAITING_DEPOSIT


class RendezvousStore(OrderStore):
    """A real store whose first due page is only handed out once both pollers have read it, so
    the two runs provably race on the very same orders and versions."""

    def __init__(self, table_name: str, client: Any, barrier: threading.Barrier) -> None:
        super().__init__(table_name, client=client)
        self._barrier = barrier
        self._met = False

    def due_for_poll(
        self,
        shard: str,
        now: datetime,
        limit: int = 100,
        exclusive_start: Mapping[str, Any] | None = None,
    ) -> tuple[list[Order], dict[str, Any] | None]:
        page = super().due_for_poll(shard, now, limit, exclusive_start)
        if page[0] and not self._met:
            self._met = True
            self._barrier.wait(timeout=10)
        return page


@pytest.mark.dynamodb_local
def test_two_pollers_at_once_lose_nothing_and_publish_each_change_once(
    world_on_dynamodb_local: World, dynamodb_local_tables: DynamoDBLocalTables
) -> None:
    world = world_on_dynamodb_local
    orders = paid_orders(world, 10)
    world.fault(INFO, "latency", latencyMs=15)

    def race() -> list[PollSummary]:
        barrier = threading.Barrier(2)
        summaries: list[PollSummary] = []

        def run() -> None:
            client = dynamodb_local_tables.server.client()
            store = RendezvousStore(dynamodb_local_tables.orders_table, client, barrier)
            deps = world.deps(world.client(), store)
            summaries.append(world.poll(deps=deps, concurrency=4))

        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        return summaries

    first = race()
    assert sum(s.changed for s in first) == 10
    # The loser of each race re-read (or found newer state) instead of overwriting.
    assert sum(s.rereads + s.skipped for s in first) >= 1
    for order in orders:
        world.drive(order, "DEPOSIT_REGISTERED")
    world.later()

    second = race()

    assert sum(s.changed for s in second) == 10
    for order in orders:
        stored = world.stored(order)
        assert stored.status == OrderStatus.EXCHANGING
        assert history(stored) == ["pending_create", "awaiting_deposit", "confirming", "exchanging"]
        assert world.events_for(order) == [("awaiting_deposit", "confirming"), ("confirming", "exchanging")]


def test_a_run_that_hits_its_deadline_leaves_every_order_consistent(world: World) -> None:
    orders = paid_orders(world, 16)
    world.fault(INFO, "latency", latencyMs=150)

    summary = world.poll(
        remaining_ms=budget(1.0), concurrency=3, stop_margin_seconds=0.5, write_margin_seconds=0.1
    )

    assert summary.stopped_early
    assert 0 < summary.changed < 16
    updated = [world.stored(o) for o in orders if world.stored(o).version == 2]
    untouched = [world.stored(o) for o in orders if world.stored(o).version == 1]
    assert len(updated) + len(untouched) == 16
    # Writes still running when the run returned may land after it (conditionally): never more.
    assert summary.changed <= len(updated) <= summary.changed + summary.left_in_flight
    assert all(o.status == OrderStatus.CONFIRMING for o in updated)
    for order, original in zip(untouched, [o for o in orders if world.stored(o).version == 1], strict=True):
        assert order.status == OrderStatus.AWAITING_DEPOSIT
        assert order.next_poll_at == original.next_poll_at  # still due: the next run takes it
    published = [e for e in world.received_events() if e["detail"]["newStatus"] == "confirming"]
    assert {e["detail"]["orderId"] for e in published} == {o.id for o in updated}

    world.clear_faults()
    rest = world.poll()

    assert rest.changed == len(untouched)
    assert all(world.stored(o).status == OrderStatus.CONFIRMING for o in orders)


def test_a_run_returns_at_its_deadline_and_counts_the_orders_still_in_flight(world: World) -> None:
    orders = paid_orders(world, 6)
    world.fault(INFO, "latency", latencyMs=1500)
    started = time.monotonic()

    summary = world.poll(
        remaining_ms=budget(1.0), concurrency=3, stop_margin_seconds=0.5, write_margin_seconds=0.1
    )

    # Returned at its deadline while three orders still waited for the exchange.
    assert time.monotonic() - started < 1.4
    assert summary.stopped_early
    assert (summary.changed, summary.left_in_flight) == (0, 3)
    time.sleep(1.0)  # the stragglers' answers arrive past the write margin: they write nothing
    assert all(world.stored(o).version == 1 for o in orders)
    world.clear_faults()
    assert world.poll().changed == 6
