"""The poller's pure parts: pacing, deadline, shard choice, and the decision from an exchange
snapshot (mapping, expiry, reconciliation, never backwards)."""

from __future__ import annotations

import dataclasses
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from cryptosdk.domain.order import DepositRecord, Leg, Order, Party, RateMode, StatusChange
from cryptosdk.domain.status import OrderStatus
from cryptosdk.exchange import errors
from cryptosdk.exchange.models import ExchangeOrder
from cryptosdk.orders.polling.decision import Snapshot, decide, decide_failure
from cryptosdk.orders.polling.options import PollerOptions
from cryptosdk.orders.polling.pacing import Deadline, Pacer
from cryptosdk.orders.polling.run import resolve_shards
from cryptosdk.orders.polling.summary import due_lag

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
OPTIONS = PollerOptions(unpaid_ttl=timedelta(hours=1), reconcile_deadline=timedelta(minutes=15))


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


# -- pacing -----------------------------------------------------------------------------------


def test_a_persistent_429_halves_the_limit_once_per_pause_and_pauses_for_retry_after() -> None:
    clock = FakeClock()
    pacer = Pacer(16, clock=clock, base_pause=1.0)

    pacer.on_rate_limited(retry_after=5.0)
    pacer.on_rate_limited(retry_after=5.0)  # the same burst, reported by another in-flight order

    assert pacer.limit == 8
    assert pacer.pause_left() == pytest.approx(5.0)
    assert not pacer.can_start()
    clock.now += 5.0
    assert pacer.can_start()
    pacer.on_rate_limited(retry_after=None)
    assert pacer.limit == 4


def test_pauses_double_while_429s_persist_and_are_capped() -> None:
    clock = FakeClock()
    pacer = Pacer(4, clock=clock, base_pause=1.0, max_pause=3.0)
    pauses = []
    for _ in range(4):
        pacer.on_rate_limited(retry_after=None)
        pauses.append(pacer.pause_left())
        clock.now += pauses[-1]

    assert pauses == [1.0, 2.0, 3.0, 3.0]
    assert pacer.limit == 1  # never below one order in flight
    assert pacer.lowest_limit == 1


def test_a_short_retry_after_does_not_shorten_the_runs_own_pause() -> None:
    clock = FakeClock()
    pacer = Pacer(4, clock=clock, base_pause=2.0)

    pacer.on_rate_limited(retry_after=0.1)

    assert pacer.pause_left() == pytest.approx(2.0)


def test_successes_grow_the_limit_back_additively_up_to_the_maximum() -> None:
    clock = FakeClock()
    pacer = Pacer(8, clock=clock)
    pacer.on_rate_limited(None)
    assert pacer.limit == 4

    pacer.on_success()
    assert pacer.limit == 4  # +1/limit per success: one step per `limit` successes
    for _ in range(4):
        pacer.on_success()
    assert pacer.limit == 5
    for _ in range(100):
        pacer.on_success()
    assert pacer.limit == 8


def test_a_success_resets_the_doubling_pause() -> None:
    clock = FakeClock()
    pacer = Pacer(8, clock=clock, base_pause=1.0)
    pacer.on_rate_limited(None)
    clock.now += 1.0
    pacer.on_success()

    pacer.on_rate_limited(None)

    assert pacer.pause_left() == pytest.approx(1.0)


def test_acquire_respects_the_limit_and_gives_up_when_told_to_stop() -> None:
    pacer = Pacer(2)
    never = threading.Event()

    assert pacer.acquire(never.is_set)
    assert pacer.acquire(never.is_set)
    assert pacer.in_flight == 2
    assert not pacer.acquire(lambda: True)  # full, and the run must stop: no slot taken
    assert pacer.in_flight == 2
    pacer.release()
    assert pacer.acquire(never.is_set)


