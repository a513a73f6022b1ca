"""A due order polled through what its schedule item remembers (one item read): the order is read
only when the exchange shows something the view cannot decide, and an older view never hides a
change."""

from __future__ import annotations

from datetime import timedelta

from cryptosdk.domain.order import Order
from cryptosdk.domain.schedule import PollView
from cryptosdk.domain.status import OrderStatus
from tests.integration.poller.conftest import SHARDS, World, history


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
