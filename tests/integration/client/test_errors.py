"""Every error code of the contract surfaces as its class: real bad inputs, or the sandbox's faults."""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal

import pytest

from cryptosdk.exchange import errors
from cryptosdk.exchange.client import (
    CREATE_ORDER_PATH,
    INSTRUMENT_PATH,
    INSTRUMENTS_PATH,
    ORDERS_PATH,
    ExchangeClient,
)
from cryptosdk.exchange.retry import RetryPolicy
from cryptosdk.exchange.secrets import StaticKeyProvider
from local.sandbox import SandboxServer
from tests.integration.client.conftest import SandboxControl
from tests.integration.client.routes import BTC, BTC_ADDRESS_BAD_CHECKSUM, ETH, USD, btc_to_eth, rate


def test_400_invalid_destination_address(
    control: SandboxControl, make_client: Callable[..., ExchangeClient]
) -> None:
    client = make_client(keys=control.new_keys())
    with pytest.raises(errors.InvalidRequestError) as caught:
        client.create_order(btc_to_eth(destination=BTC_ADDRESS_BAD_CHECKSUM))
    assert caught.value.status == 400
    assert caught.value.code == "INVALID_ADDRESS"
    assert "destinationAddress" in caught.value.message
    assert client.list_orders() == []
    assert control.requests_to(CREATE_ORDER_PATH) == 1


def test_400_missing_field(client: ExchangeClient) -> None:
    with pytest.raises(errors.InvalidRequestError) as caught:
        client.get_instrument("", "BTC")
    assert caught.value.code == "VALIDATION_ERROR"


def test_401_wrong_secret_is_not_retried_with_the_same_keys(
    sandbox_keys: dict[str, str], control: SandboxControl, make_client: Callable[..., ExchangeClient]
) -> None:
    client = make_client(keys=StaticKeyProvider(sandbox_keys["publicKey"], "not-the-secret"))
    with pytest.raises(errors.AuthError) as caught:
        client.list_orders()
    assert (caught.value.status, caught.value.code) == (401, "INVALID_SIGNATURE")
    assert control.requests_to(ORDERS_PATH) == 1  # re-reading static keys changes nothing


def test_401_unknown_key(make_client: Callable[..., ExchangeClient]) -> None:
    client = make_client(keys=StaticKeyProvider("nobody", "nothing"))
    with pytest.raises(errors.AuthError) as caught:
        client.get_instrument("BTC", "BTC")
    assert caught.value.code == "INVALID_PUBLIC_KEY"


