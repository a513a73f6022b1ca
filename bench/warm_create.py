"""Warm `POST /orders`: handler CPU and wall time per request, `python -m bench.warm_create`.

One process runs CreateOrderFunction's handler (the source tree, as `make run` does) against the
sandbox, moto server and DynamoDB Local (moto's DynamoDB without Java: it closes every connection
after one answer, which DynamoDB does not, so each call would also pay a connect), all in other
processes, so the handler process's CPU time (`time.process_time`, every thread of it) is the
handler's own: signing, botocore and urllib3 work, pydantic, Powertools. After warm-up requests,
each measured request has a fresh Idempotency-Key (a replay would be a cheaper path).

Beside it, in the same world, the cookbook-style handler (bench/reference: Powertools resolver with
validation, one pydantic model, one DynamoDB put) answers the same event the same number of times:
its CPU is the yardstick, and our handler's median is printed as a ratio to it. Printed: median and
quartiles of CPU and wall ms per request, and the upstream calls each request made.

Then the round-trip floor: the DynamoDB calls one create makes (counted on botocore's events), the
exchange calls (the sandbox's counters), and the CPU one such call costs on its own in the same
process setup (our OrderStore's GetItem, a signed and a public exchange call, median of 200 each).
Their sum is CPU the handler cannot spend less than while it makes those calls; the cheapest call of
each kind is used, so the floor is a lower bound.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
EVENT = REPO / "events" / "orders-create.json"
COOKBOOK = REPO / "bench" / "reference" / "cookbook_handler.py"
MARK = "@@warm "
GOAL_MS = 3.0  # issue 9's goal for the handler's CPU per warm request

# The Lambda context both child processes hand the handler.
CONTEXT = r"""class Context:
    function_name = "CreateOrderFunction"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:CreateOrderFunction"
    memory_limit_in_mb = "512"
    aws_request_id = "00000000-0000-4000-8000-000000000001"
    log_group_name = "/aws/lambda/CreateOrderFunction"
    log_stream_name = "local"
    def get_remaining_time_in_millis(self):
        return 25000
"""

CHILD = r"""
import copy, json, sys, time, uuid
sys.path[:0] = [sys.argv[2], sys.argv[3]]
app = __import__(sys.argv[7])
event = json.load(open(sys.argv[1]))
warmup, runs = int(sys.argv[4]), int(sys.argv[5])

CONTEXT

samples = []
profile = None
if sys.argv[6]:
    import cProfile
    profile = cProfile.Profile()
for i in range(warmup + runs):
    if profile is not None and i == warmup:
        profile.enable()
    one = copy.deepcopy(event)
    one["headers"]["idempotency-key"] = str(uuid.uuid4())
    c0, w0 = time.process_time(), time.perf_counter()
    result = app.lambda_handler(one, Context())
    c1, w1 = time.process_time(), time.perf_counter()
    if result["statusCode"] not in (200, 201, 202):  # the cookbook handler answers 200
        raise SystemExit(f"POST /orders answered {result['statusCode']}: {result['body']}")
    if i >= warmup:
        samples.append(((c1 - c0) * 1000, (w1 - w0) * 1000))
if profile is not None:
    import pstats
    profile.disable()
    stats = pstats.Stats(profile, stream=sys.stderr)
    stats.sort_stats(sys.argv[6]).print_stats(40)
    # Own time per package: where the handler's CPU goes.
    by_package = {}
    for (path, _, _), (_, _, own, _, _) in stats.stats.items():
        if path == "~":
            key = "socket wait/io"
        elif "site-packages/" in path:
            key = path.split("site-packages/")[-1].split("/")[0]
        elif "/exchange/" in path:
            key = path.split("/exchange/")[-1].split("/")[0]
        else:
            key = "stdlib/other"
        by_package[key] = by_package.get(key, 0.0) + own
    for key, own in sorted(by_package.items(), key=lambda kv: -kv[1])[:14]:
        print(f"{key:30} {own * 1000 / runs:8.2f} ms/request (profiled)", file=sys.stderr)
