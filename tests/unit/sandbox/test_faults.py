"""Fault rule matching, counting and combination."""

from __future__ import annotations

from local.sandbox.faults import FaultPlan
from local.sandbox.schemas import FaultSpec


def spec(**fields: object) -> FaultSpec:
    return FaultSpec.model_validate(fields)


def test_count_is_used_up_then_the_rule_disappears() -> None:
    plan = FaultPlan()
    plan.add(spec(endpoint="/a", kind="500", count=2))
    actions = [plan.decide("/a").action for _ in range(3)]
    assert [action.kind if action else None for action in actions] == ["500", "500", None]
    assert plan.list() == []


def test_latencies_add_up_and_combine_with_one_status_fault() -> None:
    plan = FaultPlan()
    plan.add(spec(endpoint="*", kind="latency", latencyMs=50))
    plan.add(spec(endpoint="/api/*", kind="latency", latencyMs=20))
    plan.add(spec(endpoint="/api/x", kind="429", retryAfter=1))
    plan.add(spec(endpoint="/api/x", kind="503"))
    decision = plan.decide("/api/x")
    assert abs(decision.latency_seconds - 0.07) < 1e-9
    assert decision.action is not None
    assert decision.action.kind == "429"
    assert plan.decide("/other").action is None


def test_a_count_is_not_spent_on_requests_it_did_not_match() -> None:
    plan = FaultPlan()
    plan.add(spec(endpoint="/a", kind="502", count=1))
    assert plan.decide("/b").action is None
    decision = plan.decide("/a").action
    assert decision is not None
    assert decision.kind == "502"
