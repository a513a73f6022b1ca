"""`python -m bench.warm_create` keeps working, and its round-trip floor counts what a create sends.

The counts are the create path's design (see "Create-order safety" in the README): a replay check,
the schedule and intent puts, the completion update; the quote, both address checks and the create.
A change that adds a round trip to `POST /orders` fails here and must say why in the README.
"""

from __future__ import annotations

import json
from pathlib import Path

from bench import warm_create


def test_a_short_run_reports_the_handler_cookbook_and_round_trip_floor(tmp_path: Path) -> None:
    out = tmp_path / "warm.json"
    assert warm_create.main(["--runs", "3", "--warmup", "1", "--json", str(out)]) == 0

    figures = json.loads(out.read_text())
    floor = figures["floor"]
    assert floor["dynamodb_calls"] == {"GetItem": 1, "PutItem": 2, "UpdateItem": 1}
    # Both addresses and the create are signed; the quote is public.
    assert floor["signed_calls"] == 3
    assert floor["public_calls"] == 1
    assert all(cpu > 0 for cpu in floor["cpu"].values())
    assert 0 < figures["floor_ms"] == warm_create.floor_ms(floor)
    # The floor is what the round trips cost on their own, so the whole handler costs more.
    assert figures["cpu_ms"] > figures["floor_ms"]
