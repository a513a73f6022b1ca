"""When a poll schedule is worth a write, and how the store's items look (pure: no DynamoDB)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from cryptosdk.domain.order import Leg, Order, Party, RateMode, StatusChange
from cryptosdk.domain.status import OrderStatus
from cryptosdk.storage.items import stored_items
from cryptosdk.storage.schedule import POLL_PERIOD, ScheduleBatch, ScheduleMove, needs_schedule_write

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def order(status: OrderStatus = OrderStatus.AWAITING_DEPOSIT, **changes: object) -> Order:
    fields: dict[str, object] = {
        "id": "ord_1",
        "user_id": "user-1",
        "from_leg": Leg(currency="BTC", network="BTC"),
        "to_leg": Leg(currency="USDT", network="TRC20"),
        "rate_mode": RateMode.FLOATING,
        "claimed_deposit_amount": Decimal("0.01"),
        "destination": Party(address="TXdest"),
        "status": status,
        "status_history": (StatusChange(status=status, at=T0),),
        "created_at": T0,
        "updated_at": T0,
        "version": 1,
        "poll_shard": "2",
        "next_poll_at": T0,
    }
    fields.update(changes)
    return Order.model_validate(fields)


def test_a_next_poll_within_one_period_of_a_due_schedule_needs_no_write() -> None:
    now = T0 + timedelta(minutes=7)  # due since T0: the next run takes it anyway

    assert not needs_schedule_write(T0, now + timedelta(seconds=20), now)
    assert not needs_schedule_write(T0, now + POLL_PERIOD, now)
    assert needs_schedule_write(T0, now + POLL_PERIOD + timedelta(seconds=1), now)
    assert needs_schedule_write(T0, now + timedelta(minutes=5), now)


def test_a_schedule_due_later_counts_from_its_own_due_time() -> None:
    due = T0 + timedelta(seconds=30)  # a fresh intent's schedule, not due yet

    assert not needs_schedule_write(due, T0 + timedelta(minutes=1), T0)
    assert needs_schedule_write(due, T0 + timedelta(minutes=2), T0)
    # Unknown stored due time (an order read without its schedule): counted from now.
    assert not needs_schedule_write(None, T0 + timedelta(seconds=59), T0)
    assert needs_schedule_write(None, T0 + timedelta(minutes=2), T0)


def test_an_active_order_is_stored_as_its_order_item_and_its_schedule_item() -> None:
    order_item, schedule = stored_items(order())

    assert {"pollShard", "nextPollAt", "pollFailures"}.isdisjoint(order_item)
    assert order_item["id"] == "ord_1"
    assert schedule == {
        "id": "poll#ord_1",
        "orderId": "ord_1",
        "pollShard": "2",
        "nextPollAt": "2026-12-01T09:00:00.000000Z",
        "pollFailures": 0,
    }


def test_an_ended_order_has_no_schedule_item() -> None:
    assert len(stored_items(order(OrderStatus.COMPLETED, poll_shard=None, next_poll_at=None))) == 1


def test_a_batch_hands_out_its_moves_once_and_only_when_enough_are_queued() -> None:
    batch = ScheduleBatch()
    moves = [ScheduleMove(f"ord_{n}", T0, 0, None) for n in range(3)]
    for move in moves:
        batch.add(move)

    assert batch.take(25) == []
    assert batch.take(1) == moves
    assert batch.take(1) == []
