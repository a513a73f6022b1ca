"""Fault injection rules: which request gets a 429/5xx/424, extra latency, a dropped connection or a hang."""

from __future__ import annotations

import fnmatch
import itertools
import random
import threading
from dataclasses import dataclass
from typing import Any

from local.sandbox.schemas import FaultSpec

STATUS_MESSAGES = {
    429: ("Too Many Requests", "RATE_LIMITED"),
    500: ("Internal Server Error", "INTERNAL_ERROR"),
    502: ("Bad Gateway", "BAD_GATEWAY"),
    503: ("Service Unavailable", "SERVICE_UNAVAILABLE"),
    504: ("Gateway Timeout", "GATEWAY_TIMEOUT"),
    424: ("Liquidity provider request failed", "LIQUIDITY_PROVIDER_FAILED"),
}


@dataclass
class FaultRule:
    rule_id: int
    spec: FaultSpec
    remaining: int | None

    def matches(self, path: str) -> bool:
        pattern = self.spec.endpoint
        if pattern == "*":
            return True
        if "*" in pattern or "?" in pattern:
            return fnmatch.fnmatchcase(path, pattern)
        return path == pattern

    def to_wire(self) -> dict[str, Any]:
        return {"id": self.rule_id, **self.spec.model_dump(by_alias=True), "remaining": self.remaining}


@dataclass(frozen=True)
class FaultDecision:
    latency_seconds: float = 0.0
    action: FaultSpec | None = None


NO_FAULT = FaultDecision()


class FaultPlan:
    """Active rules; a decision per request is taken under a short lock and never while sleeping."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._ids = itertools.count(1)

    def add(self, spec: FaultSpec) -> dict[str, Any]:
        with self._lock:
            rule = FaultRule(next(self._ids), spec, spec.count)
            self._rules.append(rule)
            return rule.to_wire()

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [rule.to_wire() for rule in self._rules]

    def decide(self, path: str) -> FaultDecision:
        if not self._rules:  # the common case stays lock-free
            return NO_FAULT
        with self._lock:
            latency = 0.0
            action: FaultSpec | None = None
            for rule in list(self._rules):
                if not rule.matches(path):
                    continue
                is_latency = rule.spec.kind == "latency"
                if (not is_latency and action is not None) or not self._fires(rule):
                    continue
                if is_latency:
                    latency += rule.spec.latency_ms / 1000
                else:
                    action = rule.spec
            return FaultDecision(latency, action) if latency or action else NO_FAULT

    def _fires(self, rule: FaultRule) -> bool:
        if rule.spec.probability < 1 and random.random() >= rule.spec.probability:
            return False
        if rule.remaining is not None:
            rule.remaining -= 1
            if rule.remaining <= 0:
                self._rules.remove(rule)
        return True
