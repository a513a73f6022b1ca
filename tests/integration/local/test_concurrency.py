"""The local runtime and gateway under concurrency, as Lambda and API Gateway behave: up to N
workers per function (each new one a cold process with its own module state, idle ones reused
warm), a burst of connections queued in the listen backlog, and keep-alive without a stall."""

from __future__ import annotations

import dataclasses
import http.client
import os
import socket
import statistics
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from local.gateway import Gateway, GatewayHTTPServer, GatewayServer
from local.runtime import FunctionPool, FunctionSpec, FunctionWorkers, InvocationError
from local.template import Route

# Module-level state, as a handler's boto3 clients and caches are: per execution environment.
HANDLER = textwrap.dedent(
    """
    import os, time

    CALLS = 0

    def lambda_handler(event, context):
        global CALLS
        CALLS += 1
        time.sleep(event.get("sleep", 0))
        return {"pid": os.getpid(), "calls": CALLS}
    """
)


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> FunctionSpec:
    code_dir: Path = tmp_path_factory.mktemp("state_function")
    (code_dir / "app.py").write_text(HANDLER)
    return FunctionSpec("StateFunction", code_dir, "app.lambda_handler", timeout_seconds=10)


@pytest.fixture
def pool(spec: FunctionSpec) -> Iterator[FunctionPool]:
    pool = FunctionPool({"StateFunction": spec}, lambda _spec: dict(os.environ), concurrency=2)
    yield pool
    pool.stop()


