"""Text encodings that carry a checksum, decoded strictly: Base58, Base58Check, Monero's block
Base58, Bech32 / Bech32m (BIP-173, BIP-350), segwit addresses, cashaddr and SS58.

Each decoder follows its specification (cited on the function) and is tested differentially against
bip-utils over many generated strings and their typos (tests/unit/test_checksums.py), so no
dependency is needed for them. A decoder raises `ChecksumError` when the string is well formed but
its checksum does not match (a typo), and `ValueError` for anything else that is malformed.
"""

from __future__ import annotations

import binascii
import hashlib

from cryptosdk.addresses.digests import keccak256

__all__ = [
    "B58_BITCOIN",
    "B58_RIPPLE",
    "BECH32_CHARSET",
    "ChecksumError",
    "b58check_decode",
    "b58decode",
    "bech32_decode",
    "cashaddr_decode",
    "convert_bits",
    "crc16_xmodem",
    "monero_b58decode",
    "monero_checksum",
    "segwit_decode",
    "ss58_decode",
]

B58_BITCOIN = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
B58_RIPPLE = "rpshnaf39wBUDNEGHJKLM4PQRST7VWXYZ2bcdeCg65jkm8oFqi1tuvAxyz"
BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


class ChecksumError(ValueError):
    """The string is well formed, but its checksum does not match its content."""


# ---------------------------------------------------------------- Base58


def b58decode(text: str, alphabet: str = B58_BITCOIN) -> bytes:
    """Base58 as Bitcoin defines it: a big-endian number, each leading zero byte written as alphabet[0]."""
    number = 0
    for char in text:
        digit = alphabet.find(char)
        if digit < 0:
            raise ValueError(f"{char!r} is not a Base58 character")
        number = number * 58 + digit
    zeros = len(text) - len(text.lstrip(alphabet[0]))
    return bytes(zeros) + number.to_bytes((number.bit_length() + 7) // 8, "big")


def b58check_decode(text: str, alphabet: str = B58_BITCOIN) -> bytes:
    """Base58Check: the payload, after its last 4 bytes matched the first 4 of SHA-256(SHA-256(payload))."""
    raw = b58decode(text, alphabet)
    payload, checksum = raw[:-4], raw[-4:]
    if hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4] != checksum:
        raise ChecksumError("Base58Check checksum mismatch")
    return payload


# Monero splits data in 8-byte blocks, each written as exactly 11 characters; a final shorter block
# of n bytes takes _MONERO_BLOCK_CHARS[n] characters (cryptonote src/common/base58.cpp).
_MONERO_BLOCK_CHARS = (0, 2, 3, 5, 6, 7, 9, 10, 11)


def monero_b58decode(text: str) -> bytes:
    """Monero's block Base58; a block whose value overflows its byte count is refused, as in cryptonote."""
    full_blocks, tail_chars = divmod(len(text), 11)
    if tail_chars not in _MONERO_BLOCK_CHARS:
        raise ValueError(f"{len(text)} characters is not a length Monero Base58 produces")
    blocks = [(text[11 * i : 11 * i + 11], 8) for i in range(full_blocks)]
    if tail_chars:
        blocks.append((text[11 * full_blocks :], _MONERO_BLOCK_CHARS.index(tail_chars)))
    out = bytearray()
    for block, size in blocks:
        number = int.from_bytes(b58decode(block), "big")
        if number >> (8 * size):
            raise ValueError("a Monero Base58 block overflows its size")
        out += number.to_bytes(size, "big")
    return bytes(out)


# ---------------------------------------------------------------- Bech32 family

_BECH32_CONST = 1  # BIP-173
_BECH32M_CONST = 0x2BC830A3  # BIP-350
_BECH32_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)


def _bech32_polymod(values: list[int]) -> int:
    """BIP-173's BCH code over GF(32): the checksum is this residue of the expanded HRP and data."""
    chk = 1
    for value in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ value
        for i, generator in enumerate(_BECH32_GENERATOR):
            if (top >> i) & 1:
                chk ^= generator
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _split(text: str, separator: str, checksum_chars: int) -> tuple[str, list[int]]:
    """Lower-cased HRP and the data part as 5-bit values, checksum included (Bech32 and cashaddr)."""
    if text != text.lower() and text != text.upper():
        raise ValueError("mixed case")
    text = text.lower()
    hrp, found, data = text.rpartition(separator)
    if not found or not hrp or any(not 33 <= ord(c) <= 126 for c in hrp):
        raise ValueError("no separator or an invalid human-readable part")
    if len(data) < checksum_chars + 1 or any(c not in BECH32_CHARSET for c in data):
        raise ValueError("data part too short or outside the Bech32 alphabet")
    return hrp, [BECH32_CHARSET.index(c) for c in data]


