"""The recorded events under events/ (what `sam local invoke -e` uses) run through our handlers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.handlers import handler_module, lambda_context
from tests.integration.api.conftest import function_for

EVENTS = Path(__file__).resolve().parents[3] / "events"
HTTP_EVENTS = sorted(p for p in EVENTS.glob("*.json") if json.loads(p.read_text()).get("version") == "2.0")


@pytest.mark.parametrize("path", HTTP_EVENTS, ids=lambda p: p.name)
def test_each_recorded_event_gets_a_shaped_answer(path: Path, api: Any) -> None:
    event = json.loads(path.read_text())
    method = event["requestContext"]["http"]["method"]
    function = function_for(method, event["rawPath"])
    result = handler_module(function).lambda_handler(event, lambda_context(function))
    assert result["statusCode"] < 500, result["body"]
    body = json.loads(result["body"])
    assert isinstance(body, dict)
    if result["statusCode"] >= 400:
        assert set(body) == {"error"}
