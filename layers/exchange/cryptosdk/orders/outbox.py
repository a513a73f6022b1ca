"""The outbox: OrderStatusChanged events derived from the orders table's stream.

Writers only write the order (one conditional update). Every committed write reaches the table's
stream (NEW_AND_OLD_IMAGES) and OrderEventsFunction turns each record whose old and new status
differ into one event, so a writer that dies right after its write loses no event. Delivery is at
least once (a failed batch is read again); the event id is the order id and the version the write
produced, the same on every delivery, so consumers drop repeats by `eventId`.

Only order items count: their key starts with `ord_` and has no `#` (the instruments cache and
any other item type in the table share no such key), and only updates (an INSERT has no status
before it; a TTL removal is no status change).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from cryptosdk.domain.order import Order
from cryptosdk.domain.status import OrderStatus
from cryptosdk.exchange.money import optional_decimal_text
from cryptosdk.orders.events import EventPublisher, OrderStatusChanged
from cryptosdk.runtime.observability import logger, metrics
from cryptosdk.storage.items import item_to_order

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

ORDER_ID_PREFIX = "ord_"
# Only updates can change a status; INSERT (a new intent) and REMOVE (TTL) never do.
STATUS_EVENT_NAMES = frozenset({"MODIFY"})


class MalformedOrderRecordError(ValueError):
    """An order's stream record cannot be read as an order: a poison record. It fails its batch
    item, is retried, and after the retries its position lands in the failure queue."""


class EventNotPublishedError(RuntimeError):
    """EventBridge refused the event on every attempt; the record is failed so it is read again."""


def is_order_key(order_id: str) -> bool:
    return order_id.startswith(ORDER_ID_PREFIX) and "#" not in order_id


def event_id(order_id: str, version: int) -> str:
    """Stable per write: the same record delivered twice carries the same id."""
    return f"{order_id}:{version}"


def status_change(
    event_name: str | None,
    keys: Mapping[str, Any] | None,
    old_image: Mapping[str, Any] | None,
    new_image: Mapping[str, Any] | None,
) -> OrderStatusChanged | None:
    """The event for one stream record (images as plain Python values), or None when the record
    is not an order's status change. Raises MalformedOrderRecordError for an unreadable order."""
    order_id = (keys or {}).get("id")
    if event_name not in STATUS_EVENT_NAMES or not isinstance(order_id, str) or not is_order_key(order_id):
        return None
    if not new_image or not old_image:
        # NEW_AND_OLD_IMAGES gives both on every MODIFY; a missing one means a misconfigured stream.
        raise MalformedOrderRecordError(f"order {order_id}: stream record lacks the old or new image")
    old_status = _status(order_id, old_image.get("status"), "old")
    new_status = _status(order_id, new_image.get("status"), "new")
    if old_status == new_status:
        return None
    after = _order(order_id, new_image)
    correlation = new_image.get("correlationId")
    return to_event(old_status, after, correlation if isinstance(correlation, str) else None)


def to_event(old_status: OrderStatus, after: Order, correlation_id: str | None = None) -> OrderStatusChanged:
    """OrderStatusChanged for the write that produced `after` (its version names the event)."""
    deposit_tx = next((d.tx_id for d in reversed(after.deposits) if d.tx_id), None)
    payout_tx = next((w.tx_id for w in reversed(after.withdrawals) if w.tx_id), None)
    return OrderStatusChanged(
        event_id=event_id(after.id, after.version),
        order_id=after.id,
        user_id=after.user_id,
        external_ref=after.external_ref,
        exchange_order_id=after.exchange_order_id,
        old_status=old_status.value,
        new_status=after.status.value,
        changed_at=after.updated_at,
        deposit_tx_id=deposit_tx,
        payout_tx_id=payout_tx,
        amount_to_receive=optional_decimal_text(after.amount_to_receive),
        correlation_id=correlation_id,
    )


def _status(order_id: str, value: Any, which: str) -> OrderStatus:
    try:
        return OrderStatus(value)
    except ValueError:
        raise MalformedOrderRecordError(
            f"order {order_id}: {which} image status {value!r} is not an order status"
        ) from None


def _order(order_id: str, image: Mapping[str, Any]) -> Order:
    try:
        return item_to_order(image)
    except KeyError as exc:
        raise MalformedOrderRecordError(f"order {order_id}: new image lacks {exc.args[0]!r}") from None
    except (ValidationError, ValueError, TypeError) as exc:
        raise MalformedOrderRecordError(f"order {order_id}: new image is not an order ({exc})") from None


# -- the stream function's record handler ---------------------------------------------------------


def publish_record(record: DynamoDBRecord, publisher: EventPublisher) -> str | None:
    """Publish the status change one stream record carries; the event id, or None when the record
    is no status change. Raises (failing this batch item) when the event did not reach the bus."""
    stream = record.dynamodb
    try:
        event = status_change(
            record.event_name.name if record.event_name else None,
            stream.keys if stream else None,
            stream.old_image if stream else None,
            stream.new_image if stream else None,
        )
        if event is None:
            return None
        report = publisher.publish([event])
        if report.failed:
            raise EventNotPublishedError(f"event {event.event_id} refused: {'; '.join(report.errors)}")
    except Exception as exc:
        # The batch processor reports the record as failed; say which and why (an order id and a
        # reason, never the images, which hold users' addresses).
        logger.warning(
            "order event not published",
            sequence_number=stream.sequence_number if stream else None,
            error_type=type(exc).__name__,
            reason=str(exc) if isinstance(exc, MalformedOrderRecordError | EventNotPublishedError) else None,
        )
        raise
    from aws_lambda_powertools.metrics import MetricUnit

    metrics.add_metric(name="OrderEventsPublished", unit=MetricUnit.Count, value=1)
    logger.info("order event published", event_id=event.event_id, new_status=event.new_status)
    return event.event_id
