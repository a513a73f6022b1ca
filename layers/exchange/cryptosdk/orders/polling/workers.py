"""The run's workers: each takes the next due order itself from a shared feed, instead of the run's
thread submitting one future per order and being woken as each finishes (a handoff and a thread
switch per order). Orders read in a batch (their writes) are taken before any new due order."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator
from functools import partial

from cryptosdk.domain.order import Order
from cryptosdk.domain.schedule import PollView
from cryptosdk.orders.polling.decision import Snapshot
from cryptosdk.orders.polling.flow import OrderResult, PollContext, run_one, run_write

Write = tuple[PollView, Order | None, Snapshot]


class DueFeed:
    """The due orders of one run, handed out one at a time under a lock (the worker that finds a
    page used up reads the next one), the writes waiting for a worker, and the results the run's
    thread has not counted yet."""

    def __init__(self, due: Iterator[Order | PollView]) -> None:
        self._due = due
        self._lock = threading.Lock()
        self.writes: deque[Write] = deque()
        self.results: deque[OrderResult] = deque()
        # Orders a worker is processing now: what a run that returns at its deadline leaves behind.
        self.busy = 0

    def next_due(self) -> Order | PollView | None:
        with self._lock:
            return next(self._due, None)

    def next_write(self) -> Write | None:
        try:
            return self.writes.popleft()
        except IndexError:
            return None

    def process(self, work: Callable[[], OrderResult]) -> None:
        with self._lock:
            self.busy += 1
        try:
            result = work()
        finally:
            with self._lock:
                self.busy -= 1
        self.results.append(result)


def work(feed: DueFeed, ctx: PollContext) -> None:
    """One worker: until the due orders run out or the run stops taking work (its deadline). A
    failed index read ends every worker and is raised by the one that made it."""
    stop = ctx.deadline.stop_taking_work
    while True:
        write = feed.next_write()
        if write is not None:
            feed.process(partial(run_write, *write, ctx))
            continue
        if not ctx.pacer.acquire(stop):
            return
        try:
            order = feed.next_due()
        except BaseException:
            ctx.pacer.release()
            raise
        if order is None:
            ctx.pacer.release()
            return
        feed.process(partial(run_one, order, ctx))  # releases the pacer slot
