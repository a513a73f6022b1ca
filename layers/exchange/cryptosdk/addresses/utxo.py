"""Address rules of the Bitcoin-like networks: Base58Check versions, segwit (Bech32/Bech32m), cashaddr."""

from __future__ import annotations

from typing import NamedTuple

from cryptosdk.addresses.checksums import BECH32_CHARSET, ChecksumError, cashaddr_decode, segwit_decode
from cryptosdk.addresses.common import (
    BECH32_CHARS_NOTE,
    CHECKSUM,
    Refused,
    base58check,
    bech32_hrp,
    refuse_mixed_case,
    require_chars,
)


class Utxo(NamedTuple):
    """A Bitcoin-like network: Base58Check version bytes and, optionally, a segwit HRP."""

    title: str
    hint: str
    versions: dict[bytes, str]  # version bytes -> "P2PKH" or "P2SH"
    segwit_hrp: str | None = None
    taproot: bool = False


def check_utxo(conf: Utxo, address: str) -> None:
    hrp = bech32_hrp(address)
    if conf.segwit_hrp is not None and address.lower().startswith(conf.segwit_hrp + "1"):
        _check_segwit(conf, conf.segwit_hrp, address)
        return
    if hrp is not None:
        raise Refused(f"it is a Bech32 address for another chain (prefix '{hrp}'); {conf.hint}")
    payload = base58check(address)
    version_len = len(next(iter(conf.versions)))
    version, body = payload[:version_len], payload[version_len:]
    if len(body) != 20:
        raise Refused(f"it decodes to {len(payload)} bytes, not the {version_len + 20} of an address")
    if version not in conf.versions:
        raise Refused(f"its version byte 0x{version.hex()} belongs to another network or type; {conf.hint}")


def _check_segwit(conf: Utxo, hrp: str, address: str) -> None:
    refuse_mixed_case(address)
    require_chars(address.lower().rpartition("1")[2], BECH32_CHARSET, BECH32_CHARS_NOTE)
    try:
        version, program = segwit_decode(hrp, address)
    except ChecksumError as exc:
        # BIP-350: version 0 must carry a Bech32 checksum, versions 1+ a Bech32m one.
        raise Refused(CHECKSUM) from exc
    except ValueError as exc:
        raise Refused(f"it is not a well-formed segwit address; {conf.hint}") from exc
    # v0: P2WPKH (20 bytes) or P2WSH (32); v1 with 32 bytes: taproot. Later versions have no wallets
    # yet, so coins sent there are lost.
    if version == 0 or ((version, len(program)) == (1, 32) and conf.taproot):
        return
    raise Refused(
        f"witness version {version} with a {len(program)}-byte program is not an address type "
        f"{conf.title} payouts support; {conf.hint}"
    )


BTC = Utxo(
    "BTC",
    "BTC addresses start with 1 or 3 (Base58) or bc1 (Bech32)",
    {b"\x00": "P2PKH", b"\x05": "P2SH"},
    segwit_hrp="bc",
    taproot=True,
)
LTC = Utxo(
    "LTC",
    "LTC addresses start with L, M or 3 (Base58) or ltc1 (Bech32)",
    # Litecoin Core still accepts the old 0x05 P2SH version (addresses starting with 3).
    {b"\x30": "P2PKH", b"\x32": "P2SH", b"\x05": "P2SH"},
    segwit_hrp="ltc",
    taproot=True,
)
DOGE = Utxo("DOGE", "DOGE addresses start with D, A or 9", {b"\x1e": "P2PKH", b"\x16": "P2SH"})
DASH = Utxo("DASH", "DASH addresses start with X or 7", {b"\x4c": "P2PKH", b"\x10": "P2SH"})
_ZEC = Utxo(
    "ZEC",
    "ZEC payouts go to transparent addresses starting with t1 or t3",
    {b"\x1c\xb8": "P2PKH", b"\x1c\xbd": "P2SH"},
)
_BCH_LEGACY = Utxo(
    "BCH",
    "BCH addresses are cashaddr (bitcoincash:q... or p...) or legacy 1... / 3...",
    {b"\x00": "P2PKH", b"\x05": "P2SH"},
)


def check_zec(address: str) -> None:
    lower = address.lower()
    if lower.startswith(("zs1", "zc", "u1")):
        raise Refused("shielded and unified addresses are not supported; use a transparent t1 or t3 address")
    check_utxo(_ZEC, address)


_BCH_PREFIX = "bitcoincash"
# cashaddr version byte = type bits | hash-size bits; token-aware types are refused on purpose.
_BCH_TYPES = {(0x00, 20): "P2PKH", (0x08, 20): "P2SH", (0x0B, 32): "P2SH32"}


def check_bch(address: str) -> None:
    if ":" not in address and address[:1] in ("1", "3"):
        check_utxo(_BCH_LEGACY, address)
        return
    prefix, _, _ = address.rpartition(":")
    if prefix and prefix.lower() != _BCH_PREFIX:
        raise Refused(f"its prefix '{prefix}' is not '{_BCH_PREFIX}'; {_BCH_LEGACY.hint}")
    # A missing prefix is added in the payload's case: cashaddr forbids mixing cases.
    implied = _BCH_PREFIX.upper() if address.isupper() else _BCH_PREFIX
    full = address if prefix else f"{implied}:{address}"
    require_chars(full.lower().rpartition(":")[2], BECH32_CHARSET, "a cashaddr")
    refuse_mixed_case(full)
    try:
        version, body = cashaddr_decode(_BCH_PREFIX, full)
    except ChecksumError as exc:
        raise Refused(CHECKSUM) from exc
    except ValueError as exc:
        raise Refused(f"it is not a well-formed cashaddr; {_BCH_LEGACY.hint}") from exc
    if (version, len(body)) not in _BCH_TYPES:
        raise Refused(
            f"cashaddr version 0x{version:02x} with a {len(body)}-byte hash is not a plain payment "
            "address (token-aware z/r addresses are not accepted); use the q... or p... form"
        )
