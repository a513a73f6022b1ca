"""The attribute-value codec against boto3's (the reference it replaces on the request path)."""

from __future__ import annotations

import decimal
import random
from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer

from cryptosdk.storage.codec import from_attribute, item_from_attributes, item_to_attributes, to_attribute

SERIALIZER = TypeSerializer()
DESERIALIZER = TypeDeserializer()


def random_number(rng: random.Random) -> int | Decimal:
    if rng.random() < 0.3:
        return rng.randint(-(10**20), 10**20)
    digits = rng.randint(1, 38)
    mantissa = rng.randint(0, 10**digits - 1) * rng.choice((1, -1))
    return Decimal(mantissa).scaleb(rng.randint(-40, 40))


def random_value(rng: random.Random, depth: int = 0) -> Any:
    kinds = ["none", "bool", "str", "number", "bytes", "ss", "ns"]
    if depth < 3:
        kinds += ["map", "list", "tuple"]
    kind = rng.choice(kinds)
    if kind == "none":
        return None
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "str":
        return "".join(rng.choice("abcé€🙂 0123-_:#") for _ in range(rng.randint(0, 12)))
    if kind == "number":
        return random_number(rng)
    if kind == "bytes":
        return rng.randbytes(rng.randint(0, 8))
    if kind == "ss":
        return {f"s{rng.randint(0, 99)}" for _ in range(rng.randint(1, 4))}
    if kind == "ns":
        return {random_number(rng) for _ in range(rng.randint(1, 4))}
    if kind == "map":
        return {f"k{i}": random_value(rng, depth + 1) for i in range(rng.randint(0, 4))}
    items = [random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return tuple(items) if kind == "tuple" else items


def as_plain(value: Any) -> Any:
    """boto3 reads binary back as its Binary wrapper; ours gives bytes."""
    if isinstance(value, Binary):
        return value.value
    if isinstance(value, dict):
        return {k: as_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_plain(v) for v in value]
    if isinstance(value, set):
        return {as_plain(v) for v in value}
    return value


def unordered(attribute: Any) -> Any:
    """Set members have no order on the wire: compare them sorted."""
    if isinstance(attribute, dict):
        return {k: sorted(v) if k in ("SS", "NS", "BS") else unordered(v) for k, v in attribute.items()}
    if isinstance(attribute, list):
        return [unordered(v) for v in attribute]
    return attribute


@pytest.mark.parametrize("seed", range(40))
def test_values_encode_and_decode_as_boto3_does(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(50):
        value = random_value(rng)
        ours = to_attribute(value)
        assert unordered(ours) == unordered(SERIALIZER.serialize(value))
        assert from_attribute(ours) == as_plain(DESERIALIZER.deserialize(ours))


def test_an_order_like_item_round_trips_with_exact_decimals() -> None:
    item = {
        "id": "ord_1",
        "amountFrom": Decimal("0.00012345678901234567890123456789012345"),
        "version": 7,
        "history": [{"status": "waiting", "at": "2026-12-02T10:00:00Z"}],
        "exchangeOrderId": None,
        "paid": False,
    }
    stored = item_to_attributes(item)
    assert stored["amountFrom"] == {"N": "0.00012345678901234567890123456789012345"}
    assert stored["version"] == {"N": "7"}
    back = item_from_attributes(stored)
    assert back == {**item, "version": Decimal(7)}
    assert isinstance(back["amountFrom"], Decimal)


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (1.5, TypeError),  # floats are refused, never rounded into a money field
        (Decimal("NaN"), TypeError),
        (Decimal("Infinity"), TypeError),
        (Decimal("1.000000000000000000000000000000000000001"), decimal.Inexact),  # 40 digits
        (Decimal("1e200"), decimal.Overflow),
        ({"a", 1}, TypeError),  # a set holds one type
        (object(), TypeError),
    ],
)
def test_what_dynamodb_cannot_store_exactly_is_refused_as_boto3_refuses_it(value: Any, error: type) -> None:
    with pytest.raises(error):
        SERIALIZER.serialize(value)
    with pytest.raises(error):
        to_attribute(value)


def test_an_unknown_attribute_type_names_itself() -> None:
    with pytest.raises(TypeError, match="'X'"):
        from_attribute({"X": "1"})
