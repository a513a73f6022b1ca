"""The instrument catalogue and price table, loaded from the JSON files under data/."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from local.sandbox.errors import not_found, unsupported

DATA_DIR = Path(__file__).parent / "data"


@dataclass(frozen=True)
class Network:
    title: str
    friendly_title: str
    min_confirmations: int
    fee_usd: Decimal
    requires_memo: bool


@dataclass(frozen=True)
class Instrument:
    currency: str
    network: str
    friendly_title: str
    okex_friendly_title: str
    slug: str
    instrument_type: str
    precision: int
    requires_memo: bool
    is_active: bool
    enable_fixed_rate: bool
    logo: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.currency, self.network)

    @property
    def is_fiat(self) -> bool:
        return self.instrument_type == "fiat"

    def to_wire(self) -> dict[str, Any]:
        return {
            "currencyTitle": self.currency,
            "networkTitle": self.network,
            "currencyFriendlyTitle": self.friendly_title,
            "slug": self.slug,
            "instrumentType": self.instrument_type,
            "precisionDecimals": self.precision,
            "requiresMemo": self.requires_memo,
            "isActive": self.is_active,
            "currencyLogoLink": self.logo,
        }

    def to_wire_one(self) -> dict[str, Any]:
        return {**self.to_wire(), "okexCurrencyFriendlyTitle": self.okex_friendly_title}

    def ref(self) -> dict[str, Any]:
        return {"currencyTitle": self.currency, "networkTitle": self.network}

    def ref_with_precision(self) -> dict[str, Any]:
        return {**self.ref(), "precisionDecimals": self.precision}


class Catalogue:
    """Lookups over the instruments, networks and USD prices; immutable once loaded."""

    def __init__(self, instruments_doc: dict[str, Any], prices_doc: dict[str, Any]) -> None:
        self.networks = {
            title: Network(
                title=title,
                friendly_title=spec["friendlyTitle"],
                min_confirmations=int(spec["minConfirmationsToTrade"]),
                fee_usd=Decimal(spec["networkFeeUsd"]),
                requires_memo=bool(spec["requiresMemo"]),
            )
            for title, spec in instruments_doc["networks"].items()
        }
        self.instruments = [_instrument(item) for item in instruments_doc["instruments"]]
        self._by_key = {instrument.key: instrument for instrument in self.instruments}
        self.usd_prices = {code: Decimal(price) for code, price in prices_doc["usd"].items()}
        self.stablecoins = frozenset(prices_doc["stablecoins"])
        self._pairs = self._build_pairs()

    def active(self) -> list[Instrument]:
        return [instrument for instrument in self.instruments if instrument.is_active]

    def find(self, currency: str, network: str) -> Instrument | None:
        return self._by_key.get((currency, network))

    def get(self, currency: str, network: str) -> Instrument:
        instrument = self.find(currency, network)
        if instrument is None:
            raise not_found(f"Instrument {currency}/{network} not found", "INSTRUMENT_NOT_FOUND")
        return instrument

    def tradable(self, currency: str, network: str) -> Instrument:
        """An instrument a quote may use: known and active, else the pair is not supported (422)."""
        instrument = self.find(currency, network)
        if instrument is None or not instrument.is_active:
            raise unsupported(f"Instrument {currency}/{network} is not supported")
        return instrument

    def usd(self, instrument: Instrument) -> Decimal:
        return self.usd_prices[instrument.currency]

    def network_fee_usd(self, instrument: Instrument) -> Decimal:
        network = self.networks.get(instrument.network)
        return network.fee_usd if network else Decimal(0)

    def min_confirmations(self, instrument: Instrument) -> int:
        network = self.networks.get(instrument.network)
        return network.min_confirmations if network else 1

    def pair_count(self) -> int:
        return len(self._pairs)

    def pairs(self, offset: int, limit: int) -> list[dict[str, Any]]:
        return [self._pair_wire(left, right) for left, right in self._pairs[offset : offset + limit]]

    def _pair_wire(self, left: int, right: int) -> dict[str, Any]:
        source, target = self.instruments[left], self.instruments[right]
        return {
            "instrumentFrom": source.ref_with_precision(),
            "instrumentTo": target.ref_with_precision(),
            "isActive": source.is_active and target.is_active,
        }

    def _build_pairs(self) -> list[tuple[int, int]]:
        # Every directed pair of distinct instruments except fiat to fiat (nothing to exchange on-chain).
        count = len(self.instruments)
        return [
            (left, right)
            for left in range(count)
            for right in range(count)
            if left != right and not (self.instruments[left].is_fiat and self.instruments[right].is_fiat)
        ]


def _instrument(item: dict[str, Any]) -> Instrument:
    return Instrument(
        currency=item["currencyTitle"],
        network=item["networkTitle"],
        friendly_title=item["currencyFriendlyTitle"],
        okex_friendly_title=item["okexCurrencyFriendlyTitle"],
        slug=item["slug"],
        instrument_type=item["instrumentType"],
        precision=int(item["precisionDecimals"]),
        requires_memo=bool(item["requiresMemo"]),
        is_active=bool(item["isActive"]),
        enable_fixed_rate=bool(item["enableFixedRate"]),
        logo=item["currencyLogoLink"],
    )


@cache
def load_catalogue(data_dir: Path = DATA_DIR) -> Catalogue:
    instruments_doc = json.loads((data_dir / "instruments.json").read_text(encoding="utf-8"))
    prices_doc = json.loads((data_dir / "prices.json").read_text(encoding="utf-8"))
    return Catalogue(instruments_doc, prices_doc)
