"""Our order status model: mapping from the exchange's state, allowed transitions (poll pacing:
cryptosdk.orders.polling.pacing).

Pure: no I/O, no clock reads (callers pass `now`), so every rule is unit-testable.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol


class OrderStatus(StrEnum):
    # Internal: the intent is stored, the upstream create has not (yet) been confirmed.
    PENDING_CREATE = "pending_create"
    AWAITING_DEPOSIT = "awaiting_deposit"
    CONFIRMING = "confirming"
    EXCHANGING = "exchanging"
    SENDING = "sending"
    COMPLETED = "completed"
    ON_HOLD = "on_hold"
    REFUNDING = "refunding"
    REFUNDED = "refunded"
    EXPIRED = "expired"
    FAILED = "failed"


TERMINAL_STATUSES: frozenset[OrderStatus] = frozenset(
    {OrderStatus.COMPLETED, OrderStatus.REFUNDED, OrderStatus.EXPIRED, OrderStatus.FAILED}
)

# The happy path, in order; a status may only move forward along it.
_MAIN_PATH: tuple[OrderStatus, ...] = (
    OrderStatus.PENDING_CREATE,
    OrderStatus.AWAITING_DEPOSIT,
    OrderStatus.CONFIRMING,
    OrderStatus.EXCHANGING,
    OrderStatus.SENDING,
    OrderStatus.COMPLETED,
)
_RANK: dict[OrderStatus, int] = {status: rank for rank, status in enumerate(_MAIN_PATH)}

# Funds held by the liquidity provider's AML check can be released (the order carries on)
# or returned; they never go back to waiting for a deposit.
_FROM_ON_HOLD: frozenset[OrderStatus] = frozenset(
    {
        OrderStatus.EXCHANGING,
        OrderStatus.SENDING,
        OrderStatus.COMPLETED,
        OrderStatus.REFUNDING,
        OrderStatus.REFUNDED,
        OrderStatus.FAILED,
    }
)
_FROM_REFUNDING: frozenset[OrderStatus] = frozenset({OrderStatus.REFUNDED, OrderStatus.FAILED})


class _EventLike(Protocol):
    @property
    def kind(self) -> str: ...


class ExchangeOrderLike(Protocol):
    """The part of `cryptosdk.exchange.models.ExchangeOrder` the mapping reads."""

    @property
    def order_events(self) -> Sequence[_EventLike]: ...

    @property
    def completed(self) -> bool: ...

    @property
    def status(self) -> str | None: ...


_EVENT_KINDS: dict[str, OrderStatus] = {
    "CREATION_END": OrderStatus.AWAITING_DEPOSIT,
    "INCOMING_FUNDS_DETECTED": OrderStatus.CONFIRMING,
    "DEPOSIT_REGISTERED": OrderStatus.EXCHANGING,
    "FUNDS_WITHDRAWAL_START": OrderStatus.SENDING,
    "WITHDRAWAL_COMPLETED": OrderStatus.COMPLETED,
    "REFUND_REQUESTED": OrderStatus.REFUNDING,
    "REFUND_COMPLETED": OrderStatus.REFUNDED,
}
_AML_HOLD_PREFIX = "AMLBOT_AML_FROZEN"

# Older responses carry a status word instead of (or beside) events.
_LEGACY_WORDS: dict[str, OrderStatus] = {
    "waiting": OrderStatus.AWAITING_DEPOSIT,
    "confirmed": OrderStatus.EXCHANGING,
    "completed": OrderStatus.COMPLETED,
    "refunded": OrderStatus.REFUNDED,
}


def status_for_event_kind(kind: str) -> OrderStatus | None:
    """Our status for one upstream event kind; None for kinds that say nothing about state."""
    if kind.startswith(_AML_HOLD_PREFIX):
        return OrderStatus.ON_HOLD
    return _EVENT_KINDS.get(kind)


def status_from_exchange(order: ExchangeOrderLike) -> OrderStatus:
    """Our status for the exchange's view of an order (events are newest first)."""
    if order.completed:
        return OrderStatus.COMPLETED
    for event in order.order_events:
        mapped = status_for_event_kind(event.kind)
        if mapped is not None:
            return mapped
    legacy = _LEGACY_WORDS.get((order.status or "").strip().lower())
    if legacy is not None:
        return legacy
    # An order the exchange returned exists and waits for money until it says otherwise.
    return OrderStatus.AWAITING_DEPOSIT


def is_terminal(status: OrderStatus) -> bool:
    return status in TERMINAL_STATUSES


def can_transition(old: OrderStatus, new: OrderStatus) -> bool:
    """Whether a stored `old` status may be replaced by `new` (a repeat is not a transition).

    Statuses never move backwards and terminal statuses are final. Polls may skip
    intermediate states, so any forward jump along the main path is allowed.
    """
    if old == new or is_terminal(old):
        return False
    if new == OrderStatus.PENDING_CREATE:
        return False
    if new == OrderStatus.FAILED:
        return True
    if old == OrderStatus.ON_HOLD:
        return new in _FROM_ON_HOLD
    if old == OrderStatus.REFUNDING:
        return new in _FROM_REFUNDING
    if new == OrderStatus.EXPIRED:
        # Only an order nobody has paid can lapse.
        return old in (OrderStatus.PENDING_CREATE, OrderStatus.AWAITING_DEPOSIT)
    if new in (OrderStatus.ON_HOLD, OrderStatus.REFUNDING, OrderStatus.REFUNDED):
        return True
    return _RANK[new] > _RANK[old]


def can_transition_with_history(old: OrderStatus, new: OrderStatus, history: Sequence[OrderStatus]) -> bool:
    """`can_transition`, plus: leaving on_hold never lands below the main-path status the order
    had before the hold (`history` oldest first), so sending -> on_hold -> exchanging is refused."""
    if not can_transition(old, new):
        return False
    if old != OrderStatus.ON_HOLD or new not in _RANK:
        return True
    before_hold = next((status for status in reversed(history) if status != OrderStatus.ON_HOLD), None)
    if before_hold is None or before_hold not in _RANK:
        return True
    return _RANK[new] >= _RANK[before_hold]


def is_expired(status: OrderStatus, created_at: datetime, now: datetime, ttl: timedelta) -> bool:
    """Whether an unpaid order has outlived `ttl` (the exchange publishes no expiry of its own)."""
    if status != OrderStatus.AWAITING_DEPOSIT:
        return False
    if created_at.tzinfo is None or now.tzinfo is None:
        raise ValueError("created_at and now must be timezone-aware (UTC)")
    return now - created_at >= ttl
