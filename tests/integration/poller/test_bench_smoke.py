"""The benchmark stays runnable: a tiny run end to end (servers in their own processes)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_the_poller_benchmark_runs_on_a_few_orders() -> None:
    run = subprocess.run(
        [
            *(sys.executable, "-m", "bench.poller", "--orders", "20", "--concurrency", "4"),
            *("--dynamodb", "moto", "--repeat", "1"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "20 due, 20 polled, 2 changed" in run.stdout
    assert re.search(r"orders/s\s+\d+", run.stdout)
    assert re.search(r"ratio to ideal\s+[\d.]+", run.stdout)
    # A due order is its schedule entry (the index Query, carrying the order's poll view); only
    # the 2 orders that changed are read themselves (GetItem): 22 items for 20 orders.
    assert "items read per due order  1.100" in run.stdout
    assert re.search(
        r"median of 1: poller CPU per order [\d.]+ ms \(goal <= 1.0\), floor [\d.]+ ms", run.stdout
    )
