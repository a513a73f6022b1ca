"""The outbox's record -> event mapping: one OrderStatusChanged per order status change on the
orders table's stream, a stable event id, nothing for any other record, a clear error for a
poison record."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from boto3.dynamodb.types import TypeSerializer

from cryptosdk.domain.order import DepositRecord, Leg, Order, Party, RateMode, StatusChange, WithdrawalRecord
from cryptosdk.domain.status import OrderStatus
from cryptosdk.orders.events import DETAIL_TYPE, SOURCE, EventPublisher
from cryptosdk.orders.outbox import (
    EventNotPublishedError,
    MalformedOrderRecordError,
    event_id,
    publish_record,
    status_change,
)
from cryptosdk.storage.items import order_to_item

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
_SERIALIZER = TypeSerializer()


def order(status: OrderStatus = OrderStatus.AWAITING_DEPOSIT, version: int = 2, **changes: Any) -> Order:
    base = Order(
        id="ord_0123456789abcdef0123456789abcdef",
        user_id="user-1",
        external_ref="cart-1",
        exchange_order_id=4242,
        from_leg=Leg(currency="BTC", network="BTC"),
        to_leg=Leg(currency="USDT", network="TRC20"),
        rate_mode=RateMode.FLOATING,
        claimed_deposit_amount=Decimal("0.01"),
        amount_to_receive=Decimal("612.50"),
        destination=Party(address="TXYZ"),
        status=status,
        status_history=(StatusChange(status=status, at=T0),),
        created_at=T0,
        updated_at=T0 + timedelta(minutes=version),
        version=version,
    )
    return base.model_copy(update=changes)


def image(stored: Order, **extra: Any) -> dict[str, Any]:
    """The item as a stream image carries it once Powertools deserialised it (numbers Decimal)."""
    item = order_to_item(stored) | extra
    return json.loads(json.dumps(item), parse_float=Decimal, parse_int=Decimal)


def change(before: Order, after: Order, **extra: Any) -> Any:
    return status_change("MODIFY", {"id": after.id}, image(before), image(after, **extra))


# -- one event per status change ------------------------------------------------------------------


def test_a_status_change_becomes_one_event_named_by_order_and_version() -> None:
    before = order(OrderStatus.SENDING, version=6)
    after = order(
        OrderStatus.COMPLETED,
        version=7,
        deposits=(DepositRecord(tx_id="dep-1"), DepositRecord(tx_id="dep-2"), DepositRecord()),
        withdrawals=(WithdrawalRecord(tx_id="pay-1"),),
    )

    event = change(before, after)

    assert event is not None
    assert event.event_id == f"{after.id}:7" == event_id(after.id, 7)
    assert (event.old_status, event.new_status) == ("sending", "completed")
    assert (event.order_id, event.user_id, event.external_ref) == (after.id, "user-1", "cart-1")
    assert event.exchange_order_id == 4242
    assert event.deposit_tx_id == "dep-2"  # the latest transfer that has a tx id
    assert event.payout_tx_id == "pay-1"
    assert event.amount_to_receive == "612.50"  # a decimal string, trailing zero kept
    assert event.changed_at == after.updated_at
    assert event.correlation_id is None


def test_the_detail_keeps_the_published_shape_plus_event_id_and_correlation_id() -> None:
    event = change(order(), order(OrderStatus.CONFIRMING, version=3), correlationId="req-77")

    assert event is not None
    detail = event.model_dump(mode="json", by_alias=True)
    assert detail == {
        "eventId": "ord_0123456789abcdef0123456789abcdef:3",
        "orderId": "ord_0123456789abcdef0123456789abcdef",
        "userId": "user-1",
        "externalRef": "cart-1",
        "exchangeOrderId": 4242,
        "oldStatus": "awaiting_deposit",
        "newStatus": "confirming",
        "changedAt": "2026-11-27T08:03:00Z",
        "depositTxId": None,
        "payoutTxId": None,
        "amountToReceive": "612.50",
        "correlationId": "req-77",
    }


def test_the_same_record_delivered_twice_gives_the_same_event() -> None:
    before, after = order(), order(OrderStatus.CONFIRMING, version=3)

    assert change(before, after) == change(before, after)


def test_a_write_that_keeps_the_status_is_no_event() -> None:
    before = order(version=2)
    rescheduled = order(version=3, next_poll_at=T0 + timedelta(hours=1), poll_failures=1)

    assert change(before, rescheduled) is None


@pytest.mark.parametrize("event_name", ["INSERT", "REMOVE", None])
def test_only_updates_can_be_status_changes(event_name: str | None) -> None:
    before, after = order(), order(OrderStatus.CONFIRMING, version=3)

    assert status_change(event_name, {"id": after.id}, image(before), image(after)) is None


@pytest.mark.parametrize("key", ["cache#instruments", "sched#2026-12-02T10:00", "ord_1#history#2", None, 7])
def test_items_that_are_not_orders_are_ignored(key: Any) -> None:
    new = {"id": key, "status": "confirming", "payload": "x"}
    old = {"id": key, "status": "awaiting_deposit"}

    assert status_change("MODIFY", {"id": key}, old, new) is None


# -- poison records ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old_extra", "new_extra", "message"),
    [
        ({}, {"status": "teleported"}, "new image status 'teleported' is not an order status"),
        ({"status": None}, {}, "old image status None is not an order status"),
        ({}, {"userId": None}, "new image lacks 'userId'"),
        ({}, {"version": "seven"}, "new image is not an order"),
    ],
)
def test_an_unreadable_order_record_is_refused_with_the_order_and_the_reason(
    old_extra: dict[str, Any], new_extra: dict[str, Any], message: str
) -> None:
    before, after = image(order()), image(order(OrderStatus.CONFIRMING, version=3))
    before = {k: v for k, v in (before | old_extra).items() if v is not None}
    after = {k: v for k, v in (after | new_extra).items() if v is not None}

    with pytest.raises(MalformedOrderRecordError, match=message) as refused:
        status_change("MODIFY", {"id": after["id"]}, before, after)
    assert after["id"] in str(refused.value)


def test_an_update_without_both_images_is_refused() -> None:
    after = image(order(OrderStatus.CONFIRMING, version=3))

    with pytest.raises(MalformedOrderRecordError, match="lacks the old or new image"):
        status_change("MODIFY", {"id": after["id"]}, None, after)


# -- the record handler (Powertools' DynamoDBRecord in, PutEvents out) -----------------------------


class FakeEventBridge:
    """The AWS service: records PutEvents entries, refuses every one when told to."""

    def __init__(self, refuse: bool = False) -> None:
        self.entries: list[dict[str, str]] = []
        self.refuse = refuse

    def put_events(self, Entries: list[dict[str, str]]) -> dict[str, Any]:  # boto3 spells it Entries
        self.entries.extend(Entries)
        if self.refuse:
            receipts = [{"ErrorCode": "InternalFailure", "ErrorMessage": "try later"} for _ in Entries]
        else:
            receipts = [{"EventId": "e"} for _ in Entries]
        return {"FailedEntryCount": len(receipts) if self.refuse else 0, "Entries": receipts}


def stream_record(before: Order, after: Order, event_name: str = "MODIFY") -> DynamoDBRecord:
    """A record as Lambda delivers it: DynamoDB JSON images."""

    def wire(stored: Order) -> dict[str, Any]:
        return {k: _SERIALIZER.serialize(v) for k, v in order_to_item(stored).items()}

    return DynamoDBRecord(
        {
            "eventID": "1",
            "eventName": event_name,
            "eventSource": "aws:dynamodb",
            "dynamodb": {
                "Keys": {"id": {"S": after.id}},
                "OldImage": wire(before),
                "NewImage": wire(after),
                "SequenceNumber": "100",
                "StreamViewType": "NEW_AND_OLD_IMAGES",
            },
        }
    )


def test_a_status_change_record_is_put_on_the_bus_once() -> None:
    bus = FakeEventBridge()
    publisher = EventPublisher("orders-bus", client=bus, sleep=lambda _: None)
    after = order(OrderStatus.CONFIRMING, version=3)

    sent = publish_record(stream_record(order(), after), publisher)

    assert sent == f"{after.id}:3"
    (entry,) = bus.entries
    assert (entry["EventBusName"], entry["Source"], entry["DetailType"]) == (
        "orders-bus",
        SOURCE,
        DETAIL_TYPE,
    )
    assert json.loads(entry["Detail"])["eventId"] == sent


def test_a_published_event_is_logged_with_its_id_and_status_as_keys(
    log_lines: Callable[[], list[dict[str, Any]]],
) -> None:
    publisher = EventPublisher("orders-bus", client=FakeEventBridge(), sleep=lambda _: None)

    sent = publish_record(stream_record(order(), order(OrderStatus.CONFIRMING, version=3)), publisher)

    (line,) = [line for line in log_lines() if line["message"] == "order event published"]
    assert line["event_id"] == sent
    assert line["new_status"] == OrderStatus.CONFIRMING.value


def test_a_record_that_is_no_status_change_puts_nothing() -> None:
    bus = FakeEventBridge()
    publisher = EventPublisher("orders-bus", client=bus, sleep=lambda _: None)

    assert publish_record(stream_record(order(), order(version=3)), publisher) is None
    assert publish_record(stream_record(order(), order(OrderStatus.CONFIRMING), "INSERT"), publisher) is None
    assert bus.entries == []


def test_an_event_the_bus_keeps_refusing_fails_the_record_so_it_is_read_again() -> None:
    bus = FakeEventBridge(refuse=True)
    publisher = EventPublisher("orders-bus", client=bus, max_attempts=2, sleep=lambda _: None)

    with pytest.raises(EventNotPublishedError, match="InternalFailure"):
        publish_record(stream_record(order(), order(OrderStatus.CONFIRMING, version=3)), publisher)
    assert len(bus.entries) == 2  # the publisher's own retry, then the record fails


def test_a_record_that_fails_is_logged_with_its_position_and_reason_never_its_images(
    log_lines: Callable[[], list[dict[str, Any]]],
) -> None:
    publisher = EventPublisher("orders-bus", client=FakeEventBridge(), sleep=lambda _: None)
    after = order(OrderStatus.CONFIRMING, version=3, destination=Party(address="TSECRETADDRESS"))
    record = stream_record(order(), after)
    record["dynamodb"]["NewImage"]["status"] = {"S": "teleported"}
    with pytest.raises(MalformedOrderRecordError):
        publish_record(DynamoDBRecord(record.raw_event), publisher)

    (line,) = log_lines()
    assert line["message"] == "order event not published"
    assert line["sequence_number"] == "100"
    assert line["error_type"] == "MalformedOrderRecordError"
    assert after.id in line["reason"]
    assert "teleported" in line["reason"]
    assert "TSECRETADDRESS" not in json.dumps(line)


def test_the_recorded_stream_event_is_one_status_change() -> None:
    from pathlib import Path

    from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent

    path = Path(__file__).resolve().parents[2] / "events" / "order-events-stream.json"
    (record,) = DynamoDBStreamEvent(json.loads(path.read_text())).records
    bus = FakeEventBridge()

    sent = publish_record(record, EventPublisher("bus", client=bus, sleep=lambda _: None))

    assert sent == "ord_6f1c2a9e4b7d4e0f9a3c5b8d2e1f0a7c:3"
    detail = json.loads(bus.entries[0]["Detail"])
    assert (detail["oldStatus"], detail["newStatus"]) == ("awaiting_deposit", "confirming")
    assert detail["depositTxId"].startswith("3b1f0c4e")
