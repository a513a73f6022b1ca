"""The local scheduler keeps EventBridge's cadence: ticks every period from the first, however
long a run takes (a long run is not followed by a whole extra period of silence)."""

from __future__ import annotations

import time
from itertools import pairwise
from typing import Any

from local.scheduler import Schedule, Scheduler


def test_ticks_keep_their_period_when_a_run_takes_most_of_it() -> None:
    starts: list[float] = []

    def slow_run(function: str, event: dict[str, Any]) -> None:
        starts.append(time.monotonic())
        time.sleep(0.15)

    scheduler = Scheduler(
        [Schedule("Poller", "rate(1 minute)", "poll-rule")],
        slow_run,
        every_seconds=0.2,
        notice=lambda _: None,
    )
    scheduler.start()
    time.sleep(1.1)
    scheduler.stop()

    gaps = [b - a for a, b in pairwise(starts)]
    assert len(starts) >= 4
    # Start to start is the period (0.2 s), not the period plus the run (0.35 s).
    assert max(gaps) < 0.3, gaps


def test_a_run_longer_than_the_period_is_followed_at_once_not_after_another_period() -> None:
    starts: list[float] = []

    def long_run(function: str, event: dict[str, Any]) -> None:
        starts.append(time.monotonic())
        time.sleep(0.3)

    scheduler = Scheduler(
        [Schedule("Poller", "rate(1 minute)", "poll-rule")],
        long_run,
        every_seconds=0.2,
        notice=lambda _: None,
    )
    scheduler.start()
    time.sleep(1.2)
    scheduler.stop()

    gaps = [b - a for a, b in pairwise(starts)]
    assert gaps
    assert max(gaps) < 0.4, gaps  # never 0.3 + 0.2