def _at_once(count: int, call: Callable[[], Any]) -> list[Any]:
    """`call` from `count` threads released together; results (or exceptions) in thread order."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = call()
        except Exception as exc:
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_two_concurrent_invocations_run_in_two_cold_workers_that_share_no_state(
    pool: FunctionPool,
) -> None:
    first, second = _at_once(2, lambda: pool.invoke("StateFunction", {"sleep": 0.5}))

    assert first["pid"] != second["pid"]
    # Each worker imported the module afresh: its counter saw only its own call.
    assert first["calls"] == 1
    assert second["calls"] == 1
    assert sorted(pool.pids()) == sorted([first["pid"], second["pid"]])


def test_an_idle_worker_is_reused_warm(pool: FunctionPool) -> None:
    cold = pool.invoke("StateFunction", {})
    warm = pool.invoke("StateFunction", {})

    assert warm["pid"] == cold["pid"]
    assert warm["calls"] == 2  # the module state survived between invocations, as on Lambda
    assert len(pool.pids()) == 1  # no second worker without a second concurrent request


def test_a_burst_beyond_the_concurrency_queues_and_every_request_is_served(pool: FunctionPool) -> None:
    answers = _at_once(6, lambda: pool.invoke("StateFunction", {"sleep": 0.3}))

    assert all(isinstance(answer, dict) for answer in answers), answers
    assert len({answer["pid"] for answer in answers}) == 2  # never more workers than the concurrency
    assert sum(answer["calls"] == 1 for answer in answers) == 2  # two cold starts, the rest warm


def test_a_request_waiting_longer_than_the_queue_timeout_is_refused_as_a_throttle(
    spec: FunctionSpec,
) -> None:
    workers = FunctionWorkers(spec, dict(os.environ), None, concurrency=1, queue_timeout=0.3)
    try:
        workers.invoke({})  # started, so the next call's wait is the slow one alone
        busy = threading.Thread(target=workers.invoke, args=({"sleep": 2},))
        busy.start()
        time.sleep(0.2)
        with pytest.raises(InvocationError) as refused:
            workers.invoke({})
        busy.join()
    finally:
        workers.stop()
    assert refused.value.payload["errorType"] == "TooManyRequestsException"
    assert "StateFunction" in refused.value.payload["errorMessage"]


def test_after_stop_no_worker_starts_and_callers_get_an_error(spec: FunctionSpec) -> None:
    pool = FunctionPool({"StateFunction": spec}, lambda _spec: dict(os.environ), concurrency=2)
    pool.stop()

    with pytest.raises(InvocationError, match="stopping"):
        pool.invoke("StateFunction", {})
    assert pool.pids() == []


def test_a_reserved_concurrency_caps_the_workers_of_its_function(spec: FunctionSpec) -> None:
    reserved = dataclasses.replace(spec, reserved_concurrency=1)
    pool = FunctionPool({"StateFunction": reserved}, lambda _spec: dict(os.environ), concurrency=4)
    try:
        answers = _at_once(3, lambda: pool.invoke("StateFunction", {"sleep": 0.2}))
    finally:
        pool.stop()
    assert len({answer["pid"] for answer in answers}) == 1
    assert sorted(answer["calls"] for answer in answers) == [1, 2, 3]  # one after the other


def test_a_reserved_concurrency_of_zero_throttles_every_call_at_once(spec: FunctionSpec) -> None:
    disabled = dataclasses.replace(spec, reserved_concurrency=0)
    pool = FunctionPool({"StateFunction": disabled}, lambda _spec: dict(os.environ), concurrency=4)
    started = time.monotonic()
    with pytest.raises(InvocationError) as refused:
        pool.invoke("StateFunction", {})
    assert refused.value.payload["errorType"] == "TooManyRequestsException"
    assert time.monotonic() - started < 1  # refused, not queued for the timeout
    assert pool.pids() == []


def test_the_concurrency_must_be_positive(spec: FunctionSpec) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        FunctionPool({"StateFunction": spec}, lambda _spec: {}, concurrency=0)
    with pytest.raises(ValueError, match="negative"):
        FunctionWorkers(spec, {}, None, concurrency=-1)


# -- the gateway's transport ---------------------------------------------------------------------


def _ok(_name: str, _event: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": '{"ok": true}'}


def test_a_burst_of_connections_waits_in_the_backlog_instead_of_being_refused() -> None:
    # The server listens but does not accept yet: every connection must fit in the backlog (with
    # the standard library's 5, the kernel drops the SYNs of the 7th and later).
    server = GatewayHTTPServer(0, Gateway([Route("GET", "/ping", "Ping")], _ok))
    port = server.server_address[1]
    sockets: list[socket.socket] = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    try:
        for _ in range(128):
            sockets.append(socket.create_connection(("127.0.0.1", port), timeout=0.5))
        thread.start()
        for client in sockets:
            client.sendall(b"GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answers = [_read_all(client) for client in sockets]
    finally:
        for client in sockets:
            client.close()
        if thread.is_alive():
            server.shutdown()
        server.server_close()
    assert len(answers) == 128
    assert all(answer.startswith(b"HTTP/1.1 200 OK\r\n") for answer in answers)
    assert all(answer.endswith(b'{"ok": true}') for answer in answers)


def _read_all(client: socket.socket) -> bytes:
    client.settimeout(10)
    chunks = []
    while chunk := client.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def test_keep_alive_requests_are_not_held_back_by_nagle_and_delayed_ack() -> None:
    # Two small writes per answer (head, then body) cost ~40 ms a request on a kept-alive
    # connection: the body waits for the ACK of the head, which the client delays.
    with GatewayServer(Gateway([Route("GET", "/ping", "Ping")], _ok)) as server:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        timings = []
        try:
            for _ in range(40):
                started = time.perf_counter()
                connection.request("GET", "/ping")
                response = connection.getresponse()
                assert response.read() == b'{"ok": true}'
                timings.append(time.perf_counter() - started)
        finally:
            connection.close()
    assert statistics.median(timings) < 0.020, f"median keep-alive request {statistics.median(timings):.3f} s"


def test_the_gateway_writes_head_and_body_in_one_send() -> None:
    with GatewayServer(Gateway([Route("GET", "/ping", "Ping")], _ok)) as server:
        client = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        try:
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for _ in range(3):  # later requests on the connection are the ones that stalled
                client.sendall(b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n")
                answer = client.recv(65536)  # one segment: head and body together
                assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
                assert b"content-length: 12\r\n" in answer
                assert answer.endswith(b'\r\n\r\n{"ok": true}')
        finally:
            client.close()
