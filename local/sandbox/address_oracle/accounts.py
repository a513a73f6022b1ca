"""Oracle rules of the other account-based networks and Cardano, on bip-utils and cbor2."""

from __future__ import annotations

import re
from typing import Any

from local.sandbox.address_oracle._common import (
    B58_BITCOIN,
    BASE32_CHARS,
    CHECKSUM,
    DECODE_ERRORS,
    HEX_CHARS,
    Refused,
    base58check,
    bech32_hrp,
    count,
    expect_length,
    library_says,
    load_bip_utils,
    refuse_burn,
    require_chars,
)


def check_trc20(address: str) -> None:
    if address.startswith(("0x", "0X")):
        raise Refused("it is an EVM-style 0x address; TRC20 addresses are Base58 and start with T")
    payload = base58check(address)
    expect_length(payload, 21, "a TRON address")
    if payload[:1] != b"\x41":
        raise Refused("its version byte is not TRON's 0x41; TRC20 addresses start with T")
    refuse_burn(payload[1:])
    library_says(lambda: load_bip_utils().TrxAddrDecoder.DecodeAddr(address), CHECKSUM)


def check_sol(address: str) -> None:
    bip = load_bip_utils()
    require_chars(address, B58_BITCOIN, "Base58 (0, O, I and l are never used)")
    raw = bytes(bip.Base58Decoder.Decode(address))
    expect_length(raw, 32, "a Solana address")
    # Solana addresses have no checksum; the on-curve test is the only typo check there is.
    library_says(
        lambda: bip.SolAddrDecoder.DecodeAddr(address),
        "it is not a wallet (Ed25519) public key, so it is probably mistyped; "
        "program-derived addresses are not accepted as destinations",
    )


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
    library_says(lambda: load_bip_utils().XrpAddrDecoder.DecodeAddr(address), CHECKSUM)


def check_xlm(address: str) -> None:
    if address.startswith("S"):
        raise Refused("it is a secret seed (S...); never share it: the destination is the account ID (G...)")
    if address.startswith("M"):
        raise Refused("muxed accounts (M...) are not accepted; give the G... account and a memo")
    if address.upper() != address:
        raise Refused("Stellar account IDs are upper case")
    require_chars(address, BASE32_CHARS, "a Stellar account ID")
    if not address.startswith("G") or len(address) != 56:
        raise Refused("Stellar account IDs are 56 characters starting with G")
    bip = load_bip_utils()
    raw = bytes(library_says(lambda: bip.Base32Decoder.Decode(address), "it is not valid Base32"))
    payload, checksum = raw[:-2], raw[-2:]
    # StrKey: CRC16-XModem over version byte + key, stored little-endian.
    if bip.XModemCrc.QuickDigest(payload)[::-1] != checksum:
        raise Refused(CHECKSUM)
    library_says(
        lambda: bip.XlmAddrDecoder.DecodeAddr(address, addr_type=bip.XlmAddrTypes.PUB_KEY),
        "it does not hold a valid Ed25519 public key",
    )


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
    if load_bip_utils().XModemCrc.QuickDigest(raw[:34]) != checksum:
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
    bip = load_bip_utils()
    try:
        account = bytes(bip.Bech32Decoder.Decode("cosmos", address))
    except bip.Bech32ChecksumError as exc:
        raise Refused(CHECKSUM) from exc
    except DECODE_ERRORS as exc:
        raise Refused("it is not well-formed Bech32") from exc
    if len(account) == 32:
        return  # module and interchain accounts (ADR-028) are 32-byte hashes
    expect_length(account, 20, "a Cosmos account")
    library_says(lambda: bip.AtomAddrDecoder.DecodeAddr(address, hrp="cosmos"), CHECKSUM)


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
        _check_ada_shelley(address)
        return
    _check_ada_byron(address)


def _check_ada_shelley(address: str) -> None:
    bip = load_bip_utils()
    try:
        raw = bytes(bip.Bech32Decoder.Decode("addr", address))
    except bip.Bech32ChecksumError as exc:
        raise Refused(CHECKSUM) from exc
    except DECODE_ERRORS as exc:
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
    if kind == 0:
        library_says(lambda: bip.AdaShelleyAddrDecoder.DecodeAddr(address), CHECKSUM)


def _check_ada_byron(address: str) -> None:
    require_chars(address, B58_BITCOIN, "Base58 (0, O, I and l are never used)")
    bip = load_bip_utils()
    bad = "it is neither a Shelley (addr1) nor a valid Byron address; its structure or CRC checksum is wrong"
    library_says(lambda: bip.AdaByronAddrDecoder.DecodeAddr(address), bad)
    # Attribute 2 is the protocol magic, written only on test networks (mainnet omits it).
    if 2 in library_says(lambda: _byron_attributes(address), bad):
        raise Refused("it is a Byron address for a test network")


def _byron_attributes(address: str) -> dict[Any, Any]:
    import cbor2

    outer = cbor2.loads(bytes(load_bip_utils().Base58Decoder.Decode(address)))
    attributes: dict[Any, Any] = cbor2.loads(outer[0].value)[1]
    return attributes


_SS58_NAMES = {0: "Polkadot", 2: "Kusama", 42: "generic Substrate"}