def convert_bits(data: list[int], from_bits: int, to_bits: int, pad: bool) -> list[int]:
    """Regroup bits (BIP-173 reference); unpadded conversion refuses leftover or non-zero padding bits."""
    acc = bits = 0
    out = []
    max_value = (1 << to_bits) - 1
    for value in data:
        acc = (acc << from_bits) | value
        bits += from_bits
        while bits >= to_bits:
            bits -= to_bits
            out.append((acc >> bits) & max_value)
    if pad and bits:
        out.append((acc << (to_bits - bits)) & max_value)
    elif not pad and (bits >= from_bits or (acc << (to_bits - bits)) & max_value):
        raise ValueError("invalid padding in the data part")
    return out


def _bech32_data(hrp: str, text: str, constant: int | None) -> tuple[list[int], int]:
    """Data values (checksum removed) and the residue, after checking the HRP is `hrp`."""
    got_hrp, values = _split(text, "1", 6)
    residue = _bech32_polymod(_hrp_expand(got_hrp) + values)
    if constant is not None and residue != constant:
        raise ChecksumError("Bech32 checksum mismatch")
    if got_hrp != hrp:
        raise ValueError(f"human-readable part {got_hrp!r}, expected {hrp!r}")
    return values[:-6], residue


def bech32_decode(hrp: str, text: str) -> bytes:
    """Plain Bech32 (BIP-173) bytes, as Cosmos and Cardano use it (no length limit: Cardano's exceed 90)."""
    values, _ = _bech32_data(hrp, text, _BECH32_CONST)
    return bytes(convert_bits(values, 5, 8, pad=False))


def segwit_decode(hrp: str, text: str) -> tuple[int, bytes]:
    """(witness version, program): version 0 must carry a Bech32 checksum, 1-16 a Bech32m one (BIP-350)."""
    got_hrp, values = _split(text, "1", 6)
    constant = _BECH32_CONST if values[0] == 0 else _BECH32M_CONST
    if _bech32_polymod(_hrp_expand(got_hrp) + values) != constant:
        raise ChecksumError("segwit checksum mismatch")
    if got_hrp != hrp:
        raise ValueError(f"human-readable part {got_hrp!r}, expected {hrp!r}")
    version, program = values[0], bytes(convert_bits(values[1:-6], 5, 8, pad=False))
    if not 2 <= len(program) <= 40 or version > 16 or (version == 0 and len(program) not in (20, 32)):
        raise ValueError(f"witness version {version} with a {len(program)}-byte program")
    return version, program


_CASHADDR_GENERATOR = (0x98F2BC8E61, 0x79B76D99E2, 0xF33E5FB3C4, 0xAE2EABE2A8, 0x1E4F43E470)


def _cashaddr_polymod(values: list[int]) -> int:
    """The cashaddr specification's 40-bit BCH code; a valid string leaves 0."""
    chk = 1
    for value in values:
        top = chk >> 35
        chk = (chk & 0x07FFFFFFFF) << 5 ^ value
        for i, generator in enumerate(_CASHADDR_GENERATOR):
            if (top >> i) & 1:
                chk ^= generator
    return chk ^ 1


def cashaddr_decode(prefix: str, text: str) -> tuple[int, bytes]:
    """(version byte, hash) of a full `prefix:payload` cashaddr (Bitcoin Cash cashaddr specification)."""
    got_prefix, values = _split(text, ":", 8)
    if _cashaddr_polymod([ord(c) & 31 for c in got_prefix] + [0] + values) != 0:
        raise ChecksumError("cashaddr checksum mismatch")
    if got_prefix != prefix:
        raise ValueError(f"prefix {got_prefix!r}, expected {prefix!r}")
    payload = convert_bits(values[:-8], 5, 8, pad=False)
    if not payload:
        raise ValueError("no version byte")
    return payload[0], bytes(payload[1:])


# ---------------------------------------------------------------- network-specific checksums


def ss58_decode(text: str) -> tuple[int, bytes]:
    """(address format, 32-byte account) of a Substrate SS58 address (docs.substrate.io, SS58 format)."""
    raw = b58decode(text)
    if len(raw) < 2:
        raise ValueError("too short for SS58")
    if raw[0] & 0x40:  # two-byte format: 14 bits spread over the two bytes
        size, fmt = 2, ((raw[0] & 0x3F) << 2) | (raw[1] >> 6) | ((raw[1] & 0x3F) << 8)
    else:
        size, fmt = 1, raw[0]
    if fmt in (46, 47):
        raise ValueError(f"SS58 format {fmt} is reserved")
    account, checksum = raw[size:-2], raw[-2:]
    if len(account) != 32:
        raise ValueError(f"an SS58 account is 32 bytes, not {len(account)}")
    if hashlib.blake2b(b"SS58PRE" + raw[:-2]).digest()[:2] != checksum:
        raise ChecksumError("SS58 checksum mismatch")
    return fmt, account


def crc16_xmodem(data: bytes) -> bytes:
    """CRC-16/XMODEM (poly 0x1021, init 0), big-endian: binascii.crc_hqx is exactly this CRC."""
    return binascii.crc_hqx(data, 0).to_bytes(2, "big")


def monero_checksum(payload: bytes) -> bytes:
    """The 4 bytes Monero appends: the start of Keccak-256 (original Keccak padding, not SHA3-256)."""
    return keccak256(payload)[:4]
