"""The exchange's instrument catalogue, cached so a burst of calls costs one upstream call per period.

Two levels: in memory per container (INSTRUMENTS_CACHE_SECONDS), then a shared item in the *orders
table* (id "cache#instruments", expiry in its `ttl` attribute, which the table's TTL also reaps), so
cold containers reuse what a warm one fetched instead of each calling the exchange.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from cryptosdk.domain.order import utc_now
from cryptosdk.exchange.models import Instrument

if TYPE_CHECKING:
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


def _encode(instruments: Iterable[Instrument]) -> str:
    return json.dumps([i.to_wire() for i in instruments], separators=(",", ":"))


def _decode(payload: str) -> Catalogue | None:
    try:
        return Catalogue(tuple(Instrument.model_validate(item) for item in json.loads(payload)))
    except ValueError:
        # A corrupt shared item is a cache miss, not an outage.
        return None


class InstrumentCache:
    """The catalogue for one container: in memory for `ttl_seconds`, then the shared item, then
    `upstream` (the exchange's list; called only on a miss of both)."""

    def __init__(
        self, upstream: Callable[[], Iterable[Instrument]], store: OrderStore, ttl_seconds: int
    ) -> None:
        self._upstream = upstream
        self._store = store
        self.ttl_seconds = ttl_seconds
        self._lock = threading.Lock()
        self._memory: tuple[float, Catalogue] | None = None

    def forget(self) -> None:
        """Forget the in-memory copy (a SnapStart restore; the shared item expires on its own)."""
        with self._lock:
            self._memory = None

    def catalogue(self, now: datetime | None = None) -> Catalogue:
        with self._lock:
            cached = self._memory
            if cached is not None and cached[0] > time.monotonic():
                return cached[1]
            catalogue = self._from_shared_or_upstream(now or utc_now())
            if self.ttl_seconds > 0:
                self._memory = (time.monotonic() + self.ttl_seconds, catalogue)
            return catalogue

    def _from_shared_or_upstream(self, now: datetime) -> Catalogue:
        ttl = self.ttl_seconds
        if ttl > 0:
            payload = self._store.read_cache(SHARED_CACHE_KEY, now)
            catalogue = _decode(payload) if payload else None
            if catalogue is not None:
                return catalogue
        instruments = tuple(self._upstream())
        if ttl > 0:
            self._store.write_cache(SHARED_CACHE_KEY, _encode(instruments), now + timedelta(seconds=ttl))
        return Catalogue(instruments)
