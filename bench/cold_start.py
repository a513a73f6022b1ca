"""Handler import time (cold start) per function: `python -m bench.cold_start [--runs 5]`.

Each run imports one function's app.py in a fresh interpreter with `-X importtime`, with the layer
and the function folder on the path as Lambda lays them out, and reads the cumulative time of the
handler module. Prints the median and the spread per function, slowest first.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from local.template import load_template

REPO = Path(__file__).resolve().parent.parent
LAYER = REPO / "layers" / "exchange"


def import_microseconds(code_dir: Path) -> int:
    """Cumulative import time of the handler module `app`, in microseconds."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(code_dir), str(LAYER)]),
        "PYTHONDONTWRITEBYTECODE": "",
        "POWERTOOLS_SERVICE_NAME": "cold-start-bench",
    }
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import app"],
        cwd=code_dir,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    for line in reversed(result.stderr.splitlines()):
        fields = [field.strip() for field in line.split("|")]
        if len(fields) == 3 and fields[2] == "app":
            return int(fields[1])
    raise RuntimeError(f"no import line for app in {code_dir}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cold_start", description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    rows = []
    for function in load_template(parameters={"ExchangeApiUrl": "https://exchange.invalid"}).functions():
        code_dir = function.code_dir
        import_microseconds(code_dir)  # writes bytecode caches, as a deployed package ships them
        samples = [import_microseconds(code_dir) / 1000 for _ in range(args.runs)]
        rows.append((statistics.median(samples), min(samples), max(samples), function.logical_id))
    print(f"handler import time, median of {args.runs} fresh interpreters (ms)")
    for median, low, high, name in sorted(rows, reverse=True):
        print(f"{name:24} {median:7.0f}   (min {low:.0f}, max {high:.0f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
