"""cryptosdk.addresses (our checksum code) against the sandbox's bip-utils oracle, address by address.

For every network, addresses are generated with bip-utils' encoders from seeded random keys and
hashes, then mutated the ways people mistype (a changed, dropped, doubled or swapped character,
a flipped case, the whole string re-cased, another network's prefix). The layer and the oracle
(local.sandbox.address_oracle, the same rules on bip-utils and cbor2) must give the same verdict
and the same reason for each string. About 5,000 strings, seeded: a failure reproduces.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import random
import subprocess
import sys
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import bip_utils as bu
import cbor2
import pytest

from cryptosdk.addresses import SUPPORTED_NETWORKS, check_address
from local.sandbox import address_oracle

PER_NETWORK = 24
MUTATIONS = 7
EVM = ("ERC20", "BEP20", "POLYGON", "ARBITRUM", "OPTIMISM", "BASE", "AVAXC", "ETC")
B58 = bu.Base58Encoder
RIPPLE = bu.Base58Alphabets.RIPPLE


def _secp(rng: random.Random) -> Any:
    return bu.Secp256k1PrivateKey.FromBytes(rng.randbytes(31) + b"\x01").PublicKey()


def _ed(rng: random.Random) -> Any:
    return bu.Ed25519PrivateKey.FromBytes(rng.randbytes(32)).PublicKey()


def _b58_versions(*versions: bytes) -> Callable[[random.Random], str]:
    return lambda rng: B58.CheckEncode(rng.choice(versions) + rng.randbytes(20))


def _segwit_or(hrp: str, legacy: Callable[[random.Random], str]) -> Callable[[random.Random], str]:
    def make(rng: random.Random) -> str:
        kind = rng.randrange(4)
        if kind == 0:
            return legacy(rng)
        version, size = [(0, 20), (0, 32), (1, 32)][kind - 1]
        address = bu.SegwitBech32Encoder.Encode(hrp, version, rng.randbytes(size))
        return address.upper() if rng.random() < 0.2 else address

    return make


def _bch(rng: random.Random) -> str:
    if rng.random() < 0.2:
        return _b58_versions(b"\x00", b"\x05")(rng)
    version, size = rng.choice([(b"\x00", 20), (b"\x08", 20), (b"\x0b", 32)])
    address = bu.BchBech32Encoder.Encode("bitcoincash", version, rng.randbytes(size))
    if rng.random() < 0.3:
        address = address.split(":")[1]
    return address.upper() if rng.random() < 0.2 else address


def _evm(rng: random.Random) -> str:
    address = bu.EthAddrEncoder.EncodeKey(_secp(rng))
    shape = rng.random()
    if shape < 0.2:
        return "0x" + address[2:].lower()
    return "0x" + address[2:].upper() if shape < 0.3 else address


def _ton(rng: random.Random) -> str:
    if rng.random() < 0.2:
        return f"0:{rng.randbytes(32).hex()}"
    body = bytes([rng.choice([0x11, 0x51]), 0]) + rng.randbytes(32)
    raw = body + binascii.crc_hqx(body, 0).to_bytes(2, "big")
    return (base64.urlsafe_b64encode if rng.random() < 0.7 else base64.b64encode)(raw).decode()


def _atom(rng: random.Random) -> str:
    if rng.random() < 0.3:
        return bu.Bech32Encoder.Encode("cosmos", rng.randbytes(32))
    return bu.AtomAddrEncoder.EncodeKey(_secp(rng), hrp="cosmos")


def _eos(rng: random.Random) -> str:
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz12345.") for _ in range(rng.randint(1, 11))) + "a"


def _ada(rng: random.Random) -> str:
    kind = rng.randrange(4)
    if kind == 0:
        header = rng.choice([0, 1, 2, 3]) << 4 | 1
        return bu.Bech32Encoder.Encode("addr", bytes([header]) + rng.randbytes(56))
    if kind == 1:
        return bu.Bech32Encoder.Encode("addr", bytes([rng.choice([6, 7]) << 4 | 1]) + rng.randbytes(28))
    if kind == 2:
        return bu.AdaByronIcarusAddrEncoder.EncodeKey(_ed(rng), chain_code=rng.randbytes(32))
    return bu.AdaByronLegacyAddrEncoder.EncodeKey(
        _ed(rng), chain_code=rng.randbytes(32), hd_path="m/0'/1'", hd_path_key=rng.randbytes(32)
    )


def _byron_testnet(rng: random.Random) -> str:
    # bip-utils has no encoder for it: attribute 2 (protocol magic) marks a test network.
    payload = cbor2.dumps([rng.randbytes(28), {2: cbor2.dumps(1097911063)}, 0])
    return B58.Encode(cbor2.dumps([cbor2.CBORTag(24, payload), zlib.crc32(payload)]))


def _near(rng: random.Random) -> str:
    if rng.random() < 0.3:
        return rng.choice(["wrap", "app-1", "my_acc", "x1"]) + "." + rng.choice(["near", "aurora", "tg"])
    return bu.NearAddrEncoder.EncodeKey(_ed(rng))


def _xtz(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return bu.XtzAddrEncoder.EncodeKey(_ed(rng), prefix=bu.XtzAddrPrefixes.TZ1)
    return B58.CheckEncode(
        rng.choice([b"\x06\xa1\xa1", b"\x06\xa1\xa4", b"\x02\x5a\x79"]) + rng.randbytes(20)
    )


def _xmr(rng: random.Random) -> str:
    spend = bu.Ed25519MoneroPublicKey.FromBytes(_ed(rng).RawCompressed().ToBytes()[1:])
    view = bu.Ed25519MoneroPublicKey.FromBytes(_ed(rng).RawCompressed().ToBytes()[1:])
    if rng.random() < 0.3:
        return bu.XmrIntegratedAddrEncoder.EncodeKey(
            spend, pub_vkey=view, net_ver=b"\x13", payment_id=rng.randbytes(8)
        )
    return bu.XmrAddrEncoder.EncodeKey(spend, pub_vkey=view, net_ver=rng.choice([b"\x12", b"\x2a"]))


GENERATORS: dict[str, Callable[[random.Random], str]] = {
    "BTC": _segwit_or("bc", _b58_versions(b"\x00", b"\x05")),
    "LTC": _segwit_or("ltc", _b58_versions(b"\x30", b"\x32", b"\x05")),
    "DOGE": _b58_versions(b"\x1e", b"\x16"),
    "DASH": _b58_versions(b"\x4c", b"\x10"),
    "ZEC": _b58_versions(b"\x1c\xb8", b"\x1c\xbd"),
    "BCH": _bch,
    **dict.fromkeys(EVM, _evm),
    "TRC20": lambda rng: bu.TrxAddrEncoder.EncodeKey(_secp(rng)),
    "SOL": lambda rng: bu.SolAddrEncoder.EncodeKey(_ed(rng)),
    "XRP": lambda rng: bu.XrpAddrEncoder.EncodeKey(_secp(rng)),
    "XLM": lambda rng: bu.XlmAddrEncoder.EncodeKey(_ed(rng), addr_type=bu.XlmAddrTypes.PUB_KEY),
    "TON": _ton,
    "ATOM": _atom,
    "EOS": _eos,
    "ADA": _ada,
    "DOT": lambda rng: bu.SS58Encoder.Encode(rng.randbytes(32), 0),
    "ALGO": lambda rng: bu.AlgoAddrEncoder.EncodeKey(_ed(rng)),
    "NEAR": _near,
    "XTZ": _xtz,
    "XMR": _xmr,
}

# Well-formed strings each network must refuse for a reason other than a typo.
REFUSED_BY_POLICY: dict[str, Callable[[random.Random], str]] = {
    "BTC": lambda rng: bu.SegwitBech32Encoder.Encode("bc", rng.randint(2, 16), rng.randbytes(32)),
    "ADA": _byron_testnet,
    "DOT": lambda rng: bu.SS58Encoder.Encode(rng.randbytes(32), rng.choice([2, 42, 1000])),
    "XMR": lambda rng: bu.XmrAddrEncoder.EncodeKey(
        _ed(rng).RawCompressed().ToBytes()[1:],
        pub_vkey=_ed(rng).RawCompressed().ToBytes()[1:],
        net_ver=b"\x35",
    ),
    "TRC20": lambda rng: B58.CheckEncode(b"\x41" + bytes(20)),
    "XRP": lambda rng: B58.CheckEncode(bytes(20) + bytes([rng.randint(0, 1)]), RIPPLE),
}


def _mutate(rng: random.Random, address: str, others: list[str]) -> str:
    i = rng.randrange(len(address))
    kind = rng.randrange(8)
    if kind == 0:  # one character replaced by another of the same string
        return address[:i] + rng.choice(address) + address[i + 1 :]
    if kind == 1:  # one letter's case flipped
        return address[:i] + address[i].swapcase() + address[i + 1 :]
    if kind == 2:  # the whole string re-cased
        return address.upper() if rng.random() < 0.5 else address.lower()
    if kind == 3:  # truncated at the end or in the middle
        return address[:-1] if rng.random() < 0.5 else address[:i] + address[i + 1 :]
    if kind == 4:  # a character doubled
        return address[:i] + address[i] + address[i:]
    if kind == 5 and i + 1 < len(address):  # two neighbours swapped
        return address[:i] + address[i + 1] + address[i] + address[i + 2 :]
    other = rng.choice(others)  # another network's prefix on this body
    cut = rng.randint(1, 4)
    return other[:cut] + address[cut:]


def _verdict(check: Callable[[str, str], Any], network: str, address: str) -> tuple[bool, str | None]:
    result = check(network, address)
    return bool(result.valid), result.reason


@pytest.fixture(scope="module")
def samples() -> dict[str, list[str]]:
    rng = random.Random(20261202)
    return {network: [GENERATORS[network](rng) for _ in range(PER_NETWORK)] for network in sorted(GENERATORS)}


def test_every_network_has_a_generator() -> None:
    assert set(GENERATORS) == SUPPORTED_NETWORKS == address_oracle.SUPPORTED_NETWORKS


@pytest.mark.parametrize("network", sorted(GENERATORS))
def test_generated_addresses_are_accepted_by_both(samples: dict[str, list[str]], network: str) -> None:
    for address in samples[network]:
        assert _verdict(address_oracle.check_address, network, address) == (True, None), address
        assert _verdict(check_address, network, address) == (True, None), address


@pytest.mark.parametrize("network", sorted(GENERATORS))
def test_mistyped_addresses_get_the_oracles_verdict_and_reason(
    samples: dict[str, list[str]], network: str
) -> None:
    rng = random.Random(f"mutations {network}")
    others = [address for other, addresses in samples.items() if other != network for address in addresses]
    refused = 0
    for address in samples[network]:
        for _ in range(MUTATIONS):
            typo = _mutate(rng, address, others)
            expected = _verdict(address_oracle.check_address, network, typo)
            assert _verdict(check_address, network, typo) == expected, typo
            refused += not expected[0]
    # The mutations must mostly produce refusals, or this test would compare little; names (EOS,
    # NEAR accounts) have no checksum, so many of their typos are other valid names.
    total = PER_NETWORK * MUTATIONS
    assert refused > (total // 4 if network in ("EOS", "NEAR") else total // 2)


@pytest.mark.parametrize("network", sorted(REFUSED_BY_POLICY))
def test_well_formed_addresses_refused_by_policy_are_refused_by_both_alike(network: str) -> None:
    rng = random.Random(f"policy {network}")
    for _ in range(8):
        address = REFUSED_BY_POLICY[network](rng)
        expected = _verdict(address_oracle.check_address, network, address)
        assert expected[0] is False, address
        assert _verdict(check_address, network, address) == expected, address


def test_the_oracle_shares_no_checksum_code_with_the_layer() -> None:
    # Given a fresh interpreter that checks one address per network with the oracle
    samples = {network: generate(random.Random(network)) for network, generate in GENERATORS.items()}
    code = (
        "import json, sys\n"
        "from local.sandbox.address_oracle import check_address\n"
        f"assert all(check_address(n, a).valid for n, a in {samples!r}.items())\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('cryptosdk'))))"
    )
    repo = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(repo), str(repo / "layers" / "exchange")])}

    completed = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, timeout=60
    )

    # Then none of the layer's checksum or address modules was loaded: its verdicts are bip-utils' own
    assert json.loads(completed.stdout) == []


def test_the_sandbox_validates_destinations_with_the_oracle() -> None:
    from local.sandbox import api

    check, _ = api._address_checks()

    assert check is address_oracle.check_address
