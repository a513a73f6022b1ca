"""`make cold-start` keeps working, and the layer build ships what a read-only cold start needs.

The layer is built by its own Makefile exactly as `sam build` runs it (into .aws-sam/cold-start),
then every route's first request runs from it in fresh read-only interpreters of the runtime's
Python, beside a bare `import boto3` and the cookbook handler.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

from bench import cold_start
from local.template import load_template

LAYER_LIMIT_BYTES = 25 * 1024 * 1024


@pytest.fixture(scope="module")
def runtime_version() -> str:
    return cold_start.runtime_version(load_template(parameters={"ExchangeApiUrl": "https://x.invalid"}))


def test_every_route_and_both_yardsticks_are_measured(tmp_path: Path, runtime_version: str) -> None:
    out = tmp_path / "cold.json"
    assert cold_start.main(["--runs", "1", "--python-version", runtime_version, "--json", str(out)]) == 0

    rows = json.loads(out.read_text())["rows"]
    template = load_template(parameters={"ExchangeApiUrl": "https://x.invalid"})
    measured = {(row["name"], row["route"]) for row in rows}
    expected = {(route.function, route.route_key) for route in template.routes()}
    expected |= {(s.function, f"schedule {s.function}") for s in template.schedules()}
    expected |= {(s.function, f"stream {s.function}") for s in template.stream_sources()}
    assert {function for function, _ in expected} == {f.logical_id for f in template.functions()}
    assert expected | {("bare import boto3", ""), ("cookbook handler", "POST /orders")} == measured
    for row in rows:
        assert row["cold_ms"] > 0
        # Every first request succeeded against the real backend (the poller and boto3 answer no
        # status; the stream function a partial batch response with no failed record).
        assert set(row["statuses"]) <= {"200", "201", "None", "failed:0"}, row


def test_the_built_layer_ships_unchecked_bytecode_for_every_module(runtime_version: str) -> None:
    layer = cold_start.variant_build(runtime_version) / cold_start.LAYER_ID / "python"
    tag = f"cpython-{runtime_version.replace('.', '')}"
    sources = list(layer.rglob("*.py"))
    assert len(sources) > 100
    for source in sources:
        compiled = source.parent / "__pycache__" / f"{source.stem}.{tag}.pyc"
        assert compiled.is_file(), source
        # PEP 552 flags: 0b01 = hash-based, not checked against the source (Lambda's /opt is read-only
        # and its file times are those of the unzip).
        (flags,) = struct.unpack("<I", compiled.read_bytes()[4:8])
        assert flags == 0b01, source
    size = sum(path.stat().st_size for path in layer.rglob("*") if path.is_file())
    assert size <= LAYER_LIMIT_BYTES, f"{size / 2**20:.1f} MB"
    # Stripped: no test suites, console scripts or address library in the deployed layer.
    assert not [p for p in layer.rglob("*") if p.is_dir() and p.name in ("tests", "test")]
    assert not (layer / "bin").exists()
    assert not (layer / "bip_utils").exists()
    assert (layer / "cryptosdk" / "__init__.py").is_file()
