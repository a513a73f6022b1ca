"""The poller against moto (tables and bus from template.yaml) and the sandbox over real HTTP.

`world` bundles what a poller run needs (a real client on the sandbox, the moto store and bus, a
clock the test moves) and the helpers to seed orders in both places and drive them upstream.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import requests

from cryptosdk.domain.order import Leg, Order, Party, RateMode, StatusChange, new_order_id, shard_for
from cryptosdk.domain.status import OrderStatus
from cryptosdk.exchange.client import ExchangeClient
from cryptosdk.exchange.models import CreateOrderRequest, InstrumentRef
from cryptosdk.exchange.retry import RetryPolicy
from cryptosdk.exchange.secrets import StaticKeyProvider
from cryptosdk.orders.polling.options import PollerDeps, PollerOptions
from cryptosdk.orders.polling.run import PollSummary, poll_due_orders
from cryptosdk.orders.refresh import refresh_order
from cryptosdk.storage.orders import OrderStore
from local.aws_local import MotoServer, free_port
from local.provision import create_tables
from local.sandbox import SandboxServer
from local.sandbox.deposit_addresses import deposit_address
from local.streams import bind_mappings
from local.template import load_template
from tests.fixtures.aws import invoke_in_process
from tests.fixtures.dynamodb_local import DynamoDBLocalTables

SHARDS = 4
AMOUNT = Decimal("0.01")
# A real checksummed TRC20 address (the sandbox's own derivation, far from any order's index).
DESTINATION = deposit_address("TRC20", 7)[0]


class Clock:
    """The poller's idea of now: starts at the real time (the sandbox stamps orders with it) and
    only moves when the test says so, so next-poll times can be reached without waiting."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self.now

    def advance(self, delta: timedelta) -> datetime:
        with self._lock:
            self.now += delta
            return self.now


