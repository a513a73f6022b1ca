"""Compatibility: the provider's own SDK (quickex-sdk 1.0.11, unchanged) works against the sandbox.

It signs epoch seconds over compact JSON and sends the body re-serialised by requests (with spaces),
posts rates as JSON and validates answers with strict pydantic models, so it checks exactly the
tolerances the contract promises. It is installed in a throwaway venv, never in the project's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from local.sandbox import SandboxServer
from local.sandbox.deposit_addresses import deposit_address

SCRIPT = textwrap.dedent(
    """
    import json, sys
    from quickex_sdk import (
        ClaimedPublicRate, Config, CreateOrderReq, InstrumentFrom, InstrumentReq, InstrumentTo, QuickexSDK,
        RateReq,
    )
    url, public, secret, destination = sys.argv[1:5]
    sdk = QuickexSDK(Config(api_url=url, api_public=public, api_secret=secret))
    instrument = sdk.get_instrument(InstrumentReq(currencyTitle="USDT", networkTitle="TRC20"))
    rate = sdk.get_rate(RateReq(
        instrumentFromCurrencyTitle="BTC", instrumentFromNetworkTitle="BTC",
        instrumentToCurrencyTitle="USDT", instrumentToNetworkTitle="TRC20",
        claimedDepositAmount="0.01", rateMode="FLOATING", claimedDepositAmountCurrency="BTC", markup="0",
    ))
    order = sdk.create_order(CreateOrderReq(
        instrumentFrom=InstrumentFrom(currencyTitle="BTC", networkTitle="BTC", precisionDecimals=8),
        instrumentTo=InstrumentTo(currencyTitle="USDT", networkTitle="TRC20", precisionDecimals=6),
        rateMode="FLOATING", destinationAddress=destination, claimedDepositAmount="0.01",
        claimedNetworkFee=rate.finalNetworkFeeAmount,
        claimedPublicRate=ClaimedPublicRate(
            claimedAmountToReceive=rate.amountToGet, price=rate.price, quotes=rate.liquidityProviderQuotes,
            updatedAt=rate.updatedAt,
        ),
    ))
    print(json.dumps({
        "precision": instrument.precisionDecimals, "okex": instrument.okexCurrencyFriendlyTitle,
        "amountToGet": rate.amountToGet, "orderId": order.orderId,
        "deposit": order.depositAddress.depositAddress, "orderAmount": order.amountToGet,
    }))
    """
)


@pytest.fixture(scope="module")
def sdk_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    venv = tmp_path_factory.mktemp("quickex-venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
    python = venv / "bin" / "python"
    install = subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "quickex-sdk==1.0.11",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PIP_DEFAULT_TIMEOUT": "20"},
    )
    if install.returncode != 0:
        unreachable = ("Could not find a version", "connection", "Connection", "Name or service", "timed out")
        if any(marker in install.stderr for marker in unreachable):
            pytest.skip(f"PyPI is not reachable to install quickex-sdk: {install.stderr.strip()[-200:]}")
        pytest.fail(install.stderr)
    return python


def test_provider_sdk_works_unchanged(sdk_python: Path, sandbox: SandboxServer) -> None:
    destination = deposit_address("TRC20", 11)[0]
    run = subprocess.run(
        [str(sdk_python), "-c", SCRIPT, sandbox.url, sandbox.public_key, sandbox.secret_key, destination],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["precision"] == 6
    assert result["okex"] == "Tether"
    assert result["orderAmount"] == result["amountToGet"]
    assert result["deposit"].startswith("bc1")
    stats = sandbox.app.stats.snapshot()["responses"]
    assert stats["/api/v2/orders/public/create"].get("201", 0) >= 1
