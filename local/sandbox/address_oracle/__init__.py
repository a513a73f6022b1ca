"""The sandbox exchange's own address checks, on bip-utils: the oracle for `cryptosdk.addresses`.

The deployed layer checks addresses with small standards-based code of its own (cryptosdk.addresses.checksums
and friends). The sandbox plays the exchange, so it must not share that code: here every checksum
and key test is bip-utils' (plus cbor2 for Cardano Byron), under the same per-network policy and
the same sentences, so that a bug in the layer's checksums shows up as a disagreement with the
"exchange" (tests/unit/test_address_differential.py compares the two over thousands of addresses).
Memo and tag rules carry no checksum; the sandbox takes them from cryptosdk.addresses.

bip-utils costs ~0.3 s to import, so it is imported inside the functions that use it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from local.sandbox.address_oracle import accounts, utxo
from local.sandbox.address_oracle._common import Refused, count

__all__ = ["SUPPORTED_NETWORKS", "AddressCheck", "check_address"]


@dataclass(frozen=True, slots=True)
class AddressCheck:
    """Outcome of a check; `reason` says what is wrong when `valid` is False."""

    valid: bool
    reason: str | None = None


_OK = AddressCheck(valid=True)

# ---------------------------------------------------------------- the network table


class _Network(NamedTuple):
    check: Callable[[str], None]
    max_length: int


def _evm(title: str) -> _Network:
    # Generous limit so that a hex string of the wrong length gets the specific reason.
    return _Network(lambda address: utxo.check_evm(title, address), 64)


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
    "XRP": _Network(accounts.check_xrp, 47),
    "XLM": _Network(accounts.check_xlm, 69),
    "TON": _Network(accounts.check_ton, 70),
    "ATOM": _Network(accounts.check_atom, 90),
    "EOS": _Network(accounts.check_eos, 60),
    "ADA": _Network(accounts.check_ada, 200),
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
