"""What every network's oracle rules share: the refusal, bip-utils on first use, common checks."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

CHECKSUM = "checksum does not match; a character is wrong, missing or swapped"
B58_BITCOIN = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_RIPPLE = "rpshnaf39wBUDNEGHJKLM4PQRST7VWXYZ2bcdeCg65jkm8oFqi1tuvAxyz"
BECH32_CHARS = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
BASE32_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
HEX_CHARS = "0123456789abcdefABCDEF"
# Patterns are compiled on first use (re caches them), not at import.
_BECH32_SHAPE = r"([a-z][a-z0-9_]{0,30})1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{6,}"
# Errors bip-utils (and cbor2, binascii under it) raise on malformed input.
DECODE_ERRORS = (ValueError, TypeError, IndexError, KeyError)


class Refused(Exception):
    """Raised inside a format check; the text completes 'not a valid <NETWORK> address: ...'."""


def load_bip_utils() -> Any:
    """bip_utils, imported on first use so that importing this module stays cheap."""
    import bip_utils

    return bip_utils


def require_chars(address: str, alphabet: str, encoding: str) -> None:
    for char in address:
        if char not in alphabet:
            raise Refused(f"it contains {char!r}, which never appears in {encoding}")


def count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def expect_length(data: bytes, expected: int, what: str) -> None:
    if len(data) != expected:
        raise Refused(
            f"it decodes to {len(data)} bytes, but {what} has {expected}; it is truncated or padded"
        )


def bech32_hrp(address: str) -> str | None:
    """The human-readable part when the string has the shape of Bech32, else None."""
    match = re.fullmatch(_BECH32_SHAPE, address.lower())
    if match is None or (address != address.lower() and address != address.upper()):
        return None
    return match.group(1)


def refuse_mixed_case(address: str) -> None:
    if address != address.lower() and address != address.upper():
        raise Refused("it mixes upper and lower case, which Bech32 forbids; use one case throughout")


def refuse_burn(account: bytes) -> None:
    # All-zero accounts (and XRP's ACCOUNT_ONE) have no key: whatever is sent there is lost.
    if int.from_bytes(account, "big") <= 1:
        raise Refused("it is a burn address; anything sent there is lost")


def library_says(call: Callable[[], Any], detail: str) -> Any:
    """Run a bip-utils decoder as the final word; any decode error becomes `detail`."""
    try:
        return call()
    except DECODE_ERRORS as exc:
        raise Refused(detail) from exc


def base58check(address: str, *, ripple: bool = False) -> bytes:
    bip = load_bip_utils()
    alphabet = _B58_RIPPLE if ripple else B58_BITCOIN
    require_chars(address, alphabet, "Base58 (0, O, I and l are never used)")
    which = bip.Base58Alphabets.RIPPLE if ripple else bip.Base58Alphabets.BITCOIN
    try:
        return bytes(bip.Base58Decoder.CheckDecode(address, which))
    except bip.Base58ChecksumError as exc:
        raise Refused(CHECKSUM) from exc
    except DECODE_ERRORS as exc:
        raise Refused("it is too short to be a Base58Check address") from exc
