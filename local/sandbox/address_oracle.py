"""The sandbox exchange's own address checks, on bip-utils: the oracle for `cryptosdk.addresses`.

The deployed layer checks addresses with small standards-based code of its own (cryptosdk.checksums
and friends). The sandbox plays the exchange, so it must not share that code: here every checksum
and key test is bip-utils' (plus cbor2 for Cardano Byron), under the same per-network policy and
the same sentences, so that a bug in the layer's checksums shows up as a disagreement with the
"exchange" (tests/unit/test_address_differential.py compares the two over thousands of addresses).
Memo and tag rules carry no checksum; the sandbox takes them from cryptosdk.addresses.

bip-utils costs ~0.3 s to import, so it is imported inside the functions that use it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

__all__ = ["SUPPORTED_NETWORKS", "AddressCheck", "check_address"]


@dataclass(frozen=True, slots=True)
class AddressCheck:
    """Outcome of a check; `reason` says what is wrong when `valid` is False."""

    valid: bool
    reason: str | None = None


_OK = AddressCheck(valid=True)

_CHECKSUM = "checksum does not match; a character is wrong, missing or swapped"
_B58_BITCOIN = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_RIPPLE = "rpshnaf39wBUDNEGHJKLM4PQRST7VWXYZ2bcdeCg65jkm8oFqi1tuvAxyz"
_BECH32_CHARS = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BASE32_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_HEX_CHARS = "0123456789abcdefABCDEF"
# Patterns are compiled on first use (re caches them), not at import.
_BECH32_SHAPE = r"([a-z][a-z0-9_]{0,30})1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{6,}"
# Errors bip-utils (and cbor2, binascii under it) raise on malformed input.
_DECODE_ERRORS = (ValueError, TypeError, IndexError, KeyError)


class _Refused(Exception):
    """Raised inside a format check; the text completes 'not a valid <NETWORK> address: ...'."""


def _bip() -> Any:
    """bip_utils, imported on first use so that importing this module stays cheap."""
    import bip_utils

    return bip_utils


def _require_chars(address: str, alphabet: str, encoding: str) -> None:
    for char in address:
        if char not in alphabet:
            raise _Refused(f"it contains {char!r}, which never appears in {encoding}")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _expect_length(data: bytes, expected: int, what: str) -> None:
    if len(data) != expected:
        raise _Refused(
            f"it decodes to {len(data)} bytes, but {what} has {expected}; it is truncated or padded"
        )


def _bech32_hrp(address: str) -> str | None:
    """The human-readable part when the string has the shape of Bech32, else None."""
    match = re.fullmatch(_BECH32_SHAPE, address.lower())
    if match is None or (address != address.lower() and address != address.upper()):
        return None
    return match.group(1)


def _refuse_mixed_case(address: str) -> None:
    if address != address.lower() and address != address.upper():
        raise _Refused("it mixes upper and lower case, which Bech32 forbids; use one case throughout")


def _refuse_burn(account: bytes) -> None:
    # All-zero accounts (and XRP's ACCOUNT_ONE) have no key: whatever is sent there is lost.
    if int.from_bytes(account, "big") <= 1:
        raise _Refused("it is a burn address; anything sent there is lost")


def _library_says(call: Callable[[], Any], detail: str) -> Any:
    """Run a bip-utils decoder as the final word; any decode error becomes `detail`."""
    try:
        return call()
    except _DECODE_ERRORS as exc:
        raise _Refused(detail) from exc


# ---------------------------------------------------------------- Base58Check families


def _base58check(address: str, *, ripple: bool = False) -> bytes:
    bip = _bip()
    alphabet = _B58_RIPPLE if ripple else _B58_BITCOIN
    _require_chars(address, alphabet, "Base58 (0, O, I and l are never used)")
    which = bip.Base58Alphabets.RIPPLE if ripple else bip.Base58Alphabets.BITCOIN
    try:
        return bytes(bip.Base58Decoder.CheckDecode(address, which))
    except bip.Base58ChecksumError as exc:
        raise _Refused(_CHECKSUM) from exc
    except _DECODE_ERRORS as exc:
        raise _Refused("it is too short to be a Base58Check address") from exc


class _Utxo(NamedTuple):
    """A Bitcoin-like network: Base58Check version bytes and, optionally, a segwit HRP."""

    title: str
    hint: str
    versions: dict[bytes, str]  # version bytes -> "P2PKH" or "P2SH"
    segwit_hrp: str | None = None
    taproot: bool = False


def _check_utxo(conf: _Utxo, address: str) -> None:
    hrp = _bech32_hrp(address)
    if conf.segwit_hrp is not None and address.lower().startswith(conf.segwit_hrp + "1"):
        _check_segwit(conf, address)
        return
    if hrp is not None:
        raise _Refused(f"it is a Bech32 address for another chain (prefix '{hrp}'); {conf.hint}")
    payload = _base58check(address)
    version_len = len(next(iter(conf.versions)))
    version, body = payload[:version_len], payload[version_len:]
    if len(body) != 20:
        raise _Refused(f"it decodes to {len(payload)} bytes, not the {version_len + 20} of an address")
    kind = conf.versions.get(version)
    if kind is None:
        raise _Refused(f"its version byte 0x{version.hex()} belongs to another network or type; {conf.hint}")
    bip = _bip()
    decoder = bip.P2PKHAddrDecoder if kind == "P2PKH" else bip.P2SHAddrDecoder
    _library_says(lambda: decoder.DecodeAddr(address, net_ver=version), _CHECKSUM)


def _check_segwit(conf: _Utxo, address: str) -> None:
    bip = _bip()
    _refuse_mixed_case(address)
    hrp = conf.segwit_hrp
    _require_chars(address.lower().rpartition("1")[2], _BECH32_CHARS, "Bech32 (1, b, i and o are never used)")
    try:
        version, program = bip.SegwitBech32Decoder.Decode(hrp, address)
    except bip.Bech32ChecksumError as exc:
        # BIP-350: version 0 must carry a Bech32 checksum, versions 1+ a Bech32m one.
        raise _Refused(_CHECKSUM) from exc
    except _DECODE_ERRORS as exc:
        raise _Refused(f"it is not a well-formed segwit address; {conf.hint}") from exc
    if (version, len(program)) == (0, 20):
        _library_says(lambda: bip.P2WPKHAddrDecoder.DecodeAddr(address, hrp=hrp), _CHECKSUM)
        return
    if (version, len(program)) == (0, 32):
        return  # P2WSH: the segwit decoder above already checked version, length and checksum
    if (version, len(program)) == (1, 32) and conf.taproot:
        _library_says(lambda: bip.P2TRAddrDecoder.DecodeAddr(address, hrp=hrp), _CHECKSUM)
        return
    raise _Refused(
        f"witness version {version} with a {len(program)}-byte program is not an address type "
        f"{conf.title} payouts support; {conf.hint}"
    )


_BTC = _Utxo(
    "BTC",
    "BTC addresses start with 1 or 3 (Base58) or bc1 (Bech32)",
    {b"\x00": "P2PKH", b"\x05": "P2SH"},
    segwit_hrp="bc",
    taproot=True,
)
_LTC = _Utxo(
    "LTC",
    "LTC addresses start with L, M or 3 (Base58) or ltc1 (Bech32)",
    # Litecoin Core still accepts the old 0x05 P2SH version (addresses starting with 3).
    {b"\x30": "P2PKH", b"\x32": "P2SH", b"\x05": "P2SH"},
    segwit_hrp="ltc",
    taproot=True,
)
_DOGE = _Utxo("DOGE", "DOGE addresses start with D, A or 9", {b"\x1e": "P2PKH", b"\x16": "P2SH"})
_DASH = _Utxo("DASH", "DASH addresses start with X or 7", {b"\x4c": "P2PKH", b"\x10": "P2SH"})
_ZEC = _Utxo(
    "ZEC",
    "ZEC payouts go to transparent addresses starting with t1 or t3",
    {b"\x1c\xb8": "P2PKH", b"\x1c\xbd": "P2SH"},
)
_BCH_LEGACY = _Utxo(
    "BCH",
    "BCH addresses are cashaddr (bitcoincash:q... or p...) or legacy 1... / 3...",
    {b"\x00": "P2PKH", b"\x05": "P2SH"},
)


def _check_zec(address: str) -> None:
    lower = address.lower()
    if lower.startswith(("zs1", "zc", "u1")):
        raise _Refused("shielded and unified addresses are not supported; use a transparent t1 or t3 address")
    _check_utxo(_ZEC, address)


# ---------------------------------------------------------------- Bitcoin Cash cashaddr

_BCH_PREFIX = "bitcoincash"
# cashaddr version byte = type bits | hash-size bits; token-aware types are refused on purpose.
_BCH_TYPES = {(0x00, 20): "P2PKH", (0x08, 20): "P2SH", (0x0B, 32): "P2SH32"}


def _check_bch(address: str) -> None:
    if ":" not in address and address[:1] in ("1", "3"):
        _check_utxo(_BCH_LEGACY, address)
        return
    prefix, _, _ = address.rpartition(":")
    if prefix and prefix.lower() != _BCH_PREFIX:
        raise _Refused(f"its prefix '{prefix}' is not '{_BCH_PREFIX}'; {_BCH_LEGACY.hint}")
    # A missing prefix is added in the payload's case: cashaddr forbids mixing cases.
    implied = _BCH_PREFIX.upper() if address.isupper() else _BCH_PREFIX
    full = address if prefix else f"{implied}:{address}"
    _require_chars(full.lower().rpartition(":")[2], _BECH32_CHARS, "a cashaddr")
    _refuse_mixed_case(full)
    bip = _bip()
    try:
        version, body = bip.BchBech32Decoder.Decode(_BCH_PREFIX, full)
    except bip.Bech32ChecksumError as exc:
        raise _Refused(_CHECKSUM) from exc
    except _DECODE_ERRORS as exc:
        raise _Refused(f"it is not a well-formed cashaddr; {_BCH_LEGACY.hint}") from exc
    kind = _BCH_TYPES.get((version[0], len(body)))
    if kind is None:
        raise _Refused(
            f"cashaddr version 0x{version.hex()} with a {len(body)}-byte hash is not a plain payment "
            "address (token-aware z/r addresses are not accepted); use the q... or p... form"
        )
    decoder = {"P2PKH": bip.BchP2PKHAddrDecoder, "P2SH": bip.BchP2SHAddrDecoder}.get(kind)
    if decoder is not None:
        _library_says(lambda: decoder.DecodeAddr(full, hrp=_BCH_PREFIX, net_ver=version), _CHECKSUM)


# ---------------------------------------------------------------- EVM family


def _check_evm(title: str, address: str) -> None:
    hint = f"{title} addresses are 0x followed by 40 hexadecimal characters"
    if address.startswith("0X"):
        raise _Refused("the prefix must be a lower-case 0x")
    if not address.startswith("0x"):
        raise _Refused(hint)
    body = address[2:]
    _require_chars(body, _HEX_CHARS, "a hexadecimal address")
    if len(body) != 40:
        raise _Refused(f"it has {len(body)} hexadecimal characters after 0x, but an address has 40")
    if int(body, 16) == 0:
        raise _Refused("it is the zero address, a burn address; anything sent there is lost")
    bip = _bip()
    unchecksummed = body in (body.lower(), body.upper())
    _library_says(
        lambda: bip.EthAddrDecoder.DecodeAddr(address, skip_chksum_enc=unchecksummed),
        "its mixed upper/lower case does not match the EIP-55 checksum; a character is wrong",
    )


# ---------------------------------------------------------------- other account formats


def _check_trc20(address: str) -> None:
    if address.startswith(("0x", "0X")):
        raise _Refused("it is an EVM-style 0x address; TRC20 addresses are Base58 and start with T")
    payload = _base58check(address)
    _expect_length(payload, 21, "a TRON address")
    if payload[:1] != b"\x41":
        raise _Refused("its version byte is not TRON's 0x41; TRC20 addresses start with T")
    _refuse_burn(payload[1:])
    _library_says(lambda: _bip().TrxAddrDecoder.DecodeAddr(address), _CHECKSUM)


def _check_sol(address: str) -> None:
    bip = _bip()
    _require_chars(address, _B58_BITCOIN, "Base58 (0, O, I and l are never used)")
    raw = bytes(bip.Base58Decoder.Decode(address))
    _expect_length(raw, 32, "a Solana address")
    # Solana addresses have no checksum; the on-curve test is the only typo check there is.
    _library_says(
        lambda: bip.SolAddrDecoder.DecodeAddr(address),
        "it is not a wallet (Ed25519) public key, so it is probably mistyped; "
        "program-derived addresses are not accepted as destinations",
    )


def _check_xrp(address: str) -> None:
    if address.startswith(("X", "T")) and len(address) == 47:
        raise _Refused(
            "X-addresses are not accepted; give the classic address (starting with r) and the destination "
            "tag separately"
        )
    payload = _base58check(address, ripple=True)
    _expect_length(payload, 21, "an XRP account ID")
    if payload[:1] != b"\x00":
        raise _Refused("it is not an account address (XRP accounts start with r)")
    _refuse_burn(payload[1:])
    _library_says(lambda: _bip().XrpAddrDecoder.DecodeAddr(address), _CHECKSUM)


def _check_xlm(address: str) -> None:
    if address.startswith("S"):
        raise _Refused("it is a secret seed (S...); never share it: the destination is the account ID (G...)")
    if address.startswith("M"):
        raise _Refused("muxed accounts (M...) are not accepted; give the G... account and a memo")
    if address.upper() != address:
        raise _Refused("Stellar account IDs are upper case")
    _require_chars(address, _BASE32_CHARS, "a Stellar account ID")
    if not address.startswith("G") or len(address) != 56:
        raise _Refused("Stellar account IDs are 56 characters starting with G")
    bip = _bip()
    raw = bytes(_library_says(lambda: bip.Base32Decoder.Decode(address), "it is not valid Base32"))
    payload, checksum = raw[:-2], raw[-2:]
    # StrKey: CRC16-XModem over version byte + key, stored little-endian.
    if bip.XModemCrc.QuickDigest(payload)[::-1] != checksum:
        raise _Refused(_CHECKSUM)
    _library_says(
        lambda: bip.XlmAddrDecoder.DecodeAddr(address, addr_type=bip.XlmAddrTypes.PUB_KEY),
        "it does not hold a valid Ed25519 public key",
    )


_TON_BOUNCEABLE = 0x11
_TON_NON_BOUNCEABLE = 0x51
_TON_TESTNET_FLAG = 0x80


def _check_ton(address: str) -> None:
    import base64  # only TON needs it; kept off the module import path
    import binascii

    if ":" in address:
        _check_ton_raw(address)
        return
    if len(address) != 48:
        raise _Refused("user-friendly TON addresses are 48 characters (or use the raw form 0:<64 hex>)")
    if ("-" in address or "_" in address) and ("+" in address or "/" in address):
        raise _Refused("it mixes the base64 and base64url alphabets")
    try:
        raw = base64.b64decode(address.replace("-", "+").replace("_", "/"), validate=True)
    except binascii.Error as exc:
        raise _Refused("it is not valid base64") from exc
    flags, workchain, checksum = raw[0], raw[1], raw[34:]
    if _bip().XModemCrc.QuickDigest(raw[:34]) != checksum:
        raise _Refused(_CHECKSUM)
    if flags & _TON_TESTNET_FLAG:
        raise _Refused("it is a testnet-only address")
    if flags not in (_TON_BOUNCEABLE, _TON_NON_BOUNCEABLE):
        raise _Refused(f"its flag byte 0x{flags:02x} is neither bounceable nor non-bounceable")
    _check_ton_workchain(int.from_bytes(bytes([workchain]), "big", signed=True))


def _check_ton_raw(address: str) -> None:
    workchain, _, account = address.partition(":")
    if workchain not in ("0", "-1"):
        raise _Refused("raw TON addresses are <workchain>:<64 hex>, with workchain 0")
    _require_chars(account, _HEX_CHARS, "a raw TON address")
    if len(account) != 64:
        raise _Refused(f"it has {len(account)} hexadecimal characters after the colon, but needs 64")
    _check_ton_workchain(int(workchain))


def _check_ton_workchain(workchain: int) -> None:
    if workchain != 0:
        raise _Refused(f"workchain {workchain} is not accepted; wallets live on the basechain (0)")


def _check_atom(address: str) -> None:
    hrp = _bech32_hrp(address)
    if hrp is not None and hrp.startswith("cosmosvaloper"):
        raise _Refused("it is a validator operator address, which cannot receive transfers")
    if hrp != "cosmos":
        raise _Refused("ATOM addresses are Bech32 starting with cosmos1")
    bip = _bip()
    try:
        account = bytes(bip.Bech32Decoder.Decode("cosmos", address))
    except bip.Bech32ChecksumError as exc:
        raise _Refused(_CHECKSUM) from exc
    except _DECODE_ERRORS as exc:
        raise _Refused("it is not well-formed Bech32") from exc
    if len(account) == 32:
        return  # module and interchain accounts (ADR-028) are 32-byte hashes
    _expect_length(account, 20, "a Cosmos account")
    _library_says(lambda: bip.AtomAddrDecoder.DecodeAddr(address, hrp="cosmos"), _CHECKSUM)


_EOS_NAME = r"[a-z1-5.]{1,12}"


def _check_eos(address: str) -> None:
    if address.startswith(("EOS", "PUB_")):
        raise _Refused("it is a public key; EOS transfers go to an account name such as 'eosio.token'")
    if len(address) > 12:
        raise _Refused(f"it is {_count(len(address), 'character')} long; account names have at most 12")
    if not re.fullmatch(_EOS_NAME, address):
        raise _Refused("account names use only lower-case a-z, digits 1-5 and '.'")
    if address.endswith("."):
        raise _Refused("account names cannot end with '.'")


_ADA_PAYMENT_LENGTHS = {0: 57, 1: 57, 2: 57, 3: 57, 6: 29, 7: 29}


def _check_ada(address: str) -> None:
    hrp = _bech32_hrp(address)
    if hrp == "stake":
        raise _Refused("it is a stake (reward) address, which cannot receive payments; use an addr1 address")
    if hrp is not None and hrp != "addr":
        raise _Refused(
            f"its prefix '{hrp}' is not mainnet 'addr'; ADA addresses start with addr1 (or Ae2/Ddz)"
        )
    if hrp == "addr":
        _check_ada_shelley(address)
        return
    _check_ada_byron(address)


def _check_ada_shelley(address: str) -> None:
    bip = _bip()
    try:
        raw = bytes(bip.Bech32Decoder.Decode("addr", address))
    except bip.Bech32ChecksumError as exc:
        raise _Refused(_CHECKSUM) from exc
    except _DECODE_ERRORS as exc:
        raise _Refused("it is not well-formed Bech32") from exc
    if not raw:
        raise _Refused("it holds no address data")
    kind, network = raw[0] >> 4, raw[0] & 0x0F
    if network != 1:
        raise _Refused(f"its header names network {network}, not mainnet (1)")
    expected = _ADA_PAYMENT_LENGTHS.get(kind)
    if expected is None:
        raise _Refused(f"Shelley address type {kind} (pointer or reward) is not accepted for payments")
    _expect_length(raw, expected, f"a type-{kind} Shelley address")
    if kind == 0:
        _library_says(lambda: bip.AdaShelleyAddrDecoder.DecodeAddr(address), _CHECKSUM)


def _check_ada_byron(address: str) -> None:
    _require_chars(address, _B58_BITCOIN, "Base58 (0, O, I and l are never used)")
    bip = _bip()
    bad = "it is neither a Shelley (addr1) nor a valid Byron address; its structure or CRC checksum is wrong"
    _library_says(lambda: bip.AdaByronAddrDecoder.DecodeAddr(address), bad)
    # Attribute 2 is the protocol magic, written only on test networks (mainnet omits it).
    if 2 in _library_says(lambda: _byron_attributes(address), bad):
        raise _Refused("it is a Byron address for a test network")


def _byron_attributes(address: str) -> dict[Any, Any]:
    import cbor2

    outer = cbor2.loads(bytes(_bip().Base58Decoder.Decode(address)))
    attributes: dict[Any, Any] = cbor2.loads(outer[0].value)[1]
    return attributes


_SS58_NAMES = {0: "Polkadot", 2: "Kusama", 42: "generic Substrate"}


def _check_dot(address: str) -> None:
    _require_chars(address, _B58_BITCOIN, "Base58 (0, O, I and l are never used)")
    bip = _bip()
    try:
        ss58_format, account = bip.SS58Decoder.Decode(address)
    except bip.SS58ChecksumError as exc:
        raise _Refused(_CHECKSUM) from exc
    except _DECODE_ERRORS as exc:
        raise _Refused("it is not a well-formed SS58 address") from exc
    if ss58_format != 0:
        name = _SS58_NAMES.get(ss58_format, "another chain")
        raise _Refused(
            f"its SS58 prefix is {ss58_format} ({name}); Polkadot addresses use prefix 0 and start with 1"
        )
    # Any 32-byte account ID is payable (multisig and proxy accounts are hashes, not keys).
    _expect_length(bytes(account), 32, "a Polkadot account")


def _check_algo(address: str) -> None:
    if address.upper() != address:
        raise _Refused("Algorand addresses are upper case")
    _require_chars(address, _BASE32_CHARS, "an Algorand address")
    if len(address) != 58:
        raise _Refused(f"it is {_count(len(address), 'character')} long; Algorand addresses have 58")
    bip = _bip()
    raw = bytes(_library_says(lambda: bip.Base32Decoder.Decode(address), "it is not valid Base32"))
    # 58 Base32 characters carry 2 spare bits; only the canonical spelling is the address.
    if bip.Base32Encoder.EncodeNoPadding(raw) != address:
        raise _Refused(_CHECKSUM)
    account, checksum = raw[:32], raw[32:]
    # The checksum is enough: application and multisig accounts are hashes, not Ed25519 keys,
    # so AlgoAddrDecoder's on-curve test would refuse payable accounts.
    if bip.Sha512_256.QuickDigest(account)[-4:] != checksum:
        raise _Refused(_CHECKSUM)


_NEAR_NAME = r"(([a-z\d]+[-_])*[a-z\d]+\.)*([a-z\d]+[-_])*[a-z\d]+"
_NEAR_IMPLICIT = r"[0-9a-fA-F]{64}"


def _check_near(address: str) -> None:
    if re.fullmatch(_NEAR_IMPLICIT, address):
        if address != address.lower():
            raise _Refused("implicit account IDs are lower-case hexadecimal")
        _library_says(
            lambda: _bip().NearAddrDecoder.DecodeAddr(address),
            "it is a 64-hex implicit account but not a valid Ed25519 public key, so it is mistyped",
        )
        return
    if address != address.lower():
        raise _Refused("NEAR account IDs are lower case")
    if not 2 <= len(address) <= 64:
        raise _Refused(f"it is {_count(len(address), 'character')} long; account IDs have 2 to 64")
    if not re.fullmatch(_NEAR_NAME, address):
        raise _Refused(
            "account IDs use a-z, 0-9 and the separators '-', '_' and '.', "
            "never two in a row or at either end"
        )


_XTZ_PREFIXES = {
    b"\x06\xa1\x9f": "TZ1",
    b"\x06\xa1\xa1": "TZ2",
    b"\x06\xa1\xa4": "TZ3",
    b"\x02\x5a\x79": "KT1",
}


def _check_xtz(address: str) -> None:
    payload = _base58check(address)
    _expect_length(payload, 23, "a Tezos address")
    kind = _XTZ_PREFIXES.get(payload[:3])
    if kind is None:
        raise _Refused("Tezos payouts go to tz1, tz2, tz3 or KT1 addresses")
    if kind == "KT1":
        return  # originated contracts have no key type for XtzAddrDecoder to check
    bip = _bip()
    prefix = bip.XtzAddrPrefixes[kind]
    _library_says(lambda: bip.XtzAddrDecoder.DecodeAddr(address, prefix=prefix), _CHECKSUM)


_XMR_KINDS = {0x12: "standard", 0x2A: "subaddress", 0x13: "integrated"}
_XMR_OTHER_NETS = {0x18, 0x19, 0x24, 0x35, 0x36, 0x3F}


def _check_xmr(address: str) -> None:
    _require_chars(address, _B58_BITCOIN, "Base58 (0, O, I and l are never used)")
    if len(address) not in (95, 106):
        raise _Refused(
            f"it is {_count(len(address), 'character')} long; Monero addresses have 95 (106 when integrated)"
        )
    bip = _bip()
    raw = bytes(_library_says(lambda: bip.Base58XmrDecoder.Decode(address), "it is not valid Monero Base58"))
    # bip-utils drops the high bytes of a block that overflows; cryptonote refuses such a string.
    if bip.Base58XmrEncoder.Encode(raw) != address:
        raise _Refused("it is not valid Monero Base58")
    if bip.Kekkak256.QuickDigest(raw[:-4])[:4] != raw[-4:]:
        raise _Refused(_CHECKSUM)
    if raw[0] in _XMR_OTHER_NETS:
        raise _Refused("it is a testnet or stagenet address")
    kind = _XMR_KINDS.get(raw[0])
    if kind is None:
        raise _Refused("its network byte is not a Monero mainnet address type")
    if (kind == "integrated") != (len(raw) == 1 + 64 + 8 + 4):
        size = "an integrated address (106" if kind == "integrated" else f"a {kind} address (95"
        raise _Refused(f"its network byte is for {size} characters), but it has {len(address)}")
    net_ver = raw[:1]
    keys_bad = "it does not hold valid Monero public keys"
    if kind == "integrated":
        payment_id = raw[65:73]
        _library_says(
            lambda: bip.XmrIntegratedAddrDecoder.DecodeAddr(address, net_ver=net_ver, payment_id=payment_id),
            keys_bad,
        )
        return
    _library_says(lambda: bip.XmrAddrDecoder.DecodeAddr(address, net_ver=net_ver), keys_bad)


# ---------------------------------------------------------------- the network table


class _Network(NamedTuple):
    check: Callable[[str], None]
    max_length: int


def _evm(title: str) -> _Network:
    # Generous limit so that a hex string of the wrong length gets the specific reason.
    return _Network(lambda address: _check_evm(title, address), 64)


def _utxo(conf: _Utxo, max_length: int) -> _Network:
    return _Network(lambda address: _check_utxo(conf, address), max_length)


_NETWORKS: dict[str, _Network] = {
    "BTC": _utxo(_BTC, 90),
    "LTC": _utxo(_LTC, 90),
    "DOGE": _utxo(_DOGE, 35),
    "BCH": _Network(_check_bch, 100),
    "DASH": _utxo(_DASH, 35),
    "ZEC": _Network(_check_zec, 120),
    **{
        title: _evm(title)
        for title in ("ERC20", "BEP20", "POLYGON", "ARBITRUM", "OPTIMISM", "BASE", "AVAXC", "ETC")
    },
    "TRC20": _Network(_check_trc20, 42),
    "SOL": _Network(_check_sol, 44),
    "XRP": _Network(_check_xrp, 47),
    "XLM": _Network(_check_xlm, 69),
    "TON": _Network(_check_ton, 70),
    "ATOM": _Network(_check_atom, 90),
    "EOS": _Network(_check_eos, 60),
    "ADA": _Network(_check_ada, 200),
    "DOT": _Network(_check_dot, 60),
    "ALGO": _Network(_check_algo, 60),
    "NEAR": _Network(_check_near, 64),
    "XTZ": _Network(_check_xtz, 40),
    "XMR": _Network(_check_xmr, 106),
}

SUPPORTED_NETWORKS: frozenset[str] = frozenset(_NETWORKS)


def _unknown(network: str) -> AddressCheck:
    hint = " (network titles are upper case)" if network.upper() in _NETWORKS else ""
    return AddressCheck(False, f"unknown network {network!r}: no address format is known for it{hint}")


def _text_problem(value: str) -> str | None:
    """Problems common to every address: returned as the part after 'not a valid X address: '."""
    if value.strip() != value:
        return "it has leading or trailing whitespace; remove it"
    if not value.isascii():
        return "it contains non-ASCII characters (look-alike letters or invisible marks?)"
    if not value.isprintable() or " " in value:
        return "it contains spaces, line breaks or control characters"
    return None


def check_address(network: str, address: str) -> AddressCheck:
    """Check the format and checksum of `address` as a destination on `network` (a networkTitle)."""
    spec = _NETWORKS.get(network)
    if spec is None:
        return _unknown(network)
    if not isinstance(address, str) or not address:
        return AddressCheck(False, f"a {network} destination address is required")
    problem = _text_problem(address)
    if problem is None and len(address) > spec.max_length:
        size = _count(len(address), "character")
        problem = f"it is {size} long; {network} addresses have at most {spec.max_length}"
    if problem is None:
        try:
            spec.check(address)
        except _Refused as refused:
            problem = str(refused)
    if problem is None:
        return _OK
    return AddressCheck(False, f"not a valid {network} address: {problem}")
