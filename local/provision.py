"""Create what template.yaml declares (tables, secrets, buses, queues) in a local AWS: moto in process,
moto server, or DynamoDB Local. Tests (`tests/fixtures/aws.py`) and `make run` share this.

    names = stack_names(load_template())
    provision(dynamodb, secretsmanager, events, names)          # secret = the sandbox key pair
    os.environ.update(names.environment())                      # ORDERS_TABLE, ... for handlers

Re-running against a server that already has the resources is fine (a restarted `make run`
against a persistent DynamoDB Local): existing tables, secrets and buses are kept and the secret
value is replaced.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from local.template import Template, load_template

# The four variables that connect a function to the stack's resources (cryptosdk.runtime.config names).
RESOURCE_VARIABLES = ("ORDERS_TABLE", "IDEMPOTENCY_TABLE", "EXCHANGE_SECRET_ID", "EVENT_BUS_NAME")


@dataclass(frozen=True)
class StackNames:
    """Physical names of the stack's resources, as the functions see them in their environment."""

    orders_table: str
    idempotency_table: str
    exchange_secret_id: str
    event_bus_name: str
    template: Template

    def environment(self) -> dict[str, str]:
        return {
            "ORDERS_TABLE": self.orders_table,
            "IDEMPOTENCY_TABLE": self.idempotency_table,
            "EXCHANGE_SECRET_ID": self.exchange_secret_id,
            "EVENT_BUS_NAME": self.event_bus_name,
        }


def stack_names(template: Template | None = None) -> StackNames:
    """Names taken from the template's Globals environment, so they follow the template."""
    template = template if template is not None else load_template()
    env = template.shared_environment(RESOURCE_VARIABLES)
    return StackNames(
        orders_table=env["ORDERS_TABLE"],
        idempotency_table=env["IDEMPOTENCY_TABLE"],
        exchange_secret_id=env["EXCHANGE_SECRET_ID"],
        event_bus_name=env["EVENT_BUS_NAME"],
        template=template,
    )


def sandbox_key_pair() -> dict[str, str]:
    """The sandbox's key pair in the secret's JSON shape (env SANDBOX_PUBLIC_KEY/SECRET_KEY)."""
    from local.sandbox import DEFAULT_PUBLIC_KEY, DEFAULT_SECRET_KEY

    return {
        "publicKey": os.environ.get("SANDBOX_PUBLIC_KEY") or DEFAULT_PUBLIC_KEY,
        "secretKey": os.environ.get("SANDBOX_SECRET_KEY") or DEFAULT_SECRET_KEY,
    }


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def create_tables(dynamodb: Any, template: Template) -> list[str]:
    """Every AWS::DynamoDB::Table of the template, with its TTL; returns the table names."""
    names = []
    for table in template.tables():
        try:
            status = dynamodb.create_table(**table.create_kwargs)["TableDescription"]["TableStatus"]
        except ClientError as exc:
            if _error_code(exc) != "ResourceInUseException":
                raise
            status = "EXISTING"
        # moto and DynamoDB Local answer ACTIVE at once; only a slower server needs the waiter.
        if status != "ACTIVE":
            dynamodb.get_waiter("table_exists").wait(
                TableName=table.name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
            )
        if table.ttl_attribute:
            _enable_ttl(dynamodb, table.name, table.ttl_attribute)
        names.append(table.name)
    return names


def _enable_ttl(dynamodb: Any, table_name: str, attribute: str) -> None:
    current = dynamodb.describe_time_to_live(TableName=table_name)["TimeToLiveDescription"]
    if current.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
        return
    dynamodb.update_time_to_live(
        TableName=table_name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": attribute},
    )


def create_secrets(
    secretsmanager: Any, template: Template, values: Mapping[str, Mapping[str, str]]
) -> list[str]:
    """Every secret of the template; `values` maps a secret's name to its JSON value.

    A secret without a value is created empty, exactly as the stack creates it.
    """
    names = []
    for secret in template.secrets():
        value = values.get(secret.name)
        kwargs: dict[str, Any] = {"Name": secret.name, "Description": secret.description}
        if value is not None:
            kwargs["SecretString"] = json.dumps(dict(value))
        try:
            secretsmanager.create_secret(**kwargs)
        except ClientError as exc:
            if _error_code(exc) != "ResourceExistsException":
                raise
            if value is not None:
                secretsmanager.put_secret_value(SecretId=secret.name, SecretString=kwargs["SecretString"])
        names.append(secret.name)
    return names


def create_event_buses(events: Any, template: Template) -> list[str]:
    names = []
    for name in template.event_bus_names():
        try:
            events.create_event_bus(Name=name)
        except ClientError as exc:
            if _error_code(exc) != "ResourceAlreadyExistsException":
                raise
        names.append(name)
    return names


def create_queues(sqs: Any, template: Template) -> dict[str, str]:
    """Every AWS::SQS::Queue of the template (the stream's failure destination); name -> URL.
    CreateQueue with the same name and attributes returns the existing queue."""
    return {name: str(sqs.create_queue(QueueName=name)["QueueUrl"]) for name in template.queue_names()}


def provision(
    dynamodb: Any,
    secretsmanager: Any,
    events: Any,
    names: StackNames,
    *,
    exchange_keys: Mapping[str, str] | None = None,
    sqs: Any = None,
) -> None:
    """Create the stack's tables, secrets, buses and (given an SQS client) queues; the exchange
    secret holds `exchange_keys` (default: the sandbox's key pair)."""
    keys = exchange_keys if exchange_keys is not None else sandbox_key_pair()
    create_tables(dynamodb, names.template)
    create_secrets(secretsmanager, names.template, {names.exchange_secret_id: keys})
    create_event_buses(events, names.template)
    if sqs is not None:
        create_queues(sqs, names.template)


def make_clients(
    *,
    aws_endpoint_url: str | None = None,
    dynamodb_endpoint_url: str | None = None,
    region: str = "us-east-1",
) -> tuple[Any, Any, Any]:
    """boto3 clients (dynamodb, secretsmanager, events); DynamoDB may live on its own endpoint
    (DynamoDB Local) while the rest use the moto server."""
    import boto3

    session = boto3.session.Session(region_name=region)
    dynamodb = session.client("dynamodb", endpoint_url=dynamodb_endpoint_url or aws_endpoint_url)
    secretsmanager = session.client("secretsmanager", endpoint_url=aws_endpoint_url)
    events = session.client("events", endpoint_url=aws_endpoint_url)
    return dynamodb, secretsmanager, events
