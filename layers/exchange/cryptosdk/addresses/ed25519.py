"""Whether 32 bytes can be an Ed25519 public key: the one typo check Solana and NEAR addresses have.

An encoded point is y (255 bits, little-endian) and the sign of x. It is on the curve
-x^2 + y^2 = 1 + d x^2 y^2 (mod p) exactly when x^2 = (y^2 - 1) / (d y^2 + 1) has a square root
mod p (RFC 8032, section 5.1.3). About half of all 32-byte strings pass, so a typo in a key is
caught half of the time; program-derived Solana addresses are off the curve by construction.

Like bip-utils (whose verdicts the tests compare with), this accepts any point on the curve, including
the few of small order, and reads y modulo p; wallets create neither.
"""

from __future__ import annotations

__all__ = ["is_on_curve"]

_P = 2**255 - 19
_D = -121665 * pow(121666, -1, _P) % _P


def is_on_curve(key: bytes) -> bool:
    """True when `key` (32 bytes) encodes a point of the Ed25519 curve."""
    if len(key) != 32:
        return False
    y = int.from_bytes(key, "little") & ((1 << 255) - 1)
    # d y^2 + 1 is never 0: that would need y^2 = -1/d, and -1/d is not a square mod p.
    x_squared = (y * y - 1) * pow(_D * y * y + 1, -1, _P) % _P
    # Euler's criterion: a non-zero number is a square mod p iff its (p-1)/2 power is 1.
    return x_squared == 0 or pow(x_squared, (_P - 1) // 2, _P) == 1
