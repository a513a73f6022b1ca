"""The status poller: keeps every active order in step with the exchange until it ends.

One run (`poll_due_orders`):
- reads only due orders: per shard, a Query on the sparse DueForPoll index (`nextPollAt <= now`),
  paged, shards interleaved page by page so a run cut short by its deadline does not starve the
  last shard;
- processes them on a bounded thread pool over the client's pooled session; a shared `Pacer`
  halves the number of orders in flight and pauses the run after a persistent 429;
- per order: fetch (or, for an unconfirmed create, reconcile against the exchange's order list),
  decide the new fields with a pure function (`decide`); a real change is ONE conditional update
  of the order on the version read, a back-off only moves its poll schedule (queued, written by
  the main thread 25 to a BatchExecuteStatement), and a poll that changes nothing and stays due
  writes nothing (cryptosdk.storage.orders). A lost race re-reads once and re-applies the same exchange
  snapshot only if the stored state is older than the snapshot, so newer state is never
  overwritten and statuses never move backwards (`can_transition_with_history`);
- stops taking new orders `stop_margin` before the Lambda deadline, and an in-flight order that
  reaches `write_margin` is dropped before its write: every order is either updated (version + 1)
  or untouched, never half-written;
- publishes nothing: each status write reaches the bus through the orders table's stream
  (`cryptosdk.orders.outbox`), so a run that dies after its write still has its event sent.

`refresh_order` runs the same per-order path for one order (the manual refresh route).
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from cryptosdk.domain.order import (
    ChangeCause,
    DepositRecord,
    InvalidTransitionError,
    Order,
    StaleOrderError,
    WithdrawalRecord,
    to_iso,
    utc_now,
)
from cryptosdk.domain.schedule import PollView, exchange_digest
from cryptosdk.domain.status import (
    AWAITING_DEPOSIT_STEPS,
    OrderStatus,
    can_transition_with_history,
    is_expired,
    is_terminal,
    next_poll_delay,
    poll_interval_cap,
    status_from_exchange,
)
from cryptosdk.exchange import errors
from cryptosdk.orders.reconcile import RecentOrders
from cryptosdk.orders.settle import CREATE_SETTLE_WINDOW, Verdict, place_again, settle_at, settle_verdict
from cryptosdk.runtime.observability import logger, metrics
from cryptosdk.storage.orders import POLL_PERIOD, SCHEDULE_BATCH_SIZE, ScheduleBatch

if TYPE_CHECKING:
    from cryptosdk.exchange.client import ExchangeClient
    from cryptosdk.exchange.models import Deposit, ExchangeOrder, Withdrawal
    from cryptosdk.runtime.config import Settings
    from cryptosdk.storage.orders import OrderStore

Clock = Callable[[], datetime]


# -- options and dependencies -------------------------------------------------------------------


@dataclass(frozen=True)
class PollerOptions:
    shard_count: int = 4
    concurrency: int = 16
    page_size: int = 100
    unpaid_ttl: timedelta = timedelta(hours=1)
    # An intent not found upstream after this long is marked failed (the create never happened).
    reconcile_deadline: timedelta = timedelta(minutes=15)
    # From a create attempt's start until a list read may prove it absent (cryptosdk.orders.settle).
    settle_window: timedelta = CREATE_SETTLE_WINDOW
    # A run waits, before its deadline, for settle windows that close within this (0: never waits).
    settle_wait: timedelta = timedelta(seconds=45)
    # No new order starts with less than this left: room for the in-flight calls and writes.
    stop_margin_seconds: float = 10.0
    # An in-flight order with less than this left drops its write (stays untouched, due next run).
    write_margin_seconds: float = 3.0
    # The run's first pause after a persistent 429 (doubling while it persists).
    rate_limit_pause_seconds: float = 1.0
    # POLL_INTERVAL_MAX_SECONDS: every poll interval at most this (local demos); None in AWS.
    max_poll_interval: timedelta | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> PollerOptions:
        return cls(
            shard_count=settings.poll_shards,
            concurrency=settings.poller_concurrency,
            page_size=max(100, settings.poller_concurrency * 4),
            unpaid_ttl=timedelta(seconds=settings.unpaid_order_ttl_seconds),
            max_poll_interval=poll_interval_cap(settings.poll_interval_max_seconds),
        )


@dataclass
class PollerDeps:
    client: ExchangeClient
    store: OrderStore
    clock: Clock = utc_now
    # How the run waits for settle windows (tests move their clock instead).
    sleep: Callable[[float], None] = time.sleep


def dynamodb_client(concurrency: int, **kwargs: Any) -> Any:
    """A DynamoDB client sized for `concurrency` workers (extra kwargs go to boto3.client)."""
    import boto3  # heavy: only when a run really starts
    from botocore.config import Config

    config = Config(
        # botocore's default pool (10) would make every worker past the tenth open a fresh connection.
        max_pool_connections=concurrency + 4,
        # Checksums only where an operation requires them: DynamoDB needs none and TLS guards the
        # bytes; every UpdateItem of a run is CPU on the GIL-bound hot path.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        # OrderStore builds every request itself; botocore re-validating each one costs ~6% of a
        # run's CPU, and a malformed request is still refused by DynamoDB.
        parameter_validation=False,
    )
    return boto3.client("dynamodb", config=config, **kwargs)


def default_deps(concurrency: int | None = None) -> PollerDeps:
    """Client and store for the configured stack, built once per container and
    concurrency: a warm invocation reuses their connection pools."""
    from cryptosdk.exchange.client import get_client
    from cryptosdk.runtime.config import get_settings

    settings = get_settings()
    # Keyed by the process-wide client too, so whoever resets get_client (a test's new stack)
    # gets dependencies bound to the new endpoints, never a stale one.
    return _container_deps(concurrency or settings.poller_concurrency, settings, get_client())


@lru_cache(maxsize=8)
def _container_deps(workers: int, settings: Settings, client: ExchangeClient) -> PollerDeps:
    from cryptosdk.storage.orders import OrderStore

    return PollerDeps(
        client=client,
        store=OrderStore(settings.orders_table, client=dynamodb_client(workers)),
    )


def clear_default_deps() -> None:
    """Forget the cached dependencies (tests that swap the stack under one process)."""
    _container_deps.cache_clear()


def _default_options() -> PollerOptions:
    from cryptosdk.runtime.config import get_settings

    return PollerOptions.from_settings(get_settings())


# -- shared pacing and the deadline (pure apart from the injected clock) -------------------------


class Pacer:
    """How many orders may be in flight, shared by every worker of one run.

    Additive increase (+1 per `limit` successes) and multiplicative decrease (halved at most once
    per pause) after a persistent 429, plus a pause (the longer of Retry-After and a doubling base
    pause) during which no new order starts. The client has already retried each call; a 429
    that reaches us means the exchange wants the whole run slower, not one call.
    """

    def __init__(
        self,
        max_concurrency: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        base_pause: float = 1.0,
        max_pause: float = 30.0,
    ) -> None:
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self.max_concurrency = max_concurrency
        self._clock = clock
        self._base_pause = base_pause
        self._max_pause = max_pause
        self._limit = float(max_concurrency)
        self._in_flight = 0
        self._paused_until = -math.inf
        self._strikes = 0
        self._cond = threading.Condition()
        self.lowest_limit = max_concurrency

    @property
    def limit(self) -> int:
        return max(1, int(self._limit))

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def pause_left(self) -> float:
        return max(0.0, self._paused_until - self._clock())

    def on_rate_limited(self, retry_after: float | None) -> None:
        with self._cond:
            if self.pause_left() > 0:
                return  # the orders in flight when the pause began report the same burst
            self._strikes += 1
            backoff = self._base_pause * 2 ** min(self._strikes - 1, 16)
            # The client already waited Retry-After between its attempts and was still refused,
            # so the run waits at least its own doubling pause.
            pause = min(self._max_pause, max(retry_after or 0.0, backoff))
            self._paused_until = self._clock() + pause
            self._limit = max(1.0, self._limit / 2)
            self.lowest_limit = min(self.lowest_limit, self.limit)
            self._cond.notify_all()

    def on_success(self) -> None:
        with self._cond:
            self._strikes = 0
            limit = min(float(self.max_concurrency), self._limit + 1 / self._limit)
            if limit != self._limit:
                # Only a raised limit can let a waiter start: at full speed (the usual case) every
                # success would otherwise wake the run's main thread for nothing.
                self._limit = limit
                self._cond.notify_all()

    def can_start(self) -> bool:
        return self.pause_left() <= 0 and self._in_flight < self.limit

    def acquire(self, should_stop: Callable[[], bool], recheck: float = 0.25) -> bool:
        """Wait for a slot; False (no slot taken) as soon as `should_stop()` says so."""
        with self._cond:
            while True:
                if should_stop():
                    return False
                if self.can_start():
                    self._in_flight += 1
                    return True
                pause = self.pause_left()
                self._cond.wait(timeout=min(pause, recheck) if pause > 0 else recheck)

    def release(self) -> None:
        with self._cond:
            self._in_flight -= 1
            self._cond.notify_all()


@dataclass(frozen=True)
class Deadline:
    """The invocation's time budget, from the Lambda context's remaining milliseconds."""

    remaining_ms: Callable[[], int] | None = None
    stop_margin: float = 10.0
    write_margin: float = 3.0

    def remaining(self) -> float:
        return math.inf if self.remaining_ms is None else self.remaining_ms() / 1000

    def stop_taking_work(self) -> bool:
        return self.remaining() <= self.stop_margin

    def may_write(self) -> bool:
        return self.remaining() > self.write_margin


# -- the pure decision: exchange snapshot + stored order -> fields to write ---------------------


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
    if view.status != OrderStatus.AWAITING_DEPOSIT or exchange.deposits:
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


def _status_since(order: Order) -> datetime:
    """When the order entered its current status (its last history entry; creation without one)."""
    return order.status_history[-1].at if order.status_history else order.created_at


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
    history = [change.status for change in order.status_history]
    if target != order.status and can_transition_with_history(order.status, target, history):
        fields["status"] = target
    status = OrderStatus(fields.get("status", order.status))
    since = None if "status" in fields else _status_since(order)
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
        return Decision(_schedule(order.status, now, options, since=_status_since(order)))
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
    return Decision(
        _schedule(order.status, now, options, order.poll_failures + 1, since=_status_since(order))
    )


# -- one order ----------------------------------------------------------------------------------


class Outcome(StrEnum):
    CHANGED = "changed"  # the status moved (its event comes from the stream)
    UPDATED = "updated"  # exchange fields or schedule written, status unchanged
    FAILED = "failed"  # the exchange call failed; back-off written when possible
    SKIPPED = "skipped"  # left untouched: deadline, or newer state already stored


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
class PollContext:
    deps: PollerDeps
    options: PollerOptions
    deadline: Deadline
    pacer: Pacer
    recent: RecentOrders


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
    if _unsettled(order) and ctx.deps.clock() < settle_at(order, ctx.options.settle_window):
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
    order = store.load_due(view)
    if order is None:
        return OrderResult(view.id, Outcome.SKIPPED, reads=1)
    return dataclasses.replace(_write(order, Snapshot(now, exchange), ctx), reads=1)


def _unsettled(order: Order | PollView) -> bool:
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
    if not ctx.deadline.may_write() or _unsettled(order):
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


def _run_one(order: Order | PollView, ctx: PollContext) -> OrderResult:
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


# -- one run ------------------------------------------------------------------------------------


@dataclass
class PollSummary:
    shards: list[str]
    due: int = 0  # orders the index returned
    polled: int = 0  # orders processed (any outcome but skipped)
    changed: int = 0
    updated: int = 0
    failed: int = 0
    skipped: int = 0
    rereads: int = 0
    rate_limited: int = 0
    items_read: int = 0
    oldest_due_lag_seconds: float = 0.0
    # Age of the oldest order still in pending_create after the run (0 when none): the alarm's input.
    oldest_unsettled_create_seconds: float = 0.0
    settle_waits: int = 0  # pending intents the run waited for, within its deadline, to settle them
    schedule_writes: int = 0  # schedule items moved (back-offs), in batches of 25
    schedule_conflicts: int = 0  # moves refused by their condition (another writer's schedule stands)
    stopped_early: bool = False
    min_concurrency: int = 0
    duration_seconds: float = 0.0

    def __post_init__(self) -> None:
        self._unsettled: dict[str, datetime] = {}

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def close_unsettled(self, now: datetime) -> None:
        oldest = min(self._unsettled.values(), default=None)
        self.oldest_unsettled_create_seconds = (
            0.0 if oldest is None else round((now - oldest).total_seconds(), 3)
        )

    def count(self, result: OrderResult) -> None:
        order = result.order
        if order is not None and order.status == OrderStatus.PENDING_CREATE:
            self._unsettled[order.id] = order.created_at
        else:
            self._unsettled.pop(result.order_id, None)
        self.rereads += result.rereads
        self.items_read += result.rereads + result.reads
        if result.outcome == Outcome.SKIPPED:
            self.skipped += 1
            return
        self.polled += 1
        if result.outcome == Outcome.CHANGED:
            self.changed += 1
        elif result.outcome == Outcome.UPDATED:
            self.updated += 1
        else:
            self.failed += 1
            if isinstance(result.error, errors.RateLimitedError):
                self.rate_limited += 1


def _due_lag(order: Order | PollView, now: datetime, period: timedelta = POLL_PERIOD) -> float | None:
    """How late this poll of `order` is, in seconds; None when its due time says nothing about
    that. An order polled every run keeps the due time it had when it started being polled every
    run (moving it would be a write per poll), so only a backed-off order (a longer interval, a
    failure) has a due time a run can be late for; an order just stepping out of every-run polling
    counts from when it did."""
    if order.next_poll_at is None or is_terminal(order.status):
        return None
    since = order.status_since if isinstance(order, PollView) else _status_since(order)
    waited = now - since
    if order.poll_failures == 0 and next_poll_delay(order.status, 0, waited=waited) <= period:
        return None
    start = order.next_poll_at
    if order.poll_failures == 0 and order.status == OrderStatus.AWAITING_DEPOSIT:
        start = max(start, since + AWAITING_DEPOSIT_STEPS[0][0])
    return max(0.0, (now - start).total_seconds())


def resolve_shards(requested: Sequence[str] | None, shard_count: int) -> list[str]:
    """The shards this run owns: those asked for (fan-out), else all of them."""
    every = [str(n) for n in range(shard_count)]
    if not requested:
        return every
    unknown = sorted(set(requested) - set(every))
    if unknown:
        raise ValueError(f"unknown poll shards {unknown}; shards are 0..{shard_count - 1}")
    return list(dict.fromkeys(requested))


def _due_orders(
    store: OrderStore,
    shards: Sequence[str],
    now: datetime,
    page_size: int,
    summary: PollSummary,
    stop: Callable[[], bool],
) -> Iterator[Order | PollView]:
    """Due orders of every shard, one page per shard in turn. `now` is fixed for the whole run,
    so orders this run reschedules (nextPollAt > now) can never come back in a later page."""
    cursors: dict[str, Mapping[str, Any] | None] = dict.fromkeys(shards)
    first_page = True
    while cursors and not stop():
        for shard in list(cursors):
            if stop():
                return
            orders, last = store.due_for_poll(shard, now, limit=page_size, exclusive_start=cursors[shard])
            summary.due += len(orders)
            summary.items_read += len(orders)
            # Unsettled intents stay due on purpose; their age is OldestUnsettledCreateSeconds.
            lags = [_due_lag(o, now) for o in orders if not _unsettled(o)] if first_page else []
            summary.oldest_due_lag_seconds = max([summary.oldest_due_lag_seconds, *filter(None, lags)])
            if last:
                cursors[shard] = last
            else:
                del cursors[shard]
            yield from orders
        first_page = False


# Pending intents whose settle windows close this close together are looked up in one list read.
_SETTLE_GROUP = timedelta(seconds=2)


class _Run:
    """The bookkeeping of one run on the main thread: results in, counted."""

    def __init__(self, ctx: PollContext, summary: PollSummary, batch: ScheduleBatch) -> None:
        self.ctx = ctx
        self.summary = summary
        self.in_flight: set[Future[OrderResult]] = set()
        self.batch = batch
        # Pending intents whose settle window closes later in this run (cryptosdk.orders.settle).
        self.to_settle: dict[str, OrderResult] = {}

    def collect(self, timeout: float | None = 0) -> None:
        if not self.in_flight:
            return
        if timeout == 0:
            # The per-order check: a scan of done flags, not wait()'s waiter on every future.
            done = {future for future in self.in_flight if future.done()}
            self.in_flight -= done
        else:
            done, self.in_flight = wait(self.in_flight, timeout=timeout, return_when=FIRST_COMPLETED)
        for future in done:
            result = future.result()
            self.summary.count(result)
            self._remember_unsettled(result)
        self.flush(SCHEDULE_BATCH_SIZE)

    def flush(self, at_least: int = 1) -> None:
        """Write the queued schedule moves once `at_least` are ready, 25 to a call. A failed call
        leaves those schedules due: the orders are polled again next run, nothing is lost."""
        moves = self.batch.take(at_least)
        if not moves:
            return
        try:
            written, conflicts = self.ctx.deps.store.write_schedule_moves(moves)
        except Exception:
            logger.exception("schedule moves not written", moves=len(moves))
            return
        self.summary.schedule_writes += written
        self.summary.schedule_conflicts += conflicts

    def _remember_unsettled(self, result: OrderResult) -> None:
        if result.settle_at is not None and result.order is not None:
            self.to_settle[result.order_id] = result
        else:
            self.to_settle.pop(result.order_id, None)

    def settle_later(self, pool: ThreadPoolExecutor) -> None:
        """Wait, within the run's deadline, for the settle windows of the pending intents seen, and
        settle each as its window closes, in a fresh read of the exchange's order list (the run's
        first read came too early): with the poller on a one-minute schedule, an unknown create is
        settled within a minute, not two."""
        ctx = self.ctx
        budget = min(
            ctx.options.settle_wait.total_seconds(), ctx.deadline.remaining() - ctx.deadline.stop_margin
        )
        stop_by = ctx.deps.clock() + timedelta(seconds=max(0.0, budget))
        waiting = sorted(
            (r for r in self.to_settle.values() if r.settle_at is not None and r.settle_at <= stop_by),
            key=lambda r: r.settle_at or stop_by,
        )
        self.to_settle = {}
        if waiting:
            logger.info("waiting for unknown creates to settle", orders=len(waiting))
            self.summary.settle_waits += len(waiting)
        while waiting:
            # Windows closing within a couple of seconds of each other share one list read.
            first = waiting[0].settle_at or stop_by
            group = [r for r in waiting if (r.settle_at or stop_by) <= first + _SETTLE_GROUP]
            waiting = waiting[len(group) :]
            pause = ((group[-1].settle_at or stop_by) - ctx.deps.clock()).total_seconds()
            if pause > 0:
                ctx.deps.sleep(pause)
            ctx.recent = RecentOrders(ctx.deps.client, clock=ctx.deps.clock)
            for result in group:
                if not ctx.pacer.acquire(ctx.deadline.stop_taking_work):
                    return
                assert result.order is not None
                self.in_flight.add(pool.submit(_run_one, result.order, ctx))
            self.drain()
            self.to_settle = {}  # one settle pass per run: what is still unknown waits for the next

    def drain(self) -> None:
        """Wait for in-flight orders while the deadline allows."""
        deadline = self.ctx.deadline
        while self.in_flight:
            budget = deadline.remaining() - deadline.write_margin
            if budget <= 0:
                logger.warning("deadline: left in-flight orders behind", orders=len(self.in_flight))
                break
            self.collect(timeout=min(budget, 1.0))
        self.flush()


def poll_due_orders(
    shards: Sequence[str] | None = None,
    *,
    remaining_ms: Callable[[], int] | None = None,
    deps: PollerDeps | None = None,
    options: PollerOptions | None = None,
) -> PollSummary:
    """Poll every due order of `shards` (default: all) within the invocation's remaining time."""
    started = time.monotonic()
    options = options or _default_options()
    deps = deps or default_deps(options.concurrency)
    # Schedule moves of this run are queued and written in batches by this thread (_Run.flush).
    batch = ScheduleBatch()
    deps = dataclasses.replace(deps, store=deps.store.batching(batch))
    now = deps.clock()
    summary = PollSummary(shards=resolve_shards(shards, options.shard_count))
    pacer = Pacer(options.concurrency, base_pause=options.rate_limit_pause_seconds)
    deadline = Deadline(remaining_ms, options.stop_margin_seconds, options.write_margin_seconds)
    ctx = PollContext(deps, options, deadline, pacer, RecentOrders(deps.client, clock=deps.clock))
    run = _Run(ctx, summary, batch)
    stop = deadline.stop_taking_work
    pool = ThreadPoolExecutor(max_workers=options.concurrency, thread_name_prefix="poller")
    try:
        try:
            for order in _due_orders(deps.store, summary.shards, now, options.page_size, summary, stop):
                run.collect()
                if not pacer.acquire(stop):
                    summary.skipped += 1
                    break
                run.in_flight.add(pool.submit(_run_one, order, ctx))
        finally:
            # Also after a failed index read: count what was written.
            summary.stopped_early = stop()
            run.drain()
        run.settle_later(pool)
    finally:
        # Never wait for a straggler past the deadline; it checks the deadline before writing.
        pool.shutdown(wait=not run.in_flight, cancel_futures=True)
    summary.min_concurrency = pacer.lowest_limit
    summary.duration_seconds = round(time.monotonic() - started, 3)
    summary.close_unsettled(deps.clock())
    _emit_metrics(summary)
    logger.info("poll run finished", **summary.as_dict())
    return summary


