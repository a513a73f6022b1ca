"""The HTTP transport: a threaded HTTP/1.1 keep-alive server on the standard library.

The standard library server is used rather than werkzeug's development server because the latter
closes every connection after one response; benchmarks push thousands of requests through here
and need keep-alive, and fault injection needs the raw socket to drop a connection.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import urlsplit

from local.sandbox.api import Reply, Request, SandboxApp, SandboxSettings, error_reply
from local.sandbox.auth import AuthHeaders
from local.sandbox.errors import SandboxError
from local.sandbox.faults import STATUS_MESSAGES
from local.sandbox.orders import LifecycleSettings
from local.sandbox.schemas import FaultSpec
from local.service import Service

logger = logging.getLogger("local.sandbox")

DEFAULT_PUBLIC_KEY = "sandbox-public-key"
DEFAULT_SECRET_KEY = "sandbox-secret-key"  # noqa: S105 - the documented development default
_DROPPED = object()


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # many clients connect at once in benchmarks
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], sandbox: SandboxServer) -> None:
        self.sandbox = sandbox
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer
    timeout = 120  # idle keep-alive connections release their thread eventually
    server_version = "ExchangeSandbox/1.0"
    sys_version = ""

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        with contextlib.suppress(OSError):  # the peer (or a "drop" fault) already closed the socket
            super().finish()

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        # The default line holds the full request line; ours is written in _serve without headers.
        return

    def _serve(self) -> None:
        sandbox = self.server.sandbox
        started = time.perf_counter()
        target = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        request = Request(
            method=self.command,
            path=target.path,
            query_string=target.query,
            body=body,
            client_ip=self.client_address[0],
            headers=AuthHeaders(
                self.headers.get("X-Api-Public-Key"),
                self.headers.get("X-Api-Timestamp"),
                self.headers.get("X-Api-Signature"),
            ),
        )
        outcome = sandbox.respond(request)
        status = outcome.status if isinstance(outcome, Reply) else "dropped"
        sandbox.app.stats.response(request.path, status)
        if isinstance(outcome, Reply):
            self._send(outcome)
        else:
            self._drop()
        if sandbox.access_log:
            elapsed = (time.perf_counter() - started) * 1000
            logger.info("%s %s %s %.1fms", request.method, request.path, status, elapsed)

    def _send(self, reply: Reply) -> None:
        payload = json.dumps(reply.body, separators=(",", ":"), ensure_ascii=False).encode()
        head = [f"HTTP/1.1 {reply.status} {self.responses.get(reply.status, ('',))[0]}"]
        head.append("Content-Type: application/json; charset=utf-8")
        head.append(f"Content-Length: {len(payload)}")
        head.extend(f"{name}: {value}" for name, value in reply.headers.items())
        # One write for head and body: two small writes would meet Nagle and delayed ACK.
        self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + payload)

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


class SandboxServer(Service):
    """The sandbox exchange on 127.0.0.1, in process: `with SandboxServer(port=0) as sandbox: sandbox.url`."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        public_key: str | None = None,
        secret_key: str | None = None,
        whitelist: list[str] | None = None,
        timestamp_window: float = 30.0,
        lapse_seconds: float | None = 1800.0,
        step_seconds: float | None = None,
        unpaid_fraction: float = 0.0,
        access_log: bool = False,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.host = host
        self.requested_port = port
        self.public_key = public_key or os.environ.get("SANDBOX_PUBLIC_KEY") or DEFAULT_PUBLIC_KEY
        self.secret_key = secret_key or os.environ.get("SANDBOX_SECRET_KEY") or DEFAULT_SECRET_KEY
        if whitelist is None:
            whitelist = [
                ip.strip() for ip in os.environ.get("SANDBOX_WHITELIST", "").split(",") if ip.strip()
            ]
        settings = SandboxSettings(
            timestamp_window=timestamp_window,
            lifecycle=LifecycleSettings(step_seconds or None, lapse_seconds or None, unpaid_fraction),
        )
        self.app = SandboxApp({self.public_key: self.secret_key}, frozenset(whitelist), settings, now)
        self.access_log = access_log
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle -----------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the sandbox is not running")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> Self:
        if self._httpd is not None:
            return self
        self._stopping.clear()
        self._httpd = _HTTPServer((self.host, self.requested_port), self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="sandbox-http", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stopping.set()  # wakes requests sleeping on latency or hang faults
        httpd.shutdown()
        httpd.server_close()
        with httpd.connections_lock:
            open_connections = list(httpd.connections)
        for connection in open_connections:  # keep-alive peers must not be served after stop
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)

    # ---- in-process conveniences (tests use these instead of HTTP when they need no wire) ------

    @property
    def keys(self) -> dict[str, str]:
        return {"publicKey": self.public_key, "secretKey": self.secret_key}

    def reset(self) -> None:
        self.app.reset(_internal_request("POST", "/_sandbox/reset"))

    def clear_faults(self) -> None:
        self.app.faults.clear()

    def _handle_late(self, request: Request, delay: float) -> None:
        if not self._stopping.wait(delay):
            self._handle(request)

    def restore_defaults(self) -> None:
        """Back to the start-up faults, settings, keys and stats, keeping the orders (between tests)."""
        orders = self.app.orders
        with orders.kept():
            self.reset()

    # ---- one request ---------------------------------------------------------------------------

    def respond(self, request: Request) -> Reply | object:
        self.app.stats.request(request.path)
        if request.path.startswith("/api/"):
            fault = self._apply_faults(request)
            if fault is not None:
                return fault
        return self._handle(request)

    def _handle(self, request: Request) -> Reply:
        try:
            return self.app.handle(request)
        except SandboxError as error:
            return error_reply(error)
        except Exception:
            logger.exception("sandbox failure on %s %s", request.method, request.path)
            return error_reply(SandboxError(500, "Internal Server Error", "INTERNAL_ERROR"))

    def _apply_faults(self, request: Request) -> Reply | object | None:
        decision = self.app.faults.decide(request.path)
        if decision.latency_seconds:
            self._stopping.wait(decision.latency_seconds)
        action = decision.action
        if action is None:
            return None
        if action.kind == "drop":
            return _DROPPED
        if action.kind == "drop-after":
            self._handle(request)
            return _DROPPED
        if action.kind == "late":
            delay = action.latency_ms / 1000
            threading.Thread(target=self._handle_late, args=(request, delay), daemon=True).start()
            return _DROPPED
        if action.kind == "hang":
            self._stopping.wait(action.hang_seconds)
            return _DROPPED
        return _fault_reply(action)


def _fault_reply(action: FaultSpec) -> Reply:
    status = int(action.kind)
    message, code = STATUS_MESSAGES[status]
    headers = {}
    if status == 429 and action.retry_after is not None:
        retry_after = action.retry_after
        headers["Retry-After"] = (
            str(int(retry_after)) if retry_after == int(retry_after) else str(retry_after)
        )
    error = SandboxError(status, message, code, {"injected": True}, headers)
    return error_reply(error)


def _internal_request(method: str, path: str) -> Request:
    return Request(method, path, "", b"", "127.0.0.1", AuthHeaders(None, None, None))
