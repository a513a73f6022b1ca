"""A Lambda-like Python runtime without Docker.

Each function runs in up to N worker processes (like Lambda execution environments, N like a
reserved concurrency): each with its own environment variables (Globals + its own), its own
module state, one event at a time; a new worker starts cold, an idle one is reused warm. The
worker imports the handler file by path under a unique module name, with the function's code
folder and layers/exchange on sys.path, and answers each event with the handler's result or a
Lambda-style error payload. `invoke_in_process` does the same in the calling process (for the
one-shot `local.invoke` command).

Protocol: the parent writes one JSON line per event to the worker's stdin; the worker answers
one JSON line on its original stdout. Handler output (print, Powertools logs) goes to stderr,
which the parent relays with the function name as prefix.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import queue
import subprocess
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import IO, TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from local.template import FunctionDef, Template

REPO_ROOT = Path(__file__).resolve().parent.parent
LAYER_DIRS = (REPO_ROOT / "layers" / "exchange",)
ACCOUNT_ID = "123456789012"
# Workers per function: a small reserved concurrency, so two requests can race as on Lambda.
DEFAULT_CONCURRENCY = 4
# How long a request waits for a free worker: API Gateway's (HTTP API) integration timeout.
QUEUE_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class FunctionSpec:
    """What the runtime needs to know about one function of the template."""

    name: str
    code_dir: Path
    handler: str  # "app.lambda_handler"
    environment: Mapping[str, str] = field(default_factory=dict)
    timeout_seconds: float = 30.0
    memory_mb: int = 512
    layer_dirs: tuple[Path, ...] = LAYER_DIRS
    reserved_concurrency: int | None = None  # the template's ReservedConcurrentExecutions

    @classmethod
    def from_template(cls, fn: FunctionDef, layer_dirs: Mapping[str, Path]) -> FunctionSpec:
        """The spec of one template function; `layer_dirs` maps layer logical ids to their code."""
        return cls(
            name=fn.logical_id,
            code_dir=fn.code_dir,
            handler=fn.handler,
            environment=fn.environment,
            timeout_seconds=float(fn.timeout),
            memory_mb=fn.memory_size,
            layer_dirs=tuple(layer_dirs[layer] for layer in fn.layers if layer in layer_dirs),
            reserved_concurrency=fn.reserved_concurrency,
        )

    @property
    def handler_file(self) -> Path:
        module, _, _ = self.handler.rpartition(".")
        return self.code_dir / (module.replace(".", "/") + ".py")

    @property
    def handler_function(self) -> str:
        return self.handler.rpartition(".")[2]


class LocalLambdaContext:
    """The attributes and method handlers use from the Lambda context object."""

    def __init__(self, spec: FunctionSpec, region: str, request_id: str | None = None) -> None:
        self.function_name = spec.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{spec.name}"
        self.memory_limit_in_mb = str(spec.memory_mb)
        self.aws_request_id = request_id or str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{spec.name}"
        self.log_stream_name = time.strftime("%Y/%m/%d/[$LATEST]local", time.gmtime())
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + spec.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class InvocationError(Exception):
    """The handler raised, timed out or returned something that is not JSON."""

    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__(payload.get("errorMessage", "invocation failed"))
        self.payload = payload


def function_specs(template: Template) -> dict[str, FunctionSpec]:
    """Every function of the template, by logical id."""
    layer_dirs = {layer.logical_id: layer.content_dir for layer in template.layers()}
    return {fn.logical_id: FunctionSpec.from_template(fn, layer_dirs) for fn in template.functions()}


def load_handler_module(spec: FunctionSpec) -> ModuleType:
    """Import the handler file under a module name unique to this function (every function's
    module is `app`), once per process."""
    module_name = f"local_function_{spec.name}_{spec.handler_file.stem}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    for path in (*[str(p) for p in spec.layer_dirs], str(spec.code_dir)):
        if path not in sys.path:
            sys.path.insert(0, path)
    module_spec = importlib.util.spec_from_file_location(module_name, spec.handler_file)
    if module_spec is None or module_spec.loader is None:
        raise FileNotFoundError(f"handler file not found: {spec.handler_file}")
    module: ModuleType = importlib.util.module_from_spec(module_spec)
    sys.modules[module_name] = module
    module_spec.loader.exec_module(module)
    return module


def load_handler(spec: FunctionSpec) -> Callable[[dict[str, Any], Any], Any]:
    module = load_handler_module(spec)
    handler = getattr(module, spec.handler_function, None)
    if not callable(handler):
        raise AttributeError(f"{spec.handler_file} has no callable {spec.handler_function!r}")
    return handler  # type: ignore[no-any-return]


def error_payload(exc: BaseException) -> dict[str, Any]:
    """The shape Lambda gives a failed invocation (errorType, errorMessage, stackTrace)."""
    return {
        "errorType": type(exc).__name__,
        "errorMessage": str(exc),
        "stackTrace": traceback.format_tb(exc.__traceback__),
    }


def run_handler(
    handler: Callable[[dict[str, Any], Any], Any], spec: FunctionSpec, event: dict[str, Any], request_id: str
) -> dict[str, Any]:
    """One invocation: {"ok": true, "result": ...} or {"ok": false, **error payload}."""
    context = LocalLambdaContext(spec, os.environ.get("AWS_REGION", "us-east-1"), request_id)
    try:
        result = handler(event, context)
        # Lambda serialises the result as JSON; an answer that cannot be is a runtime error.
        return {"ok": True, "result": json.loads(json.dumps(result))}
    except Exception as exc:
        return {"ok": False, **error_payload(exc)}


def lambda_environment(spec: FunctionSpec, region: str) -> dict[str, str]:
    """Variables the Lambda service itself sets, besides the function's own."""
    return {
        "AWS_LAMBDA_FUNCTION_NAME": spec.name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11_local",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "LAMBDA_TASK_ROOT": str(spec.code_dir),
        "PYTHONPATH": os.pathsep.join([str(spec.code_dir), *[str(p) for p in spec.layer_dirs]]),
        "PYTHONUNBUFFERED": "1",
    }


