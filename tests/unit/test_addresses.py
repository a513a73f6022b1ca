"""Destination address and memo checks per network (cryptosdk.addresses)."""

from __future__ import annotations

import base64
import binascii
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from cryptosdk.addresses import (
    SUPPORTED_NETWORKS,
    AddressCheck,
    check_address,
    check_memo,
    memo_required_by_default,
)
from tests.unit.address_samples import (
    EIP55_MIXED_CASE,
    EVM_NETWORKS,
    NO_CHECKSUM,
    VALID,
    WRONG_LENGTH,
    WRONG_NETWORK,
)

# The networkTitle values the catalogue uses (shared interface fixed by the lead).
CATALOGUE_NETWORKS = frozenset(
    {
        *("BTC", "LTC", "DOGE", "BCH", "DASH", "ZEC"),
        *("ERC20", "BEP20", "POLYGON", "ARBITRUM", "OPTIMISM", "BASE", "AVAXC", "ETC"),
        *("TRC20", "SOL", "XRP", "XLM", "TON", "ATOM", "EOS", "ADA", "DOT", "ALGO", "NEAR", "XTZ", "XMR"),
    }
)
MEMO_NETWORKS = frozenset({"XRP", "XLM", "TON", "ATOM", "EOS"})
TEST_MNEMONIC = " ".join(["abandon"] * 11 + ["about"])  # BIP-39 test vector mnemonic

B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
B58_RIPPLE = "rpshnaf39wBUDNEGHJKLM4PQRST7VWXYZ2bcdeCg65jkm8oFqi1tuvAxyz"
BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

VALID_CASES = [(network, address) for network, addresses in VALID.items() for address in addresses]
CHECKSUMMED_CASES = [(n, a) for n, a in VALID_CASES if n not in NO_CHECKSUM]


def _alphabet(network: str, address: str) -> str:
    """The alphabet a single-character typo in `address` would come from."""
    if network == "XRP":
        return B58_RIPPLE
    if network in ("XLM", "ALGO"):
        return BASE32
    if network == "TON":
        return BASE64URL
    if address.lower().startswith(("bc1", "ltc1", "cosmos1", "addr1", "bitcoincash:", "q", "p")):
        return BECH32.upper() if address.isupper() else BECH32
    return B58


def _substitute(address: str, index: int, alphabet: str) -> str:
    replacement = alphabet[(alphabet.index(address[index]) + 1) % len(alphabet)]
    return address[:index] + replacement + address[index + 1 :]


def _refused(network: str, address: str) -> str:
    result = check_address(network, address)
    assert result.valid is False, f"{address!r} was accepted on {network}"
    assert result.reason is not None
    return result.reason


# ---------------------------------------------------------------- the supported set


def test_supported_networks_are_exactly_the_catalogue_titles() -> None:
    assert SUPPORTED_NETWORKS == CATALOGUE_NETWORKS


def test_every_supported_network_has_published_samples() -> None:
    assert set(VALID) == SUPPORTED_NETWORKS