def test_401_stale_timestamp(make_client: Callable[..., ExchangeClient]) -> None:
    client = make_client(clock_ms=lambda: time.time_ns() // 1_000_000 - 120_000)
    with pytest.raises(errors.AuthError) as caught:
        client.list_orders()
    assert caught.value.code == "STALE_TIMESTAMP"


def test_403_outside_the_whitelist(
    sandbox_factory: Callable[..., SandboxServer], make_client: Callable[..., ExchangeClient]
) -> None:
    fenced = sandbox_factory(whitelist=["203.0.113.7"])
    client = make_client(base_url=fenced.url, keys=StaticKeyProvider(fenced.public_key, fenced.secret_key))
    with pytest.raises(errors.ForbiddenError) as caught:
        client.list_orders()
    assert (caught.value.status, caught.value.code) == (403, "IP_NOT_WHITELISTED")
    assert fenced.app.stats.snapshot()["requests"][ORDERS_PATH] == 1  # never retried


def test_404_unknown_order_and_instrument(client: ExchangeClient) -> None:
    with pytest.raises(errors.NotFoundError):
        client.get_order(987_654_321, "0x52908400098527886E0F7030069857D2E4169EE7")
    with pytest.raises(errors.NotFoundError) as caught:
        client.get_instrument("NOPE", "NOPE")
    assert caught.value.status == 404


def test_406_too_small_and_too_big_carry_the_limits(client: ExchangeClient) -> None:
    rules = client.get_rate(rate(BTC, ETH, "0.1")).deposit_rules
    assert rules is not None
    assert rules.min_amount is not None
    assert rules.max_amount is not None
    with pytest.raises(errors.AmountOutOfLimitsError) as small:
        client.get_rate(rate(BTC, ETH, format(rules.min_amount / 2, "f")))
    with pytest.raises(errors.AmountOutOfLimitsError) as big:
        client.get_rate(rate(BTC, ETH, format(rules.max_amount * 2, "f")))
    assert (small.value.status, small.value.bound, small.value.limit) == (406, "min", rules.min_amount)
    assert (big.value.bound, big.value.limit) == ("max", rules.max_amount)
    assert small.value.message == "Amount Too Small"


def test_409_claimed_fixed_rate_no_longer_available(
    control: SandboxControl, make_client: Callable[..., ExchangeClient]
) -> None:
    client = make_client(keys=control.new_keys())
    stale_quote = {"claimedAmountToReceive": "0.000001"}
    with pytest.raises(errors.ConflictError) as caught:
        client.create_order(btc_to_eth(rate_mode="FIXED", claimed_public_rate=stale_quote))
    assert (caught.value.status, caught.value.code) == (409, "RATE_CHANGED")
    assert client.list_orders() == []


def test_422_fiat_order_leg(control: SandboxControl, make_client: Callable[..., ExchangeClient]) -> None:
    client = make_client(keys=control.new_keys())
    with pytest.raises(errors.UnsupportedRouteError) as caught:
        client.create_order(btc_to_eth().model_copy(update={"instrument_from": USD}))
    assert caught.value.status == 422


def test_422_unsupported_pair(client: ExchangeClient) -> None:
    with pytest.raises(errors.UnsupportedRouteError):
        client.get_rate(
            rate(USD, USD.model_copy(update={"currency_title": "EUR", "network_title": "EUR"}), "10")
        )


def test_424_is_not_retried(control: SandboxControl, client: ExchangeClient) -> None:
    control.fault(INSTRUMENTS_PATH, "424")
    with pytest.raises(errors.DependencyFailedError) as caught:
        client.list_instruments()
    assert caught.value.status == 424
    assert control.requests_to(INSTRUMENTS_PATH) == 1


def test_429_exhausted_keeps_retry_after(
    control: SandboxControl, make_client: Callable[..., ExchangeClient]
) -> None:
    control.fault(INSTRUMENTS_PATH, "429", retryAfter=0.01)
    client = make_client(retry=RetryPolicy(max_attempts=3, deadline=5.0))
    with pytest.raises(errors.RateLimitedError) as caught:
        client.list_instruments()
    assert (caught.value.status, caught.value.retry_after) == (429, 0.01)
    assert control.requests_to(INSTRUMENTS_PATH) == 3


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_exhausted_is_upstream_unavailable(
    status: int, control: SandboxControl, make_client: Callable[..., ExchangeClient]
) -> None:
    control.fault(INSTRUMENT_PATH, str(status))
    client = make_client(retry=RetryPolicy(max_attempts=2, base_delay=0.001))
    with pytest.raises(errors.UpstreamUnavailableError) as caught:
        client.get_instrument("BTC", "BTC")
    assert caught.value.status == status
    assert control.requests_to(INSTRUMENT_PATH) == 2


def test_dropped_connections_exhausted_are_transport_errors(
    control: SandboxControl, make_client: Callable[..., ExchangeClient]
) -> None:
    control.fault(ORDERS_PATH, "drop")
    client = make_client(retry=RetryPolicy(max_attempts=3, base_delay=0.001))
    with pytest.raises(errors.TransportError) as caught:
        client.list_orders()
    assert caught.value.status is None
    assert control.requests_to(ORDERS_PATH) == 3


def test_hang_is_a_timeout(control: SandboxControl, make_client: Callable[..., ExchangeClient]) -> None:
    control.fault(INSTRUMENTS_PATH, "hang", hangSeconds=2)
    client = make_client(read_timeout=0.2, retry=RetryPolicy(max_attempts=2, base_delay=0.001))
    started = time.monotonic()
    with pytest.raises(errors.UpstreamTimeoutError):
        client.list_instruments()
    assert time.monotonic() - started < 1.5
    assert control.requests_to(INSTRUMENTS_PATH) == 2


def test_unreachable_exchange_is_a_transport_error(make_client: Callable[..., ExchangeClient]) -> None:
    client = make_client(base_url="http://127.0.0.1:9", retry=RetryPolicy(max_attempts=2, base_delay=0.001))
    with pytest.raises(errors.TransportError):
        client.list_instruments()


def test_deadline_bounds_the_whole_call(
    control: SandboxControl, make_client: Callable[..., ExchangeClient]
) -> None:
    control.fault(INSTRUMENTS_PATH, "503")
    client = make_client(
        sleep=time.sleep, retry=RetryPolicy(max_attempts=50, base_delay=0.05, max_delay=0.2, deadline=0.6)
    )
    started = time.monotonic()
    with pytest.raises(errors.UpstreamUnavailableError):
        client.list_instruments()
    assert time.monotonic() - started < 0.6 + 1.0  # the deadline plus one attempt's slack
    assert 2 <= control.requests_to(INSTRUMENTS_PATH) < 50


def test_amounts_in_errors_are_decimals(client: ExchangeClient) -> None:
    with pytest.raises(errors.AmountOutOfLimitsError) as caught:
        client.get_rate(rate(BTC, ETH, "0.00000001"))
    assert isinstance(caught.value.limit, Decimal)
