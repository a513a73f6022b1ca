"""Retry policy: growth, cap, jitter bounds, attempt limit, Retry-After precedence, deadline."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from cryptosdk.exchange.retry import RetryPolicy, parse_retry_after


def upper(low: float, high: float) -> float:
    return high


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class TestBackoff:
    def test_ceiling_doubles_then_caps(self) -> None:
        policy = RetryPolicy(base_delay=0.25, max_delay=3.0, uniform=upper)
        assert [policy.backoff(n) for n in range(6)] == [0.25, 0.5, 1.0, 2.0, 3.0, 3.0]

    def test_full_jitter_stays_within_zero_and_ceiling(self) -> None:
        rng = random.Random(7)
        policy = RetryPolicy(base_delay=0.1, max_delay=2.0, uniform=rng.uniform)
        for retry_number in range(8):
            ceiling = policy.backoff_ceiling(retry_number)
            samples = [policy.backoff(retry_number) for _ in range(200)]
            assert all(0.0 <= sample <= ceiling for sample in samples)
            # Full jitter spreads over the whole interval, not just near the top.
            assert min(samples) < ceiling * 0.1 < ceiling * 0.9 < max(samples)

    def test_uniform_is_asked_for_zero_to_ceiling(self) -> None:
        calls: list[tuple[float, float]] = []

        def recording(low: float, high: float) -> float:
            calls.append((low, high))
            return low

        policy = RetryPolicy(base_delay=0.5, max_delay=1.5, uniform=recording)
        for n in range(3):
            policy.backoff(n)
        assert calls == [(0.0, 0.5), (0.0, 1.0), (0.0, 1.5)]

    def test_huge_attempt_numbers_do_not_overflow(self) -> None:
        assert RetryPolicy(max_delay=4.0, uniform=upper).backoff(10_000) == 4.0

    @pytest.mark.parametrize(
        "kwargs", [{"max_attempts": 0}, {"base_delay": -1.0}, {"max_delay": -1.0}, {"deadline": 0.0}]
    )
    def test_nonsense_policies_are_refused(self, kwargs: dict[str, float]) -> None:
        with pytest.raises(ValueError):  # noqa: PT011 - message wording is not the contract
            RetryPolicy(**kwargs)  # type: ignore[arg-type]


class TestRetryState:
    def test_attempt_limit_counts_the_first_attempt(self) -> None:
        state = RetryPolicy(max_attempts=3, uniform=upper, clock=FakeClock()).start()
        delays = [state.next_delay(), state.next_delay(), state.next_delay()]
        assert delays[2] is None
        assert delays[:2] == [0.2, 0.4]
        assert state.attempts == 3

    def test_single_attempt_policy_never_retries(self) -> None:
        assert RetryPolicy(max_attempts=1).start().next_delay() is None

    def test_retry_after_takes_precedence_over_backoff(self) -> None:
        state = RetryPolicy(base_delay=0.2, uniform=upper, clock=FakeClock()).start()
        assert state.next_delay(retry_after=2.5) == 2.5
        assert state.next_delay(retry_after=0.0) == 0.0
        # Without Retry-After the backoff continues from where the retries are.
        assert state.next_delay() == 0.8

    def test_retry_after_beyond_deadline_gives_up(self) -> None:
        state = RetryPolicy(deadline=5.0, clock=FakeClock()).start()
        assert state.next_delay(retry_after=6.0) is None
        assert state.attempts == 1

    def test_backoff_that_would_cross_the_deadline_gives_up(self) -> None:
        clock = FakeClock()
        state = RetryPolicy(
            max_attempts=10, base_delay=1.0, max_delay=8.0, deadline=10.0, uniform=upper, clock=clock
        ).start()
        assert state.next_delay() == 1.0
        clock.now += 1.0 + 0.5  # waited, then the attempt took half a second
        assert state.next_delay() == 2.0
        clock.now += 2.0 + 5.0  # 8.5 s used, 1.5 s left: a 4 s wait cannot fit
        assert state.next_delay() is None

    def test_remaining_follows_the_clock(self) -> None:
        clock = FakeClock()
        state = RetryPolicy(deadline=3.0, clock=clock).start()
        clock.now += 1.25
        assert state.remaining() == pytest.approx(1.75)


class TestParseRetryAfter:
    now = datetime(2026, 11, 27, 8, 0, 0, tzinfo=UTC)

    @pytest.mark.parametrize(("header", "seconds"), [("3", 3.0), (" 0 ", 0.0), ("1.5", 1.5), ("-4", 0.0)])
    def test_delta_seconds(self, header: str, seconds: float) -> None:
        assert parse_retry_after(header, self.now) == seconds

    def test_http_date_in_the_future(self) -> None:
        header = format_datetime(self.now + timedelta(seconds=7), usegmt=True)
        assert parse_retry_after(header, self.now) == 7.0

    def test_http_date_in_the_past_means_now(self) -> None:
        header = format_datetime(self.now - timedelta(minutes=1), usegmt=True)
        assert parse_retry_after(header, self.now) == 0.0

    @pytest.mark.parametrize("header", [None, "", "soon", "nan", "inf", "Mon, 99 Foo 2026"])
    def test_absent_or_unreadable_is_none(self, header: str | None) -> None:
        assert parse_retry_after(header, self.now) is None