def _emit_metrics(summary: PollSummary) -> None:
    from aws_lambda_powertools.metrics import MetricUnit

    metrics.add_metric(name="OrdersPolled", unit=MetricUnit.Count, value=summary.polled)
    metrics.add_metric(name="OrdersChanged", unit=MetricUnit.Count, value=summary.changed)
    metrics.add_metric(name="OrdersFailed", unit=MetricUnit.Count, value=summary.failed)
    metrics.add_metric(
        name="OldestDueLagSeconds", unit=MetricUnit.Seconds, value=summary.oldest_due_lag_seconds
    )
    metrics.add_metric(
        name="OldestUnsettledCreateSeconds",
        unit=MetricUnit.Seconds,
        value=summary.oldest_unsettled_create_seconds,
    )


# -- one order on demand ------------------------------------------------------------------------


@dataclass(frozen=True)
class RefreshResult:
    """What a manual refresh did: the order as stored now, and whether this refresh moved its
    status (the event for that change comes from the orders table's stream)."""

    order: Order
    changed: bool = False


def refresh(
    order_id: str,
    *,
    user_id: str | None = None,
    deps: PollerDeps | None = None,
    options: PollerOptions | None = None,
) -> RefreshResult:
    """Poll one order now (the manual refresh route): the same fetch, decision and conditional
    write as the scheduled run. Raises the exchange's error (after recording the back-off) so the
    route can answer it; OrderNotFoundError when unknown."""
    # Lazy: the order service (and its validation imports) is off the scheduled run's path.
    from cryptosdk.orders.service import get_order

    options = options or _default_options()
    deps = deps or default_deps(1)
    order = get_order(order_id, user_id=user_id, store=deps.store)
    if is_terminal(order.status):
        return RefreshResult(order)
    ctx = PollContext(deps, options, Deadline(), Pacer(1), RecentOrders(deps.client, clock=deps.clock))
    ctx.pacer.acquire(lambda: False)
    result = _run_one(order, ctx)
    if result.outcome == Outcome.FAILED and result.error is not None:
        raise result.error
    if result.outcome == Outcome.SKIPPED:
        # Lost a race with a newer write: show what is stored now.
        return RefreshResult(deps.store.get(order_id) or order)
    return RefreshResult(result.order or order, result.outcome == Outcome.CHANGED)


def refresh_order(
    order_id: str,
    *,
    user_id: str | None = None,
    deps: PollerDeps | None = None,
    options: PollerOptions | None = None,
) -> Order:
    """`refresh`, answering only the order as stored now."""
    return refresh(order_id, user_id=user_id, deps=deps, options=options).order
