"""The checksum primitives (cryptosdk.addresses: checksums, digests, ed25519) against bip-utils and vectors.

Random inputs are seeded; each primitive sees a few hundred encodings and their one-character typos,
and must decode what bip-utils encodes and refuse exactly what bip-utils refuses.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from typing import Any

import bip_utils as bu
import cbor2
import pytest

from cryptosdk.addresses import cardano as address_cardano
from cryptosdk.addresses import checksums, digests
from cryptosdk.addresses.ed25519 import is_on_curve

ROUNDS = 200


def _outcome(call: Callable[[], Any]) -> object:
    """What a decoder did: its value, "checksum" for a checksum error, "malformed" for other errors."""
    try:
        return call()
    except (bu.Base58ChecksumError, bu.Bech32ChecksumError, bu.SS58ChecksumError, checksums.ChecksumError):
        return "checksum"
    except (ValueError, TypeError, IndexError):
        return "malformed"


def _typos(rng: random.Random, text: str, alphabet: str) -> list[str]:
    i = rng.randrange(len(text))
    replaced = text[:i] + rng.choice(alphabet) + text[i + 1 :]
    swapped = text[:i] + text[i + 1 : i + 2] + text[i] + text[i + 2 :]
    return [replaced, swapped, text[:-1], text[:i] + text[i + 1 :]]


@pytest.mark.parametrize("alphabet", [bu.Base58Alphabets.BITCOIN, bu.Base58Alphabets.RIPPLE])
def test_base58check_agrees_with_bip_utils(alphabet: bu.Base58Alphabets) -> None:
    rng = random.Random(f"b58 {alphabet}")
    ours_alphabet = checksums.B58_BITCOIN if alphabet is bu.Base58Alphabets.BITCOIN else checksums.B58_RIPPLE
    for _ in range(ROUNDS):
        data = bytes(rng.randint(0, 3)) + rng.randbytes(rng.randint(0, 40))  # leading zero bytes too
        encoded = bu.Base58Encoder.CheckEncode(data, alphabet)
        assert checksums.b58decode(bu.Base58Encoder.Encode(data, alphabet), ours_alphabet) == data
        assert checksums.b58check_decode(encoded, ours_alphabet) == data
        for typo in _typos(rng, encoded, ours_alphabet):
            ours = _outcome(lambda t=typo: checksums.b58check_decode(t, ours_alphabet))
            assert ours == _outcome(lambda t=typo: bu.Base58Decoder.CheckDecode(t, alphabet)), typo


def test_base58_refuses_characters_outside_its_alphabet() -> None:
    with pytest.raises(ValueError, match="'0' is not a Base58 character"):
        checksums.b58decode("1A0")


def test_monero_base58_decodes_what_bip_utils_encodes_and_refuses_overflowing_blocks() -> None:
    rng = random.Random("xmr")
    for _ in range(ROUNDS):
        data = rng.randbytes(rng.randint(0, 80))
        assert checksums.monero_b58decode(bu.Base58XmrEncoder.Encode(data)) == data
    # "zzzzzzzzzzz" is 58^11 - 1 > 2^64 - 1: bip-utils silently keeps the low 8 bytes, cryptonote refuses.
    with pytest.raises(ValueError, match="overflows"):
        checksums.monero_b58decode("z" * 11)
    with pytest.raises(ValueError, match="not a length"):
        checksums.monero_b58decode("1" * 12)  # a 1-character final block encodes nothing


@pytest.mark.parametrize("version", [0, 1, 2, 16])
def test_segwit_agrees_with_bip_utils(version: int) -> None:
    rng = random.Random(f"segwit {version}")
    for _ in range(ROUNDS // 2):
        program = rng.randbytes(rng.choice([20, 32]) if version == 0 else rng.randint(2, 40))
        hrp = rng.choice(["bc", "ltc", "tb"])
        encoded = bu.SegwitBech32Encoder.Encode(hrp, version, program)
        assert checksums.segwit_decode(hrp, encoded) == (version, program)
        for typo in [*_typos(rng, encoded, checksums.BECH32_CHARSET), encoded.upper()]:
            ours = _outcome(lambda t=typo, h=hrp: checksums.segwit_decode(h, t))
            assert ours == _outcome(lambda t=typo, h=hrp: bu.SegwitBech32Decoder.Decode(h, t)), typo


BIP350_VALID = [
    ("bc", "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", 0, "751e76e8199196d454941c45d1b3a323f1433bd6"),
    ("bc", "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y", 1, None),
    ("bc", "BC1SW50QGDZ25J", 16, "751e"),
    ("bc", "bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs", 2, "751e76e8199196d454941c45d1b3a323"),
]


@pytest.mark.parametrize(("hrp", "address", "version", "program"), BIP350_VALID)
def test_bip350_valid_vectors_decode(hrp: str, address: str, version: int, program: str | None) -> None:
    got_version, got_program = checksums.segwit_decode(hrp, address)

    assert got_version == version
    assert program is None or got_program.hex() == program


def test_bech32_agrees_with_bip_utils() -> None:
    rng = random.Random("bech32")
    for _ in range(ROUNDS):
        hrp = rng.choice(["cosmos", "addr", "a", "stake"])
        data = rng.randbytes(rng.randint(1, 64))
        encoded = bu.Bech32Encoder.Encode(hrp, data)
        assert checksums.bech32_decode(hrp, encoded) == data
        for typo in _typos(rng, encoded, checksums.BECH32_CHARSET):
            ours = _outcome(lambda t=typo, h=hrp: checksums.bech32_decode(h, t))
            assert ours == _outcome(lambda t=typo, h=hrp: bu.Bech32Decoder.Decode(h, t)), typo


def test_cashaddr_agrees_with_bip_utils_and_decodes_the_specification_vector() -> None:
    # cashaddr specification: version 0, hash160 F5BF48B397DAE70BE82B3CCA4793F8EB2B6CDAC9.
    version, body = checksums.cashaddr_decode(
        "bitcoincash", "bitcoincash:qr6m7j9njldwwzlg9v7v53unlr4jkmx6eylep8ekg2"
    )
    assert (version, body.hex()) == (0, "f5bf48b397dae70be82b3cca4793f8eb2b6cdac9")
    rng = random.Random("cashaddr")
    for _ in range(ROUNDS):
        net_ver, body = bytes([rng.choice([0, 8, 0x0B, 0x10])]), rng.randbytes(rng.choice([20, 32]))
        encoded = bu.BchBech32Encoder.Encode("bitcoincash", net_ver, body)
        assert checksums.cashaddr_decode("bitcoincash", encoded) == (net_ver[0], body)
        for typo in _typos(rng, encoded, checksums.BECH32_CHARSET):
            ours = _outcome(lambda t=typo: checksums.cashaddr_decode("bitcoincash", t))
            theirs = _outcome(lambda t=typo: bu.BchBech32Decoder.Decode("bitcoincash", t))
            assert ours == (theirs if not isinstance(theirs, tuple) else (theirs[0][0], theirs[1])), typo


def test_ss58_agrees_with_bip_utils() -> None:
    rng = random.Random("ss58")
    for _ in range(ROUNDS):
        fmt, account = rng.choice([0, 2, 42, 63, 64, 1000, 16383]), rng.randbytes(32)
        encoded = bu.SS58Encoder.Encode(account, fmt)
        assert checksums.ss58_decode(encoded) == (fmt, account)
        for typo in _typos(rng, encoded, checksums.B58_BITCOIN):
            assert _outcome(lambda t=typo: checksums.ss58_decode(t)) == _outcome(
                lambda t=typo: bu.SS58Decoder.Decode(t)
            ), typo


KECCAK_VECTORS = [
    (b"", "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"),
    (b"abc", "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"),
    (
        b"The quick brown fox jumps over the lazy dog",
        "4d741b6f1eb29cb2a9b9911c82f56fa8d73b04959d3d9d222895df6c0b28aa15",
    ),
]


@pytest.mark.parametrize(("message", "digest"), KECCAK_VECTORS)
def test_keccak256_published_vectors(message: bytes, digest: str) -> None:
    assert digests.keccak256(message).hex() == digest
    assert hashlib.sha3_256(message).hexdigest() != digest  # why hashlib cannot be used for it


def test_keccak256_agrees_with_pycryptodome_across_block_boundaries() -> None:
    rng = random.Random("keccak")
    for size in [*range(0, 140), 271, 272, 273, 500]:  # rate is 136 bytes
        data = rng.randbytes(size)
        assert digests.keccak256(data) == bu.Kekkak256.QuickDigest(data), size


def test_sha512_256_fallback_matches_fips_vector_and_openssl() -> None:
    # FIPS 180-4 examples (SHA512_256.pdf): "abc".
    abc = "53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23"
    assert digests._sha512_256_python(b"abc").hex() == abc
    assert digests.sha512_256(b"abc").hex() == abc
    rng = random.Random("sha512/256")
    for size in [0, 1, 111, 112, 127, 128, 129, 300]:  # the length field moves to a new block at 112
        data = rng.randbytes(size)
        assert digests._sha512_256_python(data) == bu.Sha512_256.QuickDigest(data), size


def test_sha512_256_falls_back_when_openssl_lacks_it(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_such_hash(name: str, data: bytes = b"") -> Any:
        raise ValueError(f"unsupported hash type {name}")

    monkeypatch.setattr(digests.hashlib, "new", no_such_hash)

    assert digests.sha512_256(b"abc").hex().startswith("53048e26")


def test_crc16_xmodem_agrees_with_bip_utils() -> None:
    rng = random.Random("crc16")
    for size in range(0, 64):
        data = rng.randbytes(size)
        assert checksums.crc16_xmodem(data) == bu.XModemCrc.QuickDigest(data)
    assert checksums.crc16_xmodem(b"123456789").hex() == "31c3"  # CRC-16/XMODEM check value


def test_ed25519_curve_test_agrees_with_bip_utils() -> None:
    rng = random.Random("ed25519")
    keys = [rng.randbytes(32) for _ in range(600)]
    keys += [
        (y | sign << 255).to_bytes(32, "little") for y in (0, 1, 2**255 - 20, 2**255 - 19) for sign in (0, 1)
    ]
    on_curve = [is_on_curve(key) for key in keys]

    assert on_curve == [bu.Ed25519PublicKey.IsValidBytes(key) for key in keys]
    assert 200 < sum(on_curve) < 400  # about half of random strings are points
    assert is_on_curve(bu.Ed25519PrivateKey.FromBytes(bytes(32)).PublicKey().RawCompressed().ToBytes()[1:])
    assert not is_on_curve(bytes(31))


def _random_cbor_value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(7 if depth < 3 else 4)
    if kind == 0:
        return rng.choice([0, 23, 24, 255, 256, 65535, 65536, 2**32, 2**64 - 1, rng.randrange(2**40)])
    if kind == 1:
        return -1 - rng.randrange(2**33)
    if kind == 2:
        return rng.randbytes(rng.choice([0, 1, 23, 24, 28, 300]))
    if kind == 3:
        return "".join(rng.choice("aé€𝄞") for _ in range(rng.randint(0, 30)))
    if kind == 4:
        return [_random_cbor_value(rng, depth + 1) for _ in range(rng.randint(0, 5))]
    if kind == 5:
        return {rng.randrange(100): _random_cbor_value(rng, depth + 1) for _ in range(rng.randint(0, 4))}
    return cbor2.CBORTag(rng.choice([24, 30, 1000]), _random_cbor_value(rng, depth + 1))


def _as_cbor2(value: Any) -> Any:
    """Our reader's value in cbor2's terms (its tags are CBORTag)."""
    if isinstance(value, address_cardano._Tag):
        return cbor2.CBORTag(value.number, _as_cbor2(value.value))
    if isinstance(value, list):
        return [_as_cbor2(item) for item in value]
    if isinstance(value, dict):
        return {key: _as_cbor2(item) for key, item in value.items()}
    return value


def test_the_byron_cbor_reader_reads_what_cbor2_writes_and_nothing_more() -> None:
    rng = random.Random("cbor")
    for _ in range(ROUNDS):
        value = _random_cbor_value(rng)
        encoded = cbor2.dumps(value)
        assert _as_cbor2(address_cardano._cbor_single(encoded)) == value
        with pytest.raises(ValueError, match="CBOR"):
            address_cardano._cbor_single(encoded + b"\x00")  # trailing bytes (cbor2 ignores them)
        if len(encoded) > 1:
            with pytest.raises(ValueError, match="CBOR"):
                address_cardano._cbor_single(encoded[:-1])
    # Indefinite lengths (RFC 8949 appendix A): [_ 1, [2, 3], [_ 4, 5]], {_ "a": 1}, (_ h'0102', h'03').
    assert address_cardano._cbor_single(bytes.fromhex("9f018202039f0405ffff")) == [1, [2, 3], [4, 5]]
    assert address_cardano._cbor_single(bytes.fromhex("bf616101ff")) == {"a": 1}
    assert address_cardano._cbor_single(bytes.fromhex("5f42010241 03ff".replace(" ", ""))) == b"\x01\x02\x03"
    for malformed in ("ff", "1c", "5f01ff", "bf6161ff", "c6ff", "9f" * 40):
        with pytest.raises(ValueError, match="CBOR"):
            address_cardano._cbor_single(bytes.fromhex(malformed))