@dataclass
class World:
    sandbox: SandboxServer
    aws: Any
    store: OrderStore
    clock: Clock
    keys: StaticKeyProvider
    http: requests.Session
    clients: list[ExchangeClient] = field(default_factory=list)
    default_client: ExchangeClient | None = None
    # Runs the orders table's stream through OrderEventsFunction (default: moto's table).
    deliver_stream: Callable[[], int] | None = None
    # Where another process reaches the store's table (None: moto in this process only).
    dynamodb_endpoint: str | None = None

    # -- poller side --------------------------------------------------------------------------

    def client(self, max_attempts: int = 3, keys: StaticKeyProvider | None = None) -> ExchangeClient:
        client = ExchangeClient(
            self.sandbox.url,
            keys or self.keys,
            retry=RetryPolicy(max_attempts=max_attempts, base_delay=0.01, max_delay=0.05, deadline=10.0),
            read_timeout=2.0,
        )
        self.clients.append(client)
        return client

    def deps(self, client: ExchangeClient | None = None, store: OrderStore | None = None) -> PollerDeps:
        if client is None and self.default_client is None:
            self.default_client = self.client()
        return PollerDeps(
            client=client or self.default_client or self.client(),
            store=store or self.store,
            clock=self.clock,
            sleep=lambda seconds: self.clock.advance(timedelta(seconds=seconds)) and None,
        )

    def poll(
        self,
        *,
        deps: PollerDeps | None = None,
        remaining_ms: Callable[[], int] | None = None,
        **options: Any,
    ) -> PollSummary:
        options.setdefault("shard_count", SHARDS)
        options.setdefault("concurrency", 4)
        chosen = PollerOptions(**options)
        return poll_due_orders(remaining_ms=remaining_ms, deps=deps or self.deps(), options=chosen)

    def refresh_one(self, order: Order) -> Order:
        """The manual refresh of one order (the poller's per-order path, one write)."""
        return refresh_order(order.id, deps=self.deps(), options=PollerOptions(shard_count=SHARDS))

    def later(self, delta: timedelta = timedelta(hours=1)) -> None:
        """Move past every back-off (capped at 30 min) so each active order is due again."""
        self.clock.advance(delta)

    # -- seeding ------------------------------------------------------------------------------

    def upstream(self, client: ExchangeClient | None = None, amount: Decimal = AMOUNT) -> Any:
        request = CreateOrderRequest(
            instrument_from=InstrumentRef(currency_title="BTC", network_title="BTC"),
            instrument_to=InstrumentRef(currency_title="USDT", network_title="TRC20"),
            destination_address=DESTINATION,
            claimed_deposit_amount=amount,
        )
        return (client or self.client()).create_order(request)

    def intent(self, created_at: datetime | None = None, amount: Decimal = AMOUNT) -> Order:
        """A stored pending_create intent (no exchange id), due now."""
        now = created_at or self.clock()
        order_id = new_order_id()
        order = Order(
            id=order_id,
            user_id="user-1",
            external_ref=f"cart-{order_id[-6:]}",
            from_leg=Leg(currency="BTC", network="BTC"),
            to_leg=Leg(currency="USDT", network="TRC20"),
            rate_mode=RateMode.FLOATING,
            claimed_deposit_amount=amount,
            destination=Party(address=DESTINATION),
            status=OrderStatus.PENDING_CREATE,
            status_history=(StatusChange(status=OrderStatus.PENDING_CREATE, at=now, reason="intent"),),
            created_at=now,
            updated_at=now,
            version=1,
            poll_shard=shard_for(order_id, SHARDS),
            next_poll_at=now - timedelta(seconds=1),
        )
        return self.store.put_intent(order)

    def active_order(self, created_at: datetime | None = None) -> Order:
        """An order created upstream and stored as awaiting_deposit, due now."""
        upstream = self.upstream()
        now = created_at or self.clock()
        order_id = new_order_id()
        order = Order(
            id=order_id,
            user_id="user-1",
            external_ref=f"cart-{order_id[-6:]}",
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
                StatusChange(status=OrderStatus.PENDING_CREATE, at=now, reason="intent"),
                StatusChange(status=OrderStatus.AWAITING_DEPOSIT, at=now, reason="created upstream"),
            ),
            created_at=now,
            updated_at=now,
            version=1,
            poll_shard=shard_for(order_id, SHARDS),
            next_poll_at=now - timedelta(seconds=1),
        )
        return self.store.put_intent(order)

    # -- the sandbox's control API, over HTTP -------------------------------------------------

    def drive(self, order: Order, kind: str) -> None:
        url = f"{self.sandbox.url}/_sandbox/orders/{order.exchange_order_id}/events"
        answer = self.http.post(url, json={"kind": kind}, timeout=5)
        assert answer.status_code == 200, answer.text

    def fault(self, endpoint: str, kind: str, **spec: Any) -> None:
        spec = {"endpoint": endpoint, "kind": kind, **spec}
        answer = self.http.post(f"{self.sandbox.url}/_sandbox/faults", json=spec, timeout=5)
        assert answer.status_code == 201, answer.text

    def clear_faults(self) -> None:
        self.http.delete(f"{self.sandbox.url}/_sandbox/faults", timeout=5).raise_for_status()

    def requests_to(self, path: str) -> int:
        stats = self.http.get(f"{self.sandbox.url}/_sandbox/stats", timeout=5).json()
        return int(stats["requests"].get(path, 0))

    def new_keys(self) -> StaticKeyProvider:
        """A fresh key pair known to the sandbox: its order list starts empty."""
        public, secret = f"pk-{uuid.uuid4().hex[:12]}", f"sk-{uuid.uuid4().hex}"
        answer = self.http.post(
            f"{self.sandbox.url}/_sandbox/keys", json={"publicKey": public, "secretKey": secret}, timeout=5
        )
        answer.raise_for_status()
        return StaticKeyProvider(public, secret)

    # -- reading back -------------------------------------------------------------------------

    def stored(self, order: Order) -> Order:
        """The order with its poll schedule (its next_poll_at None once it has none)."""
        fresh = self.store.get(order.id, with_schedule=True)
        assert fresh is not None
        return fresh

    def item(self, order: Order) -> dict[str, Any]:
        return dict(self.aws.table().get_item(Key={"id": order.id}, ConsistentRead=True)["Item"])

    def received_events(self) -> list[dict[str, Any]]:
        """Events on the bus after the store's stream went through OrderEventsFunction."""
        (self.deliver_stream or self.aws.deliver_stream)()
        events: list[dict[str, Any]] = self.aws.received_events(deliver=False)
        return events

    def events_for(self, order: Order) -> list[tuple[str, str]]:
        return [
            (event["detail"]["oldStatus"], event["detail"]["newStatus"])
            for event in self.received_events()
            if event["detail"]["orderId"] == order.id
        ]


