"""OrderStatusChanged events on the product's EventBridge bus: batched, failed entries retried.

Published only by OrderEventsFunction from the orders table's stream (`cryptosdk.orders.outbox`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import cached_property
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from cryptosdk.runtime.observability import logger

SOURCE = "cryptosdk.orders"
DETAIL_TYPE = "OrderStatusChanged"
# PutEvents takes at most 10 entries per call.
BATCH_SIZE = 10


class OrderStatusChanged(BaseModel):
    """The event the rest of the product subscribes to; amounts stay decimal strings.

    Delivery is at least once: `event_id` (order id + the version the write produced) is the same
    on every delivery of one change, so a consumer drops the repeats by it."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)

    event_id: str
    order_id: str
    user_id: str
    external_ref: str | None = None
    exchange_order_id: int | None = None
    old_status: str
    new_status: str
    changed_at: datetime
    deposit_tx_id: str | None = None
    payout_tx_id: str | None = None
    amount_to_receive: str | None = None
    # The request (API Gateway request id) or poller run whose write caused the change.
    correlation_id: str | None = None


class PublishReport(BaseModel):
    sent: int = 0
    failed: list[OrderStatusChanged] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list)


class EventPublisher:
    """Puts events on one bus, 10 per call, retrying only the entries EventBridge refused."""

    def __init__(
        self,
        bus_name: str,
        *,
        client: Any = None,
        max_attempts: int = 3,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._bus_name = bus_name
        self._client_override = client
        self._max_attempts = max_attempts
        self._sleep = sleep

    @cached_property
    def _client(self) -> Any:
        if self._client_override is not None:
            return self._client_override
        from cryptosdk.runtime.aws_sdk import client  # botocore loads only when an event is really sent

        return client("events")

    def publish(self, events: Sequence[OrderStatusChanged]) -> PublishReport:
        report = PublishReport()
        for start in range(0, len(events), BATCH_SIZE):
            self._publish_batch(list(events[start : start + BATCH_SIZE]), report)
        if report.failed:
            logger.warning("events not delivered", failed=len(report.failed), errors=report.errors)
        return report

    def _publish_batch(self, batch: list[OrderStatusChanged], report: PublishReport) -> None:
        pending = batch
        for attempt in range(self._max_attempts):
            if attempt:
                self._sleep(0.1 * 2**attempt)
            response = self._client.put_events(Entries=[self._entry(event) for event in pending])
            refused = self._refused(pending, response.get("Entries", []), report)
            report.sent += len(pending) - len(refused)
            if not refused:
                return
            pending = refused
        report.failed.extend(pending)

    @staticmethod
    def _refused(
        pending: list[OrderStatusChanged], receipts: list[dict[str, Any]], report: PublishReport
    ) -> list[OrderStatusChanged]:
        refused: list[OrderStatusChanged] = []
        for event, receipt in zip(pending, receipts, strict=True):
            if "ErrorCode" in receipt:
                refused.append(event)
                report.errors.append(f"{receipt['ErrorCode']}: {receipt.get('ErrorMessage', '')}")
        return refused

    def _entry(self, event: OrderStatusChanged) -> dict[str, str]:
        return {
            "EventBusName": self._bus_name,
            "Source": SOURCE,
            "DetailType": DETAIL_TYPE,
            "Detail": json.dumps(event.model_dump(mode="json", by_alias=True)),
        }
