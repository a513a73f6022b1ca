"""Quote arithmetic against the price table, recomputed here independently."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

import pytest

from local.sandbox.catalogue import load_catalogue
from local.sandbox.errors import SandboxError
from local.sandbox.rates import quote
from local.sandbox.schemas import RateQuery

CATALOGUE = load_catalogue()


def query(source: str, target: str, amount: str | None = None, **extra: str) -> RateQuery:
    (source_currency, source_network), (target_currency, target_network) = (
        source.split("/"),
        target.split("/"),
    )
    fields = {
        "instrumentFromCurrencyTitle": source_currency,
        "instrumentFromNetworkTitle": source_network,
        "instrumentToCurrencyTitle": target_currency,
        "instrumentToNetworkTitle": target_network,
        **extra,
    }
    if amount is not None:
        fields["claimedDepositAmount"] = amount
    return RateQuery.model_validate(fields)


@pytest.mark.parametrize(("mode", "spread"), [("FLOATING", "0.005"), ("FIXED", "0.01")])
@pytest.mark.parametrize("markup", ["0", "1.5"])
def test_amount_to_get_follows_the_documented_formula(mode: str, spread: str, markup: str) -> None:
    result = quote(CATALOGUE, query("ETH/ERC20", "USDT/TRC20", "1.25", rateMode=mode, markup=markup))
    usd = CATALOGUE.usd_prices
    fee = CATALOGUE.networks["TRC20"].fee_usd / usd["USDT"]
    calculated = Decimal("1.25") * usd["ETH"] / usd["USDT"] * (1 - Decimal(spread)) - fee
    final = (calculated * (1 - Decimal(markup) / 100)).quantize(Decimal("0.000001"), rounding=ROUND_DOWN)
    assert result.amount_to_get == final
    assert result.to_wire()["amountToGet"] == format(final.normalize(), "f")


def test_limits_raise_406_with_the_bound() -> None:
    minimum = quote(CATALOGUE, query("BTC/BTC", "ETH/ERC20")).min_deposit
    with pytest.raises(SandboxError) as small:
        quote(CATALOGUE, query("BTC/BTC", "ETH/ERC20", str(minimum - Decimal("0.00000001"))))
    assert (small.value.status, small.value.message) == (406, "Amount Too Small")
    assert Decimal(small.value.data["details"]["expected"]) == minimum
    with pytest.raises(SandboxError) as big:
        quote(CATALOGUE, query("BTC/BTC", "ETH/ERC20", "10", rateMode="FIXED"))
    assert (big.value.status, big.value.message) == (406, "Amount Too Big")
    assert Decimal(big.value.data["details"]["expected"]) * CATALOGUE.usd_prices["BTC"] <= 25_000


def test_tiny_and_huge_prices_stay_exact() -> None:
    wire = quote(CATALOGUE, query("BTC/BTC", "BABYDOGE/BEP20", "0.01")).to_wire()
    assert "E" not in wire["amountToGet"]
    assert Decimal(wire["amountToGet"]) > 10**11
    near = quote(CATALOGUE, query("USDT/ERC20", "NEAR/NEAR", "5000")).to_wire()
    assert len(near["amountToGet"].split(".")[1]) <= 24


@pytest.mark.parametrize(
    ("source", "target"), [("USD/USD", "EUR/EUR"), ("BTC/BTC", "BTC/BTC"), ("SRM/SOL", "BTC/BTC")]
)
def test_unsupported_routes_are_422(source: str, target: str) -> None:
    with pytest.raises(SandboxError) as caught:
        quote(CATALOGUE, query(source, target, "100"))
    assert caught.value.status == 422
