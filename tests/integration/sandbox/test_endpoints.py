"""Shapes of the catalogue, rate and pair endpoints over real HTTP, and their 400/404/406/422 answers."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import urlencode

import pytest
import requests

from local.sandbox import SandboxServer
from tests.integration.sandbox.conftest import Signed

INSTRUMENT_FIELDS = {
    "currencyTitle",
    "networkTitle",
    "currencyFriendlyTitle",
    "slug",
    "instrumentType",
    "precisionDecimals",
    "requiresMemo",
    "isActive",
    "currencyLogoLink",
}
RATE_FIELDS = {
    "instrumentFrom",
    "instrumentTo",
    "depositRules",
    "withdrawalRules",
    "price",
    "reversePrice",
    "amountToGet",
    "finalNetworkFeeAmount",
    "enableFixedRate",
    "rateMode",
    "minConfirmationsToTrade",
    "minConfirmationsToWithdraw",
    "updatedAt",
    "liquidityProviderPublicCode",
    "amountToGive",
    "amountToGiveCurrencyTitle",
    "marketMinAmount",
    "marketLeftPrice",
    "marketRightPrice",
    "marketAmountToGet",
    "marketAmountToGetUSDT",
    "amountToGetUSDT",
    "liquidityProviderQuotes",
    "quotesWithoutNetworkFee",
    "platformFee_Absolute",
}
FIXED_FIELDS = {"fixedRate_maxTimeMinutes", "fixedRate_maxAmount", "fixedRate_maxRateVolatilityPercent"}
RATE = "/api/v2/rates/public/one"


def rate_params(source: str, source_net: str, target: str, target_net: str, **extra: str) -> dict[str, str]:
    return {
        "instrumentFromCurrencyTitle": source,
        "instrumentFromNetworkTitle": source_net,
        "instrumentToCurrencyTitle": target,
        "instrumentToNetworkTitle": target_net,
        **extra,
    }


def get_rate(sandbox: SandboxServer, params: dict[str, str]) -> requests.Response:
    return requests.get(f"{sandbox.url}{RATE}?{urlencode(params)}", timeout=5)


def test_instrument_list_is_active_instruments_with_documented_fields(sandbox: SandboxServer) -> None:
    items = requests.get(sandbox.url + "/api/v2/instruments/public", timeout=5).json()
    assert items
    assert all(set(item) == INSTRUMENT_FIELDS for item in items)
    assert all(item["isActive"] for item in items)
    crypto = {item["currencyTitle"] for item in items if item["instrumentType"] == "crypto"}
    fiat = {item["currencyTitle"] for item in items if item["instrumentType"] == "fiat"}
    assert len(crypto) >= 160
    assert len(fiat) >= 40
    usdt_networks = {item["networkTitle"] for item in items if item["currencyTitle"] == "USDT"}
    assert {"ERC20", "TRC20", "BEP20", "SOL", "TON", "POLYGON"} <= usdt_networks


def test_one_instrument_carries_the_okex_title(signed: Signed) -> None:
    response = signed.post("/api/v2/instruments/public/one", {"currencyTitle": "XRP", "networkTitle": "XRP"})
    body = response.json()
    assert response.status_code == 200
    assert set(body) == INSTRUMENT_FIELDS | {"okexCurrencyFriendlyTitle"}
    assert body["requiresMemo"] is True
    assert body["precisionDecimals"] == 6


def test_one_instrument_answers_inactive_ones_and_404_for_unknown(signed: Signed) -> None:
    inactive = signed.post(
        "/api/v2/instruments/public/one", {"currencyTitle": "OMG", "networkTitle": "ERC20"}
    )
    assert inactive.json()["isActive"] is False
    unknown = signed.post("/api/v2/instruments/public/one", {"currencyTitle": "BTC", "networkTitle": "SOL"})
    assert unknown.status_code == 404


def test_one_instrument_with_missing_field_is_400(signed: Signed) -> None:
    response = signed.post("/api/v2/instruments/public/one", {"currencyTitle": "BTC"})
    assert response.status_code == 400
    assert "networkTitle" in response.json()["message"]


@pytest.mark.parametrize("mode", ["FLOATING", "FIXED"])
def test_rate_by_query_has_every_documented_field(sandbox: SandboxServer, mode: str) -> None:
    response = get_rate(
        sandbox, rate_params("BTC", "BTC", "USDT", "TRC20", claimedDepositAmount="0.05", rateMode=mode)
    )
    body = response.json()
    assert response.status_code == 200, body
    assert set(body) >= RATE_FIELDS
    assert (set(body) >= FIXED_FIELDS) is (mode == "FIXED")
    assert body["rateMode"] == mode
    assert body["amountToGive"] == "0.05"
    for side in ("sellQuote", "buyQuote"):
        assert set(body["liquidityProviderQuotes"][side]) == {"baseValue", "quoteValue"}
    assert Decimal(body["amountToGet"]) > 0


def test_rate_by_post_body_equals_rate_by_query(sandbox: SandboxServer) -> None:
    params = rate_params("ETH", "ERC20", "SOL", "SOL", claimedDepositAmount="1.5", markup="0.5")
    by_query = get_rate(sandbox, params).json()
    by_body = requests.post(sandbox.url + RATE, json=params, timeout=5).json()
    assert by_body["amountToGet"] == by_query["amountToGet"]
    assert by_body["price"] == by_query["price"]


def test_markup_reduces_the_amount_by_its_percentage(sandbox: SandboxServer) -> None:
    base = rate_params("ETH", "ERC20", "USDT", "ERC20", claimedDepositAmount="2")
    plain = get_rate(sandbox, base).json()
    marked = get_rate(sandbox, {**base, "markup": "2"}).json()
    calculated = Decimal(plain["amountToGet"])
    expected = (calculated * Decimal("0.98")).quantize(Decimal("0.000001"))
    assert abs(Decimal(marked["amountToGet"]) - expected) <= Decimal("0.000001")


def test_amount_below_minimum_is_406_too_small_with_the_limit(sandbox: SandboxServer) -> None:
    response = get_rate(sandbox, rate_params("BTC", "BTC", "ETH", "ERC20", claimedDepositAmount="0.00000001"))
    body = response.json()
    assert response.status_code == 406
    assert body["message"] == "Amount Too Small"
    limit = Decimal(body["data"]["details"]["expected"])
    ok = get_rate(sandbox, rate_params("BTC", "BTC", "ETH", "ERC20", claimedDepositAmount=str(limit)))
    assert ok.status_code == 200
    assert ok.json()["depositRules"]["minAmount"] == body["data"]["details"]["expected"]


def test_amount_above_maximum_is_406_too_big_with_the_limit(sandbox: SandboxServer) -> None:
    response = get_rate(sandbox, rate_params("BTC", "BTC", "ETH", "ERC20", claimedDepositAmount="1000"))
    body = response.json()
    assert response.status_code == 406
    assert body["message"] == "Amount Too Big"
    assert Decimal(body["data"]["details"]["expected"]) < 1000


def test_stablecoin_deposits_have_no_floating_maximum(sandbox: SandboxServer) -> None:
    body = get_rate(
        sandbox, rate_params("USDT", "TRC20", "BTC", "BTC", claimedDepositAmount="5000000")
    ).json()
    assert body["depositRules"]["maxAmount"] == "0"


@pytest.mark.parametrize(
    "params",
    [
        rate_params("BTC", "BTC", "BTC", "BTC"),  # itself
        rate_params("USD", "USD", "EUR", "EUR"),  # fiat to fiat
        rate_params("OMG", "ERC20", "BTC", "BTC"),  # inactive
        rate_params("NOPE", "ERC20", "BTC", "BTC"),  # unknown
        rate_params("XMR", "XMR", "BTC", "BTC", rateMode="FIXED"),  # no fixed rate for XMR
    ],
)
def test_unsupported_pairs_are_422(sandbox: SandboxServer, params: dict[str, str]) -> None:
    response = get_rate(sandbox, params)
    assert response.status_code == 422, response.text


def test_fiat_quotes_rates(sandbox: SandboxServer) -> None:
    response = get_rate(sandbox, rate_params("EUR", "EUR", "BTC", "BTC", claimedDepositAmount="500"))
    assert response.status_code == 200
    assert response.json()["instrumentFrom"]["currencyTitle"] == "EUR"


def test_amount_in_the_target_currency_gives_the_deposit_needed(sandbox: SandboxServer) -> None:
    params = rate_params(
        "BTC", "BTC", "USDT", "TRC20", claimedDepositAmount="1000", claimedDepositAmountCurrency="USDT"
    )
    body = get_rate(sandbox, params).json()
    assert body["amountToGiveCurrencyTitle"] == "BTC"
    assert Decimal(body["amountToGet"]) >= 1000
    assert Decimal(body["amountToGet"]) < 1001


@pytest.mark.parametrize(
    "extra", [{"claimedDepositAmount": "abc"}, {"claimedDepositAmount": "-1"}, {"rateMode": "SOMETIMES"}]
)
def test_malformed_rate_request_is_400(sandbox: SandboxServer, extra: dict[str, str]) -> None:
    assert get_rate(sandbox, rate_params("BTC", "BTC", "ETH", "ERC20", **extra)).status_code == 400


def test_pairs_page_with_offset_and_limit_and_some_inactive(sandbox: SandboxServer) -> None:
    first = requests.get(sandbox.url + "/api/v2/pairs/public?offset=0&limit=10", timeout=5).json()
    second = requests.get(sandbox.url + "/api/v2/pairs/public?offset=5&limit=10", timeout=5).json()
    assert len(first) == 10
    assert first[5:] == second[:5]
    assert set(first[0]) == {"instrumentFrom", "instrumentTo", "isActive"}
    assert set(first[0]["instrumentFrom"]) == {"currencyTitle", "networkTitle", "precisionDecimals"}
    # The first page holds BTC to every other instrument, inactive ones included.
    page = requests.get(f"{sandbox.url}/api/v2/pairs/public?offset=0&limit=1000", timeout=5).json()
    assert len(page) == 1000
    assert any(not pair["isActive"] for pair in page)
    assert sum(bool(pair["isActive"]) for pair in page) > len(page) / 2


def test_pairs_reject_a_bad_limit(sandbox: SandboxServer) -> None:
    assert requests.get(sandbox.url + "/api/v2/pairs/public?limit=0", timeout=5).status_code == 400


def test_unknown_route_is_404_in_the_error_shape(sandbox: SandboxServer) -> None:
    response = requests.get(sandbox.url + "/api/v2/nothing-here", timeout=5)
    assert response.status_code == 404
    assert response.json()["statusCode"] == 404