def test_acquire_waits_for_a_released_slot() -> None:
    pacer = Pacer(1)
    pacer.acquire(lambda: False)
    released = threading.Timer(0.05, pacer.release)
    released.start()

    assert pacer.acquire(lambda: False, recheck=1.0)
    released.join()


def test_a_pacer_needs_at_least_one_slot() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Pacer(0)


# -- deadline ---------------------------------------------------------------------------------


def test_without_a_context_there_is_no_deadline() -> None:
    deadline = Deadline(None)

    assert not deadline.stop_taking_work()
    assert deadline.may_write()


@pytest.mark.parametrize(
    ("remaining_ms", "stops", "writes"),
    [
        (60_000, False, True),
        (10_000, True, True),
        (5_000, True, True),
        (3_000, True, False),
        (0, True, False),
    ],
)
def test_the_run_stops_taking_work_before_it_stops_writing(
    remaining_ms: int, stops: bool, writes: bool
) -> None:
    deadline = Deadline(lambda: remaining_ms, stop_margin=10.0, write_margin=3.0)

    assert deadline.stop_taking_work() is stops
    assert deadline.may_write() is writes


# -- shards -----------------------------------------------------------------------------------


def test_shards_default_to_all_and_a_fan_out_may_name_a_subset() -> None:
    assert resolve_shards(None, 4) == ["0", "1", "2", "3"]
    assert resolve_shards([], 2) == ["0", "1"]
    assert resolve_shards(["2", "0", "2"], 4) == ["2", "0"]
    with pytest.raises(ValueError, match="unknown poll shards"):
        resolve_shards(["4"], 4)


# -- decisions --------------------------------------------------------------------------------


def stored(status: OrderStatus = OrderStatus.AWAITING_DEPOSIT, **changes: Any) -> Order:
    fields: dict[str, Any] = {
        "id": "ord_1",
        "user_id": "user-1",
        "external_ref": "cart-1",
        "exchange_order_id": 100001,
        "from_leg": Leg(currency="BTC", network="BTC"),
        "to_leg": Leg(currency="USDT", network="TRC20"),
        "rate_mode": RateMode.FLOATING,
        "claimed_deposit_amount": Decimal("0.01"),
        "amount_to_receive": Decimal("612.5"),
        "destination": Party(address="TXdest"),
        "status": status,
        "status_history": (StatusChange(status=status, at=T0),),
        "created_at": T0,
        "updated_at": T0,
        "version": 3,
        "poll_shard": "1",
        "next_poll_at": T0,
    }
    fields.update(changes)
    return Order(**fields)


def exchange(*kinds: str, **extra: Any) -> ExchangeOrder:
    """An upstream order whose events are `kinds` in the order they happened."""
    body: dict[str, Any] = {
        "orderId": 100001,
        "createdAt": "2026-11-27T08:00:00.000Z",
        "destinationAddress": "TXdest",
        "claimedDepositAmount": "0.01",
        "amountToGet": "612.5",
        "depositAddress": {"depositAddress": "bc1qdeposit", "depositAddressMemo": None},
        "orderEvents": [{"kind": k, "createdAt": "2026-11-27T08:00:00.000Z"} for k in reversed(kinds)],
        "completed": "WITHDRAWAL_COMPLETED" in kinds,
    }
    body.update(extra)
    return ExchangeOrder.model_validate(body)


DEPOSIT = {
    "createdAt": "2026-11-27T08:01:00.000Z",
    "amount": "0.01",
    "confirmations": 2,
    "txId": "dep-tx",
    "isPending": True,
}
PAYOUT = {"createdAt": "2026-11-27T08:09:00.000Z", "amount": "612.5", "networkFee": "1.2", "txId": "pay-tx"}


