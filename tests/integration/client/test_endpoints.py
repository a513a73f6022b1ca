"""Every endpoint of the contract, through ExchangeClient, against the sandbox over HTTP."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import requests

from cryptosdk.exchange.client import ExchangeClient
from local.sandbox import SandboxServer
from tests.integration.client.conftest import SandboxControl
from tests.integration.client.routes import (
    BTC,
    BTC_ADDRESS,
    BTC_ADDRESS_BAD_CHECKSUM,
    ETH,
    ETH_ADDRESS,
    XRP,
    XRP_ADDRESS,
    btc_to_eth,
    rate,
)


def test_list_instruments(client: ExchangeClient) -> None:
    instruments = client.list_instruments()
    refs = {(i.currency_title, i.network_title) for i in instruments}
    assert len(refs) == len(instruments)
    assert {("BTC", "BTC"), ("USDT", "TRC20"), ("USDT", "ERC20"), ("XRP", "XRP")} <= refs
    kinds = {i.instrument_type for i in instruments}
    assert kinds == {"crypto", "fiat"}
    assert all(i.is_active for i in instruments)
    xrp = next(i for i in instruments if i.ref == XRP)
    assert xrp.requires_memo is True


def test_get_instrument(client: ExchangeClient) -> None:
    usdt = client.get_instrument("USDT", "TRC20")
    assert (usdt.currency_title, usdt.network_title) == ("USDT", "TRC20")
    assert usdt.precision_decimals == 6
    assert usdt.okex_currency_friendly_title  # the single-instrument answer carries it


def test_validate_address(client: ExchangeClient) -> None:
    good = client.validate_address("BTC", "BTC", BTC_ADDRESS)
    bad = client.validate_address("BTC", "BTC", BTC_ADDRESS_BAD_CHECKSUM)
    assert good.result is True
    assert bad.result is False
    assert bad.message


def test_validate_address_memo_rule(client: ExchangeClient) -> None:
    assert client.validate_address("XRP", "XRP", XRP_ADDRESS, memo="12345").result is True
    assert client.validate_address("XRP", "XRP", XRP_ADDRESS).result is False


def test_get_rate_floating_and_fixed(client: ExchangeClient) -> None:
    floating = client.get_rate(rate(BTC, ETH, "0.1"))
    fixed = client.get_rate(rate(BTC, ETH, "0.1", mode="FIXED"))
    assert floating.rate_mode == "FLOATING"
    assert fixed.rate_mode == "FIXED"
    for quote in (floating, fixed):
        assert isinstance(quote.amount_to_get, Decimal)
        assert quote.amount_to_get > 0
        assert quote.deposit_rules is not None
        assert quote.deposit_rules.min_amount is not None
        assert quote.deposit_rules.min_amount < Decimal("0.1")
    assert fixed.fixed_rate_max_time_minutes


def test_rate_query_with_markup_changes_the_quote(client: ExchangeClient) -> None:
    plain = client.get_rate(rate(BTC, ETH, "0.1"))
    marked = client.get_rate(rate(BTC, ETH, "0.1").model_copy(update={"markup": Decimal("1.5")}))
    assert plain.amount_to_get is not None
    assert marked.amount_to_get is not None
    assert marked.amount_to_get < plain.amount_to_get


def test_list_pairs_pages(client: ExchangeClient) -> None:
    first, second = client.list_pairs(0, 5), client.list_pairs(5, 5)
    assert len(first) == len(second) == 5
    assert client.list_pairs(0, 10) == first + second
    assert all(pair.instrument_from != pair.instrument_to for pair in first + second)


def test_create_get_and_list_orders(
    control: SandboxControl, make_client: Callable[..., ExchangeClient]
) -> None:
    client = make_client(keys=control.new_keys())
    request = btc_to_eth("0.1")
    created = client.create_order(request)
    assert created.order_id > 0
    assert created.destination_address == ETH_ADDRESS
    assert created.claimed_deposit_amount == Decimal("0.1")
    assert created.deposit_address is not None
    assert created.deposit_address.deposit_address
    assert created.deposit_address.instrument == BTC
    assert created.event_kinds == ["CREATION_END"]
    assert created.completed is False

    fetched = client.get_order(created.order_id, ETH_ADDRESS)
    assert fetched.order_id == created.order_id
    assert fetched.deposit_address == created.deposit_address

    second = client.create_order(btc_to_eth("0.2"))
    newest_first = client.list_orders()
    assert [o.order_id for o in newest_first] == [second.order_id, created.order_id]
    assert [o.order_id for o in client.list_orders(order="asc")] == [created.order_id, second.order_id]
    assert [o.order_id for o in client.list_orders(offset=1, limit=1)] == [created.order_id]


def test_create_order_with_memo_destination(
    control: SandboxControl, make_client: Callable[..., ExchangeClient]
) -> None:
    client = make_client(keys=control.new_keys())
    order = client.create_order(
        btc_to_eth("0.1").model_copy(
            update={
                "instrument_to": XRP,
                "destination_address": XRP_ADDRESS,
                "destination_address_memo": "4242",
            }
        )
    )
    assert order.destination_address_memo == "4242"


def test_order_follows_the_lifecycle(
    sandbox: SandboxServer, control: SandboxControl, make_client: Callable[..., ExchangeClient]
) -> None:
    client = make_client(keys=control.new_keys())
    order = client.create_order(btc_to_eth("0.1"))
    answer = requests.post(
        f"{sandbox.url}/_sandbox/orders/{order.order_id}/events",
        json={"kind": "WITHDRAWAL_COMPLETED"},
        timeout=5,
    )
    assert answer.status_code == 200, answer.text
    done = client.get_order(order.order_id, ETH_ADDRESS)
    assert done.completed is True
    assert done.latest_event is not None
    assert done.latest_event.kind == "WITHDRAWAL_COMPLETED"
    assert done.event_kinds[0] == "CREATION_END"
    assert done.deposits[0].amount == Decimal("0.1")
    assert done.withdrawals[0].tx_id
    assert isinstance(done.withdrawals[0].amount, Decimal)


def test_fixed_rate_order_honours_the_claimed_quote(
    control: SandboxControl, make_client: Callable[..., ExchangeClient]
) -> None:
    client = make_client(keys=control.new_keys())
    quote = client.get_rate(rate(BTC, ETH, "0.1", mode="FIXED"))
    order = client.create_order(btc_to_eth("0.1", rate_mode="FIXED", claimed_public_rate=quote))
    assert order.rate_mode == "FIXED"
    assert order.amount_to_get == quote.amount_to_get
    assert order.claimed_public_rate is not None
    assert Decimal(order.claimed_public_rate["claimedAmountToReceive"]) == quote.amount_to_get
