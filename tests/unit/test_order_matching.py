"""Which listed exchange order a create-order request made (pure: no HTTP)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cryptosdk.exchange.models import ExchangeOrder
from cryptosdk.orders.reconcile import MATCH_CLOCK_SKEW, find_matching_order
from tests.integration.client.routes import ETH_ADDRESS, btc_to_eth

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


def listed(order_id: int, at: datetime, pair: Any = None, amount: str = "0.1") -> ExchangeOrder:
    body: dict[str, Any] = {
        "orderId": order_id,
        "createdAt": at.isoformat().replace("+00:00", "Z"),
        "destinationAddress": ETH_ADDRESS,
        "claimedDepositAmount": amount,
        "pair": pair,
    }
    return ExchangeOrder.model_validate(body)


@pytest.mark.parametrize("pair", ["WBTC/ETH", "BTC/WETH", "BTCB-ETH", "ETH/BTC"])
def test_a_textual_pair_must_name_both_whole_currencies_in_order(pair: str) -> None:
    found = find_matching_order([listed(1, T0, pair)], btc_to_eth("0.1"), since=T0 - MATCH_CLOCK_SKEW)

    assert found is None


@pytest.mark.parametrize("pair", ["BTC/ETH", "btc_eth", "BTC (BTC) -> ETH (ERC20)"])
def test_a_textual_pair_naming_both_currencies_matches(pair: str) -> None:
    found = find_matching_order([listed(1, T0, pair)], btc_to_eth("0.1"), since=T0 - MATCH_CLOCK_SKEW)

    assert found is not None
    assert found.order_id == 1


def test_claimed_orders_are_never_matched_again() -> None:
    orders = [listed(1, T0), listed(2, T0 + timedelta(seconds=5))]

    found = find_matching_order(orders, btc_to_eth("0.1"), since=T0 - MATCH_CLOCK_SKEW, exclude={2})

    assert found is not None
    assert found.order_id == 1


def test_the_order_created_first_after_the_anchor_wins_over_one_just_before_it() -> None:
    # Two identical intents written a minute apart: each takes the order that followed it.
    before = listed(1, T0 - timedelta(seconds=10))
    first = listed(2, T0 + timedelta(seconds=1))
    second = listed(3, T0 + timedelta(seconds=61))
    orders = [second, first, before]

    found = find_matching_order(orders, btc_to_eth("0.1"), since=T0 - MATCH_CLOCK_SKEW, anchor=T0)

    assert found is not None
    assert found.order_id == 2


def test_with_nothing_after_the_anchor_the_closest_one_within_the_skew_is_taken() -> None:
    orders = [listed(1, T0 - timedelta(seconds=25)), listed(2, T0 - timedelta(seconds=5))]

    found = find_matching_order(orders, btc_to_eth("0.1"), since=T0 - MATCH_CLOCK_SKEW, anchor=T0)

    assert found is not None
    assert found.order_id == 2
