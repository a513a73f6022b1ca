"""Destination address and memo checks per exchange network (networkTitle).

Every check ends in an `AddressCheck`: valid, or refused with a sentence a person can act on.
The rules live per family in `address_utxo`, `address_accounts` and `address_cardano`; the checksum
algorithms they use (Base58Check, Bech32/Bech32m, cashaddr, EIP-55 Keccak, StrKey and TON CRC16,
SS58, SHA-512/256, Monero Base58, Byron CBOR + CRC-32, the Ed25519 curve test) are small
standards-based modules of this package (`checksums`, `digests`, `ed25519`), tested differentially
against bip-utils, so no third-party library is imported here.

Beyond format, a few well-formed addresses are refused on purpose because a payout there is
lost or cannot be routed: burn addresses (EVM zero, XRP account zero/one, TRON zero), segwit
versions with no wallets yet (v2+), testnets, XRP X-addresses and Stellar muxed accounts (the
tag/memo travels separately here), Zcash shielded addresses, Cardano pointer and reward
addresses, TON masterchain, and Solana keys off the Ed25519 curve (Solana has no checksum,
so the curve test is its only typo check).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from cryptosdk.addresses import accounts, utxo
from cryptosdk.addresses.cardano import check_ada
from cryptosdk.addresses.common import Refused, count

__all__ = [
    "SUPPORTED_NETWORKS",
    "AddressCheck",
    "check_address",
    "check_memo",
    "memo_required_by_default",
]


@dataclass(frozen=True, slots=True)
class AddressCheck:
    """Outcome of a check; `reason` says what is wrong when `valid` is False."""

    valid: bool
    reason: str | None = None


_OK = AddressCheck(valid=True)


# ---------------------------------------------------------------- memo rules


class _MemoRule(NamedTuple):
    phrase: str  # "an XRP destination tag": used in sentences
    check: Callable[[str], str | None]  # returns what is wrong, or None


_UINT32_MAX = 4_294_967_295


def _xrp_tag(memo: str) -> str | None:
    if not memo.isascii() or not memo.isdigit():
        return f"is a whole number from 0 to {_UINT32_MAX}, digits only"
    if len(memo) > 1 and memo.startswith("0"):
        return "is written without leading zeros"
    if int(memo) > _UINT32_MAX:
        return f"is at most {_UINT32_MAX}"
    return None


def _max_bytes(limit: int, extra: str = "") -> Callable[[str], str | None]:
    def check(memo: str) -> str | None:
        size = len(memo.encode("utf-8"))
        return None if size <= limit else f"is at most {limit} bytes of UTF-8{extra}; this one has {size}"

    return check


def _max_chars(limit: int) -> Callable[[str], str | None]:
    def check(memo: str) -> str | None:
        return None if len(memo) <= limit else f"is at most {limit} characters; this one has {len(memo)}"

    return check


# ---------------------------------------------------------------- the network table


class _Network(NamedTuple):
    check: Callable[[str], None]
    max_length: int
    memo: _MemoRule | None = None


def _evm(title: str) -> _Network:
    # Generous limit so that a hex string of the wrong length gets the specific reason.
    return _Network(lambda address: accounts.check_evm(title, address), 64)


def _utxo(conf: utxo.Utxo, max_length: int) -> _Network:
    return _Network(lambda address: utxo.check_utxo(conf, address), max_length)


_NETWORKS: dict[str, _Network] = {
    "BTC": _utxo(utxo.BTC, 90),
    "LTC": _utxo(utxo.LTC, 90),
    "DOGE": _utxo(utxo.DOGE, 35),
    "BCH": _Network(utxo.check_bch, 100),
    "DASH": _utxo(utxo.DASH, 35),
    "ZEC": _Network(utxo.check_zec, 120),
    **{
        title: _evm(title)
        for title in ("ERC20", "BEP20", "POLYGON", "ARBITRUM", "OPTIMISM", "BASE", "AVAXC", "ETC")
    },
    "TRC20": _Network(accounts.check_trc20, 42),
    "SOL": _Network(accounts.check_sol, 44),
    "XRP": _Network(accounts.check_xrp, 47, _MemoRule("an XRP destination tag", _xrp_tag)),
    "XLM": _Network(
        accounts.check_xlm,
        69,
        _MemoRule("an XLM memo", _max_bytes(28, " (or a numeric ID up to 18446744073709551615)")),
    ),
    "TON": _Network(accounts.check_ton, 70, _MemoRule("a TON comment", _max_chars(120))),
    "ATOM": _Network(accounts.check_atom, 90, _MemoRule("an ATOM memo", _max_bytes(256))),
    "EOS": _Network(accounts.check_eos, 60, _MemoRule("an EOS memo", _max_bytes(256))),
    "ADA": _Network(check_ada, 200),
    "DOT": _Network(accounts.check_dot, 60),
    "ALGO": _Network(accounts.check_algo, 60),
    "NEAR": _Network(accounts.check_near, 64),
    "XTZ": _Network(accounts.check_xtz, 40),
    "XMR": _Network(accounts.check_xmr, 106),
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
        size = count(len(address), "character")
        problem = f"it is {size} long; {network} addresses have at most {spec.max_length}"
    if problem is None:
        try:
            spec.check(address)
        except Refused as refused:
            problem = str(refused)
    if problem is None:
        return _OK
    return AddressCheck(False, f"not a valid {network} address: {problem}")


def memo_required_by_default(network: str) -> bool:
    """Whether the network routes deposits by memo/tag, so a destination usually needs one."""
    spec = _NETWORKS.get(network)
    return spec is not None and spec.memo is not None


def check_memo(network: str, memo: str | None, required: bool) -> AddressCheck:
    """Check a memo/destination tag for `network`; an empty string counts as no memo."""
    spec = _NETWORKS.get(network)
    if spec is None:
        return _unknown(network)
    rule = spec.memo
    if memo is None or memo == "":
        if not required:
            return _OK
        if rule is None:
            return AddressCheck(False, f"{network} transfers take no memo or tag, so none can be required")
        return AddressCheck(False, f"{rule.phrase} is required")
    if rule is None:
        return AddressCheck(False, f"{network} transfers take no memo or tag; leave it empty")
    if memo.strip() != memo:
        return AddressCheck(False, f"{rule.phrase} must not start or end with whitespace; remove it")
    if not memo.isprintable():
        return AddressCheck(False, f"{rule.phrase} must not contain line breaks or control characters")
    wrong = rule.check(memo)
    if wrong is not None:
        return AddressCheck(False, f"{rule.phrase} {wrong}")
    return _OK
