"""The moto world the `aws` fixture builds matches template.yaml, and behaves the way the layer
relies on: sparse poll index, TTL, the secret's key pair, events readable from the bus."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from local.provision import provision, sandbox_key_pair
from local.template import load_template
from tests.fixtures.aws import AwsStack


def test_tables_match_the_template(aws: AwsStack) -> None:
    for table in load_template().tables():
        described = aws.dynamodb.describe_table(TableName=table.name)["Table"]
        assert described["KeySchema"] == table.key_schema
        assert sorted(described["AttributeDefinitions"], key=str) == sorted(
            table.attribute_definitions, key=str
        )
        indexes = {i["IndexName"]: i for i in described.get("GlobalSecondaryIndexes", [])}
        assert set(indexes) == {i["IndexName"] for i in table.global_secondary_indexes}
        for expected in table.global_secondary_indexes:
            assert indexes[expected["IndexName"]]["KeySchema"] == expected["KeySchema"]
            assert indexes[expected["IndexName"]]["Projection"] == expected["Projection"]
        ttl = aws.dynamodb.describe_time_to_live(TableName=table.name)["TimeToLiveDescription"]
        assert ttl["AttributeName"] == table.ttl_attribute
        assert ttl["TimeToLiveStatus"] == "ENABLED"


def test_environment_names_the_created_resources(aws: AwsStack) -> None:
    assert os.environ["ORDERS_TABLE"] == aws.orders_table
    assert os.environ["IDEMPOTENCY_TABLE"] == aws.idempotency_table
    assert os.environ["EXCHANGE_SECRET_ID"] == aws.secret_id
    assert os.environ["EVENT_BUS_NAME"] == aws.event_bus_name
    tables = aws.dynamodb.list_tables()["TableNames"]
    assert {aws.orders_table, aws.idempotency_table} <= set(tables)
    buses = {b["Name"] for b in aws.events.list_event_buses()["EventBuses"]}
    assert aws.event_bus_name in buses


def test_secret_holds_the_sandbox_key_pair(aws: AwsStack) -> None:
    from aws_lambda_powertools.utilities import parameters

    value = parameters.get_secret(os.environ["EXCHANGE_SECRET_ID"], transform="json")
    assert value == sandbox_key_pair()
    assert set(value) == {"publicKey", "secretKey"}


def test_secret_follows_sandbox_key_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SANDBOX_PUBLIC_KEY", "pk-from-env")
    monkeypatch.setenv("SANDBOX_SECRET_KEY", "sk-from-env")
    assert sandbox_key_pair() == {"publicKey": "pk-from-env", "secretKey": "sk-from-env"}


def test_events_put_on_the_bus_can_be_read_back(aws: AwsStack) -> None:
    detail = {"orderId": "o-1", "oldStatus": "awaiting_deposit", "newStatus": "confirming"}
    result = aws.events.put_events(
        Entries=[
            {
                "EventBusName": aws.event_bus_name,
                "Source": "cryptosdk.orders",
                "DetailType": "OrderStatusChanged",
                "Detail": json.dumps(detail),
            }
        ]
    )
    assert result["FailedEntryCount"] == 0
    (event,) = aws.received_events()
    assert event["source"] == "cryptosdk.orders"
    assert event["detail-type"] == "OrderStatusChanged"
    assert event["detail"] == detail
    assert len(aws.received_events()) == 1  # drained once, the running total stays


def test_events_on_another_bus_are_not_received(aws: AwsStack) -> None:
    aws.events.put_events(Entries=[{"Source": "elsewhere", "DetailType": "X", "Detail": "{}"}])
    assert aws.received_events() == []


def _order_item(order_id: str, **extra: str) -> dict[str, Any]:
    item = {
        "id": {"S": order_id},
        "userId": {"S": "user-1"},
        "createdAt": {"S": "2026-01-01T00:00:00.000000Z"},
    }
    item.update({k: {"S": v} for k, v in extra.items()})
    return item


def test_due_for_poll_index_is_sparse(aws: AwsStack) -> None:
    active = _order_item("active", pollShard="0", nextPollAt="2026-01-01T00:01:00.000000Z")
    aws.dynamodb.put_item(TableName=aws.orders_table, Item=active)
    aws.dynamodb.put_item(TableName=aws.orders_table, Item=_order_item("terminal"))
    due = aws.dynamodb.query(
        TableName=aws.orders_table,
        IndexName="DueForPoll",
        KeyConditionExpression="pollShard = :s AND nextPollAt <= :now",
        ExpressionAttributeValues={":s": {"S": "0"}, ":now": {"S": "2026-01-01T00:05:00.000000Z"}},
    )["Items"]
    assert [i["id"]["S"] for i in due] == ["active"]
    by_user = aws.dynamodb.query(
        TableName=aws.orders_table,
        IndexName="ByUserKeys",
        KeyConditionExpression="userId = :u",
        ExpressionAttributeValues={":u": {"S": "user-1"}},
    )["Items"]
    assert {i["id"]["S"] for i in by_user} == {"active", "terminal"}


@pytest.mark.parametrize("run", [1, 2])
def test_each_test_gets_a_fresh_world(aws: AwsStack, run: int) -> None:
    assert aws.table().scan()["Items"] == []
    assert aws.received_events() == []
    aws.table().put_item(Item={"id": f"left-behind-{run}"})
    aws.events.put_events(
        Entries=[{"EventBusName": aws.event_bus_name, "Source": "t", "DetailType": "X", "Detail": "{}"}]
    )


def test_cached_settings_follow_the_fixture(aws: AwsStack) -> None:
    from cryptosdk.container import container

    os.environ["EXCHANGE_API_URL"] = "http://127.0.0.1:9"
    try:
        assert container().settings.orders_table == aws.orders_table
        assert container().settings.event_bus_name == aws.event_bus_name
    finally:
        del os.environ["EXCHANGE_API_URL"]


def test_provision_is_repeatable_and_replaces_the_secret(aws: AwsStack) -> None:
    new_keys = {"publicKey": "rotated-public", "secretKey": "rotated-secret"}
    provision(aws.dynamodb, aws.secretsmanager, aws.events, aws.names, exchange_keys=new_keys)
    stored = aws.secretsmanager.get_secret_value(SecretId=aws.secret_id)["SecretString"]
    assert json.loads(stored) == new_keys
    assert len(aws.dynamodb.list_tables()["TableNames"]) == len(load_template().tables())


def test_app_env_points_at_the_sandbox(app_env: AwsStack, sandbox: Any) -> None:
    from cryptosdk.container import container

    settings = container().settings
    assert settings.exchange_api_url == sandbox.url
    assert settings.orders_table == app_env.orders_table
