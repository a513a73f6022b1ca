"""`python -m local.invoke`: every recorded event in events/ runs through its function cleanly."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.invoke import FunctionNotFoundError, Invoker
from local.runtime import REPO_ROOT
from local.template import load_template

EVENTS = sorted((REPO_ROOT / "events").glob("*.json"))


def target_function(event: dict[str, Any]) -> str:
    """The function the template wires this event to: by routeKey, the stream's, or the scheduled one."""
    template = load_template()
    if "routeKey" in event:
        return next(r.function for r in template.routes() if r.route_key == event["routeKey"])
    if "Records" in event:
        assert {r["eventSource"] for r in event["Records"]} == {"aws:dynamodb"}
        return next(s.function for s in template.stream_sources())
    assert event.get("detail-type") == "Scheduled Event", "events/ holds HTTP, stream, schedule events"
    return next(s.function for s in template.schedules())


@pytest.fixture(scope="module")
def invoker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Invoker]:
    state_dir = tmp_path_factory.mktemp("invoke-state")
    with Invoker(state_dir, use_running_stack=False) as invoker:
        yield invoker


def test_events_folder_is_not_empty() -> None:
    assert len(EVENTS) >= 2


@pytest.mark.parametrize("event_file", EVENTS, ids=[p.name for p in EVENTS])
def test_every_recorded_event_invokes_cleanly(invoker: Invoker, event_file: Path) -> None:
    event = json.loads(event_file.read_text())
    function = target_function(event)
    spec = invoker.spec(function)
    if not spec.handler_file.exists():
        pytest.skip(f"{spec.handler_file.relative_to(REPO_ROOT)} is not written yet")

    result = invoker.invoke(function, event)  # raises InvocationError when the handler fails

    if "routeKey" in event:
        assert isinstance(result, dict)
        assert 200 <= result["statusCode"] < 500, result
        json.loads(result["body"])  # our API always answers JSON
    if "Records" in event:
        assert result == {"batchItemFailures": []}  # every record published


def test_a_function_can_be_named_by_folder_or_logical_id(invoker: Invoker) -> None:
    by_folder = invoker.spec("create_order")
    assert invoker.spec(by_folder.name) == by_folder
    with pytest.raises(FunctionNotFoundError, match="CreateOrderFunction"):
        invoker.spec("no_such_function")


def test_the_command_prints_the_result_json(tmp_path: Path) -> None:
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "local.invoke",
            "InstrumentsFunction",
            "-e",
            "events/instruments-get.json",
            "--standalone",
            "--state-dir",
            str(tmp_path),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout)
    assert result["statusCode"] == 200
    assert json.loads(result["body"])["instruments"]
