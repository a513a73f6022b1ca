"""One scheduled run (`poll_due_orders`, the status poller function's work):

- reads only due orders: per shard, a Query on the sparse DueForPoll index (`nextPollAt <= now`),
  paged, shards interleaved page by page so a run cut short by its deadline does not starve the
  last shard;
- processes them on a bounded thread pool over the client's pooled session (the per-order flow:
  cryptosdk.orders.polling.flow); a shared `Pacer` halves the number of orders in flight and
  pauses the run after a persistent 429;
- queues the workers' schedule moves and writes them from the main thread, 25 to a
  BatchExecuteStatement, and reads the orders whose poll needs them (a status change) 25 to a
  BatchGetItem, each then written by a worker;
- stops taking new orders `stop_margin` before the Lambda deadline, and an in-flight order that
  reaches `write_margin` is dropped before its write: every order is either updated (version + 1)
  or untouched, never half-written; a write that started before `write_margin` gets the first two
  thirds of the margin to finish, and what still runs when the run returns is counted
  (`left_in_flight`: its conditional write may still land, so `changed` can undercount by that);
- publishes nothing: each status write reaches the bus through the orders table's stream
  (`cryptosdk.orders.outbox`), so a run that dies after its write still has its event sent.
"""

from __future__ import annotations

import dataclasses
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from cryptosdk.domain.order import Order
from cryptosdk.domain.schedule import PollView
from cryptosdk.orders.polling.flow import (
    OrderReads,
    OrderResult,
    Outcome,
    PollContext,
    run_one,
    run_write,
    unsettled,
)
from cryptosdk.orders.polling.options import PollerDeps, PollerOptions
from cryptosdk.orders.polling.pacing import Deadline, Pacer
from cryptosdk.orders.polling.summary import PollSummary, due_lag, emit_metrics
from cryptosdk.orders.reconcile import RecentOrders
from cryptosdk.runtime.observability import logger
from cryptosdk.storage.schedule import SCHEDULE_BATCH_SIZE, ScheduleBatch

__all__ = ["PollSummary", "poll_due_orders", "resolve_shards"]

if TYPE_CHECKING:
    from cryptosdk.storage.orders import OrderStore


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
            lags = [due_lag(o, now) for o in orders if not unsettled(o)] if first_page else []
            summary.oldest_due_lag_seconds = max([summary.oldest_due_lag_seconds, *filter(None, lags)])
            if last:
                cursors[shard] = last
            else:
                del cursors[shard]
            yield from orders
        first_page = False


# Orders read in one BatchGetItem: fewer calls, but each waits for the batch to fill (about two
# seconds at a 10% change rate and 150 orders/s; the rest are read when the run drains).
_READ_BATCH_SIZE = 25
# Pending intents whose settle windows close this close together are looked up in one list read.
_SETTLE_GROUP = timedelta(seconds=2)
_SETTLE_RECHECK_SECONDS = 1.0