def _world(
    aws: Any,
    sandbox: SandboxServer,
    store: OrderStore,
    deliver_stream: Callable[[], int] | None = None,
    dynamodb_endpoint: str | None = None,
) -> Iterator[World]:
    http = requests.Session()
    keys = StaticKeyProvider(sandbox.public_key, sandbox.secret_key)
    built = World(
        sandbox,
        aws,
        store,
        Clock(),
        keys,
        http,
        deliver_stream=deliver_stream,
        dynamodb_endpoint=dynamodb_endpoint,
    )
    yield built
    built.clear_faults()
    for client in built.clients:
        client.close()
    http.close()


@pytest.fixture
def world(aws: Any, sandbox: SandboxServer) -> Iterator[World]:
    yield from _world(aws, sandbox, OrderStore(aws.orders_table))


@pytest.fixture
def world_on_dynamodb_local(
    aws: Any, sandbox: SandboxServer, dynamodb_local_tables: DynamoDBLocalTables
) -> Iterator[World]:
    """`world` with the orders table in DynamoDB Local: moto's conditional writes are not atomic
    under threads, so races between pollers are judged on the real engine."""
    store = OrderStore(dynamodb_local_tables.orders_table, client=dynamodb_local_tables.client)
    template = aws.names.template
    queues = {q: template.physical_name(q) for q in template.resources("AWS::SQS::Queue")}
    mappings = dynamodb_local_tables.stream_mappings(invoke_in_process, aws.sqs, queues)
    endpoint = dynamodb_local_tables.server.endpoint
    yield from _world(aws, sandbox, store, lambda: sum(m.poll() for m in mappings), endpoint)


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """moto's server (what the local stack runs when Java is missing), reachable from another
    process; it shares this process's moto state, which each test's `aws` resets."""
    with MotoServer(free_port()) as server:
        yield server.endpoint


@pytest.fixture
def world_on_moto_server(aws: Any, sandbox: SandboxServer, moto_server: str) -> Iterator[World]:
    """`world` with the orders table (and its stream) in moto's server."""
    import boto3

    names = {t.logical_id: f"{t.logical_id}-{uuid.uuid4().hex[:8]}" for t in load_template().tables()}
    template = load_template(physical_names=names)
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    client = session.client("dynamodb", endpoint_url=moto_server)
    create_tables(client, template)
    mappings = bind_mappings(
        template.stream_sources(),
        table_names=names,
        dynamodb=client,
        streams=session.client("dynamodbstreams", endpoint_url=moto_server),
        invoke=invoke_in_process,
        sqs=aws.sqs,
        queue_names={q: template.physical_name(q) for q in template.resources("AWS::SQS::Queue")},
        retry_delay_seconds=0.0,
    )
    store = OrderStore(names["OrdersTable"], client=client)
    yield from _world(aws, sandbox, store, lambda: sum(m.poll() for m in mappings), moto_server)


def history(order: Order) -> list[str]:
    return [change.status.value for change in order.status_history]
