"""Fires the template's EventBridge schedules locally (moto stores schedules but never runs them).

Each schedule invokes its function with the event EventBridge Scheduler rules send
("detail-type": "Scheduled Event"), on the period its rate() expression says, or every
`every_seconds` when the stack is started with --poll-every for demos. Ticks never overlap for
one function: a slow run delays the next tick instead of stacking runs.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from local.runtime import ACCOUNT_ID, InvocationError
from local.template import rate_seconds

CRON_FALLBACK_SECONDS = 60.0

Invoker = Callable[[str, dict[str, Any]], Any]
Notice = Callable[[str], None]


@dataclass(frozen=True)
class Schedule:
    """One Schedule event of a function: its expression and the rule name it would have."""

    function: str
    expression: str
    rule_name: str
    enabled: bool = True


def scheduled_event(rule_name: str, region: str, now: datetime | None = None) -> dict[str, Any]:
    """The event an EventBridge schedule rule delivers (same shape as events/poller-scheduled.json)."""
    moment = now or datetime.now(UTC)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:events:{region}:{ACCOUNT_ID}:rule/{rule_name}"],
        "detail": {},
    }


class Scheduler:
    """One thread per enabled schedule; stop() ends them between ticks."""

    def __init__(
        self,
        schedules: list[Schedule],
        invoke: Invoker,
        *,
        region: str = "us-east-1",
        every_seconds: float | None = None,
        notice: Notice = print,
    ) -> None:
        self._schedules = [s for s in schedules if s.enabled]
        self._invoke = invoke
        self._region = region
        self._every = every_seconds
        self._notice = notice
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.runs: dict[str, int] = {s.function: 0 for s in self._schedules}

    def period_for(self, schedule: Schedule) -> float:
        if self._every is not None:
            return self._every
        period = rate_seconds(schedule.expression)
        if period is None:
            self._notice(
                f"notice: {schedule.expression} is not emulated; {schedule.function} runs every "
                f"{CRON_FALLBACK_SECONDS:.0f} s locally"
            )
            return CRON_FALLBACK_SECONDS
        return period

    def describe(self) -> list[str]:
        return [f"{s.function} every {self.period_for(s):g} s ({s.expression})" for s in self._schedules]

    def start(self) -> Scheduler:
        for schedule in self._schedules:
            period = self.period_for(schedule)
            thread = threading.Thread(
                target=self._loop, args=(schedule, period), name=f"schedule-{schedule.function}", daemon=True
            )
            thread.start()
            self._threads.append(thread)
        return self

    def _loop(self, schedule: Schedule, period: float) -> None:
        # EventBridge fires the first tick one period after the rule is created, not at once, and
        # then every period from there, however long a run takes: a run longer than the period
        # delays the next tick only until it ends (here ticks never overlap), it never adds to it.
        next_tick = time.monotonic() + period
        while not self._stop.wait(max(0.0, next_tick - time.monotonic())):
            self.fire(schedule)
            next_tick = max(next_tick + period, time.monotonic())

    def fire(self, schedule: Schedule) -> Any:
        event = scheduled_event(schedule.rule_name, self._region)
        try:
            result = self._invoke(schedule.function, event)
        except InvocationError as error:
            self._notice(f"schedule {schedule.function}: {error.payload.get('errorType')}: {error}")
            return None
        finally:
            self.runs[schedule.function] = self.runs.get(schedule.function, 0) + 1
        return result

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()
