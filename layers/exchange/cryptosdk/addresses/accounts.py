"""Address rules of the account-based networks (everything but the Bitcoin family and Cardano)."""

from __future__ import annotations

import re

from cryptosdk.addresses.checksums import (
    B58_BITCOIN,
    ChecksumError,
    b58decode,
    bech32_decode,
    crc16_xmodem,
    monero_b58decode,
    monero_checksum,
    ss58_decode,
)
from cryptosdk.addresses.common import (
    B58_CHARS_NOTE,
    BASE32_CHARS,
    CHECKSUM,
    HEX_CHARS,
    Refused,
    base58check,
    bech32_hrp,
    count,
    expect_length,
    refuse_burn,
    require_chars,
)
from cryptosdk.addresses.digests import keccak256, sha512_256
from cryptosdk.addresses.ed25519 import is_on_curve

# ---------------------------------------------------------------- EVM family


def _eip55(hex40: str) -> str:
    """EIP-55: a letter is upper case when the matching nibble of keccak256(lower-case hex) is >= 8."""
    lower = hex40.lower()
    digest = keccak256(lower.encode("ascii")).hex()
    return "".join(c.upper() if int(d, 16) >= 8 else c for c, d in zip(lower, digest, strict=False))


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
    # A single-case address carries no checksum (EIP-55 is optional); a mixed-case one must match it.
    if body not in (body.lower(), body.upper()) and body != _eip55(body):
        raise Refused("its mixed upper/lower case does not match the EIP-55 checksum; a character is wrong")


# ---------------------------------------------------------------- Base58Check accounts


def check_trc20(address: str) -> None:
    if address.startswith(("0x", "0X")):
        raise Refused("it is an EVM-style 0x address; TRC20 addresses are Base58 and start with T")
    payload = base58check(address)
    expect_length(payload, 21, "a TRON address")
    if payload[:1] != b"\x41":
        raise Refused("its version byte is not TRON's 0x41; TRC20 addresses start with T")
    refuse_burn(payload[1:])


def check_xrp(address: str) -> None:
    if address.startswith(("X", "T")) and len(address) == 47:
        raise Refused(
            "X-addresses are not accepted; give the classic address (starting with r) and the destination "
            "tag separately"
        )
    payload = base58check(address, ripple=True)
    expect_length(payload, 21, "an XRP account ID")
    if payload[:1] != b"\x00":
        raise Refused("it is not an account address (XRP accounts start with r)")
    refuse_burn(payload[1:])


_XTZ_PREFIXES = {
    b"\x06\xa1\x9f": "tz1",
    b"\x06\xa1\xa1": "tz2",
    b"\x06\xa1\xa4": "tz3",
    b"\x02\x5a\x79": "KT1",
}


def check_xtz(address: str) -> None:
    payload = base58check(address)
    expect_length(payload, 23, "a Tezos address")
    if payload[:3] not in _XTZ_PREFIXES:
        raise Refused("Tezos payouts go to tz1, tz2, tz3 or KT1 addresses")


# ---------------------------------------------------------------- Ed25519 keys


def check_sol(address: str) -> None:
    require_chars(address, B58_BITCOIN, B58_CHARS_NOTE)
    key = b58decode(address)
    expect_length(key, 32, "a Solana address")
    # Solana addresses have no checksum; the on-curve test is the only typo check there is.
    if not is_on_curve(key):
        raise Refused(
            "it is not a wallet (Ed25519) public key, so it is probably mistyped; "
            "program-derived addresses are not accepted as destinations"
        )


