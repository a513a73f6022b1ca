"""`python -m local.stack` (what `make run` starts): the whole system on one machine.

Starts, in one process tree that Ctrl-C or SIGTERM stops cleanly:
- moto on 127.0.0.1:5000 (Secrets Manager, EventBridge, SQS; DynamoDB too when DynamoDB Local
  cannot run), in this process;
- DynamoDB Local on 127.0.0.1:8000 (child process group, Java, jar from the npm package);
- the tables, secret (the sandbox key pair), bus from template.yaml, plus a local-only rule that
  copies every OrderStatusChanged event to an SQS queue so `make demo` can show it;
- the sandbox exchange on 127.0.0.1:8081 with its lifecycle clock running;
- the HTTP API on 127.0.0.1:3000 with exactly the template's routes, /docs and /openapi.json;
- the template's schedules (the status poller), shortened with --poll-every;
- the template's DynamoDB stream events (OrderEventsFunction on the orders table's stream), run
  as Lambda's event source mapping runs them (local.streams), failures parked in the template's
  SQS queue in moto.
Each function runs in up to --concurrency worker processes (local.runtime): a new one starts cold
like a new Lambda execution environment, an idle one is reused warm; a burst beyond that queues.
Writes the endpoints to <state-dir>/stack.json for `local.demo`, `local.invoke` and tests.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, Self, TextIO

from local.aws_local import (
    HOST,
    DynamoDBLocal,
    DynamoDBLocalUnavailableError,
    MotoServer,
    dynamodb_local_unavailable_reason,
    free_port,
    port_is_free,
)
from local.gateway import AUTH_MODES, OPENAPI_FILE, Gateway, GatewayServer
from local.runtime import (
    DEFAULT_CONCURRENCY,
    FunctionPool,
    FunctionSpec,
    function_specs,
    lambda_environment,
)
from local.sam_env import FILE_NAME as SAM_ENV_FILE
from local.sam_env import write_sam_env
from local.scheduler import Schedule, Scheduler
from local.service import Service
from local.streams import StreamService, bind_mappings
from local.template import Route

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_STATE_DIR = REPO_ROOT / ".local-state"
STATE_FILE = "stack.json"
REGION = "us-east-1"
BUS_TAP_QUEUE = "cryptosdk-local-bus-tap"
BUS_TAP_RULE = "cryptosdk-local-bus-tap"
# Never real credentials: every endpoint is local, and a mistake must not reach a real account.
FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


@dataclass
class StackOptions:
    api_port: int = 3000
    sandbox_port: int = 8081
    moto_port: int = 5000
    dynamodb_port: int = 8000
    poll_every: float | None = None
    auth_mode: str = "NONE"
    dynamodb_local: bool = True
    state_dir: Path = DEFAULT_STATE_DIR
    sandbox_step_seconds: float = 10.0
    sandbox_lapse_seconds: float = 1800.0
    prewarm: bool = True
    concurrency: int = DEFAULT_CONCURRENCY
    log_level: str = "WARNING"
    # local.invoke needs only the embedded AWS and the sandbox.
    serve_api: bool = True
    run_schedules: bool = True
    run_streams: bool = True
    write_state: bool = True


@dataclass
class StackInfo:
    """What listens where; written to stack.json for the demo, invoke and tests."""

    api: str
    sandbox: str
    moto: str
    dynamodb: str
    dynamodb_engine: str
    bus_tap_queue_url: str
    event_bus: str
    orders_table: str
    auth_mode: str
    pid: int
    child_pids: list[int] = field(default_factory=list)
    functions: dict[str, dict[str, str]] = field(default_factory=dict)
    # Queue name -> URL in moto (OrderEventsFailureQueue: stream batches that kept failing).
    queues: dict[str, str] = field(default_factory=dict)


def _say(out: TextIO, line: str) -> None:
    out.write(line + "\n")
    out.flush()


class LocalStack(Service):
    """Everything `make run` starts, as one object: `with LocalStack(options) as stack: ...`."""

    def __init__(
        self, options: StackOptions | None = None, out: TextIO | None = None, quiet: bool = False
    ) -> None:
        self.options = options or StackOptions()
        self.out = out or sys.stdout
        self.quiet = quiet
        self.moto: MotoServer | None = None
        self.dynamodb: DynamoDBLocal | None = None
        self.sandbox: Any = None
        self.pool: FunctionPool | None = None
        self.gateway: GatewayServer | None = None
        self.scheduler: Scheduler | None = None
        self.streams: StreamService | None = None
        self.info: StackInfo | None = None
        self._started = time.perf_counter()

    # -- start ---------------------------------------------------------------------------------

    def start(self) -> Self:
        self._started = time.perf_counter()
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        opts = self.options
        ports = self._resolve_ports()
        # DynamoDB Local's JVM takes the longest: launch it first, wait for it last.
        dynamodb_waiter = self._launch_dynamodb_local(ports["dynamodb"]) if opts.dynamodb_local else None
        if not opts.dynamodb_local:
            self._notice("DynamoDB Local disabled (--no-dynamodb-local); moto's DynamoDB stands in")
        self.moto = MotoServer(ports["moto"]).start()
        self.sandbox = self._start_sandbox(ports["sandbox"])
        template = self._template()
        # Everything that does not need DynamoDB happens while the JVM is still starting.
        bus_tap_url, queues = self._provision_moto(template)
        dynamodb_endpoint, engine = self._dynamodb_endpoint(dynamodb_waiter)
        self._provision_tables(template, dynamodb_endpoint)
        self.pool = FunctionPool(
            self._function_specs(template),
            lambda spec: self._function_environment(spec, template, dynamodb_endpoint),
            log_sink=self.out,
            concurrency=opts.concurrency,
        )
        routes = template.routes()
        api_url = ""
        if opts.serve_api:
            gateway = Gateway(
                routes,
                self.pool.invoke,
                auth_mode=opts.auth_mode,
                request_log=self._log_request,
                openapi_file=self._served_openapi(f"http://{HOST}:{ports['api']}"),
            )
            self.gateway = GatewayServer(gateway, ports["api"]).start()
            api_url = self.gateway.url
        schedules = [
            Schedule(s.function, s.expression, f"{template.stack_name}-{s.function}{s.event}", s.enabled)
            for s in template.schedules()
        ]
        self.scheduler = Scheduler(
            schedules, self.pool.invoke, region=REGION, every_seconds=opts.poll_every, notice=self._notice
        )
        if opts.run_schedules:
            self.scheduler.start()
        self.streams = self._stream_service(template, dynamodb_endpoint)
        if opts.run_streams:
            self.streams.start()
        self.info = StackInfo(
            api=api_url,
            sandbox=self.sandbox.url,
            moto=self.moto.endpoint,
            dynamodb=dynamodb_endpoint,
            dynamodb_engine=engine,
            bus_tap_queue_url=bus_tap_url,
            event_bus=template.physical_name("EventBus"),
            orders_table=template.physical_name("OrdersTable"),
            auth_mode=opts.auth_mode,
            pid=os.getpid(),
            child_pids=self.child_pids(),
            functions={r.function: {"route": f"{r.method} {r.path}"} for r in routes},
            queues=queues,
        )
        if opts.write_state:
            self._write_state()
        if not self.quiet:
            self._announce(routes)
        if opts.prewarm:
            threading.Thread(target=self.pool.prewarm, name="prewarm", daemon=True).start()

    def _served_openapi(self, api_url: str) -> Path:
        """The committed document with this stack's URL and AuthMode, in the state dir; the
        committed file itself (or its absence, which the gateway reports) when there is none."""
        from local.openapi import served_document

        if not OPENAPI_FILE.exists():
            return OPENAPI_FILE
        document = served_document(json.loads(OPENAPI_FILE.read_text()), api_url, self.options.auth_mode)
        served = self.options.state_dir / "openapi.json"
        served.parent.mkdir(parents=True, exist_ok=True)
        served.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return served

    def _resolve_ports(self) -> dict[str, int]:
        opts = self.options
        wanted = {
            "api": opts.api_port,
            "sandbox": opts.sandbox_port,
            "moto": opts.moto_port,
            "dynamodb": opts.dynamodb_port,
        }
        ports: dict[str, int] = {}
        for name, port in wanted.items():
            if port == 0:
                ports[name] = free_port()
            elif not port_is_free(port):
                raise StackError(f"port {port} ({name}) is already in use; pick another with --{name}-port")
            else:
                ports[name] = port
        return ports

    def _launch_dynamodb_local(self, port: int) -> Callable[[], str | None]:
        """Start the JVM now; the returned call waits for it and gives an error sentence or None."""
        reason = dynamodb_local_unavailable_reason()
        if reason:
            return lambda: reason
        self.dynamodb = DynamoDBLocal(port, log_file=self.options.state_dir / "dynamodb-local.log")
        result: dict[str, str | None] = {"error": None}
        try:
            self.dynamodb.launch()
        except DynamoDBLocalUnavailableError as exc:
            self.dynamodb = None
            message = str(exc)
            return lambda: message
        except OSError as exc:
            self.dynamodb = None
            failure = f"could not start java: {exc}"
            return lambda: failure

        def wait() -> str | None:
            assert self.dynamodb is not None
            try:
                self.dynamodb.wait_ready()
            except DynamoDBLocalUnavailableError as exc:
                self.dynamodb.stop()
                self.dynamodb = None
                result["error"] = str(exc)
            return result["error"]

        return wait

    def _dynamodb_endpoint(self, waiter: Callable[[], str | None] | None) -> tuple[str, str]:
        assert self.moto is not None
        if waiter is None:
            return self.moto.endpoint, "moto"
        error = waiter()
        if error is None and self.dynamodb is not None:
            return self.dynamodb.endpoint, "DynamoDB Local"
        self._notice(f"DynamoDB Local unavailable ({error}); moto's DynamoDB stands in")
        return self.moto.endpoint, "moto"

    def _start_sandbox(self, port: int) -> Any:
        from local.sandbox import SandboxServer

        return SandboxServer(
            HOST,
            port,
            step_seconds=self.options.sandbox_step_seconds,
            lapse_seconds=self.options.sandbox_lapse_seconds,
        ).start()

    def _template(self) -> Any:
        from local.template import load_template

        return load_template(
            parameters={
                "Stage": "dev",
                "AuthMode": self.options.auth_mode,
                "ExchangeApiUrl": self.sandbox.url,
                "LogLevel": self.options.log_level,
            }
        )

    def _provision_moto(self, template: Any) -> tuple[str, dict[str, str]]:
        """The secret (holding the sandbox's key pair), the bus, the queues and the local bus tap,
        in moto; the tap's URL and every queue's."""
        from local.provision import create_event_buses, create_queues, create_secrets, stack_names

        assert self.moto is not None
        session = _local_session()
        names = stack_names(template)
        keys = {"publicKey": self.sandbox.public_key, "secretKey": self.sandbox.secret_key}
        secretsmanager = session.client("secretsmanager", endpoint_url=self.moto.endpoint)
        create_secrets(secretsmanager, template, {names.exchange_secret_id: keys})
        events = session.client("events", endpoint_url=self.moto.endpoint)
        create_event_buses(events, template)
        sqs = session.client("sqs", endpoint_url=self.moto.endpoint)
        queues = create_queues(sqs, template)
        return add_bus_tap(events, sqs, names.event_bus_name), queues

    def _stream_service(self, template: Any, dynamodb_endpoint: str) -> StreamService:
        """The template's stream events on the running DynamoDB's streams (DynamoDB Local and
        moto both serve the DynamoDB Streams API on their own endpoint), invoking the pool."""
        assert self.moto is not None
        assert self.pool is not None
        session = _local_session()
        mappings = bind_mappings(
            template.stream_sources(),
            table_names={table.logical_id: table.name for table in template.tables()},
            dynamodb=session.client("dynamodb", endpoint_url=dynamodb_endpoint),
            streams=session.client("dynamodbstreams", endpoint_url=dynamodb_endpoint),
            invoke=self.pool.invoke,
            sqs=session.client("sqs", endpoint_url=self.moto.endpoint),
            queue_names={q: template.physical_name(q) for q in template.resources("AWS::SQS::Queue")},
            region=REGION,
        )
        return StreamService(mappings, notice=self._notice)

    @staticmethod
    def _provision_tables(template: Any, dynamodb_endpoint: str) -> None:
        from local.provision import create_tables

        create_tables(_local_session().client("dynamodb", endpoint_url=dynamodb_endpoint), template)

    @staticmethod
    def _function_specs(template: Any) -> dict[str, FunctionSpec]:
        return function_specs(template)

    def _function_environment(
        self, spec: FunctionSpec, template: Any, dynamodb_endpoint: str
    ) -> dict[str, str]:
        assert self.moto is not None
        env = function_environment(spec, self.moto.endpoint, dynamodb_endpoint)
        if self.options.poll_every is not None:
            # A shortened schedule only helps if orders also come due that often.
            env["POLL_INTERVAL_MAX_SECONDS"] = str(self.options.poll_every)
        return env

    # -- output --------------------------------------------------------------------------------

    def _notice(self, message: str) -> None:
        _say(self.out, message if message.startswith("notice") else f"notice: {message}")

    def _log_request(self, line: str) -> None:
        _say(self.out, f"{time.strftime('%H:%M:%S')} {line}")

    def _announce(self, routes: Sequence[Route]) -> None:
        assert self.info is not None
        assert self.scheduler is not None
        info = self.info
        _say(self.out, f"moto (Secrets Manager, EventBridge, SQS)  {info.moto}")
        _say(self.out, f"DynamoDB ({info.dynamodb_engine})  {info.dynamodb}")
        _say(self.out, f"sandbox exchange  {info.sandbox}")
        _say(self.out, f"HTTP API  {info.api}   docs {info.api}/docs")
        _say(self.out, f"storefront page  {info.api}/")
        for route in routes:
            _say(self.out, f"  {route.method:5} {route.path:28} -> {route.function}")
        assert self.pool is not None
        _say(
            self.out,
            f"functions  up to {self.pool.concurrency} concurrent workers each (--concurrency; "
            "less where the template reserves less)",
        )
        for line in self.scheduler.describe():
            _say(self.out, f"schedule  {line}")
        for line in self.streams.describe() if self.streams else []:
            _say(self.out, f"stream    {line}")
        _say(self.out, f"events on bus {info.event_bus} are copied to SQS {info.bus_tap_queue_url}")
        elapsed = time.perf_counter() - self._started
        _say(
            self.out,
            f"ready: API {info.api} (sandbox {info.sandbox}, moto {info.moto}, "
            f"dynamodb {info.dynamodb}) in {elapsed:.1f}s; Ctrl-C stops",
        )

    def _write_state(self) -> None:
        assert self.info is not None
        self.options.state_dir.mkdir(parents=True, exist_ok=True)
        (self.options.state_dir / STATE_FILE).write_text(json.dumps(asdict(self.info), indent=2) + "\n")
        # For the real `sam local invoke/start-api` (Docker) against this stack: see local/sam_env.py.
        write_sam_env(
            self.options.state_dir / SAM_ENV_FILE, self._function_specs(self._template()), asdict(self.info)
        )

    def child_pids(self) -> list[int]:
        pids = [self.dynamodb.pid] if self.dynamodb and self.dynamodb.pid else []
        return pids + (self.pool.pids() if self.pool else [])

    # -- stop ----------------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop everything in reverse order; safe to call twice or after a failed start."""
        # Children first get the word all at once (they wind down in parallel), then each is awaited.
        if self.dynamodb is not None:
            self.dynamodb.request_stop()
        # The stream reader stops before the pool it invokes and the DynamoDB it reads.
        parts: list[Any] = [
            self.scheduler,
            self.streams,
            self.gateway,
            self.pool,
            self.sandbox,
            self.dynamodb,
            self.moto,
        ]
        for part in parts:
            if part is None:
                continue
            try:
                part.stop()
            except Exception as exc:  # one failing part must not keep the others running
                self._notice(f"while stopping {type(part).__name__}: {type(exc).__name__}: {exc}")
        self.scheduler = self.gateway = self.pool = self.sandbox = self.dynamodb = self.moto = None
        self.streams = None
        state = self.options.state_dir / STATE_FILE
        if self.info is not None and state.exists():
            state.unlink()
        self.info = None


class StackError(RuntimeError):
    """The stack cannot start; the message says why and what to do."""


def function_environment(spec: FunctionSpec, moto_endpoint: str, dynamodb_endpoint: str) -> dict[str, str]:
    """The process environment of one function's worker: the machine's, then the template's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_"))}
    env.update(FAKE_AWS)
    env.update(spec.environment)
    env.update(lambda_environment(spec, REGION))
    env.update(
        {
            # boto3 reads service-specific endpoints first: DynamoDB Local and moto differ.
            "AWS_ENDPOINT_URL": moto_endpoint,
            "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_endpoint,
            # No X-Ray daemon locally; the SDK would log a failed UDP send per segment.
            "POWERTOOLS_TRACE_DISABLED": "true",
        }
    )
    if env.get("LOG_LEVEL", "INFO") not in ("DEBUG", "INFO"):
        # Metrics go to stdout as EMF JSON: noise in a terminal unless logs are wanted too.
        env["POWERTOOLS_METRICS_DISABLED"] = "true"
        env["PYTHONWARNINGS"] = "ignore::UserWarning:aws_lambda_powertools.metrics.provider.base"
    return env


def _local_session() -> Any:
    import boto3

    return boto3.session.Session(
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - moto's fake key
        region_name=REGION,
    )


def add_bus_tap(events: Any, sqs: Any, bus_name: str) -> str:
    """A local-only rule copying our events from the bus to an SQS queue (moto delivers it)."""
    from cryptosdk.orders.events import SOURCE

    queue_url: str = sqs.create_queue(QueueName=BUS_TAP_QUEUE)["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]
    events.put_rule(Name=BUS_TAP_RULE, EventBusName=bus_name, EventPattern=json.dumps({"source": [SOURCE]}))
    events.put_targets(
        Rule=BUS_TAP_RULE, EventBusName=bus_name, Targets=[{"Id": "tap", "Arn": attributes["QueueArn"]}]
    )
    return queue_url


def read_state(state_dir: Path = DEFAULT_STATE_DIR) -> dict[str, Any] | None:
    """The running stack's stack.json, or None when no stack has written one."""
    path = state_dir / STATE_FILE
    if not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text())
    return data