class FunctionWorker:
    """A long-lived worker process for one function; started on first use (a cold start)."""

    def __init__(self, spec: FunctionSpec, env: Mapping[str, str], log_sink: TextIO | None = None) -> None:
        self.spec = spec
        self._env = dict(env)
        self._log_sink = log_sink if log_sink is not None else sys.stderr
        self._lock = threading.Lock()
        self._process: subprocess.Popen[str] | None = None
        self._answers: queue.Queue[str | None] = queue.Queue()
        self._closed = False  # stopped for good: no new process may start (none outlives the stack)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process and self._process.poll() is None else None

    def prewarm(self) -> None:
        """Start the worker now: it imports the handler before reading its first event."""
        with self._lock:
            self._ensure_started()

    def invoke(self, event: dict[str, Any], request_id: str | None = None) -> Any:
        """The handler's result; raises InvocationError on an error, a crash or a timeout."""
        request_id = request_id or str(uuid.uuid4())
        with self._lock:
            process = self._ensure_started()
            assert process.stdin is not None
            try:
                process.stdin.write(json.dumps({"event": event, "requestId": request_id}) + "\n")
                process.stdin.flush()
            except (OSError, ValueError):  # a dead pipe, or stdin closed by a stop meanwhile
                self._kill()
                raise InvocationError(_runtime_error("the function's worker exited")) from None
            answer = self._await_answer()
        if not answer.pop("ok"):
            raise InvocationError(answer)
        return answer["result"]

    def _await_answer(self) -> dict[str, Any]:
        # Import and first-call time count against the timeout too, as on Lambda's init phase.
        try:
            line = self._answers.get(timeout=self.spec.timeout_seconds + 1.0)
        except queue.Empty:
            self._kill()
            return _runtime_error(
                f"Task timed out after {self.spec.timeout_seconds:.2f} seconds", "Sandbox.Timedout"
            )
        if line is None:
            self._kill()
            return _runtime_error("the function's worker exited before answering")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def _ensure_started(self) -> subprocess.Popen[str]:
        if self._process is not None and self._process.poll() is None:
            return self._process
        if self._closed:
            raise InvocationError(_runtime_error("the local stack is stopping"))
        self._answers = queue.Queue()
        process = subprocess.Popen(
            [sys.executable, "-m", "local.runtime", json.dumps(_spec_to_json(self.spec))],
            cwd=REPO_ROOT,
            env=self._env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
            # Own session: a terminal's Ctrl-C reaches the stack only, which stops workers in order.
            start_new_session=True,
        )
        assert process.stdout is not None
        assert process.stderr is not None
        threading.Thread(target=self._read_answers, args=(process.stdout, self._answers), daemon=True).start()
        threading.Thread(target=self._relay_logs, args=(process.stderr,), daemon=True).start()
        self._process = process
        return process

    @staticmethod
    def _read_answers(stream: IO[str], answers: queue.Queue[str | None]) -> None:
        for line in stream:
            answers.put(line)
        answers.put(None)

    def _relay_logs(self, stream: IO[str]) -> None:
        for line in stream:
            try:
                self._log_sink.write(f"  {self.spec.name} | {line}")
                self._log_sink.flush()
            except ValueError:  # sink closed while the stack shuts down
                return

    def _kill(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.kill()
        process.wait(timeout=5)

    def request_stop(self) -> None:
        """EOF on the worker's stdin: it ends after the event in hand (stop() then waits)."""
        process = self._process
        if process is not None and process.stdin is not None and not process.stdin.closed:
            with contextlib.suppress(OSError):
                process.stdin.close()

    def stop(self) -> None:
        self._closed = True
        self.request_stop()
        with self._lock:
            process, self._process = self._process, None
        if process is None:
            return
        try:
            process.wait(timeout=3)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _runtime_error(message: str, error_type: str = "Runtime.ExitError") -> dict[str, Any]:
    return {"ok": False, "errorType": error_type, "errorMessage": message, "stackTrace": []}


def _spec_to_json(spec: FunctionSpec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "code_dir": str(spec.code_dir),
        "handler": spec.handler,
        "timeout_seconds": spec.timeout_seconds,
        "memory_mb": spec.memory_mb,
        "layer_dirs": [str(p) for p in spec.layer_dirs],
    }


def _worker_main(raw_spec: str) -> int:
    data = json.loads(raw_spec)
    spec = FunctionSpec(
        name=data["name"],
        code_dir=Path(data["code_dir"]),
        handler=data["handler"],
        timeout_seconds=float(data["timeout_seconds"]),
        memory_mb=int(data["memory_mb"]),
        layer_dirs=tuple(Path(p) for p in data["layer_dirs"]),
    )
    # Keep the answer channel private: anything the handler prints goes to stderr instead.
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    try:
        handler = load_handler(spec)
    except Exception as exc:
        failure = {"ok": False, **error_payload(exc), "errorType": "Runtime.ImportModuleError"}
        traceback.print_exc()
        for _line in sys.stdin:  # answer every event with the import failure, like Lambda does
            answers.write(json.dumps(failure) + "\n")
        return 1
    for line in sys.stdin:
        request = json.loads(line)
        answer = run_handler(handler, spec, request["event"], request["requestId"])
        if not answer["ok"]:
            sys.stderr.write(
                "".join(answer["stackTrace"]) + f"{answer['errorType']}: {answer['errorMessage']}\n"
            )
        answers.write(json.dumps(answer) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(_worker_main(sys.argv[1]))


class FunctionWorkers:
    """Up to `concurrency` workers of one function, as Lambda runs up to its reserved concurrency
    of execution environments: a request takes an idle worker (warm, the most recently used first),
    else starts a new one (a cold start in a fresh process: no module state shared), else waits for
    one to come free. Lambda would throttle instead of waiting (API Gateway then answers 500); a
    local burst queues, up to API Gateway's 30 s integration timeout, so races still happen but
    every request is served."""

    def __init__(
        self,
        spec: FunctionSpec,
        env: Mapping[str, str],
        log_sink: TextIO | None,
        concurrency: int,
        queue_timeout: float = QUEUE_TIMEOUT_SECONDS,
    ) -> None:
        if concurrency < 0:
            raise ValueError(f"concurrency must not be negative, not {concurrency}")
        self.spec = spec
        self.concurrency = concurrency
        self._env = dict(env)
        self._log_sink = log_sink
        self._queue_timeout = queue_timeout
        self._workers: list[FunctionWorker] = []
        self._idle: list[FunctionWorker] = []  # the most recently used last: it is taken first
        self._changed = threading.Condition()
        self._stopping = False

    def invoke(self, event: dict[str, Any]) -> Any:
        worker = self._acquire()
        try:
            return worker.invoke(event)
        finally:
            self._release(worker)

    def _acquire(self) -> FunctionWorker:
        deadline = time.monotonic() + self._queue_timeout
        with self._changed:
            while True:
                if self._stopping:
                    raise InvocationError(_runtime_error("the local stack is stopping"))
                if self.concurrency == 0:  # a reserved concurrency of 0 throttles every call
                    raise InvocationError(
                        _runtime_error(f"{self.spec.name} has no concurrency", "TooManyRequestsException")
                    )
                if self._idle:
                    return self._idle.pop()
                if len(self._workers) < self.concurrency:
                    worker = FunctionWorker(self.spec, self._env, self._log_sink)
                    self._workers.append(worker)
                    return worker
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise InvocationError(
                        _runtime_error(
                            f"all {self.concurrency} workers of {self.spec.name} stayed busy for "
                            f"{self._queue_timeout:.0f} s",
                            "TooManyRequestsException",
                        )
                    )
                self._changed.wait(remaining)

    def _release(self, worker: FunctionWorker) -> None:
        with self._changed:
            self._idle.append(worker)
            self._changed.notify()

    def prewarm(self) -> None:
        """One worker started ahead of the first request; the others start cold when needed."""
        worker = self._acquire()
        try:
            worker.prewarm()
        finally:
            self._release(worker)

    def pids(self) -> list[int]:
        with self._changed:
            workers = list(self._workers)
        return [pid for worker in workers if (pid := worker.pid) is not None]

    def request_stop(self) -> None:
        with self._changed:
            self._stopping = True
            self._changed.notify_all()
            workers = list(self._workers)
        for worker in workers:
            worker.request_stop()

    def stop(self) -> None:
        self.request_stop()
        with self._changed:
            workers = list(self._workers)
        for worker in workers:
            worker.stop()


class FunctionPool:
    """The workers of every function (started on first use); the invoker the gateway and the
    scheduler share."""

    def __init__(
        self,
        specs: Mapping[str, FunctionSpec],
        environment: Callable[[FunctionSpec], Mapping[str, str]],
        log_sink: TextIO | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, not {concurrency}")
        self.concurrency = concurrency
        self._functions = {
            name: FunctionWorkers(spec, environment(spec), log_sink, _concurrency_of(spec, concurrency))
            for name, spec in specs.items()
        }

    @property
    def names(self) -> list[str]:
        return sorted(self._functions)

    def invoke(self, name: str, event: dict[str, Any]) -> Any:
        workers = self._functions.get(name)
        if workers is None:
            raise InvocationError(
                _runtime_error(f"function {name!r} is not in the template", "ResourceNotFound")
            )
        return workers.invoke(event)

    def prewarm(self) -> None:
        for workers in self._functions.values():
            with contextlib.suppress(InvocationError):  # the stack stopped while warming up
                workers.prewarm()

    def pids(self) -> list[int]:
        return [pid for workers in self._functions.values() for pid in workers.pids()]

    def stop(self) -> None:
        for workers in self._functions.values():  # all at once, then wait for each
            workers.request_stop()
        for workers in self._functions.values():
            workers.stop()


def _concurrency_of(spec: FunctionSpec, concurrency: int) -> int:
    """A function with a reserved concurrency never runs more environments than that, as on Lambda."""
    if spec.reserved_concurrency is None:
        return concurrency
    return min(concurrency, spec.reserved_concurrency)
