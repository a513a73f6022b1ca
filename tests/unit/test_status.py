"""The status model: upstream mapping, every transition pair, poll pacing and expiry."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from cryptosdk.domain.status import (
    TERMINAL_STATUSES,
    OrderStatus,
    can_transition,
    can_transition_with_history,
    is_expired,
    is_terminal,
    status_for_event_kind,
    status_from_exchange,
)
from cryptosdk.orders.polling.pacing import (
    AWAITING_DEPOSIT_MAX_INTERVAL,
    MAX_POLL_BACKOFF,
    awaiting_deposit_interval,
    next_poll_delay,
)

S = OrderStatus


@dataclass(frozen=True)
class Event:
    kind: str


@dataclass(frozen=True)
class Order:
    order_events: list[Event] = field(default_factory=list)
    completed: bool = False
    status: str | None = None


def order_with(*kinds_newest_first: str, completed: bool = False, status: str | None = None) -> Order:
    return Order([Event(k) for k in kinds_newest_first], completed, status)


# The specification, written out by hand: from each status, the set it may move to.
ALLOWED: dict[OrderStatus, set[OrderStatus]] = {
    S.PENDING_CREATE: set(S) - {S.PENDING_CREATE},
    S.AWAITING_DEPOSIT: {
        S.CONFIRMING, S.EXCHANGING, S.SENDING, S.COMPLETED, S.ON_HOLD,
        S.REFUNDING, S.REFUNDED, S.EXPIRED, S.FAILED,
    },
    S.CONFIRMING: {S.EXCHANGING, S.SENDING, S.COMPLETED, S.ON_HOLD, S.REFUNDING, S.REFUNDED, S.FAILED},
    S.EXCHANGING: {S.SENDING, S.COMPLETED, S.ON_HOLD, S.REFUNDING, S.REFUNDED, S.FAILED},
    S.SENDING: {S.COMPLETED, S.ON_HOLD, S.REFUNDING, S.REFUNDED, S.FAILED},
    S.ON_HOLD: {S.EXCHANGING, S.SENDING, S.COMPLETED, S.REFUNDING, S.REFUNDED, S.FAILED},
    S.REFUNDING: {S.REFUNDED, S.FAILED},
    S.COMPLETED: set(),
    S.REFUNDED: set(),
    S.EXPIRED: set(),
    S.FAILED: set(),
}  # fmt: skip


@pytest.mark.parametrize(("old", "new"), list(itertools.product(S, S)))
def test_every_transition_pair_matches_the_specification(old: OrderStatus, new: OrderStatus) -> None:
    assert can_transition(old, new) is (new in ALLOWED[old])


def test_the_specification_covers_every_status() -> None:
    assert set(ALLOWED) == set(S)


@pytest.mark.parametrize("terminal", sorted(TERMINAL_STATUSES))
def test_terminal_statuses_are_final(terminal: OrderStatus) -> None:
    assert is_terminal(terminal)
    assert not any(can_transition(terminal, new) for new in S)


def test_every_active_status_can_reach_a_terminal_status() -> None:
    for status in set(S) - TERMINAL_STATUSES:
        assert not is_terminal(status)
        assert any(can_transition(status, t) for t in TERMINAL_STATUSES)


def test_the_main_path_never_moves_backwards() -> None:
    path = [S.AWAITING_DEPOSIT, S.CONFIRMING, S.EXCHANGING, S.SENDING, S.COMPLETED]
    for earlier, later in itertools.combinations(path, 2):
        assert can_transition(earlier, later)
        assert not can_transition(later, earlier)


@pytest.mark.parametrize(
    ("kinds", "expected"),
    [
        (["CREATION_END"], S.AWAITING_DEPOSIT),
        (["INCOMING_FUNDS_DETECTED", "CREATION_END"], S.CONFIRMING),
        (["DEPOSIT_REGISTERED", "INCOMING_FUNDS_DETECTED", "CREATION_END"], S.EXCHANGING),
        (["FUNDS_WITHDRAWAL_START", "DEPOSIT_REGISTERED"], S.SENDING),
        (["WITHDRAWAL_COMPLETED", "FUNDS_WITHDRAWAL_START"], S.COMPLETED),
        (["AMLBOT_AML_FROZEN_BY_LIQUIDITY_PROVIDER", "DEPOSIT_REGISTERED"], S.ON_HOLD),
        (["REFUND_REQUESTED", "AMLBOT_AML_FROZEN_BY_LIQUIDITY_PROVIDER"], S.REFUNDING),
        (["REFUND_COMPLETED", "REFUND_REQUESTED"], S.REFUNDED),
        # Released from hold: the newest event wins.
        (["DEPOSIT_REGISTERED", "AMLBOT_AML_FROZEN_BY_LIQUIDITY_PROVIDER"], S.EXCHANGING),
        # Kinds we do not know are skipped, not guessed at.
        (["SOMETHING_NEW", "INCOMING_FUNDS_DETECTED"], S.CONFIRMING),
    ],
)
def test_newest_known_event_decides_the_status(kinds: list[str], expected: OrderStatus) -> None:
    assert status_from_exchange(order_with(*kinds)) == expected


def test_completed_flag_wins_over_events() -> None:
    assert status_from_exchange(order_with("FUNDS_WITHDRAWAL_START", completed=True)) == S.COMPLETED


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("waiting", S.AWAITING_DEPOSIT),
        ("confirmed", S.EXCHANGING),
        ("Completed", S.COMPLETED),
        ("refunded", S.REFUNDED),
    ],
)
def test_legacy_status_words_map_when_no_event_says_more(word: str, expected: OrderStatus) -> None:
    assert status_from_exchange(order_with(status=word)) == expected
    assert status_from_exchange(order_with("OTHER", status=word)) == expected


def test_events_take_precedence_over_a_legacy_word() -> None:
    assert status_from_exchange(order_with("INCOMING_FUNDS_DETECTED", status="waiting")) == S.CONFIRMING


def test_an_order_with_nothing_to_say_awaits_its_deposit() -> None:
    assert status_from_exchange(order_with()) == S.AWAITING_DEPOSIT
    assert status_from_exchange(order_with(status="mystery")) == S.AWAITING_DEPOSIT


def test_every_mapped_event_kind_lands_on_a_status_our_api_knows() -> None:
    kinds = [
        "CREATION_END",
        "INCOMING_FUNDS_DETECTED",
        "DEPOSIT_REGISTERED",
        "FUNDS_WITHDRAWAL_START",
        "WITHDRAWAL_COMPLETED",
        "AMLBOT_AML_FROZEN_BY_LIQUIDITY_PROVIDER",
        "REFUND_REQUESTED",
        "REFUND_COMPLETED",
    ]
    mapped = {status_for_event_kind(k) for k in kinds}
    assert None not in mapped
    assert S.PENDING_CREATE not in mapped
    assert len(mapped) == len(kinds)


def test_polls_are_tighter_while_confirming_than_while_awaiting_deposit() -> None:
    assert next_poll_delay(S.CONFIRMING) < next_poll_delay(S.AWAITING_DEPOSIT)


@pytest.mark.parametrize("status", sorted(set(S) - TERMINAL_STATUSES))
def test_failures_back_off_exponentially_up_to_a_cap(status: OrderStatus) -> None:
    base = next_poll_delay(status, 0)
    assert base > timedelta(0)
    delays = [next_poll_delay(status, n) for n in range(12)]
    assert delays == sorted(delays)
    assert next_poll_delay(status, 1) == min(base * 2, max(base, MAX_POLL_BACKOFF))
    assert delays[-1] == max(base, MAX_POLL_BACKOFF)
    assert next_poll_delay(status, 10**9) == max(base, MAX_POLL_BACKOFF)


def test_awaiting_deposit_interval_grows_with_the_wait_up_to_eight_minutes() -> None:
    waits = [timedelta(seconds=s) for s in range(0, 3 * 3600, 30)]
    intervals = [awaiting_deposit_interval(w) for w in waits]

    assert intervals == sorted(intervals)
    assert sorted(set(intervals)) == [timedelta(minutes=m) for m in (1, 5, 8)]
    assert intervals[-1] == AWAITING_DEPOSIT_MAX_INTERVAL
    # The boundaries: 5 and 20 minutes of waiting.
    assert awaiting_deposit_interval(timedelta(minutes=5) - timedelta(seconds=1)) == timedelta(minutes=1)
    assert awaiting_deposit_interval(timedelta(minutes=5)) == timedelta(minutes=5)
    assert awaiting_deposit_interval(timedelta(minutes=20)) == timedelta(minutes=8)


def test_the_wait_paces_only_orders_awaiting_a_deposit() -> None:
    long_wait = timedelta(hours=2)

    assert next_poll_delay(S.AWAITING_DEPOSIT, waited=long_wait) == AWAITING_DEPOSIT_MAX_INTERVAL
    assert next_poll_delay(S.AWAITING_DEPOSIT, waited=-long_wait) == timedelta(minutes=1)
    for status in (S.CONFIRMING, S.EXCHANGING, S.SENDING):
        assert next_poll_delay(status, waited=long_wait) == next_poll_delay(status) <= timedelta(minutes=1)
    # Failures still double from the paced interval, and a configured cap still applies.
    assert next_poll_delay(S.AWAITING_DEPOSIT, 1, waited=long_wait) == AWAITING_DEPOSIT_MAX_INTERVAL * 2
    assert next_poll_delay(S.AWAITING_DEPOSIT, 9, waited=long_wait) == MAX_POLL_BACKOFF
    assert next_poll_delay(S.AWAITING_DEPOSIT, cap=timedelta(seconds=5), waited=long_wait) == timedelta(
        seconds=5
    )


@pytest.mark.parametrize("terminal", sorted(TERMINAL_STATUSES))
def test_terminal_statuses_have_no_poll_delay(terminal: OrderStatus) -> None:
    with pytest.raises(ValueError, match="never polled"):
        next_poll_delay(terminal)


def test_unpaid_orders_expire_after_the_ttl_and_only_they() -> None:
    created = datetime(2026, 1, 1, tzinfo=UTC)
    ttl = timedelta(hours=1)
    assert not is_expired(S.AWAITING_DEPOSIT, created, created + ttl - timedelta(seconds=1), ttl)
    assert is_expired(S.AWAITING_DEPOSIT, created, created + ttl, ttl)
    for status in set(S) - {S.AWAITING_DEPOSIT}:
        assert not is_expired(status, created, created + ttl * 10, ttl)


def test_expiry_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        is_expired(S.AWAITING_DEPOSIT, datetime(2026, 1, 1), datetime.now(UTC), timedelta(hours=1))  # noqa: DTZ001


def test_a_cap_shortens_every_interval_and_its_back_off() -> None:
    cap = timedelta(seconds=5)

    assert next_poll_delay(S.AWAITING_DEPOSIT, cap=cap) == cap
    assert next_poll_delay(S.CONFIRMING, consecutive_failures=6, cap=cap) == cap
    assert next_poll_delay(S.AWAITING_DEPOSIT, cap=timedelta(hours=1)) == timedelta(minutes=2)


# -- leaving on_hold: never below where the order was when the hold began ----------------------


@pytest.mark.parametrize(
    ("before_hold", "released_to", "allowed"),
    [
        (S.SENDING, S.EXCHANGING, False),
        (S.SENDING, S.SENDING, True),
        (S.SENDING, S.COMPLETED, True),
        (S.SENDING, S.REFUNDING, True),
        (S.CONFIRMING, S.EXCHANGING, True),
        (S.EXCHANGING, S.EXCHANGING, True),
        (S.EXCHANGING, S.FAILED, True),
    ],
)
def test_leaving_on_hold_never_goes_below_the_status_before_the_hold(
    before_hold: OrderStatus, released_to: OrderStatus, allowed: bool
) -> None:
    history = [S.PENDING_CREATE, S.AWAITING_DEPOSIT, before_hold, S.ON_HOLD]

    assert can_transition_with_history(S.ON_HOLD, released_to, history) is allowed


def test_repeated_hold_entries_are_looked_past() -> None:
    history = [S.AWAITING_DEPOSIT, S.SENDING, S.ON_HOLD, S.ON_HOLD]

    assert not can_transition_with_history(S.ON_HOLD, S.EXCHANGING, history)


@pytest.mark.parametrize(("old", "new"), list(itertools.product(set(S) - {S.ON_HOLD}, S)))
def test_outside_a_hold_the_history_changes_nothing(old: OrderStatus, new: OrderStatus) -> None:
    history = [S.PENDING_CREATE, S.AWAITING_DEPOSIT, S.SENDING, S.ON_HOLD, old]

    assert can_transition_with_history(old, new, history) is can_transition(old, new)


def test_without_a_history_the_plain_rules_apply() -> None:
    assert can_transition_with_history(S.ON_HOLD, S.EXCHANGING, []) is can_transition(S.ON_HOLD, S.EXCHANGING)
