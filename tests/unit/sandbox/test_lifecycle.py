"""The order lifecycle on a fake clock: commands, ticks, lapse, holds and refunds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from local.sandbox.catalogue import load_catalogue
from local.sandbox.errors import SandboxError
from local.sandbox.orders import LifecycleSettings, Order, OrderBook

CATALOGUE = load_catalogue()


class Clock:
    def __init__(self) -> None:
        self.now = 1_750_000_000.0

    def __call__(self) -> float:
        return self.now


def new_order(book: OrderBook, clock: Clock, confirmations: int = 2) -> int:
    order_id = book.allocate_id()
    book.add(
        Order(
            order_id=order_id,
            public_key="pub",
            created_at=clock.now,
            source=CATALOGUE.get("BTC", "BTC"),
            target=CATALOGUE.get("USDT", "TRC20"),
            rate_mode="FLOATING",
            markup=Decimal(0),
            deposit_amount=Decimal("0.01"),
            amount_to_get=Decimal("950"),
            network_fee=Decimal(1),
            destination_address="dest",
            destination_memo=None,
            refund_address=None,
            refund_memo=None,
            deposit_address="dep",
            deposit_memo=None,
            claimed_network_fee="1",
            claimed_public_rate={},
            min_confirmations=confirmations,
            never_pays=book.never_pays(order_id),
        )
    )
    return order_id


def kinds(wire: dict[str, object]) -> list[str]:
    events = wire["orderEvents"]
    assert isinstance(events, list)
    return [event["kind"] for event in reversed(events)]


def test_each_tick_is_one_step_and_confirmations_rise_one_per_tick() -> None:
    clock = Clock()
    book = OrderBook(LifecycleSettings(step_seconds=10, lapse_seconds=None), clock)
    order_id = new_order(book, clock, confirmations=3)
    seen = []
    for _ in range(8):
        clock.now += 10
        wire = book.public_info(order_id, "dest")
        deposits = wire["deposits"]
        seen.append((kinds(wire)[-1], deposits[0]["confirmations"] if deposits else None))
    assert seen == [
        ("INCOMING_FUNDS_DETECTED", 0),
        ("INCOMING_FUNDS_DETECTED", 1),
        ("INCOMING_FUNDS_DETECTED", 2),
        ("INCOMING_FUNDS_DETECTED", 3),
        ("DEPOSIT_REGISTERED", 3),
        ("FUNDS_WITHDRAWAL_START", 3),
        ("WITHDRAWAL_COMPLETED", 3),
        ("WITHDRAWAL_COMPLETED", 3),
    ]


def test_missed_ticks_are_caught_up_with_their_own_times() -> None:
    clock = Clock()
    book = OrderBook(LifecycleSettings(step_seconds=5, lapse_seconds=None), clock)
    order_id = new_order(book, clock, confirmations=1)
    clock.now += 1000
    wire = book.public_info(order_id, "dest")
    assert wire["completed"] is True
    stamps = [event["createdAt"] for event in reversed(wire["orderEvents"])]
    created = datetime.fromtimestamp(1_750_000_000, UTC)
    expected = [
        (created + timedelta(seconds=5 * step)).strftime("%Y-%m-%dT%H:%M:%S.000Z") for step in range(6)
    ]
    expected = [expected[0], expected[1], expected[3], expected[4], expected[5]]  # step 2 is a confirmation
    assert stamps == expected


def test_lapse_only_hits_unpaid_orders() -> None:
    clock = Clock()
    book = OrderBook(LifecycleSettings(step_seconds=None, lapse_seconds=60), clock)
    unpaid, paid = new_order(book, clock), new_order(book, clock)
    book.command(paid, "INCOMING_FUNDS_DETECTED")
    clock.now += 61
    with pytest.raises(SandboxError) as caught:
        book.command(unpaid, "INCOMING_FUNDS_DETECTED")
    assert caught.value.status == 409
    assert kinds(book.command(paid, "WITHDRAWAL_COMPLETED"))[-1] == "WITHDRAWAL_COMPLETED"


def test_clock_does_not_pay_after_the_lapse_time() -> None:
    clock = Clock()
    book = OrderBook(LifecycleSettings(step_seconds=100, lapse_seconds=50), clock)
    order_id = new_order(book, clock)
    clock.now += 500
    assert kinds(book.public_info(order_id, "dest")) == ["CREATION_END"]


def test_aml_hold_stops_the_clock() -> None:
    clock = Clock()
    book = OrderBook(LifecycleSettings(step_seconds=1, lapse_seconds=None), clock)
    order_id = new_order(book, clock)
    book.command(order_id, "AMLBOT_AML_FROZEN_BY_LIQUIDITY_PROVIDER")
    clock.now += 100
    assert kinds(book.public_info(order_id, "dest"))[-1] == "AMLBOT_AML_FROZEN_BY_LIQUIDITY_PROVIDER"


def test_refund_is_refused_once_payout_started_and_repeating_a_reached_kind_is_a_no_op() -> None:
    clock = Clock()
    book = OrderBook(LifecycleSettings(), clock)
    order_id = new_order(book, clock)
    first = book.command(order_id, "FUNDS_WITHDRAWAL_START")
    assert book.command(order_id, "DEPOSIT_REGISTERED") == first
    with pytest.raises(SandboxError) as caught:
        book.command(order_id, "REFUND_REQUESTED")
    assert caught.value.status == 409


def test_unpaid_fraction_is_deterministic_per_order_id() -> None:
    book = OrderBook(LifecycleSettings(unpaid_fraction=0.3), Clock())
    picks = [book.never_pays(order_id) for order_id in range(1, 2001)]
    assert picks == [book.never_pays(order_id) for order_id in range(1, 2001)]
    assert 0.25 < sum(picks) / len(picks) < 0.35
