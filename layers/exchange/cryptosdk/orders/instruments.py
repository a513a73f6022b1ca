"""The exchange's instrument catalogue, cached so a burst of calls costs one upstream call per period.

Two levels: in memory per container (INSTRUMENTS_CACHE_SECONDS), then a shared item in the *orders
table* (id "cache#instruments", expiry in its `ttl` attribute, which the table's TTL also reaps), so
cold containers reuse what a warm one fetched instead of each calling the exchange.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from cryptosdk.domain.order import utc_now
from cryptosdk.exchange.models import Instrument

if TYPE_CHECKING:
    from cryptosdk.exchange.client import ExchangeClient
    from cryptosdk.storage.orders import OrderStore

SHARED_CACHE_KEY = "cache#instruments"


@dataclass(frozen=True)
class Catalogue:
    instruments: tuple[Instrument, ...]

    def find(self, currency: str, network: str) -> Instrument | None:
        wanted = (currency.strip().upper(), network.strip().upper())
        for instrument in self.instruments:
            if (instrument.currency_title.upper(), instrument.network_title.upper()) == wanted:
                return instrument
        return None

    def of_kind(self, kind: str | None) -> list[Instrument]:
        if kind is None:
            return list(self.instruments)
        return [i for i in self.instruments if i.instrument_type.lower() == kind.lower()]


_lock = threading.Lock()
_memory: tuple[float, Catalogue] | None = None


def reset_cache() -> None:
    """Forget the in-memory copy (tests; the shared item expires on its own)."""
    global _memory
    with _lock:
        _memory = None


def _encode(instruments: Iterable[Instrument]) -> str:
    return json.dumps([i.to_wire() for i in instruments], separators=(",", ":"))


def _decode(payload: str) -> Catalogue | None:
    try:
        return Catalogue(tuple(Instrument.model_validate(item) for item in json.loads(payload)))
    except ValueError:
        # A corrupt shared item is a cache miss, not an outage.
        return None


def get_catalogue(
    client: ExchangeClient | None = None,
    store: OrderStore | None = None,
    *,
    ttl_seconds: int | None = None,
    now: datetime | None = None,
) -> Catalogue:
    global _memory
    if ttl_seconds is None:
        from cryptosdk.runtime.config import get_settings

        ttl_seconds = get_settings().instruments_cache_seconds
    with _lock:
        cached = _memory
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        catalogue = _from_shared_or_upstream(client, store, ttl_seconds, now or utc_now())
        if ttl_seconds > 0:
            _memory = (time.monotonic() + ttl_seconds, catalogue)
        return catalogue


def _from_shared_or_upstream(
    client: ExchangeClient | None, store: OrderStore | None, ttl_seconds: int, now: datetime
) -> Catalogue:
    if store is None:
        from cryptosdk.storage.orders import get_store

        store = get_store()
    if ttl_seconds > 0:
        payload = store.read_cache(SHARED_CACHE_KEY, now)
        catalogue = _decode(payload) if payload else None
        if catalogue is not None:
            return catalogue
    if client is None:
        from cryptosdk.exchange.client import get_client

        client = get_client()
    instruments = tuple(client.list_instruments())
    if ttl_seconds > 0:
        store.write_cache(SHARED_CACHE_KEY, _encode(instruments), now + timedelta(seconds=ttl_seconds))
    return Catalogue(instruments)
