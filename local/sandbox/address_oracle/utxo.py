"""Oracle rules of the Bitcoin-like networks and the EVM family, on bip-utils."""

from __future__ import annotations

from typing import NamedTuple

from local.sandbox.address_oracle._common import (
    BECH32_CHARS,
    CHECKSUM,
    DECODE_ERRORS,
    HEX_CHARS,
    Refused,
    base58check,
    bech32_hrp,
    library_says,
    load_bip_utils,
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
        _check_segwit(conf, address)
        return
    if hrp is not None:
        raise Refused(f"it is a Bech32 address for another chain (prefix '{hrp}'); {conf.hint}")
    payload = base58check(address)
    version_len = len(next(iter(conf.versions)))
    version, body = payload[:version_len], payload[version_len:]
    if len(body) != 20:
        raise Refused(f"it decodes to {len(payload)} bytes, not the {version_len + 20} of an address")
    kind = conf.versions.get(version)
    if kind is None:
        raise Refused(f"its version byte 0x{version.hex()} belongs to another network or type; {conf.hint}")
    bip = load_bip_utils()
    decoder = bip.P2PKHAddrDecoder if kind == "P2PKH" else bip.P2SHAddrDecoder
    library_says(lambda: decoder.DecodeAddr(address, net_ver=version), CHECKSUM)


def _check_segwit(conf: Utxo, address: str) -> None:
    bip = load_bip_utils()
    refuse_mixed_case(address)
    hrp = conf.segwit_hrp
    require_chars(address.lower().rpartition("1")[2], BECH32_CHARS, "Bech32 (1, b, i and o are never used)")
    try:
        version, program = bip.SegwitBech32Decoder.Decode(hrp, address)
    except bip.Bech32ChecksumError as exc:
        # BIP-350: version 0 must carry a Bech32 checksum, versions 1+ a Bech32m one.
        raise Refused(CHECKSUM) from exc
    except DECODE_ERRORS as exc:
        raise Refused(f"it is not a well-formed segwit address; {conf.hint}") from exc
    if (version, len(program)) == (0, 20):
        library_says(lambda: bip.P2WPKHAddrDecoder.DecodeAddr(address, hrp=hrp), CHECKSUM)
        return
    if (version, len(program)) == (0, 32):
        return  # P2WSH: the segwit decoder above already checked version, length and checksum
    if (version, len(program)) == (1, 32) and conf.taproot:
        library_says(lambda: bip.P2TRAddrDecoder.DecodeAddr(address, hrp=hrp), CHECKSUM)
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


# ---------------------------------------------------------------- Bitcoin Cash cashaddr

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
    require_chars(full.lower().rpartition(":")[2], BECH32_CHARS, "a cashaddr")
    refuse_mixed_case(full)
    bip = load_bip_utils()
    try:
        version, body = bip.BchBech32Decoder.Decode(_BCH_PREFIX, full)
    except bip.Bech32ChecksumError as exc:
        raise Refused(CHECKSUM) from exc
    except DECODE_ERRORS as exc:
        raise Refused(f"it is not a well-formed cashaddr; {_BCH_LEGACY.hint}") from exc
    kind = _BCH_TYPES.get((version[0], len(body)))
    if kind is None:
        raise Refused(
            f"cashaddr version 0x{version.hex()} with a {len(body)}-byte hash is not a plain payment "
            "address (token-aware z/r addresses are not accepted); use the q... or p... form"
        )
    decoder = {"P2PKH": bip.BchP2PKHAddrDecoder, "P2SH": bip.BchP2SHAddrDecoder}.get(kind)
    if decoder is not None:
        library_says(lambda: decoder.DecodeAddr(full, hrp=_BCH_PREFIX, net_ver=version), CHECKSUM)


# ---------------------------------------------------------------- EVM family


def check_evm(title: str, address: str) -> None:
    hint = f"{title} addresses are 0x followed by 40 hexadecimal characters"
    if address.startswith("0X"):
        raise Refused("the prefix must be a lower-case 0x")
    if not address.startswith("0x"):
        raise Refused(hint)
    body = address[2:]
    require_chars(body, HEX_CHARS, "a hexadecimal address")
    if len(body) != 40:
        raise Refused(f"it has {len(body)} hexadecimal characters after 0x, but an address has 40")
    if int(body, 16) == 0:
        raise Refused("it is the zero address, a burn address; anything sent there is lost")
    bip = load_bip_utils()
    unchecksummed = body in (body.lower(), body.upper())
    library_says(
        lambda: bip.EthAddrDecoder.DecodeAddr(address, skip_chksum_enc=unchecksummed),
        "its mixed upper/lower case does not match the EIP-55 checksum; a character is wrong",
    )
