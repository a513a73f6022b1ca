"""The manual refresh (same code path as the run, one order) and the scheduled Lambda handler."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from cryptosdk.domain.order import ForbiddenOrderError, OrderNotFoundError, shard_for
from cryptosdk.domain.status import OrderStatus
from cryptosdk.exchange import errors
from cryptosdk.orders.polling.options import PollerOptions
from cryptosdk.orders.refresh import refresh, refresh_order
from tests.handlers import handler_module, lambda_context
from tests.integration.poller.conftest import SHARDS, World

POLLER = "StatusPollerFunction"

ROOT = Path(__file__).resolve().parents[3]
INFO = "/api/v2/orders/public-info"


def test_refresh_brings_one_order_up_to_date_and_announces_the_change(world: World) -> None:
    order = world.active_order()
    world.drive(order, "INCOMING_FUNDS_DETECTED")

    refreshed = refresh_order(order.id, user_id="user-1", deps=world.deps(), options=PollerOptions())

    assert refreshed.status == OrderStatus.CONFIRMING
    stored = world.store.get(order.id)
    assert stored is not None
    assert refreshed.model_copy(update={"next_poll_at": None, "poll_failures": 0}) == stored
    assert world.events_for(order) == [("awaiting_deposit", "confirming")]


def test_refresh_of_an_unknown_or_foreign_order_is_refused(world: World) -> None:
    order = world.active_order()

    with pytest.raises(OrderNotFoundError):
        refresh_order("ord_" + uuid.uuid4().hex, deps=world.deps(), options=PollerOptions())
    with pytest.raises(ForbiddenOrderError):
        refresh_order(order.id, user_id="someone-else", deps=world.deps(), options=PollerOptions())
    assert world.stored(order).version == order.version


def test_refresh_of_a_finished_order_does_not_call_the_exchange(world: World) -> None:
    order = world.active_order()
    world.drive(order, "WITHDRAWAL_COMPLETED")
    refresh_order(order.id, deps=world.deps(), options=PollerOptions())
    before = world.requests_to(INFO)

    again = refresh_order(order.id, deps=world.deps(), options=PollerOptions())

    assert again.status == OrderStatus.COMPLETED
    assert world.requests_to(INFO) == before


def test_refresh_reports_an_exchange_failure_after_recording_the_back_off(world: World) -> None:
    order = world.active_order()
    world.fault(INFO, "503")

    with pytest.raises(errors.UpstreamUnavailableError):
        refresh_order(order.id, deps=world.deps(world.client(max_attempts=1)), options=PollerOptions())

    stored = world.stored(order)
    assert stored.poll_failures == 1
    assert stored.status == OrderStatus.AWAITING_DEPOSIT


def test_a_refresh_publishes_nothing_itself_and_its_change_comes_once_from_the_stream(world: World) -> None:
    order = world.active_order()
    world.drive(order, "INCOMING_FUNDS_DETECTED")

    result = refresh(order.id, deps=world.deps(), options=PollerOptions())

    assert result.changed is True
    assert world.aws.received_events(deliver=False) == []  # the writer puts nothing on the bus
    events = [e for e in world.received_events() if e["detail"]["orderId"] == order.id]
    assert [(e["detail"]["oldStatus"], e["detail"]["newStatus"]) for e in events] == [
        ("awaiting_deposit", "confirming")
    ]
    assert events[0]["detail"]["eventId"] == f"{order.id}:{result.order.version}"


def test_a_refresh_that_changes_nothing_reports_no_change(world: World) -> None:
    order = world.active_order()

    result = refresh(order.id, deps=world.deps(), options=PollerOptions())

    assert result.changed is False
    assert result.order.version == order.version  # nothing changed: nothing written
    assert world.events_for(order) == []


# -- the Lambda handler -------------------------------------------------------------------------


def scheduled_event(detail: dict[str, Any] | None = None) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((ROOT / "events" / "poller-scheduled.json").read_text())
    if detail is not None:
        event["detail"] = detail
    return event


def test_the_scheduled_handler_polls_every_shard_and_returns_a_summary(app_env: Any, world: World) -> None:
    order = world.active_order()
    world.drive(order, "INCOMING_FUNDS_DETECTED")

    summary = handler_module(POLLER).lambda_handler(scheduled_event(), lambda_context(POLLER))

    assert summary["shards"] == [str(n) for n in range(SHARDS)]
    assert (summary["due"], summary["changed"], summary["failed"]) == (1, 1, 0)
    assert world.stored(order).status == OrderStatus.CONFIRMING
    assert world.events_for(order) == [("awaiting_deposit", "confirming")]


def test_a_fan_out_event_polls_only_the_shards_it_names(app_env: Any, world: World) -> None:
    orders = [world.active_order() for _ in range(8)]
    shard = shard_for(orders[0].id, SHARDS)
    mine = [o for o in orders if shard_for(o.id, SHARDS) == shard]

    summary = handler_module(POLLER).lambda_handler(
        scheduled_event({"shards": [shard]}), lambda_context(POLLER)
    )

    assert summary["shards"] == [shard]
    assert summary["due"] == len(mine)
    for order in orders:
        assert (world.stored(order).version == 2) == (order.poll_shard == shard)


def test_a_malformed_event_is_refused_before_any_work(app_env: Any, world: World) -> None:
    from aws_lambda_powertools.utilities.parser import ValidationError

    order = world.active_order()

    with pytest.raises(ValidationError):
        handler_module(POLLER).lambda_handler(scheduled_event({"shards": "all"}), lambda_context(POLLER))
    assert world.stored(order).version == 1


def test_dependencies_are_built_once_per_container(app_env: Any, world: World) -> None:
    from cryptosdk.container import container, reset_container

    built = container()
    deps = built.poller_deps

    assert container().poller_deps is deps  # no new DynamoDB client per invocation
    assert deps.store is built.orders  # the poller and the API routes share one store...
    assert deps.store._client is built.answers.client  # ...and one DynamoDB client for both tables
    assert deps.client is built.order_deps.client  # one pooled exchange session for every use
    reset_container()  # what a fresh container (or a test's new stack) sees
    assert container().poller_deps is not deps


def _emitted_metrics(output: str) -> dict[str, float]:
    """The values of the CloudWatch embedded-metric documents Powertools printed."""
    values: dict[str, float] = {}
    for line in output.splitlines():
        try:
            document = json.loads(line)
        except ValueError:
            continue
        if isinstance(document, dict) and "_aws" in document:
            for metric in document["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
                value = document[metric["Name"]]  # a list when one metric was added several times
                values[metric["Name"]] = float(value[-1] if isinstance(value, list) else value)
    return values


def test_the_run_reports_the_age_of_the_oldest_unsettled_create(
    app_env: Any, world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    # The order list cannot be read, so this intent stays unsettled: the alarm's metric says how long.
    from datetime import timedelta

    world.intent(created_at=world.clock() - timedelta(seconds=100))
    world.fault("/api/v2/orders", "503")

    summary = handler_module(POLLER).lambda_handler(scheduled_event(), lambda_context(POLLER))

    metrics = _emitted_metrics(capsys.readouterr().out)
    assert 100 <= summary["oldest_unsettled_create_seconds"] < 130
    assert metrics["OldestUnsettledCreateSeconds"] == summary["oldest_unsettled_create_seconds"]


def test_no_unsettled_create_reports_zero(
    app_env: Any, world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.active_order()

    handler_module(POLLER).lambda_handler(scheduled_event(), lambda_context(POLLER))

    assert _emitted_metrics(capsys.readouterr().out)["OldestUnsettledCreateSeconds"] == 0