def check_dot(address: str) -> None:
    require_chars(address, B58_BITCOIN, "Base58 (0, O, I and l are never used)")
    bip = load_bip_utils()
    try:
        ss58_format, account = bip.SS58Decoder.Decode(address)
    except bip.SS58ChecksumError as exc:
        raise Refused(CHECKSUM) from exc
    except DECODE_ERRORS as exc:
        raise Refused("it is not a well-formed SS58 address") from exc
    if ss58_format != 0:
        name = _SS58_NAMES.get(ss58_format, "another chain")
        raise Refused(
            f"its SS58 prefix is {ss58_format} ({name}); Polkadot addresses use prefix 0 and start with 1"
        )
    # Any 32-byte account ID is payable (multisig and proxy accounts are hashes, not keys).
    expect_length(bytes(account), 32, "a Polkadot account")


def check_algo(address: str) -> None:
    if address.upper() != address:
        raise Refused("Algorand addresses are upper case")
    require_chars(address, BASE32_CHARS, "an Algorand address")
    if len(address) != 58:
        raise Refused(f"it is {count(len(address), 'character')} long; Algorand addresses have 58")
    bip = load_bip_utils()
    raw = bytes(library_says(lambda: bip.Base32Decoder.Decode(address), "it is not valid Base32"))
    # 58 Base32 characters carry 2 spare bits; only the canonical spelling is the address.
    if bip.Base32Encoder.EncodeNoPadding(raw) != address:
        raise Refused(CHECKSUM)
    account, checksum = raw[:32], raw[32:]
    # The checksum is enough: application and multisig accounts are hashes, not Ed25519 keys,
    # so AlgoAddrDecoder's on-curve test would refuse payable accounts.
    if bip.Sha512_256.QuickDigest(account)[-4:] != checksum:
        raise Refused(CHECKSUM)


_NEAR_NAME = r"(([a-z\d]+[-_])*[a-z\d]+\.)*([a-z\d]+[-_])*[a-z\d]+"
_NEAR_IMPLICIT = r"[0-9a-fA-F]{64}"


def check_near(address: str) -> None:
    if re.fullmatch(_NEAR_IMPLICIT, address):
        if address != address.lower():
            raise Refused("implicit account IDs are lower-case hexadecimal")
        library_says(
            lambda: load_bip_utils().NearAddrDecoder.DecodeAddr(address),
            "it is a 64-hex implicit account but not a valid Ed25519 public key, so it is mistyped",
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


_XTZ_PREFIXES = {
    b"\x06\xa1\x9f": "TZ1",
    b"\x06\xa1\xa1": "TZ2",
    b"\x06\xa1\xa4": "TZ3",
    b"\x02\x5a\x79": "KT1",
}


def check_xtz(address: str) -> None:
    payload = base58check(address)
    expect_length(payload, 23, "a Tezos address")
    kind = _XTZ_PREFIXES.get(payload[:3])
    if kind is None:
        raise Refused("Tezos payouts go to tz1, tz2, tz3 or KT1 addresses")
    if kind == "KT1":
        return  # originated contracts have no key type for XtzAddrDecoder to check
    bip = load_bip_utils()
    prefix = bip.XtzAddrPrefixes[kind]
    library_says(lambda: bip.XtzAddrDecoder.DecodeAddr(address, prefix=prefix), CHECKSUM)


_XMR_KINDS = {0x12: "standard", 0x2A: "subaddress", 0x13: "integrated"}
_XMR_OTHER_NETS = {0x18, 0x19, 0x24, 0x35, 0x36, 0x3F}


def check_xmr(address: str) -> None:
    require_chars(address, B58_BITCOIN, "Base58 (0, O, I and l are never used)")
    if len(address) not in (95, 106):
        raise Refused(
            f"it is {count(len(address), 'character')} long; Monero addresses have 95 (106 when integrated)"
        )
    bip = load_bip_utils()
    raw = bytes(library_says(lambda: bip.Base58XmrDecoder.Decode(address), "it is not valid Monero Base58"))
    # bip-utils drops the high bytes of a block that overflows; cryptonote refuses such a string.
    if bip.Base58XmrEncoder.Encode(raw) != address:
        raise Refused("it is not valid Monero Base58")
    if bip.Kekkak256.QuickDigest(raw[:-4])[:4] != raw[-4:]:
        raise Refused(CHECKSUM)
    if raw[0] in _XMR_OTHER_NETS:
        raise Refused("it is a testnet or stagenet address")
    kind = _XMR_KINDS.get(raw[0])
    if kind is None:
        raise Refused("its network byte is not a Monero mainnet address type")
    if (kind == "integrated") != (len(raw) == 1 + 64 + 8 + 4):
        size = "an integrated address (106" if kind == "integrated" else f"a {kind} address (95"
        raise Refused(f"its network byte is for {size} characters), but it has {len(address)}")
    net_ver = raw[:1]
    keys_bad = "it does not hold valid Monero public keys"
    if kind == "integrated":
        payment_id = raw[65:73]
        library_says(
            lambda: bip.XmrIntegratedAddrDecoder.DecodeAddr(address, net_ver=net_ver, payment_id=payment_id),
            keys_bad,
        )
        return
    library_says(lambda: bip.XmrAddrDecoder.DecodeAddr(address, net_ver=net_ver), keys_bad)