class _Run:
    """The bookkeeping of one run on the main thread: results in, counted."""

    def __init__(
        self, ctx: PollContext, summary: PollSummary, batch: ScheduleBatch, pool: ThreadPoolExecutor
    ) -> None:
        self.ctx = ctx
        self.summary = summary
        self.in_flight: set[Future[OrderResult]] = set()
        # Appended by each future's worker as it finishes: the per-order check pops what is done
        # instead of asking every future in flight (each done() takes that future's lock).
        self.finished: deque[Future[OrderResult]] = deque()
        self.batch = batch
        self.pool = pool
        self.reads = ctx.reads or OrderReads()
        # Pending intents whose settle window closes later in this run (cryptosdk.orders.settle).
        self.to_settle: dict[str, OrderResult] = {}

    def submit(self, work: Callable[..., OrderResult], *args: Any) -> None:
        future = self.pool.submit(work, *args)
        self.in_flight.add(future)
        future.add_done_callback(self.finished.append)

    def collect(self, timeout: float | None = 0) -> None:
        if not self.in_flight:
            return
        if timeout != 0:
            # wait() can return a future before its callback has queued it: taken from here too.
            done, _ = wait(self.in_flight, timeout=timeout, return_when=FIRST_COMPLETED)
            for future in done:
                self._count(future)
        while self.finished:
            self._count(self.finished.popleft())
        self.flush(SCHEDULE_BATCH_SIZE)
        self.read_orders(_READ_BATCH_SIZE)

    def _count(self, future: Future[OrderResult]) -> None:
        if future not in self.in_flight:
            return  # already counted (seen by wait() and then queued by its callback)
        self.in_flight.remove(future)
        result = future.result()
        self.summary.count(result)
        self._rememberunsettled(result)

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

    def read_orders(self, at_least: int = 1) -> None:
        """Read the queued orders once `at_least` wait, in one BatchGetItem, and hand each to a
        worker for its write. Past the write margin nothing is read: those orders stay untouched
        and due (skipped). A failed read fails them: they stay due for the next run."""
        waiting = self.reads.take(at_least)
        if not waiting:
            return
        if not self.ctx.deadline.may_write():
            self.summary.skipped += len(waiting)
            return
        try:
            orders = self.ctx.deps.store.load_due_many([view for view, _ in waiting])
        except Exception as exc:
            logger.exception("orders to write not read", orders=len(waiting))
            for view, _ in waiting:
                self.summary.count(OrderResult(view.id, Outcome.FAILED, error=exc))
            return
        for view, snapshot in waiting:
            order = orders.get(view.id)
            self.submit(run_write, view, order, snapshot, self.ctx)

    def _rememberunsettled(self, result: OrderResult) -> None:
        if result.settle_at is not None and result.order is not None:
            self.to_settle[result.order_id] = result
        else:
            self.to_settle.pop(result.order_id, None)

    def settle_later(self) -> None:
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
            group = self._wait_until(group[-1].settle_at or stop_by, group)
            if not group:
                continue
            ctx.recent = RecentOrders(ctx.deps.client, clock=ctx.deps.clock)
            for result in group:
                if not ctx.pacer.acquire(ctx.deadline.stop_taking_work):
                    return
                assert result.order is not None
                self.submit(run_one, result.order, ctx)
            self.drain()
            self.to_settle = {}  # one settle pass per run: what is still unknown waits for the next

    def _wait_until(self, when: datetime, group: list[OrderResult]) -> list[OrderResult]:
        """Sleep until `when`, re-reading the intents every second: the usual unknown create is an
        intent this run saw while its own request was still placing it, and that request completes
        it a moment later. Those need no settling, and waiting for them would hold up the next run
        (the local scheduler never overlaps runs; in AWS it ties up one of the poller's instances)."""
        clock = self.ctx.deps.clock
        while group:
            pause = (when - clock()).total_seconds()
            if pause <= 0:
                break
            self.ctx.deps.sleep(min(pause, _SETTLE_RECHECK_SECONDS))
            group = [r for r in group if self._still_unknown(r.order_id)]
        return group

    def _still_unknown(self, order_id: str) -> bool:
        fresh = self.ctx.deps.store.get(order_id)
        return fresh is not None and unsettled(fresh)

    def drain(self) -> None:
        """Wait for in-flight orders while the deadline allows; the orders still queued for a read
        are read once nothing else is in flight (the last, smaller batch)."""
        deadline = self.ctx.deadline
        while True:
            if not self.in_flight:
                self.read_orders()
                if not self.in_flight:
                    break
            # A write that began just before the write margin needs time to land: wait for it into
            # the margin, keeping its last third for returning the summary.
            budget = deadline.remaining() - deadline.write_margin / 3
            if budget <= 0:
                logger.warning("deadline: left in-flight orders behind", orders=len(self.in_flight))
                self.summary.left_in_flight = len(self.in_flight)
                # Queued for a read, never written: untouched and due next run.
                self.summary.skipped += len(self.reads.take(1))
                break
            self.collect(timeout=min(budget, 1.0))
        self.flush()


def poll_due_orders(
    shards: Sequence[str] | None = None,
    *,
    deps: PollerDeps,
    options: PollerOptions,
    remaining_ms: Callable[[], int] | None = None,
) -> PollSummary:
    """Poll every due order of `shards` (default: all) within the invocation's remaining time."""
    started = time.monotonic()
    # Schedule moves of this run are queued and written in batches by this thread (_Run.flush).
    batch = ScheduleBatch()
    deps = dataclasses.replace(deps, store=deps.store.batching(batch))
    now = deps.clock()
    summary = PollSummary(shards=resolve_shards(shards, options.shard_count))
    pacer = Pacer(options.concurrency, base_pause=options.rate_limit_pause_seconds)
    deadline = Deadline(remaining_ms, options.stop_margin_seconds, options.write_margin_seconds)
    recent = RecentOrders(deps.client, clock=deps.clock)
    ctx = PollContext(deps, options, deadline, pacer, recent, reads=OrderReads())
    stop = deadline.stop_taking_work
    pool = ThreadPoolExecutor(max_workers=options.concurrency, thread_name_prefix="poller")
    run = _Run(ctx, summary, batch, pool)
    try:
        try:
            for order in _due_orders(deps.store, summary.shards, now, options.page_size, summary, stop):
                run.collect()
                if not pacer.acquire(stop):
                    summary.skipped += 1
                    break
                run.submit(run_one, order, ctx)
        finally:
            # Also after a failed index read: count what was written.
            summary.stopped_early = stop()
            run.drain()
        run.settle_later()
    finally:
        # Never wait for a straggler past the deadline; it checks the deadline before writing.
        pool.shutdown(wait=not run.in_flight, cancel_futures=True)
    summary.min_concurrency = pacer.lowest_limit
    summary.duration_seconds = round(time.monotonic() - started, 3)
    summary.closeunsettled(deps.clock())
    emit_metrics(summary)
    logger.info("poll run finished", **summary.as_dict())
    return summary
