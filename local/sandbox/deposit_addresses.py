"""Deposit addresses the sandbox hands out: real, checksummed formats derived from a fixed HD seed.

Networks that need a memo share one deposit address and tell orders apart by memo, as exchanges do;
every other network gets a fresh address per order (BIP44/84/CIP1852 address index = order id).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from functools import cache
from typing import Any

_SEED = hashlib.sha512(b"cryptosdk sandbox deposit wallet").digest()
_MEMO_NETWORKS = frozenset({"XRP", "XLM", "TON", "ATOM", "EOS"})
_EOS_DEPOSIT_ACCOUNT = "sandboxdepo1"
_lock = threading.Lock()


def deposit_address(network: str, order_id: int) -> tuple[str, str | None]:
    """(address, memo) for an order's deposit on this network; memo only where the network needs one."""
    if network in _MEMO_NETWORKS:
        memo = str(1_000_000 + order_id)
        address = _EOS_DEPOSIT_ACCOUNT if network == "EOS" else _address(network, 0)
        return address, memo
    return _address(network, order_id % 2**31), None


def _address(network: str, index: int) -> str:
    with _lock:  # bip_utils objects are not documented as thread-safe
        return _encoder(network)(index)


@cache
def _encoder(network: str) -> Callable[[int], str]:
    import bip_utils as bu  # heavy (~0.7 s); only the first order pays for it

    bip44: dict[str, Any] = {
        "DOGE": bu.Bip44Coins.DOGECOIN,
        "BCH": bu.Bip44Coins.BITCOIN_CASH,
        "DASH": bu.Bip44Coins.DASH,
        "ZEC": bu.Bip44Coins.ZCASH,
        "ERC20": bu.Bip44Coins.ETHEREUM,
        "BASE": bu.Bip44Coins.ETHEREUM,
        "BEP20": bu.Bip44Coins.BINANCE_SMART_CHAIN,
        "POLYGON": bu.Bip44Coins.POLYGON,
        "ARBITRUM": bu.Bip44Coins.ARBITRUM,
        "OPTIMISM": bu.Bip44Coins.OPTIMISM,
        "AVAXC": bu.Bip44Coins.AVAX_C_CHAIN,
        "ETC": bu.Bip44Coins.ETHEREUM_CLASSIC,
        "TRC20": bu.Bip44Coins.TRON,
        "SOL": bu.Bip44Coins.SOLANA,
        "XRP": bu.Bip44Coins.RIPPLE,
        "XLM": bu.Bip44Coins.STELLAR,
        "TON": bu.Bip44Coins.TON,
        "ATOM": bu.Bip44Coins.COSMOS,
        "DOT": bu.Bip44Coins.POLKADOT_ED25519_SLIP,
        "ALGO": bu.Bip44Coins.ALGORAND,
        "NEAR": bu.Bip44Coins.NEAR_PROTOCOL,
        "XTZ": bu.Bip44Coins.TEZOS,
    }
    if network in bip44:
        change = (
            bu.Bip44.FromSeed(_SEED, bip44[network])
            .Purpose()
            .Coin()
            .Account(0)
            .Change(bu.Bip44Changes.CHAIN_EXT)
        )
        return lambda index: str(change.AddressIndex(index).PublicKey().ToAddress())
    if network in ("BTC", "LTC"):
        coin = bu.Bip84Coins.BITCOIN if network == "BTC" else bu.Bip84Coins.LITECOIN
        change = bu.Bip84.FromSeed(_SEED, coin).Purpose().Coin().Account(0).Change(bu.Bip44Changes.CHAIN_EXT)
        return lambda index: str(change.AddressIndex(index).PublicKey().ToAddress())
    if network == "ADA":
        account = bu.Cip1852.FromSeed(_SEED, bu.Cip1852Coins.CARDANO_ICARUS).Purpose().Coin().Account(0)
        shelley = bu.CardanoShelley.FromCip1852Object(account).Change(bu.Bip44Changes.CHAIN_EXT)
        return lambda index: str(shelley.AddressIndex(index).PublicKeys().ToAddress())
    if network == "XMR":
        key = bu.Bip44.FromSeed(_SEED, bu.Bip44Coins.MONERO_ED25519_SLIP).DeriveDefaultPath()
        monero = bu.Monero.FromBip44PrivateKey(key.PrivateKey().Raw().ToBytes())
        return lambda index: str(monero.Subaddress(index) if index else monero.PrimaryAddress())
    raise ValueError(f"no deposit address scheme for network {network}")
