"""Cold start as Lambda runs it: `python -m bench.cold_start [--runs 7]` (`make cold-start`).

What one sample is: a fresh interpreter of the runtime's Python version, given only what a Lambda
execution environment has on its path (the function's folder and the layer from the `sam build`
output, then the runtime's own boto3), on a read-only copy with PYTHONDONTWRITEBYTECODE set, so
nothing is compiled unless the build failed to ship its bytecode. It imports the handler module
(Lambda's init) and answers one recorded event from events/ (the first request), against a real
backend: moto server and the sandbox exchange, provisioned from template.yaml as `make run` does.
Timed inside the process with perf_counter, so interpreter start-up is in no figure.

Beside every route, in the same rounds and the same way, two yardsticks: a bare `import boto3`
(every figure is also given as a ratio to it, the median of per-round ratios) and the
cookbook-style handler in bench/reference (Powertools resolver with validation, a pydantic model,
a DynamoDB put). Rounds are interleaved in a shuffled order so machine load hits all alike.

`--python-version 3.13` measures another runtime: the layer is built for it with the layer's own
Makefile (into .aws-sam/cold-start/3.13), the functions copied beside it.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import shutil
import statistics
import subprocess
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
EVENTS = REPO / "events"
REFERENCE = Path(__file__).resolve().parent / "reference" / "cookbook_handler.py"
BUILD_DIR = REPO / ".aws-sam" / "build"
CACHE_DIR = REPO / ".aws-sam" / "cold-start"
LAYER_ID = "ExchangeLayer"
GOAL_RATIO = 2.5
MARK = "@@cold-start "

# What runs in the measured interpreter. sys.argv[1] is the job as JSON.
CHILD = r"""
import json, sys, time
job = json.loads(sys.argv[1])
c0, t0 = time.process_time(), time.perf_counter()
if job["kind"] == "boto3":
    import boto3
    t1 = t2 = time.perf_counter()
    status = None
else:
    import importlib.util
    spec = importlib.util.spec_from_file_location("app", job["handler_file"])
    module = importlib.util.module_from_spec(spec)
    sys.modules["app"] = module
    spec.loader.exec_module(module)
    t1 = time.perf_counter()

    class Context:
        function_name = job["function"]
        function_version = "$LATEST"
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:" + job["function"]
        memory_limit_in_mb = "512"
        aws_request_id = "00000000-0000-4000-8000-000000000001"
        log_group_name = "/aws/lambda/" + job["function"]
        log_stream_name = "local"
        def get_remaining_time_in_millis(self):
            return 25000

    result = module.lambda_handler(job["event"], Context())
    t2 = time.perf_counter()
    status = result.get("statusCode") if isinstance(result, dict) else None
    if isinstance(result, dict) and "batchItemFailures" in result:
        status = "failed:%d" % len(result["batchItemFailures"])
    body = result.get("body") if isinstance(result, dict) else None
c2 = time.process_time()
print("MARK" + json.dumps({"import": t1 - t0, "first": t2 - t1, "cpu": c2 - c0, "status": status,
      "body": body if job["kind"] != "boto3" else None}))
