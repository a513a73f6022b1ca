"""The outbox end to end: a status write reaches the bus through the orders table's stream and
OrderEventsFunction, run the way Lambda's event source mapping runs it (`local.streams`).

- a poller process killed right after its write still gets its event on the bus, exactly once;
- a poison record is retried, then parked in the failure queue, and the shard goes on: the
  changes written after it are published;
- the function answers a partial batch response naming only the record that failed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cryptosdk.domain.order import Order
from cryptosdk.domain.status import OrderStatus
from tests.fixtures.aws import invoke_in_process
from tests.integration.poller.conftest import World
from tests.integration.poller.dying_writer import DIED_AFTER_WRITE

FUNCTION = "OrderEventsFunction"
ROOT = Path(__file__).resolve().parents[3]


def details_for(world: World, order: Order) -> list[dict[str, Any]]:
    return [e["detail"] for e in world.received_events() if e["detail"]["orderId"] == order.id]


@pytest.mark.parametrize(
    "engine",
    [pytest.param("dynamodb_local", marks=pytest.mark.dynamodb_local), "moto_server"],
)
def test_a_poller_killed_right_after_its_write_still_gets_the_event_on_the_bus_exactly_once(
    engine: str, request: pytest.FixtureRequest
) -> None:
    world: World = request.getfixturevalue(f"world_on_{engine}")
    assert world.dynamodb_endpoint is not None
    order = world.active_order()
    world.drive(order, "INCOMING_FUNDS_DETECTED")
    sandbox = world.sandbox

    writer = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.integration.poller.dying_writer",
            world.dynamodb_endpoint,
            world.store.table_name,
            sandbox.url,
            sandbox.public_key,
            sandbox.secret_key,
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "layers" / "exchange")])},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert writer.returncode == DIED_AFTER_WRITE, writer.stderr
    stored = world.stored(order)
    assert (stored.status, stored.version) == (OrderStatus.CONFIRMING, 2)
    assert world.aws.received_events(deliver=False) == []  # the writer published nothing
    details = details_for(world, order)
    assert [(d["oldStatus"], d["newStatus"], d["eventId"]) for d in details] == [
        ("awaiting_deposit", "confirming", f"{order.id}:2")
    ]
    assert (world.deliver_stream or world.aws.deliver_stream)() == 0  # nothing left to deliver
    assert len(details_for(world, order)) == 1


def poison(world: World, order: Order) -> None:
    """A write no code of ours makes: an order whose new status is not one of ours."""
    world.aws.dynamodb.update_item(
        TableName=world.aws.orders_table,
        Key={"id": {"S": order.id}},
        UpdateExpression="SET #s = :s, #v = #v + :one",
        ExpressionAttributeNames={"#s": "status", "#v": "version"},
        ExpressionAttributeValues={":s": {"S": "teleported"}, ":one": {"N": "1"}},
    )


def test_a_poison_record_lands_in_the_failure_queue_and_the_records_after_it_are_published(
    world: World,
) -> None:
    before, broken, after = (world.active_order() for _ in range(3))
    for order in (before, broken, after):
        world.drive(order, "INCOMING_FUNDS_DETECTED")
    world.refresh_one(before)
    poison(world, broken)
    world.refresh_one(after)
    (mapping,) = world.aws.mappings
    retries = mapping.source.maximum_retry_attempts

    published = {e["detail"]["eventId"] for e in world.received_events()}

    assert f"{before.id}:2" in published
    assert f"{after.id}:2" in published  # written after the poison: the shard was not blocked
    assert not any(event_id.startswith(broken.id) for event_id in published)
    (parked,) = world.aws.failure_queue_messages()
    info = parked["DDBStreamBatchInfo"]
    assert info["batchSize"] == 1  # bisected down to the poison record alone
    assert info["startSequenceNumber"] == info["endSequenceNumber"]
    assert info["streamArn"] == mapping.stream_arn
    assert parked["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert parked["requestContext"]["approximateInvokeCount"] == retries + 1
    assert parked["requestContext"]["functionArn"].endswith(f":function:{FUNCTION}")
    assert mapping.stats.parked_records == 1
    # The shard moved on: a later change is delivered on the next poll.
    world.drive(before, "DEPOSIT_REGISTERED")
    world.later()
    world.refresh_one(before)
    assert f"{before.id}:3" in {e["detail"]["eventId"] for e in world.received_events()}
    assert world.aws.failure_queue_messages() == []


def test_the_function_fails_only_the_poison_record_of_a_batch(world: World) -> None:
    good, broken = world.active_order(), world.active_order()
    world.drive(good, "INCOMING_FUNDS_DETECTED")
    world.refresh_one(good)
    poison(world, broken)
    records = read_all_records(world)
    sequences = {r["dynamodb"]["Keys"]["id"]["S"]: r["dynamodb"]["SequenceNumber"] for r in records}

    answer = invoke_in_process(FUNCTION, {"Records": records})

    assert answer == {"batchItemFailures": [{"itemIdentifier": sequences[broken.id]}]}
    assert [e["detail"]["orderId"] for e in world.aws.received_events(deliver=False)] == [good.id]


def read_all_records(world: World) -> list[dict[str, Any]]:
    """Every MODIFY record of the orders stream so far, as Lambda would hand them over."""
    from local.streams import lambda_record

    streams, arn = world.aws.streams, world.aws.mappings[0].stream_arn
    (shard,) = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )
    records = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    return [lambda_record(r, arn) for r in records if r["eventName"] == "MODIFY"]