def test_a_new_deposit_moves_the_status_and_records_confirmations_and_tx_id() -> None:
    now = T0 + timedelta(minutes=5)
    snap = Snapshot(now, exchange("CREATION_END", "INCOMING_FUNDS_DETECTED", deposits=[DEPOSIT]))

    decision = decide(stored(), snap, now, OPTIONS)

    assert decision.new_status == OrderStatus.CONFIRMING
    (deposit,) = decision.fields["deposits"]
    assert deposit == DepositRecord(
        amount=Decimal("0.01"),
        tx_id="dep-tx",
        confirmations=2,
        is_pending=True,
        created_at="2026-11-27T08:01:00.000000Z",
    )
    assert decision.fields["next_poll_at"] == now + timedelta(seconds=20)  # tight while confirming
    assert decision.fields["poll_failures"] == 0
    assert decision.reason == "exchange: INCOMING_FUNDS_DETECTED"


def test_the_payout_is_mapped_and_a_terminal_status_gets_no_next_poll() -> None:
    snap = Snapshot(
        T0, exchange("CREATION_END", "WITHDRAWAL_COMPLETED", deposits=[DEPOSIT], withdrawals=[PAYOUT])
    )

    decision = decide(stored(OrderStatus.SENDING), snap, T0, OPTIONS)

    assert decision.new_status == OrderStatus.COMPLETED
    (payout,) = decision.fields["withdrawals"]
    assert (payout.tx_id, payout.amount, payout.network_fee) == ("pay-tx", Decimal("612.5"), Decimal("1.2"))
    assert "next_poll_at" not in decision.fields


def test_nothing_new_only_reschedules() -> None:
    decision = decide(stored(), Snapshot(T0, exchange("CREATION_END")), T0, OPTIONS)

    assert decision.fields == {"next_poll_at": T0 + timedelta(minutes=1), "poll_failures": 0}
    assert decision.new_status is None
    assert decision.reason is None


@pytest.mark.parametrize(
    ("waited", "interval"),
    [
        (timedelta(0), timedelta(minutes=1)),
        (timedelta(minutes=3), timedelta(minutes=1)),
        (timedelta(minutes=10), timedelta(minutes=5)),
        (timedelta(minutes=40), timedelta(minutes=8)),
    ],
)
def test_awaiting_deposit_backs_off_with_the_time_since_the_last_status_change(
    waited: timedelta, interval: timedelta
) -> None:
    # updated_at moves with every write; the pace follows the status history, not the last poll.
    order = stored(updated_at=T0 + waited)
    now = T0 + waited

    decision = decide(order, Snapshot(now, exchange("CREATION_END")), now, OPTIONS)

    assert decision.fields == {"next_poll_at": now + interval, "poll_failures": 0}


def test_funds_seen_tighten_the_pace_to_every_run_whatever_the_wait() -> None:
    now = T0 + timedelta(minutes=40)

    decision = decide(
        stored(), Snapshot(now, exchange("CREATION_END", "INCOMING_FUNDS_DETECTED")), now, OPTIONS
    )

    assert decision.new_status == OrderStatus.CONFIRMING
    assert decision.fields["next_poll_at"] - now <= timedelta(minutes=1)


def test_a_configured_poll_interval_cap_brings_the_next_poll_closer() -> None:
    options = dataclasses.replace(OPTIONS, max_poll_interval=timedelta(seconds=5))

    decision = decide(stored(), Snapshot(T0, exchange("CREATION_END")), T0, options)

    assert decision.fields["next_poll_at"] == T0 + timedelta(seconds=5)


def test_an_exchange_answer_older_than_our_state_never_moves_it_back() -> None:
    decision = decide(stored(OrderStatus.EXCHANGING), Snapshot(T0, exchange("CREATION_END")), T0, OPTIONS)

    assert decision.new_status is None
    assert decision.fields["next_poll_at"] == T0 + timedelta(seconds=30)


