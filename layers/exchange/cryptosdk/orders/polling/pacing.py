"""How often an order is polled (the interval rules, pure) and how fast one run goes (the shared
Pacer and the invocation's Deadline, pure apart from the injected clock)."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from cryptosdk.domain.status import OrderStatus, is_terminal

# Base poll interval per active status: every run (the schedule is one minute) while money is
# moving, so a user sees each step within a minute; loose while nothing can happen soon.
_POLL_INTERVAL: dict[OrderStatus, timedelta] = {
    OrderStatus.PENDING_CREATE: timedelta(seconds=30),
    OrderStatus.AWAITING_DEPOSIT: timedelta(minutes=2),
    OrderStatus.CONFIRMING: timedelta(seconds=20),
    OrderStatus.EXCHANGING: timedelta(seconds=30),
    OrderStatus.SENDING: timedelta(seconds=30),
    OrderStatus.ON_HOLD: timedelta(minutes=10),
    OrderStatus.REFUNDING: timedelta(minutes=1),
}
MAX_POLL_BACKOFF = timedelta(minutes=30)

# Waiting for a deposit: most polls find nothing, and a payer who has just been shown the address
# pays within minutes or much later. Every minute for the first 5 minutes, then every 5 minutes
# until 20, then every 8: an hour of waiting costs 16 polls instead of 60, and a deposit is seen
# at most 1, 5 or 8 minutes late. Each longer interval is a schedule write (3 write units), so
# the steps are few and long rather than doubling (1, 2, 4, 8 would write four times in 15 min).
# Per order that is at most one exchange call a minute, the same ceiling as the busiest status.
AWAITING_DEPOSIT_STEPS: tuple[tuple[timedelta, timedelta], ...] = (
    (timedelta(minutes=5), timedelta(minutes=1)),
    (timedelta(minutes=20), timedelta(minutes=5)),
)
AWAITING_DEPOSIT_MAX_INTERVAL = timedelta(minutes=8)


def awaiting_deposit_interval(waited: timedelta) -> timedelta:
    """The poll interval of an order that has waited `waited` for its deposit (1, 5, 8 min)."""
    for waited_less_than, interval in AWAITING_DEPOSIT_STEPS:
        if waited < waited_less_than:
            return interval
    return AWAITING_DEPOSIT_MAX_INTERVAL


def next_poll_delay(
    status: OrderStatus,
    consecutive_failures: int = 0,
    cap: timedelta | None = None,
    *,
    waited: timedelta | None = None,
) -> timedelta:
    """How long to wait before polling an order again; doubles per consecutive failure, capped
    at MAX_POLL_BACKOFF, and at `cap` when one is configured (POLL_INTERVAL_MAX_SECONDS).

    `waited` (time since the order's last status change) paces an order awaiting its deposit
    with `awaiting_deposit_interval`; without it the status's base interval applies."""
    if is_terminal(status):
        raise ValueError(f"terminal status {status.value} is never polled")
    delay = _POLL_INTERVAL[status]
    if status == OrderStatus.AWAITING_DEPOSIT and waited is not None:
        delay = awaiting_deposit_interval(max(waited, timedelta(0)))
    if consecutive_failures > 0:
        # Cap the exponent before multiplying so a huge failure count cannot overflow.
        factor = 1 << min(consecutive_failures, 16)
        delay = min(delay * factor, max(delay, MAX_POLL_BACKOFF))
    return delay if cap is None else min(delay, cap)


def poll_interval_cap(max_seconds: float | None) -> timedelta | None:
    return None if max_seconds is None else timedelta(seconds=max_seconds)


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
