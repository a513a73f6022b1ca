"""One order through the poller: fetch (or, for an unconfirmed create, reconcile against the
exchange's order list), decide (cryptosdk.orders.polling.decision), and ONE conditional write of
the order on the version read; a back-off only moves its poll schedule, and a poll that changes
nothing and stays due writes nothing. A lost race re-reads once and re-applies the same exchange
snapshot only if the stored state is older than the snapshot, so newer state is never
overwritten and statuses never move backwards. An order seen through its schedule view
(cryptosdk.domain.schedule) is read only when the view cannot decide; in a run, such reads are
queued (`OrderReads`) and made 25 to a BatchGetItem by the run, which then writes each order."""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from cryptosdk.domain.order import InvalidTransitionError, Order, StaleOrderError
from cryptosdk.domain.schedule import PollView
from cryptosdk.domain.status import OrderStatus, is_terminal
from cryptosdk.exchange import errors
from cryptosdk.orders.polling.decision import Snapshot, decide, decide_failure, decide_unchanged
from cryptosdk.orders.polling.options import PollerDeps, PollerOptions
from cryptosdk.orders.polling.pacing import Deadline, Pacer
from cryptosdk.orders.reconcile import RecentOrders
from cryptosdk.orders.settle import place_again, settle_at
from cryptosdk.runtime.observability import logger


class Outcome(StrEnum):
    CHANGED = "changed"  # the status moved (its event comes from the stream)
    UPDATED = "updated"  # exchange fields or schedule written, status unchanged
    FAILED = "failed"  # the exchange call failed; back-off written when possible
    SKIPPED = "skipped"  # left untouched: deadline, or newer state already stored
    DEFERRED = "deferred"  # its order must be read first: queued in the run's OrderReads


@dataclass(frozen=True)
class OrderResult:
    order_id: str
    outcome: Outcome
    order: Order | None = None
    rereads: int = 0
    # Orders read by the worker (a due schedule view whose poll needed its order).
    reads: int = 0
    error: Exception | None = None
    # A pending intent whose create may still land: when it can be settled.
    settle_at: datetime | None = None


@dataclass
class OrderReads:
    """Due views whose poll needs their order item, each with the exchange's answer, queued by the
    workers; the run reads them in batches (`ScheduleItems.load_due_many`) and hands each order
    to `write_read_order`. A GetItem per changed order cost a whole botocore call each."""

    waiting: list[tuple[PollView, Snapshot]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, view: PollView, snapshot: Snapshot) -> None:
        with self.lock:
            self.waiting.append((view, snapshot))

    def take(self, at_least: int) -> list[tuple[PollView, Snapshot]]:
        with self.lock:
            if len(self.waiting) < max(at_least, 1):
                return []
            taken, self.waiting = self.waiting, []
            return taken


@dataclass
class PollContext:
    deps: PollerDeps
    options: PollerOptions
    deadline: Deadline
    pacer: Pacer
    recent: RecentOrders
    # Where a view's order read is queued (None: read at once, by the worker).
    reads: OrderReads | None = None


def _snapshot(order: Order, ctx: PollContext) -> Snapshot:
    client = ctx.deps.client
    if order.exchange_order_id is None:
        found = ctx.recent.find(order)
        proven = None if found is not None else ctx.recent.absence_proven_at(order)
        return Snapshot(ctx.deps.clock(), found, proven)
    exchange = client.get_order(order.exchange_order_id, order.destination.address)
    return Snapshot(ctx.deps.clock(), exchange)


def process_order(order: Order, ctx: PollContext) -> OrderResult:
    """Bring one order in step with the exchange; never raises for an exchange failure."""
    if is_terminal(order.status) or not ctx.deadline.may_write():
        return OrderResult(order.id, Outcome.SKIPPED, order)
    if unsettled(order) and ctx.deps.clock() < settle_at(order, ctx.options.settle_window):
        # Its create may still be in flight or landing: untouched (no lookup, no write, so the
        # request that made it can still store its answer) until its settle window closes.
        return OrderResult(
            order.id, Outcome.SKIPPED, order, settle_at=settle_at(order, ctx.options.settle_window)
        )
    try:
        snapshot = _snapshot(order, ctx)
    except errors.ExchangeError as exc:
        if isinstance(exc, errors.RateLimitedError):
            ctx.pacer.on_rate_limited(exc.retry_after)
        return _record_failure(order, exc, ctx)
    ctx.pacer.on_success()
    return _write(order, snapshot, ctx)


def process_view(view: PollView, ctx: PollContext) -> OrderResult:
    """A due order seen through its schedule view: the exchange first, then the order is read
    only when the view cannot decide (or the call failed), and goes the way of `process_order`."""
    if not ctx.deadline.may_write():
        return OrderResult(view.id, Outcome.SKIPPED)
    store = ctx.deps.store
    try:
        exchange = ctx.deps.client.get_order(view.exchange_order_id, view.destination_address)
    except errors.ExchangeError as exc:
        if isinstance(exc, errors.RateLimitedError):
            ctx.pacer.on_rate_limited(exc.retry_after)
        order = store.load_due(view)
        if order is None:
            return OrderResult(view.id, Outcome.SKIPPED, reads=1)
        return dataclasses.replace(_record_failure(order, exc, ctx), reads=1)
    ctx.pacer.on_success()
    now = ctx.deps.clock()
    decision = decide_unchanged(view, exchange, now, ctx.options)
    if decision is not None:
        fields = decision.fields
        store.move_schedule(view, fields.get("next_poll_at"), fields.get("poll_failures", 0), now)
        return OrderResult(view.id, Outcome.UPDATED)
    if ctx.reads is not None:
        ctx.reads.add(view, Snapshot(now, exchange))
        return OrderResult(view.id, Outcome.DEFERRED)
    return write_read_order(view, store.load_due(view), Snapshot(now, exchange), ctx)


