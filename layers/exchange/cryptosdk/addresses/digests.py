"""The two hashes address checksums need that `hashlib` may not provide.

- Keccak-256 (EIP-55, Monero): the original Keccak submission, padding byte 0x01. `hashlib.sha3_256`
  is the later FIPS 202 standard with padding 0x06 and gives different digests, so it cannot be used.
  Written here from the specification (keccak.team, "The Keccak reference", 3.0) in plain Python:
  a fraction of a millisecond per address (README, "The layer").
- SHA-512/256 (Algorand): `hashlib.new("sha512_256")` exists only when the OpenSSL under Python
  provides it; without it, a plain-Python SHA-512 with the SHA-512/256 initial values (FIPS 180-4)
  takes over.

Both are checked against published vectors and against bip-utils' (pycryptodome) digests in
tests/unit/test_checksums.py.
"""

from __future__ import annotations

import hashlib
from functools import cache

__all__ = ["keccak256", "sha512_256"]

_MASK64 = (1 << 64) - 1


def _rotl(value: int, shift: int) -> int:
    return ((value << shift) | (value >> (64 - shift))) & _MASK64


def _round_constants() -> list[int]:
    """The 24 iota constants, from the degree-8 LFSR of the specification (section 1.2)."""
    constants = []
    state = 1
    for _ in range(24):
        constant = 0
        for j in range(7):
            if state & 1:
                constant |= 1 << ((1 << j) - 1)
            state = ((state << 1) ^ 0x71) & 0xFF if state & 0x80 else state << 1
        constants.append(constant)
    return constants


def _rotation_offsets() -> list[int]:
    """rho offsets per lane index x + 5y, from the (x, y) -> (y, 2x + 3y) walk of the specification."""
    offsets = [0] * 25
    x, y = 1, 0
    for t in range(24):
        offsets[x + 5 * y] = ((t + 1) * (t + 2) // 2) % 64
        x, y = y, (2 * x + 3 * y) % 5
    return offsets


_RC = _round_constants()
_RHO = _rotation_offsets()
# rho + pi as one table: lane (x, y), rotated by its offset, moves to (y, 2x + 3y).
_RHO_PI = [(x + 5 * y, y + 5 * ((2 * x + 3 * y) % 5), _RHO[x + 5 * y]) for x in range(5) for y in range(5)]
# chi's neighbours of each lane in its row: (x + 1, y) and (x + 2, y).
_CHI = [(i, i - i % 5 + (i + 1) % 5, i - i % 5 + (i + 2) % 5) for i in range(25)]


def _keccak_f1600(lanes: list[int]) -> list[int]:
    """The permutation on 25 little-endian 64-bit lanes indexed x + 5y; returns the new state."""
    for rc in _RC:
        # theta: xor each column's parity into its neighbours
        parity = [lanes[x] ^ lanes[x + 5] ^ lanes[x + 10] ^ lanes[x + 15] ^ lanes[x + 20] for x in range(5)]
        d = [parity[(x - 1) % 5] ^ _rotl(parity[(x + 1) % 5], 1) for x in range(5)]
        lanes = [lane ^ d[i % 5] for i, lane in enumerate(lanes)]
        # rho and pi: rotate each lane and move it
        moved = [0] * 25
        for source, target, shift in _RHO_PI:
            moved[target] = _rotl(lanes[source], shift) if shift else lanes[source]
        # chi (the only non-linear step), then iota
        lanes = [moved[i] ^ (~moved[j] & moved[k]) for i, j, k in _CHI]
        lanes[0] ^= rc
    return lanes


def keccak256(data: bytes) -> bytes:
    """Keccak-256: rate 136 bytes, capacity 512 bits, pad10*1 starting with 0x01."""
    rate = 136
    padded = bytearray(data)
    padded.append(0x01)
    padded.extend(bytes(-len(padded) % rate))
    padded[-1] |= 0x80
    lanes = [0] * 25
    for start in range(0, len(padded), rate):
        block = padded[start : start + rate]
        for i in range(rate // 8):
            lanes[i] ^= int.from_bytes(block[8 * i : 8 * i + 8], "little")
        lanes = _keccak_f1600(lanes)
    return b"".join(lane.to_bytes(8, "little") for lane in lanes[:4])


def sha512_256(data: bytes) -> bytes:
    """SHA-512/256 (FIPS 180-4), from OpenSSL when it has it."""
    try:
        return hashlib.new("sha512_256", data).digest()
    except ValueError:  # "unsupported hash type": an OpenSSL build without it
        return _sha512_256_python(data)


# FIPS 180-4 section 5.3.6.2: SHA-512/256's initial hash value.
_SHA512_256_IV = (
    0x22312194FC2BF72C, 0x9F555FA3C84C64C2, 0x2393B86B6F53B151, 0x963877195940EABD,
    0x96283EE2A88EFFE3, 0xBE5E1E2553863992, 0x2B0199FC2C85B8AA, 0x0EB72DDC81C52CA2,
)  # fmt: skip


@cache
def _sha512_constants() -> tuple[int, ...]:
    """The 80 round constants: first 64 bits of the fractional parts of the cube roots of the first
    80 primes (FIPS 180-4 section 4.2.3), computed exactly with integers rather than copied."""
    primes: list[int] = []
    candidate = 2
    while len(primes) < 80:
        if all(candidate % p for p in primes):
            primes.append(candidate)
        candidate += 1
    return tuple(_icbrt(p << 192) & _MASK64 for p in primes)  # cbrt(p * 2^192) = cbrt(p) * 2^64


def _icbrt(n: int) -> int:
    """floor(cube root of n), by Newton's method on integers from an estimate above the root."""
    root = 1 << -(-n.bit_length() // 3)
    while True:
        better = (2 * root + n // (root * root)) // 3
        if better >= root:
            return root
        root = better


def _rotr(value: int, shift: int) -> int:
    return ((value >> shift) | (value << (64 - shift))) & _MASK64


def _sha512_256_python(data: bytes) -> bytes:
    k = _sha512_constants()
    message = bytearray(data) + b"\x80"
    message += bytes(-(len(message) + 16) % 128) + (8 * len(data)).to_bytes(16, "big")
    h = list(_SHA512_256_IV)
    for start in range(0, len(message), 128):
        w = [int.from_bytes(message[start + 8 * i : start + 8 * i + 8], "big") for i in range(16)]
        for i in range(16, 80):
            s0 = _rotr(w[i - 15], 1) ^ _rotr(w[i - 15], 8) ^ (w[i - 15] >> 7)
            s1 = _rotr(w[i - 2], 19) ^ _rotr(w[i - 2], 61) ^ (w[i - 2] >> 6)
            w.append((w[i - 16] + s0 + w[i - 7] + s1) & _MASK64)
        a, b, c, d, e, f, g, hh = h
        for i in range(80):
            t1 = hh + (_rotr(e, 14) ^ _rotr(e, 18) ^ _rotr(e, 41)) + ((e & f) ^ (~e & g)) + k[i] + w[i]
            t2 = (_rotr(a, 28) ^ _rotr(a, 34) ^ _rotr(a, 39)) + ((a & b) ^ (a & c) ^ (b & c))
            a, b, c, d, e, f, g, hh = (t1 + t2) & _MASK64, a, b, c, (d + t1) & _MASK64, e, f, g
        h = [(x + y) & _MASK64 for x, y in zip(h, (a, b, c, d, e, f, g, hh), strict=True)]
    return b"".join(x.to_bytes(8, "big") for x in h)[:32]
