"""What 1,000 completed orders cost: a lifecycle simulation on DynamoDB Local and the sandbox.

    python -m bench.cost [--orders 20] [--dynamodb auto|local|moto]     (make cost)

N orders go through the whole life the price model assumes (bench/prices.py): address check and
create through the order service (Powertools idempotency included), the sandbox moving each
order at fixed minutes, one poller run per simulated minute with the poller's own clients, the
reads a user makes, until every order is completed. Nothing of ours is wrapped: every boto3
client created during the run gets botocore event hooks (`before-parameter-build` asks DynamoDB
for ReturnConsumedCapacity=INDEXES, `after-call` sums what it answers per table and index and
counts Secrets Manager and EventBridge calls). DynamoDB Local reports index capacity; a call that
answers without it is counted and named in the output.

What a local run cannot measure (the exchange's latency, how many containers stay warm) comes
from the assumptions in bench/prices.py. The naive integration is computed by the same model
from the item sizes this run measured.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import threading
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import requests

from bench import prices
from bench.poller import LOCAL_CREDENTIALS, REGION, _quiet_environment, servers

READ_OPS = frozenset({"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"})
WRITE_OPS = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})
PARTIQL_OPS = frozenset({"ExecuteStatement", "BatchExecuteStatement", "ExecuteTransaction"})
CAPACITY_OPS = READ_OPS | WRITE_OPS | PARTIQL_OPS
USER = "cost-user"


# -- the meter: botocore hooks on every client of the run -----------------------------------------


@dataclass
class Meter:
    """Consumed capacity per (table or index, read|write), calls per operation, item writes by key."""

    units: Counter[tuple[str, str]] = field(default_factory=Counter)
    calls: Counter[str] = field(default_factory=Counter)
    events_entries: int = 0
    no_capacity: Counter[str] = field(default_factory=Counter)
    order_item_writes: int = 0
    computed_statements: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def attach(self, client: Any) -> None:
        events = client.meta.events
        service = client.meta.service_model.service_name
        if service == "dynamodb":
            events.register("before-parameter-build.dynamodb", self._ask_capacity)
            events.register("after-call.dynamodb", self._dynamodb_answer)
        events.register(f"after-call.{client.meta.service_model.endpoint_prefix}", self._count_call)
        if service == "events":
            events.register("before-parameter-build.events.PutEvents", self._count_entries)

    def _ask_capacity(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        if model.name in CAPACITY_OPS:
            params["ReturnConsumedCapacity"] = "INDEXES"
            context["cost_kind"] = _kind(model.name, params)
            context["cost_order_writes"] = _order_writes(model.name, params)
            statements = params.get("Statements", [])
            if statements:
                context["cost_table"] = statements[0].get("Statement", "").split('"')[1]

    def _dynamodb_answer(self, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        kind = context.get("cost_kind")
        if kind is None:
            return
        consumed = parsed.get("ConsumedCapacity")
        entries = consumed if isinstance(consumed, list) else [consumed] if consumed else []
        with self.lock:
            self.order_item_writes += int(context.get("cost_order_writes", 0))
            if not entries and model.name == "BatchExecuteStatement" and kind == "write":
                self._computed_moves(parsed, context)
                return
            if not entries:
                self.no_capacity[model.name] += 1
            for entry in entries:
                table = entry.get("TableName", "?")
                table_units = entry.get("Table", {}).get("CapacityUnits")
                if table_units is None and "GlobalSecondaryIndexes" not in entry:
                    table_units = entry.get("CapacityUnits", 0)
                self.units[(table, kind)] += float(table_units or 0)
                for index, used in entry.get("GlobalSecondaryIndexes", {}).items():
                    self.units[(f"{table}.{index}", kind)] += float(used.get("CapacityUnits", 0))

    def _computed_moves(self, parsed: dict[str, Any], context: dict[str, Any]) -> None:
        """Schedule moves DynamoDB Local carried out but did not bill (see prices.py)."""
        table = context.get("cost_table", "?")
        done = sum(1 for r in parsed.get("Responses", []) if "Error" not in r)
        self.computed_statements += done
        self.units[(table, "write")] += done * prices.SCHEDULE_MOVE_UNITS["table"]
        self.units[(f"{table}.DueForPoll", "write")] += done * prices.SCHEDULE_MOVE_UNITS["DueForPoll"]

    def _count_call(self, model: Any, **_: Any) -> None:
        with self.lock:
            self.calls[f"{model.service_model.service_name}.{model.name}"] += 1

    def _count_entries(self, params: dict[str, Any], **_: Any) -> None:
        with self.lock:
            self.events_entries += len(params.get("Entries", []))

    def snapshot(self) -> tuple[Counter[tuple[str, str]], Counter[str]]:
        with self.lock:
            return Counter(self.units), Counter(self.calls)

    def total(self, kind: str) -> float:
        return sum(v for (_, k), v in self.units.items() if k == kind)


def _kind(operation: str, params: dict[str, Any]) -> str:
    if operation in READ_OPS:
        return "read"
    if operation in WRITE_OPS:
        return "write"
    statements = [
        s.get("Statement", "") for s in params.get("Statements", params.get("TransactStatements", []))
    ]
    statements = statements or [params.get("Statement", "")]
    return "read" if all(s.lstrip().upper().startswith("SELECT") for s in statements) else "write"


def _order_writes(operation: str, params: dict[str, Any]) -> int:
    """Updates of order items (keys `ord_...`): each is a MODIFY record the stream function's
    filter lets through (a new intent's INSERT is filtered out)."""
    if operation == "UpdateItem":
        return int(params.get("Key", {}).get("id", {}).get("S", "").startswith("ord_"))
    if operation == "BatchExecuteStatement":
        count = 0
        for statement in params.get("Statements", []):
            text = statement.get("Statement", "").lstrip().upper()
            values = [p.get("S", "") for p in statement.get("Parameters", []) if isinstance(p, dict)]
            count += int(not text.startswith("SELECT") and any(v.startswith("ord_") for v in values))
        return count
    return 0


@contextmanager
def metered(meter: Meter) -> Iterator[None]:
    """Every botocore client created inside the block is metered (ours, Powertools', the bench's)."""
    import botocore.session

    original = botocore.session.Session.create_client

    def create_client(self: Any, *args: Any, **kwargs: Any) -> Any:
        client = original(self, *args, **kwargs)
        meter.attach(client)
        return client

    botocore.session.Session.create_client = create_client  # type: ignore[method-assign]
    try:
        yield
    finally:
        botocore.session.Session.create_client = original  # type: ignore[method-assign]


# -- the simulation ------------------------------------------------------------------------------


@dataclass
class Invocation:
    """One function invocation as the simulation ran it: `wall` is the duration billed in AWS,
    estimated as the CPU the work took here (the machine is shared, so its wall time is not) plus
    the assumed latency of each AWS call it made (exchange calls are added by the model)."""

    function: str
    wall: float
    exchange_calls: int


@dataclass
class Tally:
    invocations: list[Invocation] = field(default_factory=list)
    poll_ticks: list[Invocation] = field(default_factory=list)
    idle_tick: Invocation | None = None
    polls: int = 0
    status_changes: int = 0
    exchange_calls: int = 0
    final_item_bytes: list[int] = field(default_factory=list)
    # Status changes over the orders' lives (history entries after the first): one event each.
    lifetime_changes: int = 0


class Sandbox:
    def __init__(self, url: str) -> None:
        self.url = url
        self.session = requests.Session()

    def exchange_calls(self) -> int:
        stats = self.session.get(f"{self.url}/_sandbox/stats", timeout=10).json()
        return sum(n for path, n in stats.get("requests", {}).items() if not path.startswith("/_sandbox"))

    def move(self, exchange_order_id: int, kind: str) -> None:
        url = f"{self.url}/_sandbox/orders/{exchange_order_id}/events"
        self.session.post(url, json={"kind": kind}, timeout=30).raise_for_status()


def _timed(sandbox: Sandbox, meter: Meter, function: str, work: Callable[[], Any]) -> tuple[Invocation, Any]:
    calls = sandbox.exchange_calls()
    aws_calls = sum(meter.calls.values())
    started = time.process_time()
    result = work()
    cpu = time.process_time() - started
    aws = sum(meter.calls.values()) - aws_calls
    billed = cpu + aws * float(prices.AWS_CALL_SECONDS)
    return Invocation(function, billed, sandbox.exchange_calls() - calls), result


def _order_request(n: int) -> tuple[Any, dict[str, Any]]:
    from cryptosdk.domain.order import Leg, OrderRequest, Party
    from local.sandbox.deposit_addresses import deposit_address

    address = deposit_address("TRC20", 7)[0]
    body = {
        "from": {"currency": "BTC", "network": "BTC"},
        "to": {"currency": "USDT", "network": "TRC20"},
        "amount": "0.01",
        "destination": {"address": address},
        "externalRef": f"cost-{n}",
    }
    request = OrderRequest(
        from_leg=Leg(currency="BTC", network="BTC"),
        to_leg=Leg(currency="USDT", network="TRC20"),
        amount=Decimal("0.01"),
        destination=Party(address=address),
        user_id=USER,
        external_ref=f"cost-{n}",
    )
    return request, body


def _api_request(route: str, n: int, order_ids: dict[int, str]) -> Callable[[], Any]:
    from cryptosdk.container import container
    from cryptosdk.orders import service as orders
    from cryptosdk.orders import validation

    c = container()
    if route == "POST /addresses/validate":
        request, _ = _order_request(n)
        return lambda: validation.validate_address(
            "USDT",
            "TRC20",
            request.destination.address,
            client=c.exchange,
            catalogue=c.instruments.catalogue(),
        )
    if route == "POST /orders":

        def create() -> Any:
            request, _ = _order_request(n)
            placement = orders.place_order(request, f"cost-key-{n}", c.order_deps)
            order_ids[n] = placement.order_id
            return placement

        return create
    if route == "GET /orders/{orderId}":
        return lambda: orders.get_order(order_ids[n], c.orders, user_id=USER)
    if route == "GET /orders":
        return lambda: orders.list_orders(USER, c.orders, limit=20)
    raise ValueError(f"unknown route {route}")


def simulate(count: int, sandbox: Sandbox, meter: Meter, tally: Tally, max_minutes: int = 60) -> None:
    from cryptosdk.container import container
    from cryptosdk.domain.order import utc_now
    from cryptosdk.domain.status import is_terminal
    from cryptosdk.orders.polling.run import poll_due_orders

    order_ids: dict[int, str] = {}
    checker = _unmetered_store()
    for minute, route in prices.API_REQUESTS:
        if minute == 0:
            for n in range(count):
                invocation, _ = _timed(sandbox, meter, route, _api_request(route, n, order_ids))
                tally.invocations.append(invocation)
    store = checker
    exchange_ids = {n: store.get(order_id).exchange_order_id for n, order_id in order_ids.items()}  # type: ignore[union-attr]
    base = utc_now()
    options = container().poller_options
    deps = container().poller_deps
    last_request = max(at for at, _ in prices.API_REQUESTS)
    for minute in range(1, max_minutes + 1):
        for at, kind in prices.LIFECYCLE_MINUTES:
            if at == minute:
                for exchange_id in exchange_ids.values():
                    sandbox.move(int(exchange_id), kind)  # type: ignore[arg-type]
        for at, route in prices.API_REQUESTS:
            if at == minute:
                for n in range(count):
                    invocation, _ = _timed(sandbox, meter, route, _api_request(route, n, order_ids))
                    tally.invocations.append(invocation)
        deps.clock = _fixed(base + timedelta(minutes=minute, seconds=1))
        invocation, summary = _timed(
            sandbox, meter, "StatusPollerFunction", lambda: poll_due_orders(deps=deps, options=options)
        )
        tally.poll_ticks.append(invocation)
        tally.polls += summary.polled
        tally.status_changes += summary.changed
        done = all(is_terminal(store.get(order_id).status) for order_id in order_ids.values())  # type: ignore[union-attr]
        if done and minute >= last_request:
            break
    else:
        raise RuntimeError(f"orders still active after {max_minutes} simulated minutes")
    deps.clock = _fixed(base + timedelta(minutes=minute + 1))
    tally.idle_tick, _ = _timed(
        sandbox, meter, "StatusPollerFunction", lambda: poll_due_orders(deps=deps, options=options)
    )
    tally.exchange_calls = sandbox.exchange_calls()
    for order_id in order_ids.values():
        tally.final_item_bytes.append(_stored_item_bytes(store, order_id))
        tally.lifetime_changes += len(store.get(order_id).status_history) - 1  # type: ignore[union-attr]


def _unmetered_store() -> Any:
    """The simulation's own reads (is every order done? how big is it?) are not the system's:
    they go through a client made before the meter was installed."""
    from cryptosdk.storage.orders import OrderStore

    return OrderStore(_settings().orders_table, client=_UNMETERED["dynamodb"])


_UNMETERED: dict[str, Any] = {}


def _fixed(at: datetime) -> Callable[[], datetime]:
    return lambda: at


def _settings() -> Any:
    from cryptosdk.container import container

    return container().settings


def _stored_item_bytes(store: Any, order_id: str) -> int:
    answer = store._client.get_item(TableName=store.table_name, Key={"id": {"S": order_id}})
    return item_size(answer["Item"])


def item_size(item: dict[str, Any]) -> int:
    """DynamoDB's item size: attribute names plus values (the documented sizing rules)."""
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def _value_size(value: dict[str, Any]) -> int:
    ((kind, inner),) = value.items()
    if kind == "S":
        return len(inner.encode())
    if kind == "N":
        digits = len(inner.lstrip("-").replace(".", "").strip("0")) or 1
        return math.ceil(digits / 2) + 1
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(1 + _value_size(v) for v in inner)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + _value_size(v) for k, v in inner.items())
    if kind == "B":
        return len(inner)
    return len(str(inner))


