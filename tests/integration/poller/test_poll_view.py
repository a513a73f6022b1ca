"""A due order polled through what its schedule item remembers (one item read): the order is read
only when the exchange shows something the view cannot decide (the run reads such orders
together, in one batch), and an older view never hides a change."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from cryptosdk.domain.order import Order
from cryptosdk.domain.schedule import PollView
from cryptosdk.domain.status import OrderStatus
from cryptosdk.runtime.aws_sdk import dynamodb_client
from cryptosdk.storage.orders import OrderStore
from tests.integration.poller.conftest import SHARDS, World, history

INFO = "/api/v2/orders/public-info"


def due(world: World, order: Order) -> Order | PollView:
    """The order as this run's due read hands it out (a view or the order)."""
    for shard in map(str, range(SHARDS)):
        for entry in world.store.due_for_poll(shard, world.clock())[0]:
            if entry.id == order.id:
                return entry
    raise AssertionError(f"{order.id} is not due")


def backed_off(world: World) -> Order:
    """An order waiting for its deposit whose first back-off move wrote its view, due again."""
    order = world.active_order()
    world.later(timedelta(minutes=10))
    assert world.poll().schedule_writes == 1
    world.later(timedelta(minutes=6))
    return order


def test_a_backed_off_order_is_polled_through_its_schedule_alone(world: World) -> None:
    order = world.active_order()
    assert isinstance(due(world, order), Order)  # as the create wrote it: no view yet
    world.later(timedelta(minutes=10))
    world.poll()
    world.later(timedelta(minutes=6))

    view = due(world, order)

    assert isinstance(view, PollView)
    assert (view.status, view.exchange_order_id, view.version) == (
        OrderStatus.AWAITING_DEPOSIT,
        order.exchange_order_id,
        order.version,
    )
    summary = world.poll()
    assert (summary.due, summary.items_read, summary.changed, summary.schedule_writes) == (1, 1, 0, 1)
    assert world.stored(order).version == order.version
    assert world.poll().due == 0


def test_a_deposit_seen_through_the_view_reads_and_writes_the_order(world: World) -> None:
    order = backed_off(world)
    world.drive(order, "INCOMING_FUNDS_DETECTED")

    summary = world.poll()

    stored = world.stored(order)
    assert (summary.changed, summary.items_read) == (1, 2)
    assert stored.status == OrderStatus.CONFIRMING
    assert stored.deposits
    assert world.events_for(order) == [("awaiting_deposit", "confirming")]


def test_an_older_view_never_hides_a_change_nor_moves_a_status_back(world: World) -> None:
    order = backed_off(world)
    world.drive(order, "INCOMING_FUNDS_DETECTED")
    refreshed = world.refresh_one(order)  # the manual route: the order moves, its view does not
    assert refreshed.status == OrderStatus.CONFIRMING
    assert isinstance(view := due(world, order), PollView)
    assert view.status == OrderStatus.AWAITING_DEPOSIT

    summary = world.poll()

    stored = world.stored(order)
    assert summary.changed == 0
    assert stored.status == OrderStatus.CONFIRMING
    assert stored.version == refreshed.version
    assert history(stored) == ["pending_create", "awaiting_deposit", "confirming"]
    world.drive(order, "DEPOSIT_REGISTERED")
    world.later()
    assert world.poll().changed == 1
    assert world.stored(order).status == OrderStatus.EXCHANGING


def test_an_unpaid_order_seen_through_its_view_still_expires(world: World) -> None:
    order = backed_off(world)
    world.later(timedelta(minutes=50))

    summary = world.poll(unpaid_ttl=timedelta(minutes=30))

    assert summary.changed == 1
    assert world.stored(order).status == OrderStatus.EXPIRED
    world.later()
    assert world.poll().due == 0


class DynamoCalls:
    """The DynamoDB operations a store's client makes, by name (botocore's own events)."""

    def __init__(self, client: Any) -> None:
        self.names: list[str] = []
        client.meta.events.register("before-call.dynamodb", self._seen)

    def _seen(self, model: Any, **_: Any) -> None:
        self.names.append(model.name)


def counted_store(world: World) -> tuple[OrderStore, DynamoCalls]:
    client = dynamodb_client()
    return OrderStore(world.store.table_name, client=client), DynamoCalls(client)


def test_changes_seen_through_views_are_read_in_one_batch_and_each_written_once(world: World) -> None:
    orders = [world.active_order() for _ in range(5)]
    world.later(timedelta(minutes=10))
    assert world.poll().schedule_writes == 5
    world.later(timedelta(minutes=6))
    for order in orders:
        world.drive(order, "INCOMING_FUNDS_DETECTED")
    store, calls = counted_store(world)

    summary = world.poll(deps=world.deps(store=store))

    # One item per due order (its view) and one per order read; one read call, no GetItem.
    assert (summary.due, summary.changed, summary.items_read, summary.skipped) == (5, 5, 10, 0)
    assert calls.names.count("BatchGetItem") == 1
    assert "GetItem" not in calls.names
    assert calls.names.count("UpdateItem") == 5
    for order in orders:
        stored = world.stored(order)
        assert (stored.status, stored.version) == (OrderStatus.CONFIRMING, order.version + 1)
        assert world.events_for(order) == [("awaiting_deposit", "confirming")]


def test_orders_queued_for_a_read_past_the_write_margin_are_left_untouched(world: World) -> None:
    orders = [world.active_order() for _ in range(4)]
    world.later(timedelta(minutes=10))
    world.poll()
    world.later(timedelta(minutes=6))
    for order in orders:
        world.drive(order, "INCOMING_FUNDS_DETECTED")
    before = [world.item(order) for order in orders]
    world.fault(INFO, "latency", latencyMs=400)
    # Every exchange answer comes back with less than the write margin left: nothing may be read
    # or written any more, and nothing is left in flight.
    ends = time.monotonic() + 1.0

    summary = world.poll(
        remaining_ms=lambda: max(0, int((ends - time.monotonic()) * 1000)),
        stop_margin_seconds=0.5,
        write_margin_seconds=0.8,
    )

    assert (summary.changed, summary.skipped, summary.left_in_flight) == (0, 4, 0)
    assert [world.item(order) for order in orders] == before
    world.clear_faults()
    assert world.poll().changed == 4
    assert all(world.stored(order).status == OrderStatus.CONFIRMING for order in orders)