def test_a_released_hold_never_moves_the_order_below_where_it_was_before_the_hold() -> None:
    history = tuple(
        StatusChange(status=status, at=T0)
        for status in (OrderStatus.AWAITING_DEPOSIT, OrderStatus.SENDING, OrderStatus.ON_HOLD)
    )
    order = stored(OrderStatus.ON_HOLD, status_history=history)
    # The exchange's newest event after the release is an older stage than the one we recorded.
    snap = Snapshot(
        T0, exchange("CREATION_END", "FUNDS_WITHDRAWAL_START", "AMLBOT_AML_FROZEN_X", "DEPOSIT_REGISTERED")
    )

    decision = decide(order, snap, T0, OPTIONS)

    assert decision.new_status is None
    assert decision.fields["next_poll_at"] == T0 + timedelta(minutes=10)  # still on hold


def test_a_released_hold_moves_on_from_where_it_was() -> None:
    history = tuple(
        StatusChange(status=status, at=T0)
        for status in (OrderStatus.AWAITING_DEPOSIT, OrderStatus.CONFIRMING, OrderStatus.ON_HOLD)
    )
    order = stored(OrderStatus.ON_HOLD, status_history=history)
    snap = Snapshot(T0, exchange("CREATION_END", "AMLBOT_AML_FROZEN_X", "DEPOSIT_REGISTERED"))

    decision = decide(order, snap, T0, OPTIONS)

    assert decision.new_status == OrderStatus.EXCHANGING


def test_an_unpaid_order_past_its_ttl_expires() -> None:
    now = T0 + timedelta(hours=1)

    decision = decide(stored(), Snapshot(now, exchange("CREATION_END")), now, OPTIONS)

    assert decision.new_status == OrderStatus.EXPIRED
    assert decision.reason == "unpaid after 3600 s"
    assert "next_poll_at" not in decision.fields


def test_a_deposit_seen_after_the_ttl_wins_over_expiry() -> None:
    now = T0 + timedelta(hours=3)
    snap = Snapshot(now, exchange("CREATION_END", "INCOMING_FUNDS_DETECTED", deposits=[DEPOSIT]))

    assert decide(stored(), snap, now, OPTIONS).new_status == OrderStatus.CONFIRMING


def test_a_found_intent_is_adopted_with_the_exchange_id_and_deposit_address() -> None:
    intent = stored(OrderStatus.PENDING_CREATE, exchange_order_id=None, amount_to_receive=None)

    decision = decide(intent, Snapshot(T0, exchange("CREATION_END")), T0, OPTIONS)

    assert decision.new_status == OrderStatus.AWAITING_DEPOSIT
    assert decision.fields["exchange_order_id"] == 100001
    assert decision.fields["deposit_address"] == "bc1qdeposit"
    assert decision.fields["amount_to_receive"] == Decimal("612.5")
    assert decision.reason == "reconciled from the exchange's order list"


def test_an_intent_not_found_within_the_settle_window_waits_for_the_window_to_close() -> None:
    intent = stored(OrderStatus.PENDING_CREATE, exchange_order_id=None, last_create_at=T0)
    now = T0 + timedelta(seconds=10)

    decision = decide(intent, Snapshot(now, None, list_read_at=now), now, OPTIONS)

    assert decision.new_status is None
    assert not decision.replace
    assert decision.settle_at == T0 + OPTIONS.settle_window
    assert decision.fields == {}  # nothing written: the intent stays due


def test_a_list_read_before_the_window_closed_proves_nothing_even_when_looked_at_later() -> None:
    intent = stored(OrderStatus.PENDING_CREATE, exchange_order_id=None, last_create_at=T0)
    read_early = T0 + OPTIONS.settle_window - timedelta(seconds=1)
    now = T0 + OPTIONS.settle_window + timedelta(seconds=5)

    decision = decide(intent, Snapshot(now, None, list_read_at=read_early), now, OPTIONS)

    assert not decision.replace
    assert decision.new_status is None


