"""The orders table from template.yaml on the real DynamoDB engine (DynamoDB Local).

moto is lenient where DynamoDB is not (key types, GSI key values, condition races), so the
storage suite runs here too, plus checks of what OrderStore relies on from the engine: the
conditional PutItem/UpdateItem it makes (OrderStore never uses transactions).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from botocore.exceptions import ClientError

from cryptosdk.domain.order import ChangeCause, Order, StaleOrderError
from cryptosdk.domain.status import OrderStatus
from cryptosdk.storage.orders import OrderStore
from tests.fixtures.dynamodb_local import DynamoDBLocalTables
from tests.integration.storage import test_order_store as moto_suite
from tests.integration.storage.test_order_store import *  # noqa: F403 - the moto suite, re-run here
from tests.integration.storage.test_order_store import T0, complete

pytestmark = pytest.mark.dynamodb_local


@pytest.fixture
def store(dynamodb_local_tables: DynamoDBLocalTables) -> OrderStore:
    """Overrides the suite's moto-backed store: every imported test runs on DynamoDB Local."""
    return OrderStore(dynamodb_local_tables.orders_table, client=dynamodb_local_tables.client)


def test_the_whole_storage_suite_is_collected_here() -> None:
    suite = {name for name in dir(moto_suite) if name.startswith("test_")}
    assert suite, "the moto storage suite has no tests to re-run"
    assert suite <= set(globals())


def test_the_template_tables_exist_with_both_indexes(dynamodb_local_tables: DynamoDBLocalTables) -> None:
    table = dynamodb_local_tables.client.describe_table(TableName=dynamodb_local_tables.orders_table)["Table"]
    indexes = {gsi["IndexName"]: gsi for gsi in table["GlobalSecondaryIndexes"]}
    assert set(indexes) == {"ByUserKeys", "DueForPoll"}
    assert all(gsi["IndexStatus"] == "ACTIVE" for gsi in indexes.values())
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"


def test_a_gsi_key_of_the_wrong_type_is_refused(dynamodb_local_tables: DynamoDBLocalTables) -> None:
    # Real DynamoDB validates index key attributes on every write; this is what keeps a bad
    # item out of DueForPoll instead of silently missing from it.
    with pytest.raises(ClientError) as refused:
        dynamodb_local_tables.client.put_item(
            TableName=dynamodb_local_tables.orders_table,
            Item={"id": {"S": "o-1"}, "pollShard": {"N": "1"}, "nextPollAt": {"S": "2026-03-01T12:00:00Z"}},
        )
    assert refused.value.response["Error"]["Code"] == "ValidationException"


def test_due_for_poll_query_sees_only_active_orders_in_time_order(
    store: OrderStore, make_intent: Callable[..., Order]
) -> None:
    # Backed off past the poller's one-minute period, so each schedule item really moves (a
    # schedule due again within a minute is left as it is: no write).
    later = complete(store, store.put_intent(make_intent()), next_poll_at=T0 + timedelta(minutes=20))
    sooner = complete(store, store.put_intent(make_intent()), next_poll_at=T0 + timedelta(minutes=10))
    finished = complete(store, store.put_intent(make_intent()), next_poll_at=T0)
    store.mark_failed(finished, "the exchange refused it", cause=ChangeCause.REFUSAL)

    due, _ = store.due_for_poll("0", T0 + timedelta(minutes=30))

    assert [order.id for order in due] == [sooner.id, later.id]


def test_concurrent_conditional_updates_let_exactly_one_writer_win(
    store: OrderStore, make_intent: Callable[..., Order]
) -> None:
    # A real race: several threads hold the same version and write at once.
    done = complete(store, store.put_intent(make_intent()))
    outcomes: list[str] = []
    barrier = threading.Barrier(4)

    def write() -> None:
        barrier.wait()
        try:
            store.apply_update(done, {"status": OrderStatus.EXCHANGING})
            outcomes.append("won")
        except StaleOrderError:
            outcomes.append("stale")

    threads = [threading.Thread(target=write) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["stale", "stale", "stale", "won"]
    assert store.get(done.id).version == done.version + 1  # type: ignore[union-attr]