print("MARK" + json.dumps(samples))
"""


# The round-trip floor, in a process set up like the handler's (same env and path).
FLOOR_CHILD = r"""
import collections, copy, json, statistics, sys, time, uuid
sys.path[:0] = [sys.argv[2], sys.argv[3]]
import app
from cryptosdk.container import container
from cryptosdk.exchange.models import RateRequest

event = json.load(open(sys.argv[1]))
body = json.loads(event["body"])
parts = container()

CONTEXT

def create():
    one = copy.deepcopy(event)
    one["headers"]["idempotency-key"] = str(uuid.uuid4())
    status = app.lambda_handler(one, Context())["statusCode"]
    if status not in (201, 202):
        raise SystemExit(f"POST /orders answered {status}")

calls = collections.Counter()
create()  # warm: the catalogue and both clients exist before counting
parts.dynamodb.meta.events.register("before-call.dynamodb", lambda model, **_: calls.update([model.name]))
creates = 5
for _ in range(creates):
    create()
per_create = {name: count / creates for name, count in calls.items()}

frm, to = body["from"], body["to"]
rate = RateRequest(
    instrument_from_currency_title=frm["currency"], instrument_from_network_title=frm["network"],
    instrument_to_currency_title=to["currency"], instrument_to_network_title=to["network"],
    claimed_deposit_amount=body["amount"], claimed_deposit_amount_currency=frm["currency"],
)
probes = {
    "dynamodb": lambda: parts.orders.get("ord_floor_probe_absent"),
    "signed": lambda: parts.exchange.validate_address(
        to["currency"], to["network"], body["destination"]["address"]
    ),
    "public": lambda: parts.exchange.get_rate(rate),
}
cpu = {}
for name, probe in probes.items():
    for _ in range(20):
        probe()
    spent = []
    for _ in range(200):
        c0 = time.process_time()
        probe()
        spent.append((time.process_time() - c0) * 1000)
    cpu[name] = statistics.median(spent)
print("MARK" + json.dumps({"dynamodb_calls": per_create, "cpu": cpu}))
"""


# The exchange paths a create calls, by how they are sent (a create is a signed POST).
SIGNED_PATHS = ("/api/v2/instruments/public/validate-address", "/api/v2/orders/public/create")
PUBLIC_PATHS = ("/api/v2/rates/public/one",)


def quartiles(values: list[float]) -> tuple[float, float, float]:
    q1, q2, q3 = statistics.quantiles(values, n=4)
    return q1, q2, q3


def sandbox_calls(sandbox: str) -> dict[str, Any]:
    import requests

    return dict(requests.get(f"{sandbox}/_sandbox/stats", timeout=5).json())


def run_handler(
    env: dict[str, str], code_dir: Path, layers: str, module: str, args: argparse.Namespace, profile: str
) -> list[list[float]]:
    """(CPU ms, wall ms) per measured request of `module`'s handler in a process of its own."""
    measured = [str(args.warmup), str(args.runs), profile, module]
    answer, log = run_child(CHILD, [str(EVENT), str(code_dir), layers, *measured], env, module)
    if profile:
        print(log[-30000:])
    return list(answer)