def check_xlm(address: str) -> None:
    import base64  # Base32 is RFC 4648's; only XLM and ALGO need it, kept off the import path
    import binascii

    if address.startswith("S"):
        raise Refused("it is a secret seed (S...); never share it: the destination is the account ID (G...)")
    if address.startswith("M"):
        raise Refused("muxed accounts (M...) are not accepted; give the G... account and a memo")
    if address.upper() != address:
        raise Refused("Stellar account IDs are upper case")
    require_chars(address, BASE32_CHARS, "a Stellar account ID")
    if not address.startswith("G") or len(address) != 56:
        raise Refused("Stellar account IDs are 56 characters starting with G")
    try:
        raw = base64.b32decode(address)
    except binascii.Error as exc:
        raise Refused("it is not valid Base32") from exc
    payload, checksum = raw[:-2], raw[-2:]
    # StrKey (SEP-23): version byte + key, then CRC16-XModem stored little-endian.
    if crc16_xmodem(payload)[::-1] != checksum:
        raise Refused(CHECKSUM)
    # Version byte 6 << 3 is an account ID (G...); the key must be a point of the curve.
    if payload[0] != 6 << 3 or not is_on_curve(payload[1:]):
        raise Refused("it does not hold a valid Ed25519 public key")


_NEAR_NAME = r"(([a-z\d]+[-_])*[a-z\d]+\.)*([a-z\d]+[-_])*[a-z\d]+"
_NEAR_IMPLICIT = r"[0-9a-fA-F]{64}"


def check_near(address: str) -> None:
    if re.fullmatch(_NEAR_IMPLICIT, address):
        if address != address.lower():
            raise Refused("implicit account IDs are lower-case hexadecimal")
        if not is_on_curve(bytes.fromhex(address)):
            raise Refused(
                "it is a 64-hex implicit account but not a valid Ed25519 public key, so it is mistyped"
            )
        return
    if address != address.lower():
        raise Refused("NEAR account IDs are lower case")
    if not 2 <= len(address) <= 64:
        raise Refused(f"it is {count(len(address), 'character')} long; account IDs have 2 to 64")
    if not re.fullmatch(_NEAR_NAME, address):
        raise Refused(
            "account IDs use a-z, 0-9 and the separators '-', '_' and '.', "
            "never two in a row or at either end"
        )


_XMR_KINDS = {0x12: "standard", 0x2A: "subaddress", 0x13: "integrated"}
_XMR_OTHER_NETS = {0x18, 0x19, 0x24, 0x35, 0x36, 0x3F}


def check_xmr(address: str) -> None:
    require_chars(address, B58_BITCOIN, B58_CHARS_NOTE)
    if len(address) not in (95, 106):
        raise Refused(
            f"it is {count(len(address), 'character')} long; Monero addresses have 95 (106 when integrated)"
        )
    try:
        raw = monero_b58decode(address)
    except ValueError as exc:
        raise Refused("it is not valid Monero Base58") from exc
    if monero_checksum(raw[:-4]) != raw[-4:]:
        raise Refused(CHECKSUM)
    if raw[0] in _XMR_OTHER_NETS:
        raise Refused("it is a testnet or stagenet address")
    kind = _XMR_KINDS.get(raw[0])
    if kind is None:
        raise Refused("its network byte is not a Monero mainnet address type")
    # network byte, public spend key, public view key, [8-byte payment ID,] checksum
    if (kind == "integrated") != (len(raw) == 1 + 64 + 8 + 4):
        size = "an integrated address (106" if kind == "integrated" else f"a {kind} address (95"
        raise Refused(f"its network byte is for {size} characters), but it has {len(address)}")
    if not (is_on_curve(raw[1:33]) and is_on_curve(raw[33:65])):
        raise Refused("it does not hold valid Monero public keys")


# ---------------------------------------------------------------- other checksums


_TON_BOUNCEABLE = 0x11
_TON_NON_BOUNCEABLE = 0x51
_TON_TESTNET_FLAG = 0x80


def check_ton(address: str) -> None:
    import base64  # only TON needs it; kept off the module import path
    import binascii

    if ":" in address:
        _check_ton_raw(address)
        return
    if len(address) != 48:
        raise Refused("user-friendly TON addresses are 48 characters (or use the raw form 0:<64 hex>)")
    if ("-" in address or "_" in address) and ("+" in address or "/" in address):
        raise Refused("it mixes the base64 and base64url alphabets")
    try:
        raw = base64.b64decode(address.replace("-", "+").replace("_", "/"), validate=True)
    except binascii.Error as exc:
        raise Refused("it is not valid base64") from exc
    flags, workchain, checksum = raw[0], raw[1], raw[34:]
    if crc16_xmodem(raw[:34]) != checksum:
        raise Refused(CHECKSUM)
    if flags & _TON_TESTNET_FLAG:
        raise Refused("it is a testnet-only address")
    if flags not in (_TON_BOUNCEABLE, _TON_NON_BOUNCEABLE):
        raise Refused(f"its flag byte 0x{flags:02x} is neither bounceable nor non-bounceable")
    _check_ton_workchain(int.from_bytes(bytes([workchain]), "big", signed=True))


