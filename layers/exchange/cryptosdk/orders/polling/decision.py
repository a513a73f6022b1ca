"""The pure decision: an exchange snapshot and the stored order (or its schedule view) -> the
fields of the one write that brings the order in step, never moving a status backwards."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from cryptosdk.domain.order import ChangeCause, DepositRecord, Order, WithdrawalRecord, to_iso
from cryptosdk.domain.schedule import PollView, exchange_digest, status_since
from cryptosdk.domain.status import OrderStatus, is_expired, is_terminal, status_from_exchange
from cryptosdk.exchange import errors
from cryptosdk.orders.polling.options import PollerOptions
from cryptosdk.orders.polling.pacing import next_poll_delay
from cryptosdk.orders.settle import Verdict, settle_at, settle_verdict

if TYPE_CHECKING:
    from cryptosdk.exchange.models import Deposit, ExchangeOrder, Withdrawal


@dataclass(frozen=True)
class Snapshot:
    """What the exchange said about one order and when we asked; `exchange` is None when a
    pending intent was not found in the exchange's order list."""

    fetched_at: datetime
    exchange: ExchangeOrder | None
    # When the order list that did not show a pending intent was read; None when that read did not
    # reach back far enough to prove anything (or was not a list lookup).
    list_read_at: datetime | None = None


@dataclass(frozen=True)
class Decision:
    fields: dict[str, Any]
    reason: str | None = None
    cause: ChangeCause | None = None
    # A pending intent confirmed absent that may be placed again (the write is the claim).
    replace: bool = False
    # A pending intent whose create may still land: when a list read can prove it absent.
    settle_at: datetime | None = None

    @property
    def new_status(self) -> OrderStatus | None:
        status = self.fields.get("status")
        return None if status is None else OrderStatus(status)


def _deposit(deposit: Deposit) -> DepositRecord:
    return DepositRecord(
        amount=deposit.amount,
        tx_id=deposit.tx_id,
        confirmations=deposit.confirmations,
        is_pending=deposit.is_pending,
        created_at=to_iso(deposit.created_at) if deposit.created_at else None,
    )


def _withdrawal(withdrawal: Withdrawal) -> WithdrawalRecord:
    return WithdrawalRecord(
        amount=withdrawal.amount,
        network_fee=withdrawal.network_fee,
        tx_id=withdrawal.tx_id,
        created_at=to_iso(withdrawal.created_at) if withdrawal.created_at else None,
    )


def decide_unchanged(
    view: PollView, exchange: ExchangeOrder, now: datetime, options: PollerOptions
) -> Decision | None:
    """The decision for a poll seen only through the order's schedule view: the schedule's next
    move when the exchange shows nothing that `decide` would write; None when the order itself
    must be read (and `decide` run on it).

    A view may be older than the order (it is written with back-off moves only), so it is trusted
    only while the order waits for its deposit with none seen: the exchange never returns to that
    state once funds are detected, so an exchange still showing it means the order, whatever its
    view's age, has nothing to take from this poll. Expiry, anything else or any difference in
    the exchange-owned fields reads the order."""
    if not view.may_decide or exchange.deposits:
        return None
    if status_from_exchange(exchange) != OrderStatus.AWAITING_DEPOSIT:
        return None
    if is_expired(view.status, view.created_at, now, options.unpaid_ttl):
        return None
    withdrawals = tuple(_withdrawal(w) for w in exchange.withdrawals)
    amount = exchange.amount_to_get
    if amount is None or exchange_digest((), withdrawals, amount) != view.exchange_digest:
        return None
    return Decision(_schedule(view.status, now, options, since=view.status_since))


def exchange_fields(order: Order, exchange: ExchangeOrder) -> dict[str, Any]:
    """The exchange-owned fields (deposits, withdrawals, final amount) that differ from `order`."""
    fields: dict[str, Any] = {}
    deposits = tuple(_deposit(d) for d in exchange.deposits)
    withdrawals = tuple(_withdrawal(w) for w in exchange.withdrawals)
    if deposits != order.deposits:
        fields["deposits"] = deposits
    if withdrawals != order.withdrawals:
        fields["withdrawals"] = withdrawals
    if exchange.amount_to_get is not None and exchange.amount_to_get != order.amount_to_receive:
        fields["amount_to_receive"] = exchange.amount_to_get
    return fields


