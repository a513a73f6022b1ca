"""Compatibility: the provider's own SDK (quickex-sdk 1.0.11, unchanged) works against the sandbox.

It signs epoch seconds over compact JSON and sends the body re-serialised by requests (with spaces),
posts rates as JSON and validates answers with strict pydantic models, so it checks exactly the
tolerances the contract promises. The SDK is pinned in requirements-dev.txt (a dev-only dependency,
never the layer's), so the test runs offline and never installs anything itself.
"""

from __future__ import annotations

from quickex_sdk import (
    ClaimedPublicRate,
    Config,
    CreateOrderReq,
    InstrumentFrom,
    InstrumentReq,
    InstrumentTo,
    QuickexSDK,
    RateReq,
)

from local.sandbox import SandboxServer
from local.sandbox.deposit_addresses import deposit_address


def test_provider_sdk_works_unchanged(sandbox: SandboxServer) -> None:
    destination = deposit_address("TRC20", 11)[0]
    sdk = QuickexSDK(
        Config(api_url=sandbox.url, api_public=sandbox.public_key, api_secret=sandbox.secret_key)
    )

    instrument = sdk.get_instrument(InstrumentReq(currencyTitle="USDT", networkTitle="TRC20"))
    rate = sdk.get_rate(
        RateReq(
            instrumentFromCurrencyTitle="BTC",
            instrumentFromNetworkTitle="BTC",
            instrumentToCurrencyTitle="USDT",
            instrumentToNetworkTitle="TRC20",
            claimedDepositAmount="0.01",
            rateMode="FLOATING",
            claimedDepositAmountCurrency="BTC",
            markup="0",
        )
    )
    order = sdk.create_order(
        CreateOrderReq(
            instrumentFrom=InstrumentFrom(currencyTitle="BTC", networkTitle="BTC", precisionDecimals=8),
            instrumentTo=InstrumentTo(currencyTitle="USDT", networkTitle="TRC20", precisionDecimals=6),
            rateMode="FLOATING",
            destinationAddress=destination,
            claimedDepositAmount="0.01",
            claimedNetworkFee=rate.finalNetworkFeeAmount,
            claimedPublicRate=ClaimedPublicRate(
                claimedAmountToReceive=rate.amountToGet,
                price=rate.price,
                quotes=rate.liquidityProviderQuotes,
                updatedAt=rate.updatedAt,
            ),
        )
    )

    assert instrument.precisionDecimals == 6
    assert instrument.okexCurrencyFriendlyTitle == "Tether"
    assert order.amountToGet == rate.amountToGet
    assert order.depositAddress.depositAddress.startswith("bc1")
    stats = sandbox.app.stats.snapshot()["responses"]
    assert stats["/api/v2/orders/public/create"].get("201", 0) >= 1