def test_a_list_read_that_proves_nothing_never_places_an_intent_again() -> None:
    intent = stored(OrderStatus.PENDING_CREATE, exchange_order_id=None, last_create_at=T0)
    now = T0 + OPTIONS.settle_window * 3

    decision = decide(intent, Snapshot(now, None, list_read_at=None), now, OPTIONS)

    assert not decision.replace
    assert decision.new_status is None
    assert decision.fields == {}  # nothing written: looked at again next run


def test_an_intent_confirmed_absent_after_the_window_is_placed_again() -> None:
    intent = stored(OrderStatus.PENDING_CREATE, exchange_order_id=None, last_create_at=T0)
    now = T0 + OPTIONS.settle_window

    decision = decide(intent, Snapshot(now, None, list_read_at=now), now, OPTIONS)

    assert decision.replace
    assert decision.fields == {}


@pytest.mark.parametrize(
    ("changes", "age", "why"),
    [
        ({"rate_mode": RateMode.FIXED}, timedelta(minutes=1), "fixed-rate quote"),
        ({"create_attempts": 3}, timedelta(minutes=1), "no more attempts"),
        ({}, timedelta(minutes=15), "deadline"),
    ],
)
def test_an_intent_confirmed_absent_that_may_not_be_placed_again_fails_with_the_reason(
    changes: dict[str, Any], age: timedelta, why: str
) -> None:
    intent = stored(OrderStatus.PENDING_CREATE, exchange_order_id=None, **changes)
    now = T0 + age

    decision = decide(intent, Snapshot(now, None, list_read_at=now), now, OPTIONS)

    assert decision.new_status == OrderStatus.FAILED
    assert not decision.replace
    assert decision.cause == "reconciliation"
    assert "not in the exchange's order list" in decision.fields["failure_reason"]
    assert why in decision.fields["failure_reason"]


def test_failures_back_off_doubling_from_the_status_interval() -> None:
    order = stored(poll_failures=2)

    decision = decide_failure(order, errors.UpstreamUnavailableError("down", status=503), T0, OPTIONS)

    # 1 minute (awaiting a deposit, just created) doubled three times.
    assert decision.fields == {"next_poll_at": T0 + timedelta(minutes=8), "poll_failures": 3}
    assert decision.new_status is None


def test_an_unpaid_order_the_exchange_no_longer_knows_expires_after_its_ttl() -> None:
    gone = errors.NotFoundError("no such order", status=404)

    young = decide_failure(stored(), gone, T0 + timedelta(minutes=10), OPTIONS)
    old = decide_failure(stored(), gone, T0 + timedelta(hours=2), OPTIONS)

    assert young.new_status is None
    assert old.new_status == OrderStatus.EXPIRED


# -- how late a due order is (OldestDueLagSeconds) -------------------------------------------------


def test_an_order_polled_every_run_is_never_late_however_old_its_due_time() -> None:
    # Confirming since T0, due since T0: the due time stays put while it is polled every run.
    order = stored(OrderStatus.CONFIRMING, next_poll_at=T0)

    assert due_lag(order, T0 + timedelta(minutes=30)) is None


def test_a_backed_off_order_is_late_from_its_due_time() -> None:
    order = stored(next_poll_at=T0 + timedelta(minutes=30))

    assert due_lag(order, T0 + timedelta(minutes=33)) == 180.0


def test_an_order_stepping_out_of_every_run_polling_is_late_only_from_then() -> None:
    # Awaiting since T0 and polled every run (due time T0) until 5 minutes in.
    order = stored(next_poll_at=T0)

    assert due_lag(order, T0 + timedelta(minutes=4)) is None
    assert due_lag(order, T0 + timedelta(minutes=5, seconds=30)) == 30.0


def test_a_failing_order_is_late_from_its_back_off() -> None:
    order = stored(OrderStatus.CONFIRMING, next_poll_at=T0 + timedelta(minutes=2), poll_failures=2)

    assert due_lag(order, T0 + timedelta(minutes=3)) == 60.0