def run_child(script: str, argv: list[str], env: dict[str, str], label: str) -> tuple[Any, str]:
    """The JSON a child process (CHILD or FLOOR_CHILD) printed after MARK, and its stderr."""
    source = script.replace("CONTEXT\n", CONTEXT).replace("MARK", MARK)
    result = subprocess.run(
        [sys.executable, "-c", source, *argv], env=env, capture_output=True, text=True, check=False
    )
    line = next((x for x in result.stdout.splitlines() if x.startswith(MARK)), None)
    if line is None:
        raise SystemExit(f"the {label} process failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
    return json.loads(line[len(MARK) :]), result.stderr


def measure_floor(
    env: dict[str, str], code_dir: Path, layers: str, exchange_calls: dict[str, float]
) -> dict[str, Any]:
    """Round trips per create and the CPU of one of each kind (exchange calls: from the measured run)."""
    answer, _ = run_child(FLOOR_CHILD, [str(EVENT), str(code_dir), layers], env, "floor")
    floor = dict(answer)
    floor["signed_calls"] = sum(exchange_calls.get(path, 0) for path in SIGNED_PATHS)
    floor["public_calls"] = sum(exchange_calls.get(path, 0) for path in PUBLIC_PATHS)
    return floor


def calls_per_request(before: dict[str, Any], after: dict[str, Any], requests: int) -> dict[str, float]:
    """The sandbox's request counters, per handler request (the run's first catalogue fetch included)."""
    old, new = before["requests"], after["requests"]
    return {path: round((count - old.get(path, 0)) / requests, 2) for path, count in new.items()}


def floor_ms(floor: dict[str, Any]) -> float:
    cpu = floor["cpu"]
    dynamodb = sum(floor["dynamodb_calls"].values()) * cpu["dynamodb"]
    return float(dynamodb + floor["signed_calls"] * cpu["signed"] + floor["public_calls"] * cpu["public"])


def print_floor(floor: dict[str, Any], median_cpu: float) -> None:
    cpu = floor["cpu"]
    calls = ", ".join(f"{name} {count:g}" for name, count in sorted(floor["dynamodb_calls"].items()))
    print("round trips per create and the CPU of one on its own (median of 200), ms")
    print(f"  DynamoDB  {calls}: {cpu['dynamodb']:.2f} each (OrderStore GetItem, the cheapest)")
    print(f"  exchange  signed POST {floor['signed_calls']:g}: {cpu['signed']:.2f} each (validate-address)")
    print(f"  exchange  public GET {floor['public_calls']:g}: {cpu['public']:.2f} each (rate)")
    total = floor_ms(floor)
    print(f"round-trip floor {total:.2f} ms of the handler's {median_cpu:.2f} ms median CPU")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.warm_create", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--profile", choices=["cumulative", "tottime"], help="print a cProfile of the runs")
    parser.add_argument("--moto-dynamodb", action="store_true", help="moto's DynamoDB, not DynamoDB Local")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)

    from local.invoke import Invoker
    from local.stack import function_environment

    state = REPO / ".aws-sam" / "warm-state"
    with Invoker(state, use_running_stack=False, dynamodb_local=not args.moto_dynamodb) as world:
        spec = world.spec("CreateOrderFunction")
        env = function_environment(spec, world.endpoints["moto"], world.endpoints["dynamodb"])
        env.update(POWERTOOLS_METRICS_DISABLED="true", POWERTOOLS_LOG_LEVEL="ERROR", LOG_LEVEL="ERROR")
        env.pop("PYTHONPATH", None)
        layers = os.pathsep.join(str(p) for p in spec.layer_dirs)
        before = sandbox_calls(world.endpoints["sandbox"])
        samples = run_handler(env, spec.code_dir, layers, "app", args, args.profile or "")
        after = sandbox_calls(world.endpoints["sandbox"])
        cookbook = run_handler(env, COOKBOOK.parent, layers, COOKBOOK.stem, args, "")
        exchange_calls = calls_per_request(before, after, args.warmup + args.runs)
        floor = measure_floor(env, spec.code_dir, layers, exchange_calls)
    print(f"warm POST /orders, {args.runs} requests after {args.warmup} warm-up, ms per request")
    print(f"DynamoDB: {world.endpoints.get('dynamodb') or 'moto server'}")
    for label, rows in (("CreateOrderFunction", samples), ("cookbook handler", cookbook)):
        cpu = [s[0] for s in rows]
        wall = [s[1] for s in rows]
        print(f"{label}")
        print("  handler CPU   p25 {:.2f}  median {:.2f}  p75 {:.2f}".format(*quartiles(cpu)))
        print("  wall          p25 {:.2f}  median {:.2f}  p75 {:.2f}".format(*quartiles(wall)))
    median_cpu = statistics.median(s[0] for s in samples)
    ratio = median_cpu / statistics.median(s[0] for s in cookbook)
    print(f"CPU median x cookbook handler: {ratio:.2f}")
    print(f"exchange calls per request: {json.dumps(exchange_calls)}")
    print_floor(floor, median_cpu)
    verdict = "met" if median_cpu <= GOAL_MS else "NOT met"
    print(f"goal: handler CPU <= {GOAL_MS:g} ms: {verdict} (the round trips alone: {floor_ms(floor):.2f} ms)")
    if args.json:
        figures = {"cpu_ms": median_cpu, "x_cookbook": ratio, "floor_ms": floor_ms(floor), "floor": floor}
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
