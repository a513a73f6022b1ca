"""The local stack as a user runs it: `python -m local.stack` in a subprocess on free ports,
the whole flow over HTTP, then Ctrl-C (SIGINT) leaves no process behind."""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from local.demo import BTC_REFUND, ETH_DESTINATION, Demo
from local.runtime import REPO_ROOT

READY_TIMEOUT = 60
CONCURRENCY = 4
BURST = 50


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purposes once its parent reaps it; check its state.
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(")")[-1].split()[0] == "Z")


def _descendants(pid: int) -> set[int]:
    found: set[int] = set()
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        # Every thread's children: workers are started by the gateway's request threads too.
        for children in Path(f"/proc/{parent}/task").glob("*/children"):
            try:
                kids = {int(p) for p in children.read_text().split()}
            except OSError:  # the thread ended meanwhile
                continue
            found |= kids
            frontier.extend(kids - found)
    return found


class RunningStack:
    def __init__(self, process: subprocess.Popen[str], state: dict[str, Any], output: list[str]) -> None:
        self.process = process
        self.state = state
        self.output = output

    @property
    def api(self) -> str:
        return str(self.state["api"])


def _start_stack(state_dir: Path) -> RunningStack:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "local.stack",
            "--api-port",
            "0",
            "--sandbox-port",
            "0",
            "--moto-port",
            "0",
            "--dynamodb-port",
            "0",
            "--poll-every",
            "1",
            "--concurrency",
            str(CONCURRENCY),
            "--state-dir",
            str(state_dir),
        ],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    output: list[str] = []
    deadline = time.monotonic() + READY_TIMEOUT
    for line in process.stdout:
        output.append(line)
        if line.startswith("ready: "):
            break
        assert time.monotonic() < deadline, "".join(output)
    else:
        pytest.fail("the stack exited before it was ready:\n" + "".join(output))
    state = json.loads((state_dir / "stack.json").read_text())
    return RunningStack(process, state, output)


def _kill(running: RunningStack) -> None:
    if running.process.poll() is None:
        running.process.kill()
        running.process.wait(timeout=10)


@pytest.fixture(scope="module")
def started_stacks() -> Iterator[list[RunningStack]]:
    started: list[RunningStack] = []
    yield started
    for running in started:
        _kill(running)


@pytest.fixture
def stack(started_stacks: list[RunningStack], tmp_path_factory: pytest.TempPathFactory) -> RunningStack:
    """One stack shared by the module's tests; a new one when a test has stopped it (the SIGINT
    test), so no test depends on running before or after another."""
    if not started_stacks or started_stacks[-1].process.poll() is not None:
        started_stacks.append(_start_stack(tmp_path_factory.mktemp("stack-state")))
    return started_stacks[-1]


def test_the_stack_announces_every_route_of_the_template(stack: RunningStack) -> None:
    from local.template import load_template

    printed = "".join(stack.output)
    for route in load_template().routes():
        assert f"{route.path}" in printed
    assert "ready: API http://127.0.0.1:" in printed


def test_the_whole_flow_over_http(stack: RunningStack) -> None:
    lines: list[str] = []
    # A bound, not a pause: a poller run may spend up to 45 s waiting for an earlier test's unknown
    # creates to settle (cryptosdk.orders.settle) before the next run picks this order up.
    result = Demo(stack.state, out=lines.append, wait_seconds=90).run()

    assert result["order"]["status"] == "completed"
    assert result["event"]["detail"]["newStatus"] == "completed"
    assert result["event"]["detail"]["orderId"] == result["order"]["id"]


