"""The cold-start benchmark keeps working: it imports every template function's handler."""

from __future__ import annotations

import pytest

from bench.cold_start import main


def test_every_function_in_the_template_is_measured(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--runs", "1"]) == 0

    lines = capsys.readouterr().out.splitlines()[1:]
    measured = {line.split()[0]: float(line.split()[1]) for line in lines}
    assert set(measured) == {
        "InstrumentsFunction",
        "CreateOrderFunction",
        "OrdersFunction",
        "StatusPollerFunction",
        "OrderEventsFunction",
    }
    assert all(ms > 0 for ms in measured.values())
