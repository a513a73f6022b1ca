"""Address validation cost: `python -m bench.addresses [--layer DIR] [--runs 7]`.

Three figures, each in fresh interpreters (bytecode cached, as a deployed package ships it):
- import: CPU time of `import cryptosdk.addresses` (`-X importtime` shows the same per module, in wall time);
- first check: CPU time of the first `check_address` on a network after the import, lazy imports
  included (what the first `POST /orders` of a container pays);
- per call: CPU time of a warm `check_address` on one valid address, per network (best of 5).

CPU time rather than wall time, so that other processes on a busy machine move the figures less.

`--layer` points at another copy of `layers/exchange` (e.g. the previous commit's, from
`git archive`) to compare the two.
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

LAYER = Path(__file__).resolve().parent.parent / "layers" / "exchange"

SAMPLES = {
    "BTC": "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu",
    "ERC20": "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",  # EIP-55 vector (mixed case)
    "TRC20": "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t",
    "SOL": "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v",
    "XLM": "GAAZI4TCR3TY5OJHCTJC2A4QSY6CJWJH5IAJTGKIN2ER7LBNVKOCCWN7",
    "ADA": "Ae2tdPwUPEZFRbyhz3cpfC2CumGzNkFBN2L42rcUc2yjQpEkxDbkPodpMAi",
    "ALGO": "VCMJKWOY5P5P7SKMZFFOCEROPJCZOTIJMNIYNUCKH7LRO45JMJP6UYBIJA",
    "XMR": "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A",
}

_FIRST_CHECK = """
import json, sys, time
import cryptosdk.addresses as a
started = time.process_time()
ok = a.check_address(sys.argv[1], sys.argv[2]).valid
print(json.dumps({"ms": (time.process_time() - started) * 1000, "ok": ok}))
"""

_PER_CALL = """
import json, sys, time, timeit
import cryptosdk.addresses as a
samples = json.loads(sys.argv[1])
out = {}
for network, address in samples.items():
    assert a.check_address(network, address).valid, (network, address)
    timer = timeit.Timer(lambda: a.check_address(network, address), timer=time.process_time)
    number, _ = timer.autorange()
    out[network] = min(timer.repeat(5, number)) / number * 1e6
print(json.dumps(out))
"""


def _python(layer: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(layer)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True, check=True)


# What every handler has imported before it validates an address (pydantic, signing, botocore).
_ALREADY_LOADED = "import base64, binascii, dataclasses, hashlib, re, zlib"


def import_ms(layer: Path, preload: str = "") -> float:
    timed = "import time; t = time.process_time(); import cryptosdk.addresses; print(time.process_time() - t)"
    return float(_python(layer, "-c", f"{preload}\n{timed}").stdout) * 1000


def first_check_ms(layer: Path, network: str) -> float:
    result = json.loads(_python(layer, "-c", _FIRST_CHECK, network, SAMPLES[network]).stdout)
    assert result["ok"], network
    return float(result["ms"])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.addresses", description=__doc__)
    parser.add_argument("--layer", type=Path, default=LAYER)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    layer = args.layer.resolve()
    import_ms(layer)  # writes the bytecode caches
    imports = [import_ms(layer) for _ in range(args.runs)]
    print(f"layer {layer}")
    print(f"import cryptosdk.addresses: median {statistics.median(imports):.1f} ms CPU of {args.runs} runs")
    in_handler = [import_ms(layer, _ALREADY_LOADED) for _ in range(args.runs)]
    print(f"  the same after {_ALREADY_LOADED!r}: median {statistics.median(in_handler):.1f} ms CPU")
    for network in ("ERC20", "BTC", "SOL", "ADA"):
        firsts = [first_check_ms(layer, network) for _ in range(args.runs)]
        print(f"first check_address {network:6} after import: median {statistics.median(firsts):.1f} ms CPU")
    per_call = json.loads(_python(layer, "-c", _PER_CALL, json.dumps(SAMPLES)).stdout)
    for network, micros in per_call.items():
        print(f"warm check_address {network:6}: {micros:8.1f} us CPU per call")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
