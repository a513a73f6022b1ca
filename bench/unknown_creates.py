"""Unknown create outcomes under random faults, through the local stack as a user runs it.

    python -m bench.unknown_creates [--orders 150] [--fault-rate 0.03] [--poll-every SECONDS]

Starts `python -m local.stack` on free ports (the poller on the template's own one-minute schedule
unless --poll-every), injects faults on the exchange's create call only, `--fault-rate` per kind
(500, 502, 503, 504, drop, drop-after, late by 3 s, hang for 2 s), sends the orders one by one
with a fresh Idempotency-Key each, clears the faults and waits until no accepted order is left in
pending_create. Printed: answers by status, how long after the faults cleared the last order left
pending_create, the longest time any order spent there, and the checks: lost (still pending or
missing), failed, duplicated upstream (more than one exchange order for one of ours, or one we do
not store), and backward moves in any history.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import requests

from cryptosdk.domain.order import parse_iso
from cryptosdk.domain.status import OrderStatus, can_transition_with_history
from cryptosdk.exchange.client import ExchangeClient
from cryptosdk.exchange.secrets import StaticKeyProvider
from local.demo import BTC_REFUND, ETH_DESTINATION
from local.sandbox.server import DEFAULT_PUBLIC_KEY, DEFAULT_SECRET_KEY

REPO = Path(__file__).resolve().parent.parent
CREATE = "/api/v2/orders/public/create"
KINDS: list[dict[str, Any]] = [
    {"kind": "500"},
    {"kind": "502"},
    {"kind": "503"},
    {"kind": "504"},
    {"kind": "drop"},
    {"kind": "drop-after"},
    {"kind": "late", "latencyMs": 3000},
    {"kind": "hang", "hangSeconds": 2},
]


def _start_stack(state_dir: Path, poll_every: float | None) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    args = [sys.executable, "-m", "local.stack", "--state-dir", str(state_dir)]
    for name in ("--api-port", "--sandbox-port", "--moto-port", "--dynamodb-port"):
        args += [name, "0"]
    if poll_every is not None:
        args += ["--poll-every", str(poll_every)]
    process = subprocess.Popen(args, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("ready: "):
            # Keep reading what the stack prints, or a full pipe would stall it.
            threading.Thread(target=process.stdout.read, daemon=True).start()
            return process, json.loads((state_dir / "stack.json").read_text())
    raise RuntimeError("the local stack exited before it was ready")


def _body(amount: Decimal) -> dict[str, Any]:
    return {
        "from": {"currency": "BTC", "network": "BTC"},
        "to": {"currency": "ETH", "network": "ERC20"},
        "amount": str(amount),
        "rateMode": "FLOATING",
        "destination": {"address": ETH_DESTINATION},
        "refund": {"address": BTC_REFUND},
        "userId": "bench-unknown-creates",
    }


def run(orders: int, fault_rate: float, poll_every: float | None, settle_limit: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as state:
        process, info = _start_stack(Path(state), poll_every)
        try:
            return _measure(info, orders, fault_rate, settle_limit)
        finally:
            process.send_signal(signal.SIGINT)  # as Ctrl-C: the stack stops all it started
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()


def _measure(info: dict[str, Any], orders: int, fault_rate: float, settle_limit: float) -> dict[str, Any]:
    api, sandbox = info["api"], info["sandbox"]
    faults = [{"endpoint": CREATE, "probability": fault_rate, **kind} for kind in KINDS]
    requests.post(f"{sandbox}/_sandbox/faults", json={"faults": faults}, timeout=5).raise_for_status()
    amounts = [Decimal("0.04") + Decimal(n) / 100_000 for n in range(orders)]
    answers: dict[Decimal, requests.Response] = {}
    started = time.monotonic()
    for amount in amounts:
        key = str(uuid.uuid4())
        answers[amount] = requests.post(
            f"{api}/orders", json=_body(amount), headers={"Idempotency-Key": key}, timeout=60
        )
    sending = time.monotonic() - started
    requests.delete(f"{sandbox}/_sandbox/faults", timeout=5).raise_for_status()
    cleared = datetime.now(UTC)
    accepted = {a: r.json()["id"] for a, r in answers.items() if r.status_code in (201, 202)}

    deadline = time.monotonic() + settle_limit
    while True:
        stored = {oid: requests.get(f"{api}/orders/{oid}", timeout=10).json() for oid in accepted.values()}
        pending = [o for o in stored.values() if o.get("status") == OrderStatus.PENDING_CREATE]
        if not pending or time.monotonic() > deadline:
            break
        time.sleep(2)

    client = ExchangeClient(sandbox, StaticKeyProvider(DEFAULT_PUBLIC_KEY, DEFAULT_SECRET_KEY))
    upstream: list[Any] = []
    while len(page := client.list_orders(offset=len(upstream), limit=100)) > 0:
        upstream.extend(page)
        if len(page) < 100:
            break
    ours = [o for o in upstream if o.destination_address == ETH_DESTINATION]
    duplicated = 0
    for amount, oid in accepted.items():
        made = [o.order_id for o in ours if o.claimed_deposit_amount == amount]
        expected = [stored[oid].get("exchangeOrderId")] if stored[oid].get("exchangeOrderId") else []
        duplicated += made != expected
    backward = 0
    after_clear: list[float] = []
    in_pending: list[float] = []
    for order in stored.values():
        steps = [OrderStatus(h["status"]) for h in order["statusHistory"]]
        backward += sum(
            not can_transition_with_history(steps[n - 1], steps[n], steps[: n - 1])
            for n in range(1, len(steps))
        )
        if len(steps) > 1:
            recorded, left = (parse_iso(order["statusHistory"][i]["at"]) for i in (0, 1))
            after_clear.append((left - max(recorded, cleared)).total_seconds())
            in_pending.append((left - recorded).total_seconds())
    return {
        "orders": orders,
        "fault_rate_per_kind": fault_rate,
        "answers": dict(Counter(r.status_code for r in answers.values())),
        "sending_seconds": round(sending, 1),
        "accepted": len(accepted),
        "lost_still_pending": len(pending),
        "failed": sum(o["status"] == "failed" for o in stored.values()),
        "duplicated_upstream": duplicated,
        "backward_moves": backward,
        "max_pending_after_faults_cleared_s": round(max(after_clear, default=0.0), 1),
        "max_time_in_pending_create_s": round(max(in_pending, default=0.0), 1),
        "settled_by_cause": dict(
            Counter(o["statusHistory"][1]["cause"] for o in stored.values() if len(o["statusHistory"]) > 1)
        ),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=150)
    parser.add_argument("--fault-rate", type=float, default=0.03, help="probability per fault kind")
    parser.add_argument("--poll-every", type=float, default=None, help="default: the template's schedule")
    parser.add_argument("--settle-limit", type=float, default=180.0, help="seconds to wait for settling")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.orders, args.fault_rate, args.poll_every, args.settle_limit), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
