"""Benchmark of one poller run: N due orders against the sandbox with injected latency.

    python -m bench.poller [--orders 10000] [--latency-ms 50] [--concurrency 32] [--dynamodb auto]

Every server runs in its own process so none shares the poller's GIL: the sandbox
(`python -m local.sandbox`), DynamoDB Local (or moto's server when Java or the jar is missing),
and moto's server for the EventBridge bus. Setup (not timed): N orders created in the sandbox
through its API, a share of them paid so the run has real status changes to write, and N
due items written to the orders table. Timed: one `poll_due_orders` run over all of them.

Printed: wall time, orders/s, the ideal (N x latency / concurrency) and our ratio to it, and
DynamoDB items read per due order (items returned by Query + GetItem, counted on the wire).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import requests

from local.aws_local import DynamoDBLocal, dynamodb_local_unavailable_reason, free_port, wait_for_port

REPO = Path(__file__).resolve().parent.parent
LAYER = REPO / "layers" / "exchange"
# Local servers only; never real credentials.
LOCAL_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}

INFO_PATH = "/api/v2/orders/public-info"
REGION = "us-east-1"
TABLE = "bench-orders"
BUS = "bench-bus"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.poller", description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=10_000, help="due orders in the run")
    parser.add_argument("--latency-ms", type=float, default=50.0, help="injected on every public-info call")
    parser.add_argument("--concurrency", type=int, default=32, help="orders in flight (POLLER_CONCURRENCY)")
    parser.add_argument("--shards", type=int, default=4, help="POLL_SHARDS")
    parser.add_argument("--paid-fraction", type=float, default=0.1, help="share of orders with a change")
    parser.add_argument("--dynamodb", choices=("auto", "local", "moto"), default="auto")
    parser.add_argument("--seed-workers", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=3, help="runs (each with its floor); medians printed")
    parser.add_argument(
        "--cold-schedules",
        action="store_true",
        help="seed schedule items as the create writes them (no poll view: every poll reads its order)",
    )
    parser.add_argument(
        "--processes", type=int, default=1, help="pollers over disjoint shards (a fan-out of invocations)"
    )
    return parser.parse_args(argv)


# -- servers in their own processes -------------------------------------------------------------


class Child:
    """A server process of ours, stopped by its own pid."""

    def __init__(self, args: list[str], port: int, name: str) -> None:
        # The layer on the path up front: the sandbox's lazy import of it is not thread-safe.
        path = os.pathsep.join(
            p for p in (str(REPO / "layers" / "exchange"), os.environ.get("PYTHONPATH")) if p
        )
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": path}
        self.name = name
        self.log = Path(tempfile.gettempdir()) / f"bench-poller-{name}-{port}.log"
        with self.log.open("wb") as sink:
            self.process = subprocess.Popen(
                args, cwd=REPO, stdout=sink, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        if not wait_for_port(port, 60):
            self.stop()
            raise RuntimeError(f"{name} did not start on port {port}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


@dataclass
class Servers:
    sandbox_url: str
    dynamodb_endpoint: str
    dynamodb_kind: str
    events_endpoint: str
    pids: dict[str, int]


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (Linux /proc), 0 when unreadable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def servers(kind: str) -> Iterator[Servers]:
    python = sys.executable
    started: list[Any] = []
    try:
        sandbox_port = free_port()
        sandbox_args = [python, "-m", "local.sandbox", "--port", str(sandbox_port), "--quiet"]
        # Orders move only on command and never lapse: the bench decides which have changed.
        started.append(
            Child([*sandbox_args, "--clock-speed", "0", "--lapse-seconds", "0"], sandbox_port, "sandbox")
        )
        moto_port = free_port()
        started.append(
            Child([python, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(moto_port)], moto_port, "moto")
        )
        moto_endpoint = f"http://127.0.0.1:{moto_port}"
        dynamodb_endpoint, dynamodb_kind = moto_endpoint, "moto server"
        pids = {"sandbox": started[0].process.pid, "moto": started[1].process.pid}
        reason = dynamodb_local_unavailable_reason()
        if kind == "local" and reason:
            raise RuntimeError(f"DynamoDB Local unavailable: {reason}")
        if kind in ("auto", "local") and not reason:
            local = DynamoDBLocal(free_port()).start(timeout=60)
            started.append(local)
            dynamodb_endpoint, dynamodb_kind = local.endpoint, "DynamoDB Local"
            if local.pid is not None:
                pids["dynamodb"] = local.pid
        sandbox_url = f"http://127.0.0.1:{sandbox_port}"
        yield Servers(sandbox_url, dynamodb_endpoint, dynamodb_kind, moto_endpoint, pids)
    finally:
        for server in reversed(started):
            server.stop()


def aws_client(service: str, endpoint: str, pool: int = 10) -> Any:
    import boto3
    from botocore.config import Config

    session = boto3.session.Session(region_name=REGION, **LOCAL_CREDENTIALS)
    return session.client(service, endpoint_url=endpoint, config=Config(max_pool_connections=pool))


# -- setup ----------------------------------------------------------------------------------------


def create_table(dynamodb: Any) -> None:
    from local.provision import create_tables
    from local.template import load_template

    template = load_template(physical_names={"OrdersTable": TABLE, "IdempotencyTable": f"{TABLE}-idem"})
    create_tables(dynamodb, template)


def seed_sandbox(client: Any, count: int, workers: int) -> list[Any]:
    from cryptosdk.exchange.models import CreateOrderRequest, InstrumentRef
    from local.sandbox.deposit_addresses import deposit_address

    request = CreateOrderRequest(
        instrument_from=InstrumentRef(currency_title="BTC", network_title="BTC"),
        instrument_to=InstrumentRef(currency_title="USDT", network_title="TRC20"),
        destination_address=deposit_address("TRC20", 7)[0],
        claimed_deposit_amount=Decimal("0.01"),
    )
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda _: client.create_order(request), range(count)))


def pay(sandbox_url: str, upstream: Sequence[Any], workers: int) -> None:
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_maxsize=workers)
    session.mount("http://", adapter)

    def one(order: Any) -> None:
        url = f"{sandbox_url}/_sandbox/orders/{order.order_id}/events"
        session.post(url, json={"kind": "INCOMING_FUNDS_DETECTED"}, timeout=30).raise_for_status()

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, upstream))


def seed_table(
    dynamodb: Any,
    upstream: Sequence[Any],
    shards: int,
    now: datetime,
    workers: int,
    ids: Sequence[str],
    remembered: bool = True,
) -> None:
    """Every order stored as the store stores it (order item + poll schedule item), due now; the
    same `ids` each time, so a repetition starts from the same table. `remembered`: each schedule
    as the order's first back-off move left it (with its poll view), as for any order that has
    waited past its first five minutes; else as the create wrote it."""
    from boto3.dynamodb.types import TypeSerializer

    from cryptosdk.domain.order import Leg, Order, Party, RateMode, StatusChange, shard_for
    from cryptosdk.domain.status import OrderStatus
    from cryptosdk.storage.items import stored_items

    serializer = TypeSerializer()

    def items(n: int, exchange: Any) -> list[dict[str, Any]]:
        order_id = ids[n]
        created = now - timedelta(minutes=5)
        order = Order(
            id=order_id,
            user_id=f"user-{n % 100}",
            exchange_order_id=exchange.order_id,
            from_leg=Leg(currency="BTC", network="BTC"),
            to_leg=Leg(currency="USDT", network="TRC20"),
            rate_mode=RateMode.FLOATING,
            claimed_deposit_amount=exchange.claimed_deposit_amount,
            amount_to_receive=exchange.amount_to_get,
            destination=Party(address=exchange.destination_address),
            deposit_address=exchange.deposit_address.deposit_address,
            status=OrderStatus.AWAITING_DEPOSIT,
            status_history=(StatusChange(status=OrderStatus.AWAITING_DEPOSIT, at=created),),
            created_at=created,
            updated_at=created,
            version=1,
            poll_shard=shard_for(order_id, shards),
            # Spread over the last minute so the index holds a realistic range of due times.
            next_poll_at=now - timedelta(seconds=1 + n % 60),
        )
        return [
            {k: serializer.serialize(v) for k, v in i.items()}
            for i in stored_items(order, remembered=remembered)
        ]

    every = [i for n, exchange in enumerate(upstream) for i in items(n, exchange)]
    batches = [every[i : i + 25] for i in range(0, len(every), 25)]

    def write(batch: list[dict[str, Any]]) -> None:
        pending: list[dict[str, Any]] = [{"PutRequest": {"Item": i}} for i in batch]
        while pending:
            answer = dynamodb.batch_write_item(RequestItems={TABLE: pending})
            pending = answer.get("UnprocessedItems", {}).get(TABLE, [])

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(write, batches))


class ItemsRead:
    """DynamoDB items returned to the poller (Query items, GetItem hits, BatchGetItem items): a
    due order is its schedule entry (Query) and its order item (BatchGetItem, 100 per call)."""

    def __init__(self, dynamodb: Any) -> None:
        self.count = 0
        self.calls = 0
        self._lock = threading.Lock()
        dynamodb.meta.events.register("after-call.dynamodb.Query", self._query)
        dynamodb.meta.events.register("after-call.dynamodb.GetItem", self._get)
        dynamodb.meta.events.register("after-call.dynamodb.BatchGetItem", self._batch_get)

    def _add(self, items: int) -> None:
        with self._lock:
            self.count += items
            self.calls += 1

    def _query(self, parsed: dict[str, Any], **_: Any) -> None:
        self._add(len(parsed.get("Items", [])))

    def _get(self, parsed: dict[str, Any], **_: Any) -> None:
        self._add(1 if parsed.get("Item") else 0)

    def _batch_get(self, parsed: dict[str, Any], **_: Any) -> None:
        self._add(sum(len(items) for items in parsed.get("Responses", {}).values()))


# -- the run --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunSpec:
    sandbox_url: str
    dynamodb_endpoint: str
    events_endpoint: str
    shards: list[str]
    shard_count: int
    concurrency: int
    now: datetime


@dataclass(frozen=True)
class RunResult:
    summary: dict[str, Any]
    wall: float
    cpu: float
    items: int
    item_calls: int


def _quiet_environment() -> None:
    # `python -m bench.poller` from the repository root: the layer is not an installed package.
    if str(LAYER) not in sys.path:
        sys.path.insert(0, str(LAYER))
    # Quiet: the poller's per-call logs would cost more than the work being measured.
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "CryptoSDK")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")


def _keys() -> Any:
    from cryptosdk.exchange.secrets import StaticKeyProvider
    from local.sandbox import DEFAULT_PUBLIC_KEY, DEFAULT_SECRET_KEY

    return StaticKeyProvider(
        os.environ.get("SANDBOX_PUBLIC_KEY") or DEFAULT_PUBLIC_KEY,
        os.environ.get("SANDBOX_SECRET_KEY") or DEFAULT_SECRET_KEY,
    )


def run_poller(spec: RunSpec, start: Any = None) -> RunResult:
    """One poller (one Lambda invocation) over `spec.shards`, built as the handler builds it."""
    _quiet_environment()
    from cryptosdk.exchange.client import ExchangeClient
    from cryptosdk.exchange.retry import RetryPolicy
    from cryptosdk.orders.polling.options import PollerDeps, PollerOptions
    from cryptosdk.orders.polling.run import poll_due_orders
    from cryptosdk.runtime.aws_sdk import dynamodb_client
    from cryptosdk.storage.orders import OrderStore

    # The poller's own client configuration, pointed at the local endpoint.
    dynamodb = dynamodb_client(
        spec.concurrency + 4, endpoint_url=spec.dynamodb_endpoint, region_name=REGION, **LOCAL_CREDENTIALS
    )
    items = ItemsRead(dynamodb)
    deps = PollerDeps(
        client=ExchangeClient(
            spec.sandbox_url, _keys(), pool_size=spec.concurrency * 2, retry=RetryPolicy(max_attempts=4)
        ),
        store=OrderStore(TABLE, client=dynamodb),
        clock=lambda: spec.now + timedelta(seconds=1),
    )
    options = PollerOptions(
        shard_count=spec.shard_count, concurrency=spec.concurrency, page_size=max(100, spec.concurrency * 4)
    )
    if start is not None:
        start.wait()
    cpu_before = time.process_time()
    started = time.perf_counter()
    summary = poll_due_orders(spec.shards, deps=deps, options=options)
    wall = time.perf_counter() - started
    return RunResult(summary.as_dict(), wall, time.process_time() - cpu_before, items.count, items.calls)


def run_floor(spec: RunSpec, upstream: Sequence[Any], ids: Sequence[str]) -> float:
    """The least any poller of these orders must do, in this process, CPU seconds: one signed GET
    per order (our client, on `spec.concurrency` threads) and one conditional update per order,
    25 to a PartiQL BatchExecuteStatement (each statement under its own condition)."""
    _quiet_environment()
    from cryptosdk.exchange.client import ExchangeClient
    from cryptosdk.exchange.retry import RetryPolicy
    from cryptosdk.runtime.aws_sdk import dynamodb_client

    dynamodb = dynamodb_client(
        spec.concurrency + 4, endpoint_url=spec.dynamodb_endpoint, region_name=REGION, **LOCAL_CREDENTIALS
    )
    client = ExchangeClient(
        spec.sandbox_url, _keys(), pool_size=spec.concurrency * 2, retry=RetryPolicy(max_attempts=4)
    )
    due = spec.now.isoformat(timespec="microseconds").replace("+00:00", "Z")

    def statement(order_id: str) -> dict[str, Any]:
        return {
            "Statement": f'UPDATE "{TABLE}" SET nextPollAt = ? WHERE id = ? AND orderId = ?',  # noqa: S608
            "Parameters": [{"S": due}, {"S": f"poll#{order_id}"}, {"S": order_id}],
        }

    cpu_before = time.process_time()
    with ThreadPoolExecutor(spec.concurrency) as pool:
        list(pool.map(lambda o: client.get_order(o.order_id, o.destination_address), upstream))
    for start in range(0, len(ids), 25):
        dynamodb.batch_execute_statement(Statements=[statement(i) for i in ids[start : start + 25]])
    return time.process_time() - cpu_before


def _run_in_child(spec: RunSpec, start: Any, results: Any) -> None:
    results.put(run_poller(spec, start))


def run_pollers(specs: list[RunSpec]) -> tuple[list[RunResult], float]:
    """Run each spec in its own process (a fan-out of invocations), started together."""
    if len(specs) == 1:
        result = run_poller(specs[0])
        return [result], result.wall
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    start, results = context.Event(), context.Queue()
    children = [context.Process(target=_run_in_child, args=(spec, start, results)) for spec in specs]
    for child in children:
        child.start()
    time.sleep(3.0)  # imports and clients ready before the clock starts (not timed)
    started = time.perf_counter()
    start.set()
    collected = [results.get(timeout=900) for _ in specs]
    wall = time.perf_counter() - started
    for child in children:
        child.join(30)
    return collected, wall


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    _quiet_environment()
    from cryptosdk.exchange.client import ExchangeClient

    with servers(args.dynamodb) as stack:
        print(f"sandbox {stack.sandbox_url}; DynamoDB: {stack.dynamodb_kind}; bus: moto server", flush=True)
        setup_started = time.perf_counter()
        setup_dynamodb = aws_client("dynamodb", stack.dynamodb_endpoint, args.seed_workers)
        create_table(setup_dynamodb)
        aws_client("events", stack.events_endpoint).create_event_bus(Name=BUS)
        seeder = ExchangeClient(stack.sandbox_url, _keys(), pool_size=args.seed_workers)
        upstream = seed_sandbox(seeder, args.orders, args.seed_workers)
        paid = upstream[: int(len(upstream) * args.paid_fraction)]
        pay(stack.sandbox_url, paid, args.seed_workers)
        now = datetime.now(UTC)
        from cryptosdk.domain.order import new_order_id

        ids = [new_order_id() for _ in upstream]
        seed_table(
            setup_dynamodb, upstream, args.shards, now, args.seed_workers, ids, not args.cold_schedules
        )
        setup = time.perf_counter() - setup_started
        print(f"setup: {args.orders} orders ({len(paid)} paid) in {setup:.1f} s", flush=True)

        control = requests.Session()
        control.delete(f"{stack.sandbox_url}/_sandbox/stats", timeout=10).raise_for_status()
        fault = {"endpoint": INFO_PATH, "kind": "latency", "latencyMs": args.latency_ms}
        control.post(f"{stack.sandbox_url}/_sandbox/faults", json=fault, timeout=10).raise_for_status()

        every = [str(n) for n in range(args.shards)]
        specs = [
            RunSpec(
                stack.sandbox_url,
                stack.dynamodb_endpoint,
                stack.events_endpoint,
                every[n :: args.processes],
                args.shards,
                args.concurrency,
                now,
            )
            for n in range(args.processes)
        ]
        poller_cpu: list[float] = []
        floor_cpu: list[float] = []
        code = 0
        for repetition in range(args.repeat):
            # Each repetition from the same table: every order due, the paid ones about to change.
            if repetition:
                seed_table(
                    setup_dynamodb,
                    upstream,
                    args.shards,
                    now,
                    args.seed_workers,
                    ids,
                    not args.cold_schedules,
                )
            floor_cpu.append(run_floor(specs[0], upstream, ids) / args.orders)
            seed_table(
                setup_dynamodb, upstream, args.shards, now, args.seed_workers, ids, not args.cold_schedules
            )
            control.delete(f"{stack.sandbox_url}/_sandbox/stats", timeout=10).raise_for_status()
            cpu_before = {name: cpu_seconds(pid) for name, pid in stack.pids.items()}
            results, wall = run_pollers(specs)
            cpu = {name: cpu_seconds(pid) - cpu_before[name] for name, pid in stack.pids.items()}
            cpu["poller"] = sum(r.cpu for r in results)
            poller_cpu.append(cpu["poller"] / args.orders)
            stats = control.get(f"{stack.sandbox_url}/_sandbox/stats", timeout=10).json()
            print(f"-- repetition {repetition + 1} of {args.repeat}")
            code |= report(args, results, wall, cpu, stats)
            print(
                f"poller CPU per order {poller_cpu[-1] * 1000:.2f} ms; floor (signed GET + batched"
                f" conditional update) {floor_cpu[-1] * 1000:.2f} ms",
                flush=True,
            )
        print(
            f"\nmedian of {args.repeat}: poller CPU per order {statistics.median(poller_cpu) * 1000:.2f} ms"
            f" (goal <= 1.0), floor {statistics.median(floor_cpu) * 1000:.2f} ms, ratio"
            f" {statistics.median(poller_cpu) / statistics.median(floor_cpu):.2f}"
        )
        return code


def report(
    args: argparse.Namespace, results: list[RunResult], wall: float, cpu: dict[str, float], stats: Any
) -> int:
    def total(key: str) -> int:
        return sum(int(r.summary[key]) for r in results)

    due, polled, failed = total("due"), total("polled"), total("failed")
    items = sum(r.items for r in results)
    calls = sum(r.item_calls for r in results)
    slots = args.concurrency * args.processes
    ideal = args.orders * args.latency_ms / 1000 / slots
    print(
        f"run: {args.processes} poller process(es) x concurrency {args.concurrency}: {due} due, "
        f"{polled} polled, {total('changed')} changed, {total('updated')} rescheduled, {failed} failed, "
        f"{stats['requests'].get(INFO_PATH, 0)} exchange calls"
    )
    print(f"wall time            {wall:.2f} s")
    print(f"orders/s             {polled / wall:.0f}")
    print(f"ideal (N x {args.latency_ms:g} ms / {slots})  {ideal:.2f} s")
    print(f"ratio to ideal       {wall / ideal:.2f}")
    print(f"items read per due order  {items / max(due, 1):.3f} ({items} items, {calls} calls)")
    print("CPU seconds during the run: " + ", ".join(f"{k} {v:.1f}" for k, v in sorted(cpu.items())))
    ok = polled == args.orders and failed == 0
    if not ok:
        print("FAILED: not every order was polled cleanly", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
