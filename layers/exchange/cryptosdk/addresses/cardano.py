"""Cardano (ADA) address rules: Shelley addresses in Bech32 (CIP-19) and Byron addresses in Base58 CBOR.

A Byron address is Base58 over the CBOR array [tag 24(payload bytes), CRC-32 of the payload]; the
payload is [28-byte root hash, attributes map, address type]. The CBOR reader below reads only the
definite- and indefinite-length items such an address can hold, strictly (no trailing bytes), which
is all the format needs; anything else makes the address malformed.
"""

from __future__ import annotations

import zlib
from typing import Any, NamedTuple, NoReturn

from cryptosdk.addresses.checksums import B58_BITCOIN, ChecksumError, b58decode, bech32_decode
from cryptosdk.addresses.common import (
    B58_CHARS_NOTE,
    CHECKSUM,
    Refused,
    bech32_hrp,
    expect_length,
    require_chars,
)

_ADA_PAYMENT_LENGTHS = {0: 57, 1: 57, 2: 57, 3: 57, 6: 29, 7: 29}


def check_ada(address: str) -> None:
    hrp = bech32_hrp(address)
    if hrp == "stake":
        raise Refused("it is a stake (reward) address, which cannot receive payments; use an addr1 address")
    if hrp is not None and hrp != "addr":
        raise Refused(
            f"its prefix '{hrp}' is not mainnet 'addr'; ADA addresses start with addr1 (or Ae2/Ddz)"
        )
    if hrp == "addr":
        _check_shelley(address)
        return
    _check_byron(address)


def _check_shelley(address: str) -> None:
    try:
        raw = bech32_decode("addr", address)
    except ChecksumError as exc:
        raise Refused(CHECKSUM) from exc
    except ValueError as exc:
        raise Refused("it is not well-formed Bech32") from exc
    if not raw:
        raise Refused("it holds no address data")
    kind, network = raw[0] >> 4, raw[0] & 0x0F
    if network != 1:
        raise Refused(f"its header names network {network}, not mainnet (1)")
    expected = _ADA_PAYMENT_LENGTHS.get(kind)
    if expected is None:
        raise Refused(f"Shelley address type {kind} (pointer or reward) is not accepted for payments")
    expect_length(raw, expected, f"a type-{kind} Shelley address")


_BYRON_BAD = (
    "it is neither a Shelley (addr1) nor a valid Byron address; its structure or CRC checksum is wrong"
)


def _check_byron(address: str) -> None:
    require_chars(address, B58_BITCOIN, B58_CHARS_NOTE)
    try:
        attributes = _byron_attributes(b58decode(address))
    except ValueError as exc:
        raise Refused(_BYRON_BAD) from exc
    # Attribute 2 is the protocol magic, written only on test networks (mainnet omits it).
    if 2 in attributes:
        raise Refused("it is a Byron address for a test network")


def _byron_attributes(raw: bytes) -> dict[Any, Any]:
    """The attributes map of a public-key Byron address, after checking its structure and CRC-32."""
    outer = _cbor_single(raw)
    if not (isinstance(outer, list) and len(outer) == 2 and isinstance(outer[1], int)):
        raise ValueError("not [payload, crc]")
    wrapped, crc = outer
    if not (isinstance(wrapped, _Tag) and wrapped.number == 24 and isinstance(wrapped.value, bytes)):
        raise ValueError("the payload is not CBOR-in-CBOR (tag 24) bytes")
    if zlib.crc32(wrapped.value) != crc:
        raise ValueError("CRC-32 mismatch")
    payload = _cbor_single(wrapped.value)
    if not (isinstance(payload, list) and len(payload) == 3):
        raise ValueError("the payload is not [root, attributes, type]")
    root, attributes, address_type = payload
    if not (isinstance(root, bytes) and len(root) == 28 and isinstance(attributes, dict)):
        raise ValueError("not a 28-byte root hash and an attributes map")
    if address_type != 0:  # 0: public key; 2 (redemption) was only for the genesis vouchers
        raise ValueError(f"address type {address_type!r} is not a public-key address")
    if len(attributes) > 2 or (attributes and 1 not in attributes and 2 not in attributes):
        raise ValueError("unknown attributes")
    for key in (1, 2):  # 1: encrypted HD path (Daedalus), 2: protocol magic; each CBOR in bytes
        if key in attributes:
            value = attributes[key]
            if not isinstance(value, bytes):
                raise ValueError(f"attribute {key} is not bytes")
            _cbor_single(value)
    return attributes


