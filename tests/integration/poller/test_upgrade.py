"""The storage upgrade on DynamoDB Local and moto's server: orders the old code wrote (poll
schedule inline on the order item, in DueForPoll) are still polled, listed and shown; the first
write to one moves its schedule into a poll#<id> item; schedule moves batched by
BatchExecuteStatement keep their per-item conditions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from boto3.dynamodb.types import TypeSerializer

from cryptosdk.domain.order import Leg, Order, Party, RateMode, StatusChange, new_order_id, shard_for
from cryptosdk.domain.status import OrderStatus
from cryptosdk.storage.items import order_to_item, schedule_id
from cryptosdk.storage.orders import OrderStore
from cryptosdk.storage.schedule import ScheduleMove, ScheduleWriteError
from tests.integration.poller.conftest import AMOUNT, DESTINATION, SHARDS, World

ENGINES = [pytest.param("dynamodb_local", marks=pytest.mark.dynamodb_local), "moto_server"]


def legacy_order(world: World) -> Order:
    """An order exactly as the code before the schedule items wrote it: pollShard, nextPollAt and
    pollFailures on the order item itself (a raw PutItem, no code of the new store involved)."""
    upstream = world.upstream()
    now = world.clock()
    order_id = new_order_id()
    order = Order(
        id=order_id,
        user_id="user-legacy",
        exchange_order_id=upstream.order_id,
        from_leg=Leg(currency="BTC", network="BTC"),
        to_leg=Leg(currency="USDT", network="TRC20"),
        rate_mode=RateMode.FLOATING,
        claimed_deposit_amount=AMOUNT,
        amount_to_receive=upstream.amount_to_get,
        destination=Party(address=DESTINATION),
        deposit_address=upstream.deposit_address.deposit_address,
        status=OrderStatus.AWAITING_DEPOSIT,
        status_history=(
            StatusChange(status=OrderStatus.AWAITING_DEPOSIT, at=now, reason="created upstream"),
        ),
        created_at=now,
        updated_at=now,
        version=3,
        poll_shard=shard_for(order_id, SHARDS),
        next_poll_at=now - timedelta(seconds=5),
        poll_failures=0,
    )
    serializer = TypeSerializer()
    item = {k: serializer.serialize(v) for k, v in order_to_item(order).items()}
    assert {"pollShard", "nextPollAt", "pollFailures"} <= set(item)
    raw_client(world).put_item(TableName=world.store.table_name, Item=item)
    return order


def raw_client(world: World) -> Any:
    """The store's own boto3 client, for writes and reads the old code made or a test inspects."""
    return world.store._client


def raw_item(world: World, key: str) -> dict[str, Any] | None:
    item = raw_client(world).get_item(
        TableName=world.store.table_name, Key={"id": {"S": key}}, ConsistentRead=True
    )
    return item.get("Item")


@pytest.mark.parametrize("engine", ENGINES)
def test_an_order_the_old_code_wrote_is_listed_polled_and_moved_to_a_schedule_item(
    engine: str, request: pytest.FixtureRequest
) -> None:
    world: World = request.getfixturevalue(f"world_on_{engine}")
    order = legacy_order(world)

    listed, _ = world.store.list_by_user("user-legacy")
    assert [o.id for o in listed] == [order.id]  # ByUserKeys holds it (its keys), read by id
    assert world.store.get(order.id) == order  # shown as it was written

    first = world.poll()

    assert (first.due, first.polled, first.changed) == (1, 1, 0)
    migrated = raw_item(world, order.id)
    assert migrated is not None
    assert not {"pollShard", "nextPollAt", "pollFailures"} & set(migrated)
    assert int(migrated["version"]["N"]) == order.version + 1
    schedule = raw_item(world, schedule_id(order.id))
    assert schedule is not None
    assert schedule["pollShard"]["S"] == order.poll_shard
    assert schedule["orderId"]["S"] == order.id
    assert world.events_for(order) == []  # the move is no status change

    world.drive(order, "INCOMING_FUNDS_DETECTED")
    world.later(timedelta(minutes=2))
    second = world.poll()

    assert (second.due, second.changed) == (1, 1)  # found through its schedule item now
    assert world.stored(order).status == OrderStatus.CONFIRMING
    assert world.events_for(order) == [("awaiting_deposit", "confirming")]

    world.drive(order, "WITHDRAWAL_COMPLETED")
    world.later(timedelta(minutes=2))
    world.poll()

    assert world.stored(order).status == OrderStatus.COMPLETED
    assert raw_item(world, schedule_id(order.id)) is None  # a terminal order has no schedule
    world.later(timedelta(hours=2))
    assert world.poll().due == 0


@pytest.mark.parametrize("engine", ENGINES)
def test_a_schedule_without_its_order_or_of_an_ended_order_is_deleted_when_it_comes_due(
    engine: str, request: pytest.FixtureRequest
) -> None:
    world: World = request.getfixturevalue(f"world_on_{engine}")
    order = world.active_order()
    # A create that died between its two puts: the schedule is there, the order is not.
    raw_client(world).delete_item(TableName=world.store.table_name, Key={"id": {"S": order.id}})

    summary = world.poll()

    assert summary.due == 0
    assert raw_item(world, schedule_id(order.id)) is None


@pytest.mark.dynamodb_local
def test_each_batched_schedule_move_keeps_its_own_condition(world_on_dynamodb_local: World) -> None:
    # moto's server carries the conditions out but does not report a refused one per statement,
    # so the per-item outcome is judged on DynamoDB Local.
    world = world_on_dynamodb_local
    moved, raced, gone = (world.active_order() for _ in range(3))
    later = world.clock() + timedelta(minutes=5)
    # Another writer moved `raced` after our read; `gone` ended and lost its schedule.
    world.store.write_schedule_moves([ScheduleMove(raced.id, later + timedelta(minutes=1), 0, None)])
    raw_client(world).delete_item(TableName=world.store.table_name, Key={"id": {"S": schedule_id(gone.id)}})

    written, conflicts = world.store.write_schedule_moves(
        [ScheduleMove(o.id, later, 0, o.next_poll_at) for o in (moved, raced, gone)]
    )

    assert (written, conflicts) == (1, 2)
    assert world.stored(moved).next_poll_at == later
    assert world.stored(raced).next_poll_at == later + timedelta(minutes=1)  # theirs stands
    assert raw_item(world, schedule_id(gone.id)) is None  # never recreated by an update


class RefusingScheduleStore(OrderStore):
    """DynamoDB refusing every schedule batch (throttled, say): the fault, not a stand-in."""

    def write_schedule_moves(self, moves: Any) -> tuple[int, int]:
        raise ScheduleWriteError("ProvisionedThroughputExceeded")


def test_a_schedule_batch_that_fails_leaves_the_orders_due_and_the_run_finishes(world: World) -> None:
    orders = [world.active_order() for _ in range(3)]
    world.later(timedelta(minutes=10))  # waited long enough that each poll backs off (a move)
    store = RefusingScheduleStore(world.store.table_name, client=raw_client(world))

    summary = world.poll(deps=world.deps(store=store))

    assert (summary.polled, summary.failed, summary.schedule_writes) == (3, 0, 0)
    for order in orders:
        assert world.stored(order).next_poll_at == order.next_poll_at  # still due: polled again next run
    assert world.poll().due == 3
