"""EventPublisher: batches of 10, only refused entries are retried, the rest reported."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from cryptosdk.orders.events import BATCH_SIZE, DETAIL_TYPE, SOURCE, EventPublisher, OrderStatusChanged


class FakeEventBridge:
    """Stands in for the AWS service: refuses chosen order ids a given number of times."""

    def __init__(self, refuse: dict[str, int] | None = None) -> None:
        self.calls: list[list[dict[str, str]]] = []
        self.refuse = dict(refuse or {})

    def put_events(self, Entries: list[dict[str, str]]) -> dict[str, Any]:  # boto3 spells it Entries
        assert len(Entries) <= BATCH_SIZE
        self.calls.append(Entries)
        receipts: list[dict[str, str]] = []
        for entry in Entries:
            order_id = json.loads(entry["Detail"])["orderId"]
            if self.refuse.get(order_id, 0) > 0:
                self.refuse[order_id] -= 1
                receipts.append({"ErrorCode": "ThrottlingException", "ErrorMessage": "slow down"})
            else:
                receipts.append({"EventId": f"evt-{order_id}"})
        return {"FailedEntryCount": sum("ErrorCode" in r for r in receipts), "Entries": receipts}


def _event(n: int) -> OrderStatusChanged:
    return OrderStatusChanged(
        event_id=f"ord_{n}:2",
        order_id=f"ord_{n}",
        user_id="user-1",
        old_status="awaiting_deposit",
        new_status="confirming",
        changed_at=datetime(2026, 11, 27, 8, 0, tzinfo=UTC),
    )


def test_given_25_events_when_published_then_three_calls_of_at_most_ten() -> None:
    fake = FakeEventBridge()
    report = EventPublisher("bus", client=fake, sleep=lambda _: None).publish([_event(n) for n in range(25)])

    assert [len(call) for call in fake.calls] == [10, 10, 5]
    assert report.sent == 25
    assert report.failed == []
    entry = fake.calls[0][0]
    assert entry["EventBusName"] == "bus"
    assert entry["Source"] == SOURCE
    assert entry["DetailType"] == DETAIL_TYPE
    detail = json.loads(entry["Detail"])
    assert detail["newStatus"] == "confirming"
    assert detail["changedAt"].startswith("2026-11-27T08:00:00")


def test_given_a_refused_entry_when_published_then_only_that_entry_is_retried() -> None:
    fake = FakeEventBridge(refuse={"ord_3": 1})
    report = EventPublisher("bus", client=fake, sleep=lambda _: None).publish([_event(n) for n in range(5)])

    assert [len(call) for call in fake.calls] == [5, 1]
    assert json.loads(fake.calls[1][0]["Detail"])["orderId"] == "ord_3"
    assert report.sent == 5
    assert report.failed == []


def test_given_an_entry_refused_every_time_when_published_then_it_is_reported_not_lost() -> None:
    fake = FakeEventBridge(refuse={"ord_1": 99})
    report = EventPublisher("bus", client=fake, max_attempts=3, sleep=lambda _: None).publish(
        [_event(0), _event(1)]
    )

    assert len(fake.calls) == 3
    assert report.sent == 1
    assert [event.order_id for event in report.failed] == ["ord_1"]
    assert report.errors[0].startswith("ThrottlingException")


def test_undelivered_events_are_logged_with_their_count_and_reasons_as_keys(
    log_lines: Callable[[], list[dict[str, Any]]],
) -> None:
    fake = FakeEventBridge(refuse={"ord_1": 99})
    EventPublisher("bus", client=fake, max_attempts=2, sleep=lambda _: None).publish([_event(0), _event(1)])

    (line,) = [line for line in log_lines() if line["message"] == "events not delivered"]
    assert line["failed"] == 1
    assert line["errors"][0].startswith("ThrottlingException")
