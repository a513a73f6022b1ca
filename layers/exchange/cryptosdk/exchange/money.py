"""Amounts: Decimal in memory, and on every wire of ours a plain decimal string, never a float."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, PlainSerializer


def decimal_text(value: Decimal) -> str:
    # format "f" never yields exponent notation ("1E+2"), which the exchange and our callers reject.
    return format(value, "f")


def optional_decimal_text(value: Decimal | None) -> str | None:
    return None if value is None else decimal_text(value)


def _number_text(value: Any) -> Any:
    # A float has already lost precision; str() recovers the shortest repr, which is what the
    # sender meant. bool is an int subclass and is never an amount.
    if isinstance(value, bool):
        raise ValueError("an amount cannot be a boolean")
    if isinstance(value, float):
        return str(value)
    return value


# The one amount type (exchange wire models and the domain): strings or numbers in, exact Decimal
# (trailing zeros kept as given, no NaN or infinity), a decimal string in JSON.
Amount = Annotated[
    Decimal,
    BeforeValidator(_number_text),
    Field(allow_inf_nan=False),
    PlainSerializer(decimal_text, return_type=str, when_used="json"),
]
