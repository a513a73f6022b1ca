"""Per-request latency of the local HTTP API, keep-alive against fresh connections:
`python -m bench.keepalive [--requests 200] [--url http://127.0.0.1:3000/instruments]`.

Without --url it starts the gateway in this process with one route whose invoker answers at once,
so the figure is the gateway's own transport (a Nagle / delayed-ACK stall shows as ~40 ms a request).
With --url it measures a running stack (`make run`) end to end. GETs only; prints median and p95.
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

from local.gateway import Gateway, GatewayServer
from local.template import Route


def _timed(requests: int, one: Callable[[], None]) -> list[float]:
    timings = []
    for _ in range(requests):
        started = time.perf_counter()
        one()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def keep_alive(host: str, port: int, path: str, requests: int) -> list[float]:
    connection = http.client.HTTPConnection(host, port, timeout=30)

    def one() -> None:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        if response.status >= 500:
            raise RuntimeError(f"GET {path} answered {response.status}")

    try:
        return _timed(requests, one)
    finally:
        connection.close()


def fresh_connections(host: str, port: int, path: str, requests: int) -> list[float]:
    def one() -> None:
        connection = http.client.HTTPConnection(host, port, timeout=30)
        try:
            connection.request("GET", path, headers={"Connection": "close"})
            response = connection.getresponse()
            response.read()
            if response.status >= 500:
                raise RuntimeError(f"GET {path} answered {response.status}")
        finally:
            connection.close()

    return _timed(requests, one)


def _summary(label: str, timings: list[float]) -> str:
    p95 = statistics.quantiles(timings, n=20)[-1]
    return f"{label:18} median {statistics.median(timings):6.2f} ms   p95 {p95:6.2f} ms   (n={len(timings)})"


def _answer(_name: str, _event: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": '{"ok": true}'}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.keepalive", description=__doc__)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--url", help="a GET route of a running stack; default: an in-process gateway")
    args = parser.parse_args(argv)
    server = None
    if args.url:
        target = urlsplit(args.url)
        host, port, path = target.hostname or "127.0.0.1", target.port or 80, target.path or "/"
    else:
        server = GatewayServer(Gateway([Route("GET", "/ping", "Ping")], _answer)).start()
        host, port, path = "127.0.0.1", server.port, "/ping"
    try:
        keep_alive(host, port, path, 5)  # warm the route (a cold worker would skew the first run)
        print(_summary("keep-alive", keep_alive(host, port, path, args.requests)))
        print(_summary("fresh connection", fresh_connections(host, port, path, args.requests)))
    finally:
        if server is not None:
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