@pytest.mark.parametrize("network", ["FOO", "ETH", "", "btc"])
def test_unknown_network_is_refused_never_waved_through(network: str) -> None:
    result = check_address(network, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa")

    assert result.valid is False
    assert result.reason is not None
    assert result.reason.startswith(f"unknown network {network!r}: no address format is known for it")


def test_lower_case_network_title_gets_a_hint() -> None:
    reason = check_address("erc20", EIP55_MIXED_CASE[0]).reason

    assert reason is not None
    assert "network titles are upper case" in reason


# ---------------------------------------------------------------- valid addresses


@pytest.mark.parametrize(("network", "address"), VALID_CASES)
def test_published_address_is_accepted(network: str, address: str) -> None:
    assert check_address(network, address) == AddressCheck(valid=True, reason=None)


@pytest.fixture(scope="module")
def bip() -> Any:
    import bip_utils

    return bip_utils


@pytest.fixture(scope="module")
def seed(bip: Any) -> bytes:
    return bytes(bip.Bip39SeedGenerator(TEST_MNEMONIC).Generate())


DERIVED = [
    ("BTC", "Bip44", "BITCOIN"),
    ("BTC", "Bip49", "BITCOIN"),
    ("BTC", "Bip84", "BITCOIN"),
    ("BTC", "Bip86", "BITCOIN"),
    ("LTC", "Bip44", "LITECOIN"),
    ("LTC", "Bip49", "LITECOIN"),
    ("LTC", "Bip84", "LITECOIN"),
    ("DOGE", "Bip44", "DOGECOIN"),
    ("DOGE", "Bip49", "DOGECOIN"),
    ("DASH", "Bip44", "DASH"),
    ("DASH", "Bip49", "DASH"),
    ("ZEC", "Bip44", "ZCASH"),
    ("ZEC", "Bip49", "ZCASH"),
    ("BCH", "Bip44", "BITCOIN_CASH"),
    ("BCH", "Bip49", "BITCOIN_CASH"),
    ("ERC20", "Bip44", "ETHEREUM"),
    ("BEP20", "Bip44", "BINANCE_SMART_CHAIN"),
    ("POLYGON", "Bip44", "POLYGON"),
    ("ARBITRUM", "Bip44", "ARBITRUM"),
    ("OPTIMISM", "Bip44", "OPTIMISM"),
    ("AVAXC", "Bip44", "AVAX_C_CHAIN"),
    ("ETC", "Bip44", "ETHEREUM_CLASSIC"),
    ("TRC20", "Bip44", "TRON"),
    ("SOL", "Bip44", "SOLANA"),
    ("XRP", "Bip44", "RIPPLE"),
    ("XLM", "Bip44", "STELLAR"),
    ("TON", "Bip44", "TON"),
    ("ATOM", "Bip44", "COSMOS"),
    ("ADA", "Bip44", "CARDANO_BYRON_ICARUS"),
    ("ADA", "Bip44", "CARDANO_BYRON_LEDGER"),
    ("DOT", "Bip44", "POLKADOT_ED25519_SLIP"),
    ("ALGO", "Bip44", "ALGORAND"),
    ("NEAR", "Bip44", "NEAR_PROTOCOL"),
    ("XTZ", "Bip44", "TEZOS"),
]


@pytest.mark.parametrize(("network", "purpose", "coin"), DERIVED)
def test_address_derived_by_bip_utils_from_the_test_mnemonic_is_accepted(
    bip: Any, seed: bytes, network: str, purpose: str, coin: str
) -> None:
    # Given an address bip-utils' encoder derives from a fixed, public key chain
    wallet = getattr(bip, purpose)
    coin_enum = getattr(bip, f"{purpose}Coins")[coin]
    ctx = wallet.FromSeed(seed, coin_enum).Purpose().Coin().Account(0)
    address = ctx.Change(bip.Bip44Changes.CHAIN_EXT).AddressIndex(0).PublicKey().ToAddress()

    # Then the validator accepts it on its network
    assert check_address(network, address).valid, address


def test_derived_bitcoin_addresses_equal_the_published_bip_vectors(bip: Any, seed: bytes) -> None:
    def first(purpose: str) -> str:
        wallet, coins = getattr(bip, purpose), getattr(bip, f"{purpose}Coins")
        ctx = wallet.FromSeed(seed, coins.BITCOIN).Purpose().Coin().Account(0)
        return str(ctx.Change(bip.Bip44Changes.CHAIN_EXT).AddressIndex(0).PublicKey().ToAddress())

    derived = {first(purpose) for purpose in ("Bip44", "Bip49", "Bip84", "Bip86")}

    assert derived <= set(VALID["BTC"])


def test_derived_monero_primary_sub_and_integrated_addresses_are_accepted(bip: Any, seed: bytes) -> None:
    key = bip.Bip44.FromSeed(seed, bip.Bip44Coins.MONERO_ED25519_SLIP).DeriveDefaultPath().PrivateKey()
    monero = bip.Monero.FromBip44PrivateKey(key.Raw().ToBytes())

    for address in (monero.PrimaryAddress(), monero.Subaddress(1), monero.IntegratedAddress(b"\x01" * 8)):
        assert check_address("XMR", address).valid, address


def test_derived_cardano_shelley_base_address_is_accepted(bip: Any) -> None:
    seed = bip.CardanoIcarusSeedGenerator(TEST_MNEMONIC).Generate()
    account = bip.Cip1852.FromSeed(seed, bip.Cip1852Coins.CARDANO_ICARUS).Purpose().Coin().Account(0)
    shelley = bip.CardanoShelley.FromCip1852Object(account).Change(bip.Bip44Changes.CHAIN_EXT)

    address = shelley.AddressIndex(0).PublicKeys().ToAddress()

    assert address in VALID["ADA"]
    assert check_address("ADA", address).valid


# ---------------------------------------------------------------- checksums


@pytest.mark.parametrize(("network", "address"), CHECKSUMMED_CASES)
def test_every_single_character_substitution_is_refused(network: str, address: str) -> None:
    alphabet = _alphabet(network, address)
    for index, char in enumerate(address):
        if char in alphabet:
            _refused(network, _substitute(address, index, alphabet))


@pytest.mark.parametrize("network", sorted(SUPPORTED_NETWORKS - NO_CHECKSUM))
def test_one_changed_character_is_reported_as_a_checksum_failure(network: str) -> None:
    address = VALID[network][0]
    alphabet = _alphabet(network, address)
    middle = len(address) // 2
    index = next(i for i in range(middle, len(address)) if address[i] in alphabet)

    reason = _refused(network, _substitute(address, index, alphabet))

    assert reason.startswith(f"not a valid {network} address: ")
    assert "checksum" in reason


@pytest.mark.parametrize("network", EVM_NETWORKS)
@pytest.mark.parametrize("address", EIP55_MIXED_CASE)
def test_flipping_the_case_of_any_letter_breaks_eip55(network: str, address: str) -> None:
    letters = [i for i, char in enumerate(address) if i > 1 and char.isalpha()]
    for index in letters:
        flipped = address[:index] + address[index].swapcase() + address[index + 1 :]
        if flipped[2:] in (flipped[2:].lower(), flipped[2:].upper()):
            continue  # became single-case, which carries no checksum
        reason = _refused(network, flipped)
        assert "EIP-55 checksum" in reason


def test_burn_addresses_are_refused(bip: Any) -> None:
    tron_zero = bip.Base58Encoder.CheckEncode(b"\x41" + bytes(20))
    xrp_one = bip.Base58Encoder.CheckEncode(bytes(20) + b"\x01", bip.Base58Alphabets.RIPPLE)

    assert "burn address" in _refused("TRC20", tron_zero)
    assert "burn address" in _refused("XRP", "rrrrrrrrrrrrrrrrrrrrrhoLvTp")  # ACCOUNT_ZERO
    assert "burn address" in _refused("XRP", xrp_one)
    assert "burn address" in _refused("POLYGON", "0x" + "0" * 40)


def test_evm_zero_address_and_upper_case_prefix_are_refused() -> None:
    assert "zero address" in _refused("ERC20", "0x" + "0" * 40)
    assert "lower-case 0x" in _refused("BASE", "0X52908400098527886E0F7030069857D2E4169EE7")
    assert "'g'" in _refused("ETC", "0x5290840009852788gE0F7030069857D2E4169EE7")


BIP350_INVALID = [
    # bitcoin/bips BIP-350 invalid segwit address vectors (mainnet HRP ones).
    ("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd", "checksum"),  # Bech32 on v1
    ("BC1S0XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ54WELL", "checksum"),  # Bech32 on v16
    ("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh", "checksum"),  # Bech32m on v0
    ("bc1p38j9r5y49hruaue7wxjce0updqjuyyx0kh56v8s25huc6995vvpql3jow4", "'o'"),
    ("BC130XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ7ZWS8R", "not a well-formed segwit"),
    ("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v8n0nx0muaewav253zgeav", "not a well-formed"),
    ("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v07qwwzcrf", "not a well-formed segwit"),
    ("bc1gmk9yu", "not a well-formed segwit"),
    ("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq47Zagq", "mixes upper and lower case"),
]


@pytest.mark.parametrize(("address", "words"), BIP350_INVALID)
def test_bip350_invalid_vectors_are_refused_with_a_reason(address: str, words: str) -> None:
    assert words in _refused("BTC", address)


def test_future_witness_versions_are_refused_although_bip350_parses_them() -> None:
    # Valid BIP-350 strings, but no wallet can receive on v2+ yet: coins sent there are lost.
    assert "witness version 16" in _refused("BTC", "BC1SW50QGDZ25J")
    assert "witness version 2" in _refused("BTC", "bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs")


def test_a_mistyped_solana_key_off_the_curve_is_refused() -> None:
    # USDC mint with the 21st character changed: no checksum, but no longer an Ed25519 point.
    reason = _refused("SOL", "EPjFWdd5AufqSSqeM2qN2xzybapC8G4wEGGkZwyTDt1v")

    assert "Ed25519" in reason


def test_a_mistyped_near_implicit_account_off_the_curve_is_refused() -> None:
    reason = _refused("NEAR", "98793cd91a3f870fb126f66285808c7e094afcfc4eda8a970f6648cdf0dbd6df")

    assert "Ed25519" in reason


# ---------------------------------------------------------------- wrong network, wrong length


@pytest.mark.parametrize(("network", "address", "words"), WRONG_NETWORK)
def test_address_of_another_network_is_refused(network: str, address: str, words: str) -> None:
    reason = _refused(network, address)

    assert reason.startswith(f"not a valid {network} address: ")
    assert words in reason


@pytest.mark.parametrize(("network", "address", "words"), WRONG_LENGTH)
def test_address_of_the_wrong_length_is_refused(network: str, address: str, words: str) -> None:
    assert words in _refused(network, address)


# Not EOS and NEAR (names of any length within the limits are names) nor SOL (a 32-byte key
# takes 32 to 44 Base58 characters and carries no checksum): their limits are in WRONG_LENGTH.
FIXED_LENGTH = [(n, addresses[0]) for n, addresses in VALID.items() if n not in ("EOS", "NEAR", "SOL")]


@pytest.mark.parametrize(("network", "address"), FIXED_LENGTH)
def test_truncated_and_extended_addresses_are_refused(network: str, address: str) -> None:
    _refused(network, address[:-1])
    _refused(network, address + address[-2])


def test_every_network_refuses_absurdly_long_input_before_decoding_it() -> None:
    huge = "1" * 100_000
    started = time.perf_counter()

    for network in SUPPORTED_NETWORKS:
        assert "100000 characters long" in _refused(network, huge)

    assert time.perf_counter() - started < 0.5


# ---------------------------------------------------------------- format details per network


def test_bch_cashaddr_rules(bip: Any) -> None:
    p2sh32 = bip.BchBech32Encoder.Encode("bitcoincash", b"\x0b", bytes(range(32)))
    token_aware = bip.BchBech32Encoder.Encode("bitcoincash", b"\x10", bytes(range(20)))

    assert check_address("BCH", p2sh32).valid
    assert check_address("BCH", p2sh32.split(":")[1]).valid
    assert "token-aware" in _refused("BCH", token_aware)
    assert "mixes upper and lower case" in _refused(
        "BCH", "bitcoincash:QPM2QSZNHKS23Z7629MMS6S4CWEF74VCWVY22GDX6A"
    )


def test_zcash_shielded_addresses_are_refused_with_a_way_out() -> None:
    shielded = "zs1z7rejlpsa98s2rrrfkwmaxu53e4ue0ulcrw0h4x5g8jl04tak0d3mm47vdtahatqrlkngh9sly"

    assert "use a transparent t1 or t3 address" in _refused("ZEC", shielded)


def test_stellar_secret_seed_and_muxed_accounts_are_refused() -> None:
    seed = "SAA6NXOBOXP3RXGAXBW6PGFI5BPK4ODVAWITS4VDOMN5C2M4B66ZML"
    muxed = "MA7QYNF7SOWQ3GLR2BGMZEHXAVIRZA4KVWLTJJFC7MGXUA74P7UJUAAAAAAAAAAAACJUQ"  # SEP-23

    assert "secret seed" in _refused("XLM", seed)
    assert "muxed" in _refused("XLM", muxed)
    assert "upper case" in _refused("XLM", VALID["XLM"][0].lower())


def _ton_bytes(address: str) -> bytes:
    return base64.urlsafe_b64decode(address)


def _ton_encode(raw34: bytes) -> str:
    # TON user-friendly form: 34 bytes + CRC16-XMODEM (big-endian), base64url.
    return base64.urlsafe_b64encode(raw34 + binascii.crc_hqx(raw34, 0).to_bytes(2, "big")).decode()


def test_ton_accepts_standard_base64_and_the_raw_form_of_the_same_account() -> None:
    friendly = VALID["TON"][1]
    raw = _ton_bytes(friendly)

    assert check_address("TON", base64.b64encode(raw).decode()).valid
    assert check_address("TON", f"0:{raw[2:34].hex()}").valid
    assert check_address("TON", _ton_encode(bytes([0x11]) + raw[1:34])).valid  # bounceable form


def test_ton_refuses_testnet_masterchain_unknown_flags_and_mixed_alphabets() -> None:
    raw = _ton_bytes(VALID["TON"][1])

    assert "testnet" in _refused("TON", _ton_encode(bytes([0x51 | 0x80]) + raw[1:34]))
    assert "workchain -1" in _refused("TON", _ton_encode(raw[:1] + b"\xff" + raw[2:34]))
    assert "workchain -1" in _refused("TON", f"-1:{raw[2:34].hex()}")
    assert "flag byte 0x12" in _refused("TON", _ton_encode(bytes([0x12]) + raw[1:34]))
    assert "mixes" in _refused("TON", "UQB8E-CQxLds85ZPY8sXEYGe/EQ1qlY6q7l3BNbWQC1srNHe")


def test_cosmos_interchain_account_accepted_and_validator_address_refused(bip: Any) -> None:
    interchain = bip.Bech32Encoder.Encode("cosmos", bytes(range(32)))
    validator = bip.Bech32Encoder.Encode("cosmosvaloper", bytes(range(20)))

    assert check_address("ATOM", interchain).valid
    assert "validator operator" in _refused("ATOM", validator)


def test_eos_account_name_rules() -> None:
    assert "public key" in _refused("EOS", "EOS6MRyAjQq8ud7hVNYcfnVPJqcVpscN5So8BhtHuGYqET5GDW5CV")
    assert "cannot end with '.'" in _refused("EOS", "eosio.")
    assert "digits 1-5" in _refused("EOS", "eosio6")
    assert "digits 1-5" in _refused("EOS", "Eosio")


def test_cardano_testnet_and_reward_addresses_are_refused(bip: Any) -> None:
    testnet = "addr_test1vz2fxv2umyhttkxyxp8x0dlpdt3k6cwng5pxj3jhsydzerspjrlsz"  # CIP-19
    mainnet_tag_on_testnet_header = bip.Bech32Encoder.Encode("addr", b"\x60" + bytes(28))
    pointer = bip.Bech32Encoder.Encode("addr", b"\x41" + bytes(31))

    assert "not mainnet" in _refused("ADA", testnet)
    assert "network 0" in _refused("ADA", mainnet_tag_on_testnet_header)
    assert "type 4" in _refused("ADA", pointer)


def test_tezos_tz3_is_accepted_and_an_unknown_prefix_is_refused(bip: Any) -> None:
    tz3 = bip.Base58Encoder.CheckEncode(b"\x06\xa1\xa4" + bytes(range(20)))
    tz4 = bip.Base58Encoder.CheckEncode(b"\x06\xa1\xa6" + bytes(range(20)))

    assert tz3.startswith("tz3")
    assert check_address("XTZ", tz3).valid
    assert "tz1, tz2, tz3 or KT1" in _refused("XTZ", tz4)


def test_monero_testnet_address_is_refused(bip: Any) -> None:
    # Keys of the first bip-utils Monero vector, encoded for testnet (network byte 0x35).
    spend = bytes.fromhex("a95d2eb7e157f0a169df0a9c490dcd8e0feefb31bbf1328ca4938592a9d02422")
    view = bytes.fromhex("dc2a1b478b8cc0ee655324fb8299c8904f121ab113e4216fbad6fe6d000758f5")
    testnet = bip.XmrAddrEncoder.EncodeKey(spend, pub_vkey=view, net_ver=b"\x35")

    assert "testnet" in _refused("XMR", testnet)


# ---------------------------------------------------------------- text hygiene


@pytest.mark.parametrize(
    ("address", "words"),
    [
        (" 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "leading or trailing whitespace"),
        ("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa\n", "leading or trailing whitespace"),
        ("1A1zP1eP5QGefi2D MPTfTL5SLmv7DivfNa", "spaces, line breaks or control characters"),
        ("1A1zP1eP5QGefi2D\x00MPTfTL5SLmv7DivfNa", "spaces, line breaks or control characters"),
        ("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfN\u0430", "non-ASCII"),  # Cyrillic a look-alike
        ("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa\u200b", "non-ASCII"),  # zero-width space
    ],
)
def test_whitespace_and_look_alikes_are_refused_not_trimmed(address: str, words: str) -> None:
    assert words in _refused("BTC", address)


def test_empty_address_is_refused() -> None:
    assert check_address("TRC20", "") == AddressCheck(False, "a TRC20 destination address is required")


def test_random_input_never_raises_and_always_answers_with_a_reason() -> None:
    rng = random.Random(20240601)
    alphabets = [
        B58,
        B58_RIPPLE,
        BECH32,
        BASE32,
        BASE64URL,
        "0123456789abcdefx:.-_",
        "".join(map(chr, range(32, 127))),
    ]
    for network in sorted(SUPPORTED_NETWORKS):
        templates = list(VALID[network])
        for _ in range(120):
            if rng.random() < 0.5:
                chars = rng.choice(alphabets)
                candidate = "".join(rng.choice(chars) for _ in range(rng.randint(1, 110)))
            else:
                base = list(rng.choice(templates))
                for _ in range(rng.randint(1, 4)):
                    base[rng.randrange(len(base))] = rng.choice(alphabets[-1])
                candidate = "".join(base)
            result = check_address(network, candidate)
            assert isinstance(result, AddressCheck)
            assert result.valid == (result.reason is None)


# ---------------------------------------------------------------- memos and tags


def test_memo_required_by_default_exactly_on_memo_networks() -> None:
    required = {network for network in SUPPORTED_NETWORKS if memo_required_by_default(network)}

    assert required == MEMO_NETWORKS
    assert memo_required_by_default("FOO") is False


@pytest.mark.parametrize(
    ("network", "memo"),
    [
        ("XRP", "0"),
        ("XRP", "4294967295"),
        ("XRP", "12345"),
        ("XLM", "a" * 28),
        ("XLM", "é" * 14),  # 28 bytes of UTF-8
        ("XLM", "18446744073709551615"),  # largest memo id
        ("TON", "x" * 120),
        ("TON", "order 42 for Ann"),
        ("ATOM", "a" * 256),
        ("EOS", "a" * 256),
        ("EOS", "deposit id 7"),
    ],
)
def test_valid_memo_is_accepted(network: str, memo: str) -> None:
    assert check_memo(network, memo, required=True) == AddressCheck(valid=True, reason=None)


@pytest.mark.parametrize(
    ("network", "memo", "words"),
    [
        ("XRP", "4294967296", "at most 4294967295"),
        ("XRP", "-1", "whole number from 0 to 4294967295"),
        ("XRP", "12a", "whole number"),
        ("XRP", "1.5", "whole number"),
        ("XRP", "١٢", "whole number"),  # Arabic-Indic digits: isdigit() but not a tag
        ("XRP", "007", "without leading zeros"),
        ("XLM", "a" * 29, "at most 28 bytes"),
        ("XLM", "é" * 15, "this one has 30"),
        ("TON", "x" * 121, "at most 120 characters"),
        ("ATOM", "a" * 257, "at most 256 bytes"),
        ("EOS", "€" * 86, "at most 256 bytes"),  # 86 characters, 258 bytes
        ("EOS", " 12", "must not start or end with whitespace"),
        ("XRP", "12 ", "must not start or end with whitespace"),
        ("XLM", "12\n", "must not start or end with whitespace"),
        ("TON", "a\nb", "line breaks or control characters"),
        ("ATOM", "a\x00b", "line breaks or control characters"),
    ],
)
def test_invalid_memo_is_refused_with_a_reason(network: str, memo: str, words: str) -> None:
    result = check_memo(network, memo, required=False)

    assert result.valid is False
    assert result.reason is not None
    assert words in result.reason


@pytest.mark.parametrize(
    ("network", "reason"),
    [
        ("XRP", "an XRP destination tag is required"),
        ("XLM", "an XLM memo is required"),
        ("TON", "a TON comment is required"),
        ("ATOM", "an ATOM memo is required"),
        ("EOS", "an EOS memo is required"),
    ],
)
def test_required_memo_that_is_missing_is_refused(network: str, reason: str) -> None:
    assert check_memo(network, None, required=True) == AddressCheck(False, reason)
    assert check_memo(network, "", required=True) == AddressCheck(False, reason)
    assert check_memo(network, None, required=False).valid


@pytest.mark.parametrize("network", sorted(SUPPORTED_NETWORKS - MEMO_NETWORKS))
def test_memo_on_a_network_that_takes_none_is_refused(network: str) -> None:
    refused = check_memo(network, "12345", required=False)

    assert refused == AddressCheck(False, f"{network} transfers take no memo or tag; leave it empty")
    assert check_memo(network, None, required=False).valid
    assert check_memo(network, None, required=True).valid is False


def test_memo_for_unknown_network_is_refused() -> None:
    result = check_memo("FOO", "1", required=False)

    assert result.valid is False
    assert result.reason is not None
    assert result.reason.startswith("unknown network 'FOO'")


# ---------------------------------------------------------------- import cost


def test_checking_every_network_imports_no_third_party_module() -> None:
    # The layer ships no address library: after one check per network, only the standard library
    # and cryptosdk itself may have been imported.
    layer = Path(__file__).resolve().parents[2] / "layers" / "exchange"
    env = {**os.environ, "PYTHONPATH": str(layer)}
    samples = {network: addresses[0] for network, addresses in VALID.items()}
    code = (
        "import json, sys\n"
        "before = set(sys.modules)\n"
        "from cryptosdk.addresses import check_address\n"
        f"assert all(check_address(n, a).valid for n, a in {samples!r}.items())\n"
        "new = {m.split('.')[0] for m in set(sys.modules) - before}\n"
        "print(json.dumps(sorted(m for m in new if m not in sys.stdlib_module_names)))"
    )

    completed = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, timeout=60
    )

    assert json.loads(completed.stdout) == ["cryptosdk"]


def test_monero_network_byte_and_length_must_agree(bip: Any) -> None:
    spend = bytes.fromhex("a95d2eb7e157f0a169df0a9c490dcd8e0feefb31bbf1328ca4938592a9d02422")
    view = bytes.fromhex("dc2a1b478b8cc0ee655324fb8299c8904f121ab113e4216fbad6fe6d000758f5")
    integrated_byte_short = bip.XmrAddrEncoder.EncodeKey(spend, pub_vkey=view, net_ver=b"\x13")
    standard_byte_long = bip.XmrIntegratedAddrEncoder.EncodeKey(
        spend, pub_vkey=view, net_ver=b"\x12", payment_id=bytes(8)
    )

    assert "is for an integrated address (106 characters), but it has 95" in _refused(
        "XMR", integrated_byte_short
    )
    assert "is for a standard address (95 characters), but it has 106" in _refused("XMR", standard_byte_long)


def test_monero_block_that_overflows_is_malformed() -> None:
    # The first 11-character block of a real address raised past 2^64: cryptonote refuses it.
    address = "z" * 11 + VALID["XMR"][0][11:]

    assert "not valid Monero Base58" in _refused("XMR", address)


def test_cardano_byron_address_of_a_test_network_is_refused(bip: Any) -> None:
    import zlib

    import cbor2

    payload = cbor2.dumps([bytes(range(28)), {2: cbor2.dumps(1097911063)}, 0])  # protocol magic
    testnet = bip.Base58Encoder.Encode(cbor2.dumps([cbor2.CBORTag(24, payload), zlib.crc32(payload)]))
    broken_crc = bip.Base58Encoder.Encode(cbor2.dumps([cbor2.CBORTag(24, payload), zlib.crc32(payload) ^ 1]))

    assert "test network" in _refused("ADA", testnet)
    assert "structure or CRC checksum is wrong" in _refused("ADA", broken_crc)