# ---------------------------------------------------------------- a minimal CBOR reader (RFC 8949)


class _Tag(NamedTuple):
    number: int
    value: Any


_BREAK = object()  # the 0xff that ends an indefinite-length item
_OTHER = object()  # floats and simple values: well formed, never part of an address
_MAX_DEPTH = 16
_FLOAT_SIZES = {24: 1, 25: 2, 26: 4, 27: 8}


def _cbor_single(data: bytes) -> Any:
    """The one item `data` holds; trailing bytes make it malformed."""
    value, end = _cbor_item(data, 0, 0)
    if value is _BREAK or end != len(data):
        raise ValueError("not exactly one CBOR item")
    return value


def _cbor_item(data: bytes, pos: int, depth: int) -> tuple[Any, int]:
    if depth > _MAX_DEPTH or pos >= len(data):
        raise ValueError("CBOR too deep or truncated")
    major, info = data[pos] >> 5, data[pos] & 0x1F
    pos += 1
    if major == 7:  # simple values and floats: 0, 1, 2, 4 or 8 bytes follow
        if info == 31:
            return _BREAK, pos
        if info >= 28 or pos + _FLOAT_SIZES.get(info, 0) > len(data):
            raise ValueError("reserved or truncated CBOR simple value")
        return _OTHER, pos + _FLOAT_SIZES.get(info, 0)
    if info == 31:
        return _cbor_indefinite(data, pos, depth, major)
    if info < 24:
        argument = info
    elif info < 28:
        size = 1 << (info - 24)
        if pos + size > len(data):
            raise ValueError("CBOR truncated")
        argument, pos = int.from_bytes(data[pos : pos + size], "big"), pos + size
    else:
        _invalid(info)
    if major == 0:
        return argument, pos
    if major == 1:
        return -1 - argument, pos
    if major in (2, 3):
        if pos + argument > len(data):
            raise ValueError("CBOR string truncated")
        chunk = data[pos : pos + argument]
        return (chunk if major == 2 else chunk.decode("utf-8")), pos + argument
    if major == 6:
        value, pos = _cbor_item(data, pos, depth + 1)
        if value is _BREAK:
            raise ValueError("a CBOR tag with no item")
        return _Tag(argument, value), pos
    items = []
    for _ in range(argument if major == 4 else 2 * argument):
        item, pos = _cbor_item(data, pos, depth + 1)
        if item is _BREAK:
            raise ValueError("stray CBOR break")
        items.append(item)
    return (items if major == 4 else _cbor_map(items)), pos


def _cbor_indefinite(data: bytes, pos: int, depth: int, major: int) -> tuple[Any, int]:
    if major in (0, 1, 6):
        _invalid(31)
    items = []
    while True:
        item, pos = _cbor_item(data, pos, depth + 1)
        if item is _BREAK:
            break
        if major in (2, 3) and type(item) is not (bytes if major == 2 else str):
            raise ValueError("a CBOR indefinite string with a chunk of another type")
        items.append(item)
    if major == 2:
        return b"".join(items), pos
    if major == 3:
        return "".join(items), pos
    if major == 5 and len(items) % 2:
        raise ValueError("a CBOR map key with no value")
    return (items if major == 4 else _cbor_map(items)), pos


def _cbor_map(items: list[Any]) -> dict[Any, Any]:
    keys = items[0::2]
    if any(not isinstance(key, int | str | bytes) for key in keys):
        raise ValueError("a CBOR map key that is not a number or a string")
    return dict(zip(keys, items[1::2], strict=True))


def _invalid(info: int) -> NoReturn:
    raise ValueError(f"reserved CBOR additional information {info}")
