"""The API contract: camelCase, decimals as exact strings, times as ISO 8601 UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError

from cryptosdk.api.error_mapping import answer_for
from cryptosdk.api.models import CreateOrderBody, InstrumentOut, LegOut, OrderOut, RateOut
from cryptosdk.domain.order import Leg, Order, Party, RateMode, StatusChange, ValidationFailedError
from cryptosdk.domain.status import OrderStatus
from cryptosdk.exchange.models import Instrument, Rate

BODY = {
    "from": {"currency": "BTC", "network": "BTC"},
    "to": {"currency": "ETH", "network": "ERC20"},
    "amount": "0.050",
    "destination": {"address": "0xabc", "memo": ""},
    "userId": "u1",
}


def test_create_body_parses_camel_case_and_keeps_the_amount_exact() -> None:
    body = CreateOrderBody.model_validate(BODY)
    request = body.to_domain(user_id="u1")
    assert request.amount == Decimal("0.050")
    assert str(request.amount) == "0.050"
    assert request.from_leg == Leg(currency="BTC", network="BTC")
    assert request.destination.memo is None  # an empty memo means none
    assert request.rate_mode is RateMode.FLOATING


@pytest.mark.parametrize("amount", ["1e5", "-1", "0.1.2", " 1", "1,5", "", "01.5", 0.5])
def test_amounts_must_be_plain_decimal_strings(amount: object) -> None:
    with pytest.raises(ValidationError):
        CreateOrderBody.model_validate({**BODY, "amount": amount})


@pytest.mark.parametrize("amount", ["abc", "", "1,5"])
def test_an_unparsable_amount_is_a_field_level_422_never_zero(amount: str) -> None:
    # A body that skipped validation (built or changed in code) reaches to_domain unparsed.
    body = CreateOrderBody.model_validate(BODY).model_copy(update={"amount": amount})
    with pytest.raises(ValidationFailedError) as refused:
        body.to_domain(user_id="u1")
    answer = answer_for(refused.value)
    assert answer.status == 422
    assert [field.field for field in answer.fields] == ["amount"]
    assert "positive decimal" in answer.fields[0].reason


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError):
        CreateOrderBody.model_validate({**BODY, "amout": "1"})


def test_the_token_user_wins_over_the_body() -> None:
    assert CreateOrderBody.model_validate(BODY).to_domain(user_id="from-token").user_id == "from-token"


def test_order_out_is_camel_case_with_string_amounts() -> None:
    at = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    order = Order(
        id="ord_1",
        user_id="u1",
        exchange_order_id=7,
        from_leg=Leg(currency="BTC", network="BTC"),
        to_leg=Leg(currency="XRP", network="XRP"),
        rate_mode=RateMode.FIXED,
        claimed_deposit_amount=Decimal("0.10"),
        amount_to_receive=Decimal("1234.500000"),
        destination=Party(address="rX", memo="42"),
        deposit_address="bc1q",
        deposit_memo=None,
        status=OrderStatus.CONFIRMING,
        status_history=(StatusChange(status=OrderStatus.CONFIRMING, at=at),),
        created_at=at,
        updated_at=at,
        version=3,
    )
    out = OrderOut.from_order(order).model_dump(mode="json", by_alias=True)
    assert out["deposit"] == {
        "address": "bc1q",
        "memo": None,
        "amount": "0.10",
        "currency": "BTC",
        "network": "BTC",
    }
    assert out["amountToReceive"] == "1234.500000"
    assert out["createdAt"] == "2026-03-01T12:00:00.000000Z"
    assert out["statusHistory"] == [
        {"status": "confirming", "at": "2026-03-01T12:00:00.000000Z", "cause": None, "reason": None}
    ]
    assert out["from"] == {"currency": "BTC", "network": "BTC"}


def test_instrument_out_maps_the_exchange_fields() -> None:
    out = InstrumentOut.from_instrument(
        Instrument(
            currency_title="XRP",
            network_title="XRP",
            currency_friendly_title="Ripple",
            instrument_type="crypto",
            precision_decimals=6,
            requires_memo=True,
            slug="xrp",
        )
    ).model_dump(by_alias=True)
    assert out == {"currency": "XRP", "network": "XRP", "name": "Ripple", "kind": "crypto",
                   "requiresMemo": True, "precision": 6, "slug": "xrp"}  # fmt: skip


def test_a_zero_maximum_means_no_maximum() -> None:
    rate = Rate.model_validate(
        {"depositRules": {"minAmount": "0.001", "maxAmount": "0"}, "amountToGet": "5", "price": "50"}
    )
    out = RateOut.from_rate(
        rate,
        LegOut(currency="BTC", network="BTC"),
        LegOut(currency="ETH", network="ERC20"),
        "0.1",
        "FLOATING",
    )
    assert out.max is None
    assert out.min == "0.001"
    assert out.amount_to_receive == "5"
