"""Lambda's event filtering syntax as local.streams applies it to stream records (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from local.streams import FilterError, lambda_record, matches, passes_filters

RECORD = {
    "eventName": "MODIFY",
    "dynamodb": {"Keys": {"id": {"S": "ord_1"}}, "NewImage": {"status": {"S": "confirming"}}},
}


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ({"eventName": ["MODIFY", "INSERT"]}, True),
        ({"eventName": ["REMOVE"]}, False),
        ({"dynamodb": {"Keys": {"id": {"S": [{"prefix": "ord_"}]}}}}, True),
        ({"dynamodb": {"Keys": {"id": {"S": [{"suffix": "_1"}]}}}}, True),
        ({"dynamodb": {"Keys": {"id": {"S": [{"anything-but": ["ord_1"]}]}}}}, False),
        ({"dynamodb": {"Keys": {"id": {"S": [{"anything-but": "ord_2"}]}}}}, True),
        ({"eventName": [{"equals-ignore-case": "modify"}]}, True),
        ({"dynamodb": {"NewImage": {"status": {"S": [{"exists": True}]}}}}, True),
        ({"dynamodb": {"NewImage": {"memo": {"S": [{"exists": True}]}}}}, False),
        ({"dynamodb": {"NewImage": {"memo": {"S": [{"exists": False}]}}}}, True),
        ({"dynamodb": {"OldImage": {"status": {"S": ["confirming"]}}}}, False),  # absent object
        ({"eventName": ["MODIFY"], "dynamodb": {"Keys": {"id": {"S": ["ord_2"]}}}}, False),  # AND
    ],
)
def test_a_pattern_matches_as_lambda_documents_it(pattern: dict[str, Any], expected: bool) -> None:
    assert matches(pattern, RECORD) is expected


def test_patterns_are_alternatives_and_no_filter_lets_everything_through() -> None:
    assert passes_filters([{"eventName": ["REMOVE"]}, {"eventName": ["MODIFY"]}], RECORD)
    assert not passes_filters([{"eventName": ["REMOVE"]}], RECORD)
    assert passes_filters([], RECORD)


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ({"eventName": [{"numeric": [">", 1]}]}, "'numeric' is not emulated"),
        ({"eventName": "MODIFY"}, "must be an object or a list"),
        ({"eventName": [{"prefix": "M", "suffix": "Y"}]}, "must have one key"),
    ],
)
def test_unknown_syntax_is_refused_by_name(pattern: dict[str, Any], message: str) -> None:
    with pytest.raises(FilterError, match=message):
        matches(pattern, RECORD)


def test_a_record_is_handed_over_as_json_with_its_source_arn() -> None:
    from datetime import UTC, datetime

    raw = {"dynamodb": {"ApproximateCreationDateTime": datetime(2026, 12, 2, tzinfo=UTC), "B": b"\x00\x01"}}

    record = lambda_record(raw, "arn:stream")

    assert record == {
        "dynamodb": {"ApproximateCreationDateTime": 1796169600, "B": "AAE="},
        "eventSourceARN": "arn:stream",
    }
