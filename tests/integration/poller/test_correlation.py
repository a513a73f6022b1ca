"""A poller run's writes and events carry the scheduled event's id, never a request's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cryptosdk.domain.status import OrderStatus
from cryptosdk.runtime.observability import logger
from tests.handlers import handler_module, lambda_context
from tests.integration.poller.conftest import World

ROOT = Path(__file__).resolve().parents[3]
POLLER = "status_poller"


def test_a_scheduled_run_stamps_its_event_id_on_what_it_writes(app_env: Any, world: World) -> None:
    order = world.active_order()
    # An API request wrote it last: the poller's write must replace that id, not keep it.
    logger.set_correlation_id("req-earlier")
    try:
        world.store.apply_update(order, {"external_ref": "cart-edited"}, order.version)
    finally:
        logger.set_correlation_id(None)
    assert world.item(order)["correlationId"] == "req-earlier"
    world.drive(order, "INCOMING_FUNDS_DETECTED")
    event = json.loads((ROOT / "events" / "poller-scheduled.json").read_text())
    event["id"] = "poll-run-7f3c"

    handler_module(POLLER).lambda_handler(event, lambda_context(POLLER))

    assert world.stored(order).status == OrderStatus.CONFIRMING
    assert world.item(order)["correlationId"] == "poll-run-7f3c"
    (published,) = [e for e in world.aws.received_events() if e["detail"]["orderId"] == order.id]
    assert published["detail"]["correlationId"] == "poll-run-7f3c"