def _schedule(
    status: OrderStatus,
    now: datetime,
    options: PollerOptions,
    failures: int = 0,
    since: datetime | None = None,
) -> dict[str, Any]:
    """The next poll; `since` is when the order entered `status` (None: it enters it now)."""
    if is_terminal(status):
        return {}  # apply_update removes a terminal order from the poll index
    waited = now - since if since is not None else timedelta(0)
    delay = next_poll_delay(status, failures, options.max_poll_interval, waited=waited)
    return {"next_poll_at": now + delay, "poll_failures": failures}


def _newest_kind(exchange: ExchangeOrder) -> str | None:
    return exchange.order_events[0].kind if exchange.order_events else None


def decide(order: Order, snapshot: Snapshot, now: datetime, options: PollerOptions) -> Decision:
    """The single write that brings `order` in step with `snapshot` (pure; never moves back)."""
    exchange = snapshot.exchange
    if exchange is None:
        return _decide_not_found(order, snapshot.list_read_at, now, options)
    fields = exchange_fields(order, exchange)
    reason = f"exchange: {_newest_kind(exchange) or 'order'}"
    cause = ChangeCause.EXCHANGE
    if order.exchange_order_id is None:
        fields.update(_adoption_fields(exchange))
        reason = "reconciled from the exchange's order list"
        cause = ChangeCause.RECONCILIATION
    target = status_from_exchange(exchange)
    unpaid = not exchange.deposits and target == OrderStatus.AWAITING_DEPOSIT
    if unpaid and is_expired(order.status, order.created_at, now, options.unpaid_ttl):
        target = OrderStatus.EXPIRED
        reason = f"unpaid after {int(options.unpaid_ttl.total_seconds())} s"
        cause = ChangeCause.EXPIRY
    if target != order.status and order.can_become(target):
        fields["status"] = target
    status = OrderStatus(fields.get("status", order.status))
    since = None if "status" in fields else status_since(order)
    fields.update(_schedule(status, now, options, since=since))
    moved = "status" in fields
    return Decision(fields, reason if moved else None, cause if moved else None)


def _adoption_fields(exchange: ExchangeOrder) -> dict[str, Any]:
    deposit = exchange.deposit_address
    return {
        "exchange_order_id": exchange.order_id,
        "deposit_address": deposit.deposit_address if deposit else None,
        "deposit_memo": deposit.deposit_address_memo if deposit else None,
    }


def _decide_not_found(
    order: Order, list_read_at: datetime | None, now: datetime, options: PollerOptions
) -> Decision:
    if order.exchange_order_id is not None or order.status != OrderStatus.PENDING_CREATE:
        return Decision(_schedule(order.status, now, options, since=status_since(order)))
    settlement = settle_verdict(
        order,
        list_read_at,
        now,
        window=options.settle_window,
        deadline=options.reconcile_deadline,
    )
    if settlement.verdict == Verdict.FAIL:
        reason = settlement.reason
        return Decision(
            {"status": OrderStatus.FAILED, "failure_reason": reason}, reason, ChangeCause.RECONCILIATION
        )
    if settlement.verdict == Verdict.REPLACE:
        return Decision({}, replace=True)
    # Nothing to write: the intent stays due, and is looked at again when its window closes.
    return Decision({}, settle_at=settle_at(order, options.settle_window))


def decide_failure(
    order: Order, error: errors.ExchangeError, now: datetime, options: PollerOptions
) -> Decision:
    """Back-off after a failed exchange call; an unpaid order the exchange no longer knows expires."""
    gone = isinstance(error, errors.NotFoundError)
    if gone and is_expired(order.status, order.created_at, now, options.unpaid_ttl):
        reason = "unpaid and no longer known to the exchange"
        return Decision({"status": OrderStatus.EXPIRED}, reason, ChangeCause.EXPIRY)
    return Decision(_schedule(order.status, now, options, order.poll_failures + 1, since=status_since(order)))
