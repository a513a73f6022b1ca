"""What one poller run reports (`PollSummary`: counts, lags, the deadline's leftovers), and how late
a due order's poll is (`due_lag`, the OldestDueLagSeconds metric's input), and the run's metrics."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptosdk.domain.order import Order
from cryptosdk.domain.schedule import PollView, status_since
from cryptosdk.domain.status import OrderStatus, is_terminal
from cryptosdk.exchange import errors
from cryptosdk.orders.polling.flow import OrderResult, Outcome
from cryptosdk.orders.polling.pacing import AWAITING_DEPOSIT_STEPS, next_poll_delay
from cryptosdk.runtime.observability import metrics
from cryptosdk.storage.schedule import POLL_PERIOD


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
    left_in_flight: int = 0  # orders still running when the run returned (deadline)
    min_concurrency: int = 0
    duration_seconds: float = 0.0

    def __post_init__(self) -> None:
        self._unsettled: dict[str, datetime] = {}

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def closeunsettled(self, now: datetime) -> None:
        oldest = min(self._unsettled.values(), default=None)
        self.oldest_unsettled_create_seconds = (
            0.0 if oldest is None else round((now - oldest).total_seconds(), 3)
        )

    def count(self, result: OrderResult) -> None:
        if result.outcome == Outcome.DEFERRED:
            return  # counted when its order has been read and written
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


def due_lag(order: Order | PollView, now: datetime, period: timedelta = POLL_PERIOD) -> float | None:
    """How late this poll of `order` is, in seconds; None when its due time says nothing about
    that. An order polled every run keeps the due time it had when it started being polled every
    run (moving it would be a write per poll), so only a backed-off order (a longer interval, a
    failure) has a due time a run can be late for; an order just stepping out of every-run polling
    counts from when it did."""
    if order.next_poll_at is None or is_terminal(order.status):
        return None
    since = order.status_since if isinstance(order, PollView) else status_since(order)
    waited = now - since
    if order.poll_failures == 0 and next_poll_delay(order.status, 0, waited=waited) <= period:
        return None
    start = order.next_poll_at
    if order.poll_failures == 0 and order.status == OrderStatus.AWAITING_DEPOSIT:
        start = max(start, since + AWAITING_DEPOSIT_STEPS[0][0])
    return max(0.0, (now - start).total_seconds())


def emit_metrics(summary: PollSummary) -> None:
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
