"""Retry policy: exponential backoff with full jitter, a cap, an attempt limit and a deadline.

Pure: the random source and the clock are injected, so tests can prove every bound exactly.
See https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/ for why full jitter.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 4
    base_delay: float = 0.2
    max_delay: float = 5.0
    # Seconds from the first attempt after which no new attempt starts.
    deadline: float = 25.0
    uniform: Callable[[float, float], float] = field(default=random.uniform, repr=False)
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0 or self.deadline <= 0:
            raise ValueError("delays must be non-negative and the deadline positive")

    def backoff_ceiling(self, retry_number: int) -> float:
        """Upper bound of the wait before retry `retry_number` (0 for the first retry)."""
        # Exponent capped so 2**n cannot overflow a float on absurd attempt counts.
        return min(self.max_delay, self.base_delay * 2.0 ** min(retry_number, 60))

    def backoff(self, retry_number: int) -> float:
        return self.uniform(0.0, self.backoff_ceiling(retry_number))

    def start(self) -> RetryState:
        return RetryState(self, started_at=self.clock())


@dataclass
class RetryState:
    """The retry budget of one logical call."""

    policy: RetryPolicy
    started_at: float
    attempts: int = 1  # the first attempt is under way when the state is created
    delays: list[float] = field(default_factory=list)

    def remaining(self) -> float:
        return self.policy.deadline - (self.policy.clock() - self.started_at)

    def next_delay(self, retry_after: float | None = None) -> float | None:
        """Seconds to wait before the next attempt, or None when the budget is spent.

        A server's Retry-After wins over our backoff, but never stretches the call past its
        deadline: if the server asks for longer than we have left we give up rather than
        retry too early.
        """
        if self.attempts >= self.policy.max_attempts:
            return None
        remaining = self.remaining()
        delay = max(0.0, retry_after) if retry_after is not None else self.policy.backoff(len(self.delays))
        if delay >= remaining:
            return None
        self.attempts += 1
        self.delays.append(delay)
        return delay


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date); None if absent/bad."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        return _seconds_until(text, now or datetime.now(UTC))
    if seconds != seconds or seconds in (float("inf"), float("-inf")):  # NaN or infinite
        return None
    return max(0.0, seconds)


def _seconds_until(http_date: str, now: datetime) -> float | None:
    try:
        when = parsedate_to_datetime(http_date)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())
