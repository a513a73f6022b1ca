"""What an order's poll schedule remembers of the order, so a poll that changes nothing needs
only the schedule (one item read per due order; the order is read only when something changed).

Pure: no I/O. Storage maps a `PollView` to and from the schedule item; the poller's decision
says when a view is enough (cryptosdk.orders.polling.decision).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from cryptosdk.domain.order import DepositRecord, Order, WithdrawalRecord
from cryptosdk.domain.status import OrderStatus
from cryptosdk.exchange.money import decimal_text


@dataclass(frozen=True, slots=True)
class PollView:
    """A due order as its schedule item remembers it: written with the schedule's back-off moves,
    so it may be older than the order. The decision uses it only where an older view cannot
    hide a change (see `decide_unchanged`)."""

    id: str
    exchange_order_id: int
    destination_address: str
    status: OrderStatus
    # When the order entered `status` (pacing), and when it was created (expiry).
    status_since: datetime
    created_at: datetime
    version: int
    # `exchange_digest` of the exchange-owned fields as the order stored them.
    exchange_digest: str
    # The schedule's own state (always current: the schedule item holds it).
    next_poll_at: datetime
    poll_failures: int

    @property
    def may_decide(self) -> bool:
        """Whether a poll may be decided from this view at all: only while the order waits for
        its deposit, a state the exchange never returns to (so an older view hides nothing). In
        any other status the order is read with its schedule, as without a view."""
        return self.status == OrderStatus.AWAITING_DEPOSIT


def exchange_digest(
    deposits: Sequence[DepositRecord], withdrawals: Sequence[WithdrawalRecord], amount: Decimal | None
) -> str:
    """A short fingerprint of the exchange-owned fields: equal fingerprints mean a poll would
    write none of them. Cheap for the usual case (no deposits, no withdrawals)."""
    if not deposits and not withdrawals:
        # No models to dump: the common case of an order waiting for its deposit.
        raw = f"||{'' if amount is None else decimal_text(amount)}"
    else:
        raw = json.dumps(
            [
                [d.model_dump(mode="json", by_alias=True, exclude_none=True) for d in deposits],
                [w.model_dump(mode="json", by_alias=True, exclude_none=True) for w in withdrawals],
                None if amount is None else decimal_text(amount),
            ],
            separators=(",", ":"),
            sort_keys=True,
        )
    return hashlib.blake2b(raw.encode(), digest_size=12).hexdigest()


def order_digest(order: Order) -> str:
    return exchange_digest(order.deposits, order.withdrawals, order.amount_to_receive)


def status_since(order: Order) -> datetime:
    """When the order entered its current status (its last history entry; creation without one)."""
    return order.status_history[-1].at if order.status_history else order.created_at