# -- the model: what the run measured, scaled to 1,000 completed orders a day --------------------


@dataclass
class Lines:
    """Dollars per 1,000 completed orders, one line per cost, and the units behind them."""

    write_units: Decimal
    read_units: Decimal
    lines: dict[str, Decimal]
    notes: dict[str, str]

    @property
    def total(self) -> Decimal:
        return sum(self.lines.values(), Decimal(0))


def _gb_seconds(invocations: Sequence[Invocation], memory_mb: int, overlap: int = 1) -> Decimal:
    total = Decimal(0)
    for invocation in invocations:
        waves = math.ceil(invocation.exchange_calls / overlap) if invocation.exchange_calls else 0
        billed = Decimal(str(max(invocation.wall, 0.001))) + waves * prices.EXCHANGE_CALL_SECONDS
        total += billed * memory_mb / 1024
    return total


def ours(meter: Meter, tally: Tally, count: int, concurrency: int) -> Lines:
    per = Decimal(prices.ORDERS_PER_DAY) / count  # scales the N simulated orders to 1,000
    writes = Decimal(str(meter.total("write"))) * per
    reads = Decimal(str(meter.total("read"))) * per
    api = _gb_seconds(tally.invocations, prices.API_MEMORY_MB) * per
    api_requests = Decimal(len(tally.invocations)) * per
    # The poller runs every minute whatever the load: its idle cost per tick, plus each poll's
    # own work measured here, plus one exchange round trip per tick that has due orders.
    idle = tally.idle_tick or Invocation("idle", 0.0, 0)
    idle_gb = Decimal(str(max(idle.wall, 0.001))) * prices.POLLER_MEMORY_MB / 1024
    work_seconds = sum(t.wall for t in tally.poll_ticks) - idle.wall * len(tally.poll_ticks)
    poll_work_gb = Decimal(str(max(work_seconds, 0.0))) * prices.POLLER_MEMORY_MB / 1024 * per
    wave_gb = prices.EXCHANGE_CALL_SECONDS * prices.POLLER_MEMORY_MB / 1024
    poller_gb = prices.POLL_TICKS_PER_DAY * (idle_gb + wave_gb) + poll_work_gb
    event_entries = Decimal(meter.events_entries) * per
    stream_invocations = Decimal(meter.order_item_writes) * per if _outbox_deployed() else Decimal(0)
    secret_calls = Decimal(prices.WARM_SIGNING_CONTAINERS * 86_400 // prices.SECRET_MAX_AGE_SECONDS)
    if _outbox_deployed():
        # The stream function publishes one entry per status change, the create's included.
        event_entries = Decimal(tally.lifetime_changes) * per
    lines = {
        "DynamoDB writes": prices.dynamodb_cost(writes, Decimal(0)),
        "DynamoDB reads": prices.dynamodb_cost(Decimal(0), reads),
        "Lambda API functions": prices.lambda_cost(api_requests, api),
        "Lambda poller": prices.lambda_cost(Decimal(prices.POLL_TICKS_PER_DAY), poller_gb),
        "Lambda stream (outbox)": prices.lambda_cost(
            stream_invocations, stream_invocations * Decimal("0.05") * prices.EVENTS_MEMORY_MB / 1024
        ),
        "Secrets Manager": prices.secrets_cost(secret_calls),
        "EventBridge": prices.events_cost(event_entries),
        "HTTP API": prices.http_api_cost(api_requests),
    }
    notes = {
        "Secrets Manager": f"{secret_calls} reads/day: {prices.WARM_SIGNING_CONTAINERS} warm signing"
        f" containers x one read per {prices.SECRET_MAX_AGE_SECONDS} s"
        f" ({meter.calls['secretsmanager.GetSecretValue']} counted in this run)",
        "EventBridge": f"{event_entries:.0f} entries",
        "Lambda poller": f"{prices.POLL_TICKS_PER_DAY} ticks/day, {poller_gb:.1f} GB-s",
        "Lambda API functions": f"{api_requests:.0f} requests, {api:.1f} GB-s",
        "Lambda stream (outbox)": f"{stream_invocations:.0f} invocations (order-item stream records)",
    }
    return Lines(writes, reads, lines, notes)


def _outbox_deployed() -> bool:
    import importlib.util

    return importlib.util.find_spec("cryptosdk.orders.outbox") is not None


def naive(ours_lines: Lines, tally: Tally, count: int) -> Lines:
    assume = prices.NAIVE
    size = Decimal(sum(tally.final_item_bytes)) / max(len(tally.final_item_bytes), 1)
    kb = Decimal(math.ceil(size / 1024))
    # Per poll: the item in the table and in ByUser, DueForPoll delete + put.
    writes_per_order = assume.polls_per_order * kb * 4 + 2 * kb * 3
    writes = writes_per_order * prices.ORDERS_PER_DAY
    scan_units = Decimal(math.ceil(assume.retained_orders * size / 4096)) / 2
    reads = scan_units * prices.POLL_TICKS_PER_DAY + ours_lines.read_units
    exchange_calls_per_order = Decimal(tally.exchange_calls) / count
    secret_calls = exchange_calls_per_order * prices.ORDERS_PER_DAY
    lines = dict(ours_lines.lines)
    lines.update(
        {
            "DynamoDB writes": prices.dynamodb_cost(writes, Decimal(0)),
            "DynamoDB reads": prices.dynamodb_cost(Decimal(0), reads),
            "Secrets Manager": prices.secrets_cost(secret_calls),
        }
    )
    notes = {
        "DynamoDB writes": f"{assume.polls_per_order} full rewrites of a {size:.0f} B item"
        " x 4 (table, ByUser, DueForPoll x2)",
        "DynamoDB reads": f"a Scan of {assume.retained_orders} items every minute ({scan_units} units each)",
        "Secrets Manager": f"{secret_calls:.0f} reads: one per exchange call",
    }
    return Lines(writes, reads, lines, notes)


def report(meter: Meter, tally: Tally, count: int, concurrency: int, dynamodb_kind: str) -> int:
    per_order = 1 / count
    print(
        f"\n{count} orders completed on {dynamodb_kind} + the sandbox; {tally.polls} polls "
        f"({tally.polls / count:.1f} per order), {tally.status_changes} status changes by the poller, "
        f"{len(tally.poll_ticks)} poller runs"
    )
    print("\nDynamoDB units per completed order (consumed capacity as DynamoDB reported it):")
    for (name, kind), units in sorted(meter.units.items()):
        print(f"  {kind:5} {name:40} {units * per_order:8.2f}")
    write_units = meter.total("write") * per_order
    read_units = meter.total("read") * per_order
    print(f"  write units per order  {write_units:.1f}   (goal <= 40)")
    print(f"  read units per order   {read_units:.1f}")
    if meter.computed_statements:
        print(
            f"  ({meter.computed_statements} schedule moves by BatchExecuteStatement, which DynamoDB Local"
            " answers without consumed capacity: computed from their size, bench/prices.py)"
        )
    if meter.no_capacity:
        print(
            "  calls answered without consumed capacity: "
            + ", ".join(f"{op} x{n}" for op, n in sorted(meter.no_capacity.items()))
        )
    print(
        "\nAWS calls per completed order: "
        + ", ".join(f"{name} {n * per_order:.1f}" for name, n in sorted(meter.calls.items()))
    )
    print(
        f"exchange calls per order {tally.exchange_calls * per_order:.1f}; "
        f"order-item writes per order {meter.order_item_writes * per_order:.1f}"
    )
    mine = ours(meter, tally, count, concurrency)
    theirs = naive(mine, tally, count)
    print(
        f"\nUSD per {prices.ORDERS_PER_DAY:,} completed orders (us-east-1 list prices read "
        f"{prices.PRICES_READ}; assumptions in bench/prices.py):"
    )
    print(f"  {'':26}{'ours':>12}{'naive':>12}")
    for name in mine.lines:
        note = mine.notes.get(name, "")
        print(f"  {name:26}{mine.lines[name]:12.4f}{theirs.lines[name]:12.4f}   {note}")
        if name in theirs.notes:
            print(f"  {'':50}naive: {theirs.notes[name]}")
    print(f"  {'total':26}{mine.total:12.4f}{theirs.total:12.4f}   (goal <= 0.05)")
    return 0


def _environment(stack: Any) -> tuple[Any, Any, Any]:
    from local.provision import make_clients, provision, stack_names

    names = stack_names()
    os.environ.update(names.environment())
    os.environ.update(
        {
            "EXCHANGE_API_URL": stack.sandbox_url,
            "AWS_ENDPOINT_URL": stack.events_endpoint,
            "AWS_ENDPOINT_URL_DYNAMODB": stack.dynamodb_endpoint,
            "AWS_ACCESS_KEY_ID": LOCAL_CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": LOCAL_CREDENTIALS["aws_secret_access_key"],
            "AWS_DEFAULT_REGION": REGION,
        }
    )
    clients = make_clients(
        aws_endpoint_url=stack.events_endpoint, dynamodb_endpoint_url=stack.dynamodb_endpoint
    )
    provision(*clients, names)
    return clients


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.cost", description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=20, help="orders taken through their whole life")
    parser.add_argument("--dynamodb", choices=("auto", "local", "moto"), default="auto")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    # Powertools asks for a Lambda context to time its in-progress record; a local run has none.
    warnings.filterwarnings("ignore", message="Couldn't determine the remaining time left")
    _quiet_environment()
    with servers(args.dynamodb) as stack:
        _environment(stack)
        meter, tally = Meter(), Tally()
        import boto3

        _UNMETERED["dynamodb"] = boto3.client("dynamodb", endpoint_url=stack.dynamodb_endpoint)
        sandbox = Sandbox(stack.sandbox_url)
        started = time.perf_counter()
        with metered(meter):
            simulate(args.orders, sandbox, meter, tally)
        print(f"simulated {args.orders} lifecycles in {time.perf_counter() - started:.1f} s", flush=True)
        return report(meter, tally, args.orders, _settings().poller_concurrency, stack.dynamodb_kind)


if __name__ == "__main__":
    sys.exit(main())
