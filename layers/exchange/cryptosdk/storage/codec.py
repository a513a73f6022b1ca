"""DynamoDB's attribute values (`{"S": "x"}`, `{"N": "1.5"}`, `{"M": {...}}`) to and from plain values.

boto3.dynamodb.types does the same, but importing any boto3 module runs boto3's package import (its
session and s3transfer: 60-90 ms of every cold start), while the clients need only botocore. The
rules are boto3's, and tests/unit/test_codec.py checks them against boto3 on generated values:
numbers are Decimal in DynamoDB's context (38 digits; anything that would round is refused, never
stored rounded), floats are refused (use Decimal), sets stay sets. Binary reads back as bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Set
from decimal import Clamped, Context, Decimal, Inexact, Overflow, Rounded, Underflow
from typing import Any

# DynamoDB stores 38 significant digits; the traps make a value that would lose any an error.
DYNAMODB_CONTEXT = Context(
    Emin=-128, Emax=126, prec=38, traps=[Clamped, Overflow, Inexact, Rounded, Underflow]
)


def to_attribute(value: Any) -> dict[str, Any]:
    """One plain value as an attribute value; TypeError names a type DynamoDB cannot store."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):  # before numbers: a bool is an int
        return {"BOOL": value}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, int | Decimal):
        return {"N": _number(value)}
    if isinstance(value, bytes | bytearray):
        return {"B": bytes(value)}
    if isinstance(value, Mapping):
        return {"M": {key: to_attribute(inner) for key, inner in value.items()}}
    if isinstance(value, list | tuple):
        return {"L": [to_attribute(inner) for inner in value]}
    if isinstance(value, Set):
        return _set(value)
    if isinstance(value, float):
        raise TypeError("Float types are not supported. Use Decimal types instead.")
    raise TypeError(f"Unsupported type {type(value).__name__!r} for value {value!r}")


def from_attribute(attribute: Mapping[str, Any]) -> Any:
    """One attribute value as a plain value (numbers as Decimal)."""
    kind, raw = next(iter(attribute.items()))
    reader = _READERS.get(kind)
    if reader is None:
        raise TypeError(f"DynamoDB type {kind!r} is not supported")
    return reader(raw)


def item_to_attributes(item: Mapping[str, Any]) -> dict[str, Any]:
    return {key: to_attribute(value) for key, value in item.items()}


def item_from_attributes(item: Mapping[str, Any]) -> dict[str, Any]:
    return {key: from_attribute(value) for key, value in item.items()}


def _number(value: int | Decimal) -> str:
    number = DYNAMODB_CONTEXT.create_decimal(value)
    if number.is_nan() or number.is_infinite():
        raise TypeError("Infinity and NaN not supported")
    return str(number)


def _set(value: Set[Any]) -> dict[str, Any]:
    members = list(value)
    if all(isinstance(m, int | Decimal) and not isinstance(m, bool) for m in members):
        return {"NS": [_number(m) for m in members]}
    if all(isinstance(m, str) for m in members):
        return {"SS": members}
    if all(isinstance(m, bytes | bytearray) for m in members):
        return {"BS": [bytes(m) for m in members]}
    raise TypeError(f"Unsupported set members in {value!r}: one type per set (numbers, strings or bytes)")


def _read_number(raw: str) -> Decimal:
    return DYNAMODB_CONTEXT.create_decimal(raw)


def _read_map(raw: Mapping[str, Any]) -> dict[str, Any]:
    return {key: from_attribute(inner) for key, inner in raw.items()}


def _read_list(raw: list[Any]) -> list[Any]:
    return [from_attribute(inner) for inner in raw]


_READERS: dict[str, Callable[[Any], Any]] = {
    "S": str,
    "N": _read_number,
    "BOOL": bool,
    "NULL": lambda _: None,
    "M": _read_map,
    "L": _read_list,
    "B": bytes,
    "SS": set,
    "NS": lambda raw: {_read_number(n) for n in raw},
    "BS": lambda raw: {bytes(b) for b in raw},
}