# -- command line ------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> StackOptions:
    parser = argparse.ArgumentParser(
        prog="python -m local.stack",
        description="Run the whole backend locally: no AWS account, no Docker. Port 0 picks a free port.",
    )
    parser.add_argument("--api-port", type=int, default=3000)
    parser.add_argument("--sandbox-port", type=int, default=8081)
    parser.add_argument("--moto-port", type=int, default=5000)
    parser.add_argument("--dynamodb-port", type=int, default=8000)
    parser.add_argument(
        "--poll-every",
        type=float,
        default=None,
        metavar="SECONDS",
        help="run the scheduled poller this often instead of the template's schedule",
    )
    parser.add_argument(
        "--auth-mode",
        choices=AUTH_MODES,
        default="NONE",
        help="NONE (dev default); IAM/JWT only check a credential is present, never verify it",
    )
    parser.add_argument(
        "--no-dynamodb-local",
        dest="dynamodb_local",
        action="store_false",
        help="use moto's DynamoDB instead of DynamoDB Local",
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=DEFAULT_STATE_DIR,
        help="where stack.json and the DynamoDB Local log go",
    )
    parser.add_argument(
        "--sandbox-step-seconds",
        type=float,
        default=10.0,
        help="seconds per lifecycle step of sandbox orders; 0 = only on command",
    )
    parser.add_argument(
        "--sandbox-lapse-seconds",
        type=float,
        default=1800.0,
        help="an unpaid sandbox order lapses after this; 0 = never",
    )
    parser.add_argument(
        "--log-level",
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        default="WARNING",
        help="functions' log level (the template's LogLevel); INFO also prints their metrics",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=DEFAULT_CONCURRENCY,
        metavar="N",
        help="worker processes per function, like a reserved concurrency (a new one starts cold)",
    )
    parser.add_argument(
        "--no-prewarm",
        dest="prewarm",
        action="store_false",
        help="start function workers on first request only",
    )
    args = parser.parse_args(argv)
    if args.poll_every is not None and args.poll_every <= 0:
        parser.error("--poll-every must be positive")
    if args.concurrency < 1:
        parser.error("--concurrency must be at least 1")
    return StackOptions(**vars(args))


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_args(argv)
    os.environ.update(FAKE_AWS)
    os.environ.pop("AWS_PROFILE", None)
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    # Both signals only set a flag: the main thread then stops every part in order.
    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    stack = LocalStack(options)
    try:
        stack.start()
    except StackError as exc:
        _say(sys.stderr, f"error: {exc}")
        return 2
    try:
        while not stop.wait(0.5):
            pass
    finally:
        _say(sys.stdout, "stopping ...")
        stack.stop()
        _say(sys.stdout, "stopped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
