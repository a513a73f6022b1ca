"""Quotes from the deterministic price table: pure Decimal arithmetic, no I/O.

    market price  = usd(from) / usd(to)
    LP price      = market price x (1 - spread)           spread: FLOATING 0.5 %, FIXED 1 %
    calculated    = deposit x LP price - network fee       fee: the "to" network's fee in "to" units
    amountToGet   = calculated x (1 - markup / 100)        rounded down to the "to" precision
Limits: deposit >= max(10 USD, 2 network fees); deposit <= 250,000 USD (FLOATING; none, "0",
when depositing a stablecoin) or 25,000 USD (FIXED). Outside them: 406 with the limit.
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_DOWN, ROUND_UP, Decimal
from typing import Any

from local.sandbox.catalogue import Catalogue, Instrument
from local.sandbox.errors import SandboxError, unsupported
from local.sandbox.schemas import RateQuery

SPREAD = {"FLOATING": Decimal("0.005"), "FIXED": Decimal("0.01")}
MIN_DEPOSIT_USD = Decimal(10)
MAX_DEPOSIT_USD = {"FLOATING": Decimal(250_000), "FIXED": Decimal(25_000)}
FIXED_RATE_MINUTES = 10
FIXED_RATE_VOLATILITY_PERCENT = "1.5"
LIQUIDITY_PROVIDER = "okx"
PRICE_PLACES = 18
USDT_PLACES = 6
_CONTEXT = decimal.Context(prec=60)


@dataclass(frozen=True)
class Quote:
    source: Instrument
    target: Instrument
    rate_mode: str
    markup: Decimal
    deposit: Decimal
    amount_to_get: Decimal
    network_fee: Decimal
    price: Decimal
    market_price: Decimal
    lp_price: Decimal
    min_deposit: Decimal
    max_deposit: Decimal | None
    platform_fee: Decimal
    usd_target: Decimal
    min_confirmations_trade: int
    min_confirmations_withdraw: int
    updated_at: str

    def to_wire(self) -> dict[str, Any]:
        # Wide context: 24-decimal amounts (NEAR) and 18-place prices overflow the default 28 digits.
        with decimal.localcontext(_CONTEXT):
            return self._wire()

    def _wire(self) -> dict[str, Any]:
        target_precision = self.target.precision
        gross = _down(self.deposit * self.lp_price, target_precision)
        market_amount = _down(self.deposit * self.market_price, target_precision)
        max_deposit = fmt(self.max_deposit) if self.max_deposit is not None else "0"
        max_withdrawal = (
            fmt(_down(self.max_deposit * self.price, target_precision))
            if self.max_deposit is not None
            else "0"
        )
        quotes_with_fee = _quotes(self.deposit, gross - self.network_fee)
        wire: dict[str, Any] = {
            "instrumentFrom": self.source.ref_with_precision(),
            "instrumentTo": self.target.ref_with_precision(),
            "depositRules": {"minAmount": fmt(self.min_deposit), "maxAmount": max_deposit},
            "withdrawalRules": {
                "minAmount": fmt(_up(self.network_fee * 2, target_precision)),
                "maxAmount": max_withdrawal,
                "withdrawalFeeRules": {
                    "minAmount": fmt(self.network_fee),
                    "maxAmount": fmt(self.network_fee),
                },
            },
            "price": fmt(_down(self.price, PRICE_PLACES)),
            "reversePrice": fmt(_down(1 / self.price, PRICE_PLACES)),
            "amountToGet": fmt(self.amount_to_get),
            "finalNetworkFeeAmount": fmt(self.network_fee),
            "enableFixedRate": self.source.enable_fixed_rate and self.target.enable_fixed_rate,
            "rateMode": self.rate_mode,
            "minConfirmationsToTrade": self.min_confirmations_trade,
            "minConfirmationsToWithdraw": self.min_confirmations_withdraw,
            "updatedAt": self.updated_at,
            "liquidityProviderPublicCode": LIQUIDITY_PROVIDER,
            "amountToGive": fmt(self.deposit),
            "amountToGiveCurrencyTitle": self.source.currency,
            "marketMinAmount": fmt(self.min_deposit),
            "marketLeftPrice": fmt(_down(self.market_price, PRICE_PLACES)),
            "marketRightPrice": fmt(_down(1 / self.market_price, PRICE_PLACES)),
            "marketAmountToGet": fmt(market_amount),
            "marketAmountToGetUSDT": fmt(_down(market_amount * self.usd_target, USDT_PLACES)),
            "amountToGetUSDT": fmt(_down(self.amount_to_get * self.usd_target, USDT_PLACES)),
            "liquidityProviderQuotes": quotes_with_fee,
            "quotesWithoutNetworkFee": _quotes(self.deposit, gross),
            "quotes": quotes_with_fee,
            "platformFee_Absolute": fmt(self.platform_fee),
            "markup": fmt(self.markup),
        }
        if self.rate_mode == "FIXED":
            wire["fixedRate_maxTimeMinutes"] = FIXED_RATE_MINUTES
            wire["fixedRate_maxAmount"] = max_deposit
            wire["fixedRate_maxRateVolatilityPercent"] = FIXED_RATE_VOLATILITY_PERCENT
        return wire

    def claimed_public_rate(self) -> dict[str, Any]:
        """The rate object an order echoes when the caller did not send one (the SDK's shape)."""
        wire = self.to_wire()
        rate: dict[str, Any] = {
            "claimedAmountToReceive": wire["amountToGet"],
            "finalNetworkFeeAmount": wire["finalNetworkFeeAmount"],
            "platformFee_Absolute": wire["platformFee_Absolute"],
            "price": wire["price"],
            "quotes": wire["quotes"],
            "updatedAt": wire["updatedAt"],
        }
        for key in ("fixedRate_maxAmount", "fixedRate_maxTimeMinutes", "fixedRate_maxRateVolatilityPercent"):
            if key in wire:
                rate[key] = wire[key]
        return rate


def fmt(value: Decimal) -> str:
    """Plain decimal text without exponent or trailing zeros (amounts are strings on the wire)."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def quote(catalogue: Catalogue, query: RateQuery, now: datetime | None = None) -> Quote:
    with decimal.localcontext(_CONTEXT):
        return _quote(catalogue, query, now or datetime.now(UTC))


def _quote(catalogue: Catalogue, query: RateQuery, now: datetime) -> Quote:
    source = catalogue.tradable(query.from_currency, query.from_network)
    target = catalogue.tradable(query.to_currency, query.to_network)
    _check_route(source, target, query.rate_mode)
    market_price = catalogue.usd(source) / catalogue.usd(target)
    lp_price = market_price * (1 - SPREAD[query.rate_mode])
    keep = 1 - query.markup / 100
    network_fee = _up(catalogue.network_fee_usd(target) / catalogue.usd(target), target.precision)
    min_deposit = _up(
        max(MIN_DEPOSIT_USD / catalogue.usd(source), 2 * network_fee / lp_price), source.precision
    )
    max_deposit = _max_deposit(catalogue, source, query.rate_mode)
    deposit = _deposit(query, source, target, min_deposit, lp_price, keep, network_fee)
    _check_limits(deposit, min_deposit, max_deposit)
    calculated = deposit * lp_price - network_fee
    amount_to_get = _down(calculated * keep, target.precision)
    if amount_to_get <= 0:
        raise _too_small(min_deposit)
    return Quote(
        source=source,
        target=target,
        rate_mode=query.rate_mode,
        markup=query.markup,
        deposit=deposit,
        amount_to_get=amount_to_get,
        network_fee=network_fee,
        price=lp_price * keep,
        market_price=market_price,
        lp_price=lp_price,
        min_deposit=min_deposit,
        max_deposit=max_deposit,
        platform_fee=_down(calculated * query.markup / 100, target.precision),
        usd_target=catalogue.usd(target),
        min_confirmations_trade=catalogue.min_confirmations(source),
        min_confirmations_withdraw=catalogue.min_confirmations(target),
        updated_at=now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    )


def _check_route(source: Instrument, target: Instrument, rate_mode: str) -> None:
    if source.key == target.key:
        raise unsupported("Cannot exchange an instrument for itself")
    if source.is_fiat and target.is_fiat:
        raise unsupported("Fiat to fiat is not supported")
    if rate_mode == "FIXED" and not (source.enable_fixed_rate and target.enable_fixed_rate):
        raise unsupported("Fixed rate is not available for this pair", "FIXED_RATE_NOT_SUPPORTED")


def _max_deposit(catalogue: Catalogue, source: Instrument, rate_mode: str) -> Decimal | None:
    if rate_mode == "FLOATING" and source.currency in catalogue.stablecoins:
        return None
    return _down(MAX_DEPOSIT_USD[rate_mode] / catalogue.usd(source), source.precision)


def _deposit(
    query: RateQuery,
    source: Instrument,
    target: Instrument,
    min_deposit: Decimal,
    lp_price: Decimal,
    keep: Decimal,
    network_fee: Decimal,
) -> Decimal:
    """The deposit amount; derived from the wanted payout when the amount is in the "to" currency."""
    if query.claimed_deposit_amount is None:
        return min_deposit
    in_target = (
        query.claimed_deposit_amount_currency == target.currency
        and query.claimed_deposit_amount_currency != source.currency
    )
    if not in_target:
        return query.claimed_deposit_amount
    if keep <= 0:
        raise SandboxError(400, "markup leaves nothing to receive", "BAD_REQUEST")
    return _up((query.claimed_deposit_amount / keep + network_fee) / lp_price, source.precision)


def _check_limits(deposit: Decimal, min_deposit: Decimal, max_deposit: Decimal | None) -> None:
    if deposit < min_deposit:
        raise _too_small(min_deposit)
    if max_deposit is not None and deposit > max_deposit:
        raise SandboxError(
            406,
            "Amount Too Big",
            "AMOUNT_TOO_BIG",
            {"details": {"expected": fmt(max_deposit), "limit": "max"}},
        )


def _too_small(min_deposit: Decimal) -> SandboxError:
    return SandboxError(
        406,
        "Amount Too Small",
        "AMOUNT_TOO_SMALL",
        {"details": {"expected": fmt(min_deposit), "limit": "min"}},
    )


def _quotes(base: Decimal, quote_value: Decimal) -> dict[str, Any]:
    side = {"baseValue": fmt(base), "quoteValue": fmt(quote_value)}
    return {"sellQuote": side, "buyQuote": dict(side)}


def _down(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_DOWN)


def _up(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_UP)