def _local_client(service: str, endpoint: str) -> Any:
    import boto3

    session = boto3.session.Session(
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    return session.client(service, endpoint_url=endpoint)


def _wait_for_messages(sqs: Any, queue_url: str, found: Any, seconds: float = 30) -> list[dict[str, Any]]:
    """Bodies read from the queue until `found(bodies)` holds (each message read once)."""
    bodies: list[dict[str, Any]] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not found(bodies):
        answer = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in answer.get("Messages", []):
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


def test_a_poison_record_on_the_stream_is_parked_and_later_changes_still_reach_the_bus(
    stack: RunningStack,
) -> None:
    import uuid

    state = stack.state
    dynamodb = _local_client("dynamodb", state["dynamodb"])
    sqs = _local_client("sqs", state["moto"])
    poisoned = "ord_" + uuid.uuid4().hex
    item = {"id": {"S": poisoned}, "status": {"S": "awaiting_deposit"}, "version": {"N": "1"}}
    dynamodb.put_item(TableName=state["orders_table"], Item=item)
    dynamodb.update_item(
        TableName=state["orders_table"],
        Key={"id": {"S": poisoned}},
        UpdateExpression="SET #s = :s",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": "teleported"}},
    )

    order = Demo(state, out=lambda _: None).create_order()  # its status write comes after the poison

    (failure_queue,) = state["queues"].values()
    parked = _wait_for_messages(sqs, failure_queue, lambda bodies: bodies)
    assert [p["DDBStreamBatchInfo"]["batchSize"] for p in parked] == [1]
    assert parked[0]["requestContext"]["condition"] == "RetryAttemptsExhausted"

    def created(bodies: list[dict[str, Any]]) -> bool:
        return any(b["detail"]["orderId"] == order["id"] for b in bodies)

    events = _wait_for_messages(sqs, state["bus_tap_queue_url"], created)
    mine = [e["detail"] for e in events if e["detail"]["orderId"] == order["id"]]
    # At least once: a record batched with the poison is delivered again on the retry, always
    # under the same eventId, which is what a consumer dedupes on.
    assert {(d["eventId"], d["oldStatus"], d["newStatus"]) for d in mine} == {
        (f"{order['id']}:2", "pending_create", "awaiting_deposit")
    }
    assert not any(e["detail"]["orderId"] == poisoned for e in events)


def test_undeclared_routes_get_api_gateways_404(stack: RunningStack) -> None:
    response = requests.delete(f"{stack.api}/orders", timeout=10)
    assert response.status_code == 404
    assert response.json() == {"message": "Not Found"}
    assert requests.get(f"{stack.api}/nothing/here", timeout=10).status_code == 404


def test_docs_and_openapi_are_served(stack: RunningStack) -> None:
    docs = requests.get(f"{stack.api}/docs", timeout=10)
    assert docs.status_code == 200
    assert "swagger-ui" in docs.text
    bundle = requests.get(f"{stack.api}/docs/assets/swagger-ui-bundle.js", timeout=10)
    assert bundle.status_code == 200
    assert len(bundle.content) > 100_000
    if (REPO_ROOT / "openapi.json").exists():
        assert requests.get(f"{stack.api}/openapi.json", timeout=10).json()["paths"]


def test_a_burst_of_creates_with_one_key_makes_one_upstream_order(stack: RunningStack) -> None:
    # Fifty clients at once, each on its own connection, all with the same Idempotency-Key: the
    # functions' workers race as Lambdas would, and the key must still make exactly one order.
    body = {
        "from": {"currency": "BTC", "network": "BTC"},
        "to": {"currency": "ETH", "network": "ERC20"},
        "amount": "0.05",
        "rateMode": "FLOATING",
        "destination": {"address": ETH_DESTINATION},
        "refund": {"address": BTC_REFUND},
        "userId": f"burst-{uuid.uuid4().hex[:8]}",
    }
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    creates_before = _upstream_creates(stack)
    barrier = threading.Barrier(BURST)

    def create() -> requests.Response:
        barrier.wait()
        return requests.post(f"{stack.api}/orders", json=body, headers=headers, timeout=60)

    with ThreadPoolExecutor(max_workers=BURST) as pool:
        # A reset connection raises here (ConnectionError) and fails the test.
        answers = list(pool.map(lambda _: create(), range(BURST)))

    statuses = Counter(answer.status_code for answer in answers)
    assert set(statuses) <= {201, 202, 409}, {a.status_code: a.text for a in answers}
    created = [answer.json() for answer in answers if answer.status_code in (201, 202)]
    assert created, statuses
    assert len({order["id"] for order in created}) == 1
    for answer in answers:
        if answer.status_code == 409:
            error = answer.json()["error"]
            assert error["code"]
            assert error["message"]
            assert error["requestId"]
    assert _upstream_creates(stack) - creates_before == 1
    # More than one worker served the burst: the race the 409 exists for can happen here.
    workers = _descendant_commands(stack.process.pid)
    assert sum('"name": "CreateOrderFunction"' in command for command in workers) > 1


def _upstream_creates(stack: RunningStack) -> int:
    stats = requests.get(f"{stack.state['sandbox']}/_sandbox/stats", timeout=10).json()
    return int(stats["requests"].get("/api/v2/orders/public/create", 0))


def _descendant_commands(pid: int) -> list[str]:
    commands = []
    for child in _descendants(pid):
        cmdline = Path(f"/proc/{child}/cmdline")
        if cmdline.exists():
            commands.append(cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace"))
    return commands


def test_keep_alive_requests_are_as_fast_as_fresh_connections(stack: RunningStack) -> None:
    url = f"{stack.api}/instruments"
    kept, fresh = [], []
    with requests.Session() as session:  # one kept-alive connection
        session.get(url, timeout=30).raise_for_status()  # warm the worker and the connection
        for _ in range(20):  # interleaved, so load on the machine hits both alike
            started = time.perf_counter()
            session.get(url, timeout=30).raise_for_status()
            kept.append(time.perf_counter() - started)
            started = time.perf_counter()
            requests.get(url, headers={"Connection": "close"}, timeout=30).raise_for_status()
            fresh.append(time.perf_counter() - started)
    # A Nagle / delayed-ACK stall adds ~40 ms to every kept-alive request.
    gap = statistics.median(kept) - statistics.median(fresh)
    assert gap < 0.015, f"keep-alive {statistics.median(kept):.3f} s, fresh {statistics.median(fresh):.3f} s"


def test_sigint_stops_everything_and_leaves_no_process(stack: RunningStack) -> None:
    # It stops the stack it is given; a test that runs after it gets a new one.
    children = _descendants(stack.process.pid)
    assert children, "the stack should have child processes (DynamoDB Local, function workers)"

    stack.process.send_signal(signal.SIGINT)
    rest, _ = stack.process.communicate(timeout=30)

    assert stack.process.returncode == 0, rest
    assert "stopped" in rest
    deadline = time.monotonic() + 5
    while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in children if _alive(pid)]
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{stack.api}/instruments", timeout=2)