""".replace("MARK", MARK)


@dataclass
class Job:
    name: str  # row label
    kind: str  # "boto3" | "handler"
    function: str = ""
    route: str = ""
    handler_file: str = ""
    event: dict[str, Any] = field(default_factory=dict)
    path: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    samples: list[dict[str, Any]] = field(default_factory=list)

    def payload(self) -> str:
        event = self.event
        if self.route == "POST /orders":
            # A new key per sample: the same key would replay the first order, a cheaper path.
            event = copy.deepcopy(event)
            event["headers"]["idempotency-key"] = str(uuid.uuid4())
        return json.dumps(
            {"kind": self.kind, "handler_file": self.handler_file, "function": self.function, "event": event}
        )


# -- where the code comes from ---------------------------------------------------------------


def runtime_version(template: Any) -> str:
    return str(template.functions()[0].runtime).removeprefix("python")


def find_python(version: str) -> str:
    """The interpreter of exactly `version`, found the way the Makefile finds it."""
    found = subprocess.run(
        [
            "make",
            "-s",
            "--no-print-directory",
            "-C",
            str(REPO / "layers" / "exchange"),
            "which-python",
            f"LAMBDA_PYTHON_VERSION={version}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    path = found.stdout.strip()
    if found.returncode != 0 or not path:
        raise SystemExit(found.stderr.strip() or f"Python {version} not found")
    return path


def runtime_sdk(python: str, version: str) -> Path:
    """boto3 as the Lambda runtime has it: the version pinned for development, compiled (the
    runtime's /var/runtime ships its bytecode), outside the layer."""
    pin = next(
        line.strip()
        for line in (REPO / "requirements-dev.txt").read_text().splitlines()
        if line.startswith("boto3==")
    )
    target = CACHE_DIR / f"sdk-{version}-{pin.split('==')[1]}"
    if not (target / ".complete").exists():
        shutil.rmtree(target, ignore_errors=True)
        subprocess.run(
            [
                python,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--no-compile",
                "--target",
                str(target),
                pin,
            ],
            check=True,
        )
        subprocess.run([python, "-m", "compileall", "-q", "-j", "0", str(target)], check=True)
        (target / ".complete").touch()
    return target


def variant_build(version: str) -> Path:
    """A build for another runtime version: the layer through its Makefile, the functions copied."""
    from local.template import load_template

    root = CACHE_DIR / f"build-{version}"
    layer = root / LAYER_ID
    subprocess.run(
        [
            "make",
            "-s",
            "--no-print-directory",
            "-C",
            str(REPO / "layers" / "exchange"),
            "layer",
            f"ARTIFACTS_DIR={layer}",
            f"LAMBDA_PYTHON_VERSION={version}",
        ],
        check=True,
    )
    for fn in load_template(parameters={"ExchangeApiUrl": "https://exchange.invalid"}).functions():
        shutil.rmtree(root / fn.logical_id, ignore_errors=True)
        shutil.copytree(fn.code_dir, root / fn.logical_id)
    return root


@contextmanager
def read_only_copy(build_dir: Path) -> Iterator[Path]:
    """The build output copied and made read-only, as /var/task and /opt are on Lambda."""
    with tempfile.TemporaryDirectory(prefix="cold-start-") as tmp:
        root = Path(tmp) / "build"
        shutil.copytree(build_dir, root, ignore=shutil.ignore_patterns(".aws-sam"))
        for path in root.rglob("*"):
            path.chmod(path.stat().st_mode & ~0o222)
        try:
            yield root
        finally:
            for path in [root, *root.rglob("*")]:
                path.chmod(path.stat().st_mode | 0o200)


def bytecode_files(root: Path) -> int:
    return sum(1 for _ in root.rglob("*.pyc"))


# -- the jobs ---------------------------------------------------------------------------------


def load_events(template: Any) -> dict[str, tuple[str, dict[str, Any]]]:
    """Route key (or "schedule ..." / "stream ...") -> (function logical id, the recorded event)."""
    owners = {route.route_key: route.function for route in template.routes()}
    scheduled = {schedule.function for schedule in template.schedules()}
    streamed = {source.function for source in template.stream_sources()}
    found: dict[str, tuple[str, dict[str, Any]]] = {}
    for path in sorted(EVENTS.glob("*.json")):
        event = json.loads(path.read_text())
        if event.get("detail-type") == "Scheduled Event":
            for function in scheduled:
                found[f"schedule {function}"] = (function, event)
        elif event.get("routeKey") in owners:
            found[event["routeKey"]] = (owners[event["routeKey"]], event)
        elif any(r.get("eventSource") == "aws:dynamodb" for r in event.get("Records", [])):
            for function in streamed:
                found[f"stream {function}"] = (function, event)
    missing = {f.logical_id for f in template.functions()} - {fn for fn, _ in found.values()}
    if missing:
        raise SystemExit(f"no recorded event in events/ for {', '.join(sorted(missing))}")
    return found


def with_order_id(event: dict[str, Any], order_id: str) -> dict[str, Any]:
    """A recorded /orders/{orderId} event pointed at an order that exists."""
    text = json.dumps(event).replace(event["pathParameters"]["orderId"], order_id)
    return dict(json.loads(text))


def build_jobs(build: Path, sdk: Path, endpoints: dict[str, Any]) -> list[Job]:
    from local.runtime import function_specs
    from local.stack import function_environment
    from local.template import load_template

    parameters = {"Stage": "dev", "AuthMode": "NONE", "ExchangeApiUrl": endpoints["sandbox"]}
    template = load_template(parameters=parameters)
    specs = function_specs(template)
    layer = build / LAYER_ID / "python"
    base = {
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "ERROR",
        "LOG_LEVEL": "ERROR",
    }

    def env_for(spec: Any, code: Path) -> dict[str, str]:
        env = function_environment(spec, endpoints["moto"], endpoints["dynamodb"])
        env = {k: v for k, v in env.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
        env.update(base, PYTHONPATH=os.pathsep.join([str(code), str(layer), str(sdk)]))
        env["LAMBDA_TASK_ROOT"] = str(code)
        return env

    any_spec = next(iter(specs.values()))
    jobs = [Job("bare import boto3", "boto3", env={**env_for(any_spec, build), "PYTHONPATH": str(sdk)})]
    for route, (function, event) in load_events(template).items():
        code = build / function
        env = env_for(specs[function], code)
        jobs.append(Job(function, "handler", function, route, str(code / "app.py"), event, env=env))
    cookbook_event = json.loads((EVENTS / "orders-create.json").read_text())
    env = env_for(specs["CreateOrderFunction"], REFERENCE.parent)
    jobs.append(
        Job(
            "cookbook handler",
            "handler",
            "CookbookFunction",
            "POST /orders",
            str(REFERENCE),
            cookbook_event,
            env=env,
        )
    )
    return jobs


def run_job(python: str, job: Job, *, with_log: bool = False) -> Any:
    result = subprocess.run(
        [python, "-S", "-c", CHILD, job.payload()],
        env=job.env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    for line in reversed(result.stdout.splitlines()):
        if line.startswith(MARK):
            answer = dict(json.loads(line[len(MARK) :]))
            return (answer, result.stdout + result.stderr) if with_log else answer
    output = f"{result.stdout[-2000:]}\n{result.stderr[-4000:]}"
    raise RuntimeError(f"{job.name} {job.route} gave no timing:\n{output}")


def prepare_orders(python: str, jobs: list[Job]) -> None:
    """Create one order so the /orders/{orderId} routes read and refresh a real one."""
    create = next(j for j in jobs if j.route == "POST /orders" and j.function == "CreateOrderFunction")
    answer, log = run_job(python, create, with_log=True)
    if answer["status"] not in (201, 202):
        raise RuntimeError(f"creating the benchmark order failed: {answer}\n{log[-4000:]}")
    order_id = json.loads(answer["body"])["id"]
    for job in jobs:
        if job.event.get("pathParameters", {}).get("orderId"):
            job.event = with_order_id(job.event, order_id)


# -- the report -------------------------------------------------------------------------------


def cold_ms(sample: dict[str, Any]) -> float:
    return (sample["import"] + sample["first"]) * 1000


def summarize(jobs: list[Job]) -> list[dict[str, Any]]:
    baseline = jobs[0]
    cookbook = next(j for j in jobs if j.function == "CookbookFunction")
    rows = []
    for job in jobs:
        ratios = [cold_ms(s) / cold_ms(b) for s, b in zip(job.samples, baseline.samples, strict=True)]
        vs_cookbook = [cold_ms(s) / cold_ms(c) for s, c in zip(job.samples, cookbook.samples, strict=True)]
        rows.append(
            {
                "name": job.name,
                "route": job.route,
                "import_ms": statistics.median(s["import"] * 1000 for s in job.samples),
                "first_ms": statistics.median(s["first"] * 1000 for s in job.samples),
                "cold_ms": statistics.median(cold_ms(s) for s in job.samples),
                # This process's own CPU (every thread): what machine load does not inflate; the
                # backend's work (moto, the sandbox) is not in it, so it leaves round trips out.
                "cpu_ms": statistics.median(s["cpu"] * 1000 for s in job.samples),
                "cpu_x_boto3": statistics.median(
                    s["cpu"] / b["cpu"] for s, b in zip(job.samples, baseline.samples, strict=True)
                ),
                "x_boto3": statistics.median(ratios),
                "x_cookbook": statistics.median(vs_cookbook),
                "statuses": sorted({str(s["status"]) for s in job.samples}),
            }
        )
    return rows


def print_table(rows: list[dict[str, Any]], runs: int, version: str) -> None:
    print(f"cold start, python{version}, median of {runs} fresh interpreters per row (interleaved), ms")
    header = f"{'function':22} {'route':30} {'import':>7} {'1st req':>8} {'cold':>7}"
    print(f"{header} {'x boto3':>8} {'x cookbook':>10} {'cpu':>6} {'cpu x boto3':>11}  status")
    for row in rows:
        print(
            f"{row['name']:22} {row['route']:30} {row['import_ms']:7.0f} {row['first_ms']:8.0f} "
            f"{row['cold_ms']:7.0f} {row['x_boto3']:8.2f} {row['x_cookbook']:10.2f} "
            f"{row['cpu_ms']:6.0f} {row['cpu_x_boto3']:11.2f}  " + ",".join(row["statuses"])
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cold_start", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--build-dir", type=Path, help="sam build output (default .aws-sam/build)")
    parser.add_argument("--python-version", help="another runtime: builds the layer for it first")
    parser.add_argument("--python", help="the interpreter (default: found like the Makefile finds it)")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument(
        "--compare",
        help="runtimes measured in the same shuffled rounds, e.g. 3.11,3.12,3.13 (--build-dir may hold "
        "{version}; by default each layer is built for its version)",
    )
    parser.add_argument(
        "--versus",
        type=Path,
        help="another build output (e.g. the previous commit's) measured in the same shuffled rounds",
    )
    args = parser.parse_args(argv)
    if args.versus:
        return versus(args.build_dir or BUILD_DIR, args.versus, args.runs, random.Random(args.seed))
    if args.compare:
        return compare(args.compare.split(","), args.runs, args.build_dir, random.Random(args.seed))

    from local.invoke import Invoker
    from local.template import load_template

    template = load_template(parameters={"ExchangeApiUrl": "https://exchange.invalid"})
    version = args.python_version or runtime_version(template)
    python = args.python or find_python(version)
    build = args.build_dir or (variant_build(version) if args.python_version else BUILD_DIR)
    if not (build / LAYER_ID / "python").is_dir():
        raise SystemExit(f"no layer in {build}: run `make build` first")
    sdk = runtime_sdk(python, version)
    rng = random.Random(args.seed)
    with read_only_copy(build) as code, Invoker(CACHE_DIR / "state", use_running_stack=False) as world:
        before = bytecode_files(code)
        jobs = build_jobs(code, sdk, world.endpoints)
        prepare_orders(python, jobs)
        for job in jobs:  # one discarded round: fills the shared instruments cache, warms the disk
            run_job(python, job)
        for _ in range(args.runs):
            for job in rng.sample(jobs, len(jobs)):
                job.samples.append(run_job(python, job))
        if bytecode_files(code) != before:
            raise RuntimeError("the measured processes wrote bytecode: the read-only setup leaks")
    rows = summarize(jobs)
    print_table(rows, args.runs, version)
    cookbook = next(r for r in rows if r["name"] == "cookbook handler")
    worst = [r for r in rows if r["route"] and r["name"] != "cookbook handler"]
    print(
        f"goal: every route <= {GOAL_RATIO}x bare import boto3 and <= the cookbook handler "
        f"({cookbook['cold_ms']:.0f} ms): "
        + ("met" if all(r["x_boto3"] <= GOAL_RATIO and r["x_cookbook"] <= 1.0 for r in worst) else "NOT met")
    )
    if args.json:
        args.json.write_text(json.dumps({"python": version, "runs": args.runs, "rows": rows}, indent=2))
    return 0


def versus(build: Path, other: Path, runs: int, rng: random.Random) -> int:
    """This build and another (before/after a change) in one backend and the same shuffled rounds."""
    from contextlib import ExitStack

    from local.invoke import Invoker
    from local.template import load_template

    version = runtime_version(load_template(parameters={"ExchangeApiUrl": "https://exchange.invalid"}))
    python = find_python(version)
    sdk = runtime_sdk(python, version)
    by_build: dict[str, list[Job]] = {}
    with ExitStack() as stack:
        world = stack.enter_context(Invoker(CACHE_DIR / "state", use_running_stack=False))
        for label, root in ((f"versus {other}", other), (f"this build {build}", build)):
            jobs = build_jobs(stack.enter_context(read_only_copy(root)), sdk, world.endpoints)
            prepare_orders(python, jobs)
            by_build[label] = jobs
        everything = [job for jobs in by_build.values() for job in jobs]
        for job in everything:  # the discarded warm-up round
            run_job(python, job)
        for _ in range(runs):
            for job in rng.sample(everything, len(everything)):
                job.samples.append(run_job(python, job))
    for label, jobs in by_build.items():
        print(f"== {label}")
        print_table(summarize(jobs), runs, version)
    before, after = by_build.values()
    print_pairs(before, after)
    return 0


def print_pairs(before: list[Job], after: list[Job]) -> None:
    """Each route's after/before ratio, paired by round (both ran in it, under the same load):
    steadier than comparing the two tables' medians when the machine is shared."""
    print("== after / before, median of per-round ratios (< 1: the new build is faster)")
    print(f"{'function':22} {'route':30} {'cold':>7} {'cpu':>7}")
    for old, new in zip(before, after, strict=True):
        pairs = list(zip(old.samples, new.samples, strict=True))
        cold = statistics.median(cold_ms(n) / cold_ms(o) for o, n in pairs)
        cpu = statistics.median(n["cpu"] / o["cpu"] for o, n in pairs)
        print(f"{new.name:22} {new.route:30} {cold:7.2f} {cpu:7.2f}")


def compare(versions: list[str], runs: int, pattern: Path | None, rng: random.Random) -> int:
    """Several runtimes in one backend and the same shuffled rounds, so load hits them alike."""
    from contextlib import ExitStack

    from local.invoke import Invoker

    by_version: dict[str, list[Job]] = {}
    pythons = {version: find_python(version) for version in versions}
    with ExitStack() as stack:
        world = stack.enter_context(Invoker(CACHE_DIR / "state", use_running_stack=False))
        for version in versions:
            build = Path(str(pattern).format(version=version)) if pattern else variant_build(version)
            code = stack.enter_context(read_only_copy(build))
            jobs = build_jobs(code, runtime_sdk(pythons[version], version), world.endpoints)
            prepare_orders(pythons[version], jobs)
            by_version[version] = jobs
        everything = [(version, job) for version, jobs in by_version.items() for job in jobs]
        for version, job in everything:  # the discarded warm-up round
            run_job(pythons[version], job)
        for _ in range(runs):
            for version, job in rng.sample(everything, len(everything)):
                job.samples.append(run_job(pythons[version], job))
    header = f"{'runtime':8} {'boto3 ms':>9} {'routes: median cold ms':>23}"
    print(f"{header} {'max x boto3':>12} {'max x cookbook':>15}")
    for version, jobs in by_version.items():
        rows = summarize(jobs)
        routes = [r for r in rows if r["route"] and r["name"] != "cookbook handler"]
        median_cold = statistics.median(r["cold_ms"] for r in routes)
        print(
            f"python{version:3} {rows[0]['cold_ms']:9.0f} {median_cold:23.0f} "
            f"{max(r['x_boto3'] for r in routes):12.2f} {max(r['x_cookbook'] for r in routes):15.2f}"
        )
    for version, jobs in by_version.items():
        print_table(summarize(jobs), runs, version)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
