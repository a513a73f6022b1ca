"""local.streams: Lambda's event source mapping for DynamoDB streams, on moto's real stream.

The function behind the mapping is a scripted stand-in here (it is the thing being driven, not
our code under test), so each rule of the mapping shows on its own: filters, batch size, partial
batch responses, bisect on error, retries then the failure destination, and the shard moving on.
The real OrderEventsFunction behind it is tested in tests/integration/poller/test_outbox.py and
through the whole stack in tests/e2e.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from local.stack import LocalStack, StackOptions
from local.streams import MappingStats, StreamMapping
from tests.fixtures.aws import AwsStack


class Looping(BaseException):
    """Raised by a function called far more often than the records allow (escapes the mapping's
    error handling, so a reader that never catches up fails the test instead of hanging it)."""


class Function:
    """The Lambda behind the mapping: records every batch, fails the ids it is told to."""

    def __init__(self, poison: set[str] | None = None, *, raise_on_poison: bool = False) -> None:
        self.batches: list[list[str]] = []
        self.poison = poison or set()
        self.raise_on_poison = raise_on_poison

    def __call__(self, event: dict[str, Any]) -> Any:
        if len(self.batches) >= 50:
            raise Looping
        ids = [r["dynamodb"]["Keys"]["id"]["S"] for r in event["Records"]]
        self.batches.append(ids)
        failed = [r for r in event["Records"] if r["dynamodb"]["Keys"]["id"]["S"] in self.poison]
        if failed and self.raise_on_poison:
            raise RuntimeError("poison")
        return {"batchItemFailures": [{"itemIdentifier": r["dynamodb"]["SequenceNumber"]} for r in failed]}

    @property
    def delivered(self) -> list[str]:
        return [i for batch in self.batches for i in batch]


def mapping(
    aws: AwsStack, function: Callable[[dict[str, Any]], Any], **changes: Any
) -> tuple[StreamMapping, list[dict[str, Any]]]:
    """The template's stream source (with `changes`) on moto's stream; and what it parked."""
    (source,) = aws.names.template.stream_sources()
    parked: list[dict[str, Any]] = []
    bound = StreamMapping(
        source=dataclasses.replace(source, **changes),
        streams=aws.streams,
        stream_arn=aws.mappings[0].stream_arn,
        invoke=function,
        park=parked.append,
        retry_delay_seconds=0.0,
    )
    return bound, parked


def confirm(aws: AwsStack, order_id: str) -> None:
    aws.dynamodb.update_item(
        TableName=aws.orders_table,
        Key={"id": {"S": order_id}},
        UpdateExpression="SET #s = :s",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": "confirming"}},
    )


def status_changes(aws: AwsStack, *ids: str) -> None:
    """One MODIFY record per id (after an INSERT the filter drops)."""
    for order_id in ids:
        aws.dynamodb.put_item(
            TableName=aws.orders_table, Item={"id": {"S": order_id}, "status": {"S": "awaiting_deposit"}}
        )
        confirm(aws, order_id)


def test_only_filtered_records_are_delivered_in_order_in_batches_of_batch_size(aws: AwsStack) -> None:
    function = Function()
    status_changes(aws, "ord_1", "ord_2", "ord_3")
    for payload in ("1", "2"):
        cache = {"id": {"S": "cache#instruments"}, "payload": {"S": payload}}
        aws.dynamodb.put_item(TableName=aws.orders_table, Item=cache)
    bound, _ = mapping(aws, function, batch_size=2)

    done = bound.poll()

    assert function.batches == [["ord_1", "ord_2"], ["ord_3"]]
    assert done == 8  # 3 inserts + 3 updates + 2 cache writes: each one done, most by the filter
    assert bound.stats == MappingStats(invocations=2, delivered=3, filtered=5)
    assert bound.poll() == 0  # nothing is delivered twice once done


def test_a_partial_failure_resumes_at_the_failed_record_and_a_poison_record_is_isolated_then_parked(
    aws: AwsStack,
) -> None:
    function = Function(poison={"ord_2"})
    status_changes(aws, "ord_1", "ord_2", "ord_3", "ord_4")
    bound, parked = mapping(aws, function, maximum_retry_attempts=2)

    bound.poll()

    assert function.batches[0] == ["ord_1", "ord_2", "ord_3", "ord_4"]
    assert function.batches[1] == ["ord_2", "ord_3", "ord_4"]  # retry 1, resumed at the failed record
    assert function.batches[2] == ["ord_2"]  # its first record failed: split (no retry used)
    assert function.batches[3] == ["ord_2"]  # retry 2, the last: then parked
    assert function.batches[4:] == [["ord_3", "ord_4"]]  # and the shard goes on
    (first,) = parked
    assert first["DDBStreamBatchInfo"]["batchSize"] == 1
    assert first["requestContext"]["approximateInvokeCount"] == 3
    assert bound.stats.parked_records == 1
    status_changes(aws, "ord_5")
    bound.poll()
    assert function.batches[-1] == ["ord_5"]  # the shard moved on


def racing_writes(aws: AwsStack, first: str, second: str) -> None:
    """Two status changes as moto records two concurrent writers: it takes the stream's length as
    the next sequence number, so both records get the same one (DynamoDB never does this)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    for order_id in (first, second):
        aws.dynamodb.put_item(
            TableName=aws.orders_table, Item={"id": {"S": order_id}, "status": {"S": "awaiting_deposit"}}
        )
    for order_id in (first, second):
        confirm(aws, order_id)
    shard = dynamodb_backends[DEFAULT_ACCOUNT_ID][aws.region].get_table(aws.orders_table).stream_shard
    assert shard is not None
    earlier, last = shard.items[-2].record["dynamodb"], shard.items[-1].record["dynamodb"]
    last["SequenceNumber"] = earlier["SequenceNumber"]


