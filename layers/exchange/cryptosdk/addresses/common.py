"""What every network's address rules share: the refusal exception, its common sentences and checks."""

from __future__ import annotations

import re

from cryptosdk.addresses.checksums import B58_BITCOIN, B58_RIPPLE, ChecksumError, b58check_decode

B58_CHARS_NOTE = "Base58 (0, O, I and l are never used)"
BECH32_CHARS_NOTE = "Bech32 (1, b, i and o are never used)"
BASE32_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
HEX_CHARS = "0123456789abcdefABCDEF"
CHECKSUM = "checksum does not match; a character is wrong, missing or swapped"
# Patterns are compiled on first use (re caches them), not at import.
_BECH32_SHAPE = r"([a-z][a-z0-9_]{0,30})1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{6,}"


class Refused(Exception):
    """Raised inside a format check; the text completes 'not a valid <NETWORK> address: ...'."""


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


def base58check(address: str, *, ripple: bool = False) -> bytes:
    """The payload of a Base58Check string (XRP's own alphabet when `ripple`), or a refusal."""
    alphabet = B58_RIPPLE if ripple else B58_BITCOIN
    require_chars(address, alphabet, B58_CHARS_NOTE)
    try:
        return b58check_decode(address, alphabet)
    except ChecksumError as exc:  # also what a string too short to hold a checksum gives
        raise Refused(CHECKSUM) from exc
