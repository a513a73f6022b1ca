"""OrderStore against moto's DynamoDB with the tables template.yaml declares."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from cryptosdk.domain.order import (
    ChangeCause,
    InvalidCursorError,
    InvalidTransitionError,
    Leg,
    Order,
    OrderExistsError,
    Party,
    RateMode,
    StaleOrderError,
    StatusChange,
    new_order_id,
)
from cryptosdk.domain.status import OrderStatus
from cryptosdk.storage.cursors import encode_cursor
from cryptosdk.storage.orders import OrderStore

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def store(aws: Any) -> OrderStore:
    return OrderStore(os.environ["ORDERS_TABLE"])


@pytest.fixture
def make_intent() -> Callable[..., Order]:
    def make(user_id: str = "user-1", created_at: datetime = T0, amount: str = "0.10") -> Order:
        return Order(
            id=new_order_id(),
            user_id=user_id,
            session_id="sess-1",
            external_ref="cart-9",
            idempotency_key="key-1",
            from_leg=Leg(currency="BTC", network="BTC"),
            to_leg=Leg(currency="USDT", network="TRC20"),
            rate_mode=RateMode.FLOATING,
            claimed_deposit_amount=Decimal(amount),
            destination=Party(address="TXYZdest", memo=None),
            refund=Party(address="bc1refund", memo=None),
            status=OrderStatus.PENDING_CREATE,
            status_history=(StatusChange(status=OrderStatus.PENDING_CREATE, at=created_at),),
            created_at=created_at,
            updated_at=created_at,
            version=1,
            poll_shard="0",
            next_poll_at=created_at + timedelta(seconds=30),
        )

    return make


def complete(store: OrderStore, order: Order, next_poll_at: datetime = T0) -> Order:
    return store.complete_creation(
        order,
        exchange_order_id=4242,
        deposit_address="bc1qdeposit",
        deposit_memo=None,
        amount_to_receive=Decimal("6123.450000"),
        status=OrderStatus.AWAITING_DEPOSIT,
        next_poll_at=next_poll_at,
        poll_shard="0",
        now=T0 + timedelta(seconds=1),
    )


def as_stored(order: Order) -> Order:
    """An order as `get` reads it: its poll schedule lives in its own item (poll#<id>)."""
    return order.model_copy(update={"poll_shard": None, "next_poll_at": None, "poll_failures": 0})


def test_an_intent_round_trips_exactly(store: OrderStore, make_intent: Callable[..., Order]) -> None:
    intent = make_intent(amount="0.123456789012345678901234567890123456789")
    store.put_intent(intent)
    assert store.get(intent.id) == as_stored(intent)


def test_an_intent_is_never_written_twice(store: OrderStore, make_intent: Callable[..., Order]) -> None:
    intent = make_intent()
    store.put_intent(intent)
    with pytest.raises(OrderExistsError):
        store.put_intent(intent.model_copy(update={"user_id": "someone-else"}))
    stored = store.get(intent.id)
    assert stored is not None
    assert stored.user_id == "user-1"


def test_a_failed_intent_is_never_placed_again(store: OrderStore, make_intent: Callable[..., Order]) -> None:
    # One Idempotency-Key, one outcome: the same id cannot be written over, not even once it failed.
    intent = store.put_intent(make_intent())
    failed = store.mark_failed(intent, "the exchange refused it", cause=ChangeCause.REFUSAL)

    with pytest.raises(OrderExistsError):
        store.put_intent(intent.model_copy(update={"session_id": "sess-2"}))

    assert store.get(intent.id) == failed
    assert failed.status == OrderStatus.FAILED


def test_unknown_order_reads_as_none(store: OrderStore) -> None:
    assert store.get("ord_missing") is None


def test_completing_creation_bumps_version_and_appends_history(
    store: OrderStore, make_intent: Callable[..., Order]
) -> None:
    intent = store.put_intent(make_intent())
    done = complete(store, intent)
    stored = store.get(intent.id)
    assert stored == as_stored(done)
    assert stored.version == 2
    assert stored.exchange_order_id == 4242
    assert stored.amount_to_receive == Decimal("6123.450000")
    assert str(stored.amount_to_receive) == "6123.450000"
    assert [h.status for h in stored.status_history] == [
        OrderStatus.PENDING_CREATE,
        OrderStatus.AWAITING_DEPOSIT,
    ]


def test_a_stale_version_is_refused_and_changes_nothing(
    store: OrderStore, make_intent: Callable[..., Order]
) -> None:
    intent = store.put_intent(make_intent())
    done = complete(store, intent)
    with pytest.raises(StaleOrderError):
        store.apply_update(intent, {"status": OrderStatus.CONFIRMING}, expected_version=1)
    assert store.get(intent.id) == as_stored(done)


def test_backward_transitions_are_refused_before_any_write(
    store: OrderStore, make_intent: Callable[..., Order]
) -> None:
    done = complete(store, store.put_intent(make_intent()))
    confirming = store.apply_update(done, {"status": OrderStatus.CONFIRMING})
    with pytest.raises(InvalidTransitionError):
        store.apply_update(confirming, {"status": OrderStatus.AWAITING_DEPOSIT})
    assert store.get(done.id) == as_stored(confirming)


def test_a_released_hold_cannot_land_below_the_status_before_it(
    store: OrderStore, make_intent: Callable[..., Order]
) -> None:
    order = complete(store, store.put_intent(make_intent()))
    for status in (OrderStatus.CONFIRMING, OrderStatus.EXCHANGING, OrderStatus.SENDING, OrderStatus.ON_HOLD):
        order = store.apply_update(order, {"status": status})

    with pytest.raises(InvalidTransitionError):
        store.apply_update(order, {"status": OrderStatus.EXCHANGING})
    released = store.apply_update(order, {"status": OrderStatus.SENDING})

    assert released.status == OrderStatus.SENDING
    assert store.get(order.id) == as_stored(released)


def test_two_writers_holding_the_same_version_yield_exactly_one_winner(
    store: OrderStore, make_intent: Callable[..., Order]
) -> None:
    # moto serialises nothing across threads, so the race is replayed in order: both writers
    # read version N; DynamoDB's conditional write is what lets only the first through.
    done = complete(store, store.put_intent(make_intent()))
    winner = store.apply_update(done, {"status": OrderStatus.EXCHANGING})
    with pytest.raises(StaleOrderError):
        store.apply_update(done, {"status": OrderStatus.CONFIRMING})
    stored = store.get(done.id)
    assert stored == as_stored(winner)
    assert stored.version == done.version + 1
    assert len(stored.status_history) == len(done.status_history) + 1


def test_terminal_status_leaves_the_poll_index(store: OrderStore, make_intent: Callable[..., Order]) -> None:
    done = complete(store, store.put_intent(make_intent()), next_poll_at=T0)
    due, _ = store.due_for_poll("0", T0 + timedelta(minutes=1))
    assert [o.id for o in due] == [done.id]
    finished = store.apply_update(done, {"status": OrderStatus.COMPLETED}, reason="withdrawal completed")
    assert finished.poll_shard is None
    assert finished.next_poll_at is None
    assert store.due_for_poll("0", T0 + timedelta(days=1))[0] == []
    stored = store.get(done.id)
    assert stored is not None
    assert stored.status_history[-1].reason == "withdrawal completed"


def test_mark_failed_records_the_reason_and_stops_polling(
    store: OrderStore, make_intent: Callable[..., Order]
) -> None:
    intent = store.put_intent(make_intent())
    failed = store.mark_failed(intent, "exchange never confirmed the order", cause=ChangeCause.RECONCILIATION)
    stored = store.get(intent.id)
    assert stored == failed
    assert stored.status == OrderStatus.FAILED
    assert stored.failure_reason == "exchange never confirmed the order"
    assert stored.next_poll_at is None


def test_due_for_poll_returns_only_due_orders_of_the_shard(
    store: OrderStore, make_intent: Callable[..., Order]
) -> None:
    early = complete(store, store.put_intent(make_intent()), next_poll_at=T0)
    complete(store, store.put_intent(make_intent()), next_poll_at=T0 + timedelta(hours=1))
    other = store.put_intent(make_intent().model_copy(update={"poll_shard": "1"}))
    due, _ = store.due_for_poll("0", T0 + timedelta(minutes=5))
    assert [o.id for o in due] == [early.id]
    assert [o.id for o in store.due_for_poll("1", T0 + timedelta(minutes=5))[0]] == [other.id]


def test_due_for_poll_pages_through_every_due_order(
    store: OrderStore, make_intent: Callable[..., Order]
) -> None:
    ids = {store.put_intent(make_intent(created_at=T0 + timedelta(seconds=i))).id for i in range(7)}
    seen: list[str] = []
    start: dict[str, Any] | None = None
    while True:
        page, start = store.due_for_poll("0", T0 + timedelta(hours=1), limit=3, exclusive_start=start)
        seen += [o.id for o in page]
        if not start:
            break
    assert sorted(seen) == sorted(ids)


def test_list_by_user_is_newest_first_with_an_opaque_cursor(
    store: OrderStore, make_intent: Callable[..., Order]
) -> None:
    mine = [store.put_intent(make_intent(created_at=T0 + timedelta(minutes=i))) for i in range(5)]
    store.put_intent(make_intent(user_id="user-2"))
    first, cursor = store.list_by_user("user-1", limit=3)
    assert cursor is not None
    second, last = store.list_by_user("user-1", limit=3, cursor=cursor)
    assert [o.id for o in first + second] == [o.id for o in reversed(mine)]
    assert last is None


def tamper(cursor: str, **changes: str) -> str:
    data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    data.update(changes)
    return encode_cursor(data)


@pytest.mark.parametrize(
    "bad",
    ["not base64!!", "e30", base64.urlsafe_b64encode(b"[1,2]").decode(), "A" * 5000, "%%%"],
)
def test_a_malformed_cursor_is_refused(store: OrderStore, bad: str) -> None:
    with pytest.raises(InvalidCursorError):
        store.list_by_user("user-1", cursor=bad)


def test_a_cursor_from_another_users_listing_is_refused(
    store: OrderStore, make_intent: Callable[..., Order]
) -> None:
    for i in range(3):
        store.put_intent(make_intent(created_at=T0 + timedelta(minutes=i)))
    _, cursor = store.list_by_user("user-1", limit=1)
    assert cursor is not None
    with pytest.raises(InvalidCursorError):
        store.list_by_user("user-2", cursor=cursor)
    with pytest.raises(InvalidCursorError):
        store.list_by_user("user-1", cursor=tamper(cursor, extra="x"))


def test_the_shared_cache_item_expires(store: OrderStore) -> None:
    store.write_cache("cache#test", '{"a":1}', T0 + timedelta(minutes=5))
    assert store.read_cache("cache#test", T0) == '{"a":1}'
    assert store.read_cache("cache#test", T0 + timedelta(minutes=5)) is None
    assert store.read_cache("cache#absent", T0) is None


# -- the audit trail: append-only history and final terminal statuses, enforced by the write ------


def _raw_update(store: OrderStore, order_id: str, expression: str, values: dict[str, Any]) -> None:
    store._client.update_item(
        TableName=store.table_name,
        Key={"id": {"S": order_id}},
        UpdateExpression=expression,
        ExpressionAttributeValues=values,
    )


def test_each_status_change_is_appended_with_its_time_and_cause(
    store: OrderStore, make_intent: Callable[..., Order]
) -> None:
    intent = store.put_intent(make_intent())
    done = complete(store, intent)
    later = T0 + timedelta(minutes=3)
    confirming = store.apply_update(
        done, {"status": OrderStatus.CONFIRMING}, reason="exchange: X", cause=ChangeCause.EXCHANGE, now=later
    )

    stored = store.get(confirming.id)

    assert stored is not None
    assert stored.status_history[:2] == done.status_history[:2]
    assert stored.status_history[-1] == StatusChange(
        status=OrderStatus.CONFIRMING, at=later, cause=ChangeCause.EXCHANGE, reason="exchange: X"
    )
    assert len(stored.status_history) == 3


def test_a_write_from_a_copy_whose_history_was_rewritten_is_refused(
    store: OrderStore, make_intent: Callable[..., Order]
) -> None:
    # A caller holding the right version but a shortened history (say, a rebuilt item) cannot land.
    done = complete(store, store.put_intent(make_intent()))
    forged = done.model_copy(update={"status_history": done.status_history[1:]})

    with pytest.raises(StaleOrderError):
        store.apply_update(forged, {"status": OrderStatus.CONFIRMING})

    stored = store.get(done.id)
    assert stored is not None
    assert stored.status_history == done.status_history


def test_the_history_cannot_be_replaced_through_an_update(
    store: OrderStore, make_intent: Callable[..., Order]
) -> None:
    done = complete(store, store.put_intent(make_intent()))
    with pytest.raises(ValueError, match="history"):
        store.apply_update(done, {"status_history": ()})


@pytest.mark.parametrize(
    "terminal", [OrderStatus.FAILED, OrderStatus.COMPLETED, OrderStatus.EXPIRED, OrderStatus.REFUNDED]
)
def test_a_terminal_order_is_never_written_again_even_at_its_version(
    store: OrderStore, make_intent: Callable[..., Order], terminal: OrderStatus
) -> None:
    done = complete(store, store.put_intent(make_intent()))
    if terminal == OrderStatus.REFUNDED:
        done = store.apply_update(done, {"status": OrderStatus.REFUNDING})
    final = store.apply_update(done, {"status": terminal}, cause=ChangeCause.EXCHANGE)
    # A caller that skips the status rules (a stale copy relabelled as active) still cannot write:
    # the condition looks at the stored status, not at the caller's.
    disguised = final.model_copy(update={"status": OrderStatus.AWAITING_DEPOSIT})

    with pytest.raises(StaleOrderError):
        store.apply_update(disguised, {"status": OrderStatus.CONFIRMING})
    # The true copy at the right version and history: only the terminal clause of the condition
    # stands between a field change and a final order.
    with pytest.raises(StaleOrderError):
        store.apply_update(final, {"deposit_address": "elsewhere"})

    stored = store.get(final.id)
    assert stored is not None
    assert stored.status == terminal
    assert stored.version == final.version
    assert stored.deposit_address == final.deposit_address


def test_a_failed_intent_is_never_overwritten_by_a_new_intent(
    store: OrderStore, make_intent: Callable[..., Order]
) -> None:
    intent = store.put_intent(make_intent())
    failed = store.mark_failed(intent, "exchange refused the order: 424", cause=ChangeCause.REFUSAL)

    with pytest.raises(OrderExistsError):
        store.put_intent(intent.model_copy(update={"version": failed.version + 1}))

    stored = store.get(intent.id)
    assert stored is not None
    assert stored.status == OrderStatus.FAILED
    assert [h.cause for h in stored.status_history][-1] == ChangeCause.REFUSAL


def test_the_append_keeps_entries_written_meanwhile_out_of_reach(
    store: OrderStore, make_intent: Callable[..., Order]
) -> None:
    # Someone appends an entry behind our back without bumping the version: the size condition
    # still refuses our write instead of appending after a history we never read.
    done = complete(store, store.put_intent(make_intent()))
    entry = {"M": {"status": {"S": "awaiting_deposit"}, "at": {"S": "2026-03-01T12:05:00.000000Z"}}}
    _raw_update(store, done.id, "SET statusHistory = list_append(statusHistory, :e)", {":e": {"L": [entry]}})

    with pytest.raises(StaleOrderError):
        store.apply_update(done, {"status": OrderStatus.CONFIRMING})
