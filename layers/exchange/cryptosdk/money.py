"""How an amount is written on every wire of ours: a plain decimal string, never a float."""

from __future__ import annotations

from decimal import Decimal


def decimal_text(value: Decimal) -> str:
    # format "f" never yields exponent notation ("1E+2"), which the exchange and our callers reject.
    return format(value, "f")


def optional_decimal_text(value: Decimal | None) -> str | None:
    return None if value is None else decimal_text(value)