def _check_ton_raw(address: str) -> None:
    workchain, _, account = address.partition(":")
    if workchain not in ("0", "-1"):
        raise Refused("raw TON addresses are <workchain>:<64 hex>, with workchain 0")
    require_chars(account, HEX_CHARS, "a raw TON address")
    if len(account) != 64:
        raise Refused(f"it has {len(account)} hexadecimal characters after the colon, but needs 64")
    _check_ton_workchain(int(workchain))


def _check_ton_workchain(workchain: int) -> None:
    if workchain != 0:
        raise Refused(f"workchain {workchain} is not accepted; wallets live on the basechain (0)")


def check_atom(address: str) -> None:
    hrp = bech32_hrp(address)
    if hrp is not None and hrp.startswith("cosmosvaloper"):
        raise Refused("it is a validator operator address, which cannot receive transfers")
    if hrp != "cosmos":
        raise Refused("ATOM addresses are Bech32 starting with cosmos1")
    try:
        account = bech32_decode("cosmos", address)
    except ChecksumError as exc:
        raise Refused(CHECKSUM) from exc
    except ValueError as exc:
        raise Refused("it is not well-formed Bech32") from exc
    if len(account) == 32:
        return  # module and interchain accounts (ADR-028) are 32-byte hashes
    expect_length(account, 20, "a Cosmos account")


_EOS_NAME = r"[a-z1-5.]{1,12}"


def check_eos(address: str) -> None:
    if address.startswith(("EOS", "PUB_")):
        raise Refused("it is a public key; EOS transfers go to an account name such as 'eosio.token'")
    if len(address) > 12:
        raise Refused(f"it is {count(len(address), 'character')} long; account names have at most 12")
    if not re.fullmatch(_EOS_NAME, address):
        raise Refused("account names use only lower-case a-z, digits 1-5 and '.'")
    if address.endswith("."):
        raise Refused("account names cannot end with '.'")


_SS58_NAMES = {0: "Polkadot", 2: "Kusama", 42: "generic Substrate"}


def check_dot(address: str) -> None:
    require_chars(address, B58_BITCOIN, B58_CHARS_NOTE)
    try:
        ss58_format, _ = ss58_decode(address)
    except ChecksumError as exc:
        raise Refused(CHECKSUM) from exc
    except ValueError as exc:
        raise Refused("it is not a well-formed SS58 address") from exc
    # Any 32-byte account ID is payable (multisig and proxy accounts are hashes, not keys).
    if ss58_format != 0:
        name = _SS58_NAMES.get(ss58_format, "another chain")
        raise Refused(
            f"its SS58 prefix is {ss58_format} ({name}); Polkadot addresses use prefix 0 and start with 1"
        )


def check_algo(address: str) -> None:
    import base64  # Base32 is RFC 4648's; only XLM and ALGO need it, kept off the import path
    import binascii

    if address.upper() != address:
        raise Refused("Algorand addresses are upper case")
    require_chars(address, BASE32_CHARS, "an Algorand address")
    if len(address) != 58:
        raise Refused(f"it is {count(len(address), 'character')} long; Algorand addresses have 58")
    try:
        raw = base64.b32decode(address + "======")
    except binascii.Error as exc:
        raise Refused("it is not valid Base32") from exc
    # 58 Base32 characters carry 2 spare bits; only the canonical spelling (spare bits zero) is the address.
    if base64.b32encode(raw).decode("ascii").rstrip("=") != address:
        raise Refused(CHECKSUM)
    account, checksum = raw[:32], raw[32:]
    # The checksum is enough: application and multisig accounts are hashes, not Ed25519 keys,
    # so an on-curve test would refuse payable accounts.
    if sha512_256(account)[-4:] != checksum:
        raise Refused(CHECKSUM)