def test_records_moto_numbered_alike_are_each_delivered_once_and_the_reader_catches_up(
    aws: AwsStack,
) -> None:
    delivered = Function()
    racing_writes(aws, "ord_1", "ord_2")
    bound, _ = mapping(aws, delivered)

    bound.poll()
    assert delivered.delivered == ["ord_1", "ord_2"]
    assert bound.poll() == 0  # caught up: the record read back after the last is not new
    status_changes(aws, "ord_3")
    bound.poll()

    assert delivered.delivered == ["ord_1", "ord_2", "ord_3"]


def test_a_failed_record_sharing_its_sequence_number_is_retried_not_skipped(aws: AwsStack) -> None:
    # The itemIdentifier names a sequence number two records carry: resume at the first of them.
    function = Function(poison={"ord_1"})
    status_changes(aws, "ord_0")
    racing_writes(aws, "ord_1", "ord_2")
    bound, _ = mapping(aws, function, maximum_retry_attempts=1)

    bound.poll()

    assert function.batches[0] == ["ord_0", "ord_1", "ord_2"]
    assert function.batches[1] == ["ord_1", "ord_2"]


def test_a_function_error_splits_the_batch_until_the_poison_is_alone(aws: AwsStack) -> None:
    function = Function(poison={"ord_3"}, raise_on_poison=True)
    status_changes(aws, "ord_1", "ord_2", "ord_3", "ord_4")
    bound, parked = mapping(aws, function, maximum_retry_attempts=0)

    bound.poll()

    assert function.batches == [
        ["ord_1", "ord_2", "ord_3", "ord_4"],
        ["ord_1", "ord_2"],
        ["ord_3", "ord_4"],
        ["ord_3"],
        ["ord_4"],
    ]
    assert [p["DDBStreamBatchInfo"]["batchSize"] for p in parked] == [1]


def test_without_bisect_the_whole_rest_of_the_batch_is_parked_after_its_retries(aws: AwsStack) -> None:
    function = Function(poison={"ord_1"}, raise_on_poison=True)
    status_changes(aws, "ord_1", "ord_2")
    bound, parked = mapping(aws, function, bisect_batch_on_function_error=False, maximum_retry_attempts=1)

    bound.poll()

    assert function.batches == [["ord_1", "ord_2"], ["ord_1", "ord_2"]]
    assert [p["DDBStreamBatchInfo"]["batchSize"] for p in parked] == [2]


