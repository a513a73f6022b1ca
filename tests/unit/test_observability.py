"""Tracing costs nothing unless it is on: with it off no handler imports the X-Ray SDK."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from local.template import REPO_ROOT

FUNCTIONS = ("instruments", "create_order", "orders", "status_poller")

# Imports every handler as Lambda would (layer + function folder on the path), then reports
# whether the X-Ray SDK was loaded and whether each handler is wrapped by the Tracer.
_PROBE = r"""
import importlib.util, json, sys
sys.path.insert(0, "layers/exchange")
answer = {}
for name in sys.argv[1:]:
    spec = importlib.util.spec_from_file_location(f"app_{name}", f"functions/{name}/app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    # The outermost wrapper: Powertools' tracer module when traced, the logger's when not.
    answer[name] = "tracing" in module.lambda_handler.__code__.co_filename
answer["xray_loaded"] = "aws_xray_sdk" in sys.modules
print(json.dumps(answer))
"""


def _probe(trace_disabled: str | None) -> dict[str, bool]:
    env = {k: v for k, v in os.environ.items() if k != "POWERTOOLS_TRACE_DISABLED"}
    if trace_disabled is not None:
        env["POWERTOOLS_TRACE_DISABLED"] = trace_disabled
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *FUNCTIONS],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert isinstance(result, dict)
    return result


@pytest.mark.parametrize("setting", [None, "true"])
def test_with_tracing_off_no_handler_loads_the_xray_sdk(setting: str | None) -> None:
    result = _probe(setting)
    assert result["xray_loaded"] is False
    assert not any(result[name] for name in FUNCTIONS)


def test_with_tracing_on_every_handler_is_traced() -> None:
    result = _probe("false")
    assert result["xray_loaded"] is True
    assert all(result[name] for name in FUNCTIONS)