def write_read_order(
    view: PollView, order: Order | None, snapshot: Snapshot, ctx: PollContext
) -> OrderResult:
    """The rest of `process_view` once the view's order is read (`load_due`: None when there is
    nothing left to poll)."""
    if order is None:
        return OrderResult(view.id, Outcome.SKIPPED, reads=1)
    return dataclasses.replace(_write(order, snapshot, ctx), reads=1)


def unsettled(order: Order | PollView) -> bool:
    """An intent whose create outcome is not known yet (stored, no exchange order adopted)."""
    return order.exchange_order_id is None and order.status == OrderStatus.PENDING_CREATE


def _write(order: Order, snapshot: Snapshot, ctx: PollContext) -> OrderResult:
    store, clock = ctx.deps.store, ctx.deps.clock
    current, rereads = order, 0
    while True:
        if not ctx.deadline.may_write():
            return OrderResult(order.id, Outcome.SKIPPED, current, rereads=rereads)
        now = clock()
        decision = decide(current, snapshot, now, ctx.options)
        if decision.replace:
            return _place_again(current, ctx, rereads)
        if decision.settle_at is not None:
            return OrderResult(
                order.id, Outcome.SKIPPED, current, rereads=rereads, settle_at=decision.settle_at
            )
        try:
            updated = store.apply_update(
                current,
                decision.fields,
                current.version,
                reason=decision.reason,
                cause=decision.cause,
                now=now,
            )
        except StaleOrderError:
            if rereads:
                return OrderResult(order.id, Outcome.SKIPPED, current, rereads=rereads)
            rereads += 1
            fresh = store.get(order.id)
            # Someone wrote after our snapshot was taken: theirs is the newer truth, leave it.
            if fresh is None or is_terminal(fresh.status) or fresh.updated_at >= snapshot.fetched_at:
                return OrderResult(order.id, Outcome.SKIPPED, fresh, rereads=rereads)
            current = fresh
            continue
        except InvalidTransitionError:
            return OrderResult(order.id, Outcome.SKIPPED, current, rereads=rereads)
        if decision.new_status is not None:
            return OrderResult(order.id, Outcome.CHANGED, updated, rereads=rereads)
        return OrderResult(order.id, Outcome.UPDATED, updated, rereads=rereads, settle_at=decision.settle_at)


def _place_again(order: Order, ctx: PollContext, rereads: int) -> OrderResult:
    """A confirmed-absent intent placed again under its own id (cryptosdk.orders.settle)."""
    deps = ctx.deps
    try:
        replaced = place_again(
            order,
            client=deps.client,
            store=deps.store,
            clock=deps.clock,
            claimed=ctx.recent.claimed,
            poll_cap=ctx.options.max_poll_interval,
        )
    except StaleOrderError:
        # Another poller (or a refresh) claimed this attempt first; it places it, not us.
        return OrderResult(order.id, Outcome.SKIPPED, order, rereads=rereads)
    except errors.ExchangeError as exc:
        # The check before the create failed: nothing was sent; the next window settles it.
        logger.warning("placing an unknown create again failed", order_id=order.id, error_code=exc.code)
        return OrderResult(order.id, Outcome.FAILED, order, rereads=rereads, error=exc)
    if replaced.changed:
        return OrderResult(order.id, Outcome.CHANGED, replaced.order, rereads=rereads)
    return OrderResult(order.id, Outcome.UPDATED, replaced.order, rereads=rereads)


def _record_failure(order: Order, error: errors.ExchangeError, ctx: PollContext) -> OrderResult:
    logger.warning(
        "order poll failed",
        order_id=order.id,
        error_code=error.code,
        status=error.status,
    )
    if not ctx.deadline.may_write() or unsettled(order):
        # An unsettled intent is not backed off: it stays due and is looked at again next run.
        return OrderResult(order.id, Outcome.FAILED, order, error=error)
    now = ctx.deps.clock()
    decision = decide_failure(order, error, now, ctx.options)
    try:
        updated = ctx.deps.store.apply_update(
            order, decision.fields, order.version, reason=decision.reason, cause=decision.cause, now=now
        )
    except (StaleOrderError, InvalidTransitionError):
        # Someone else wrote since we read it; their write already rescheduled the order.
        return OrderResult(order.id, Outcome.FAILED, order, error=error)
    if decision.new_status is not None:
        return OrderResult(order.id, Outcome.CHANGED, updated)
    return OrderResult(order.id, Outcome.FAILED, updated, error=error)


def run_one(order: Order | PollView, ctx: PollContext) -> OrderResult:
    """Worker entry: one order, its pacer slot released whatever happens."""
    try:
        if isinstance(order, PollView):
            return process_view(order, ctx)
        return process_order(order, ctx)
    except Exception as exc:
        # A storage error or a bug on one order must not stop the batch; the order stays due.
        logger.exception("order poll crashed", order_id=order.id)
        known = None if isinstance(order, PollView) else order
        return OrderResult(order.id, Outcome.FAILED, known, error=exc)
    finally:
        ctx.pacer.release()


def run_write(view: PollView, order: Order | None, snapshot: Snapshot, ctx: PollContext) -> OrderResult:
    """Worker entry for an order read in a batch: its write (it holds no pacer slot: the
    exchange call is behind it)."""
    try:
        return write_read_order(view, order, snapshot, ctx)
    except Exception as exc:
        logger.exception("order poll crashed", order_id=view.id)
        return OrderResult(view.id, Outcome.FAILED, order, reads=1, error=exc)