def test_a_partial_response_is_ignored_unless_the_mapping_reports_item_failures(aws: AwsStack) -> None:
    function = Function(poison={"ord_1"})
    status_changes(aws, "ord_1", "ord_2")
    bound, parked = mapping(aws, function, report_batch_item_failures=False)

    bound.poll()

    assert function.batches == [["ord_1", "ord_2"]]
    assert parked == []


def test_an_item_identifier_outside_the_batch_fails_the_whole_batch(aws: AwsStack) -> None:
    calls: list[int] = []

    def confused(event: dict[str, Any]) -> Any:
        calls.append(len(event["Records"]))
        return {"batchItemFailures": [{"itemIdentifier": "not-a-sequence-number"}]}

    status_changes(aws, "ord_1")
    bound, parked = mapping(aws, confused, maximum_retry_attempts=1)

    bound.poll()

    assert calls == [1, 1]
    assert len(parked) == 1


def test_the_local_stack_on_moto_publishes_a_status_change_from_the_stream(tmp_path: Path) -> None:
    """Without Java the stack's DynamoDB is moto's: the same stream path runs on it."""
    import boto3

    options = StackOptions(
        api_port=0,
        sandbox_port=0,
        moto_port=0,
        dynamodb_port=0,
        dynamodb_local=False,
        state_dir=tmp_path,
        prewarm=False,
        serve_api=False,
        run_schedules=False,
        sandbox_step_seconds=0,
    )
    with LocalStack(options, quiet=True) as stack:
        assert stack.info is not None
        assert stack.info.dynamodb_engine == "moto"
        session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
        )
        dynamodb = session.client("dynamodb", endpoint_url=stack.info.dynamodb)
        sqs = session.client("sqs", endpoint_url=stack.info.moto)
        order = _stored_order_item()
        dynamodb.put_item(TableName=stack.info.orders_table, Item=order)
        dynamodb.update_item(
            TableName=stack.info.orders_table,
            Key={"id": order["id"]},
            UpdateExpression="SET #s = :s, #v = :v",
            ExpressionAttributeNames={"#s": "status", "#v": "version"},
            ExpressionAttributeValues={":s": {"S": "confirming"}, ":v": {"N": "3"}},
        )

        details = []
        deadline = time.monotonic() + 30
        while not details and time.monotonic() < deadline:
            answer = sqs.receive_message(QueueUrl=stack.info.bus_tap_queue_url, WaitTimeSeconds=1)
            details += [json.loads(m["Body"])["detail"] for m in answer.get("Messages", [])]

    assert [(d["eventId"], d["oldStatus"], d["newStatus"]) for d in details] == [
        (f"{order['id']['S']}:3", "awaiting_deposit", "confirming")
    ]


def _stored_order_item() -> dict[str, Any]:
    from datetime import UTC, datetime
    from decimal import Decimal

    from boto3.dynamodb.types import TypeSerializer

    from cryptosdk.domain.order import Leg, Order, Party, RateMode, new_order_id
    from cryptosdk.domain.status import OrderStatus
    from cryptosdk.storage.items import order_to_item

    now = datetime.now(UTC)
    order = Order(
        id=new_order_id(),
        user_id="user-1",
        from_leg=Leg(currency="BTC", network="BTC"),
        to_leg=Leg(currency="USDT", network="TRC20"),
        rate_mode=RateMode.FLOATING,
        claimed_deposit_amount=Decimal("0.01"),
        destination=Party(address="TXYZ"),
        status=OrderStatus.AWAITING_DEPOSIT,
        created_at=now,
        updated_at=now,
        version=2,
    )
    serializer = TypeSerializer()
    return {k: serializer.serialize(v) for k, v in order_to_item(order).items()}
