"""The local half of the pre-create pipeline: everything decided before any upstream call."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cryptosdk.domain.order import Leg, OrderRequest, Party, RateMode, ValidationFailedError
from cryptosdk.exchange.client import ExchangeClient
from cryptosdk.exchange.models import Instrument
from cryptosdk.exchange.secrets import StaticKeyProvider
from cryptosdk.orders.instruments import Catalogue
from cryptosdk.orders.validation import check_amount, check_party_format, validate_order

BTC = Instrument(currency_title="BTC", network_title="BTC", precision_decimals=8)
ETH = Instrument(currency_title="ETH", network_title="ERC20", precision_decimals=18)
XRP = Instrument(currency_title="XRP", network_title="XRP", precision_decimals=6, requires_memo=True)
OMG = Instrument(currency_title="OMG", network_title="ERC20", precision_decimals=18, is_active=False)
USD = Instrument(currency_title="USD", network_title="USD", precision_decimals=2, instrument_type="fiat")
CATALOGUE = Catalogue((BTC, ETH, XRP, OMG, USD))
# Local checks refuse these requests before any upstream call: a call would fail to connect.
UNREACHABLE = ExchangeClient("https://exchange.invalid", StaticKeyProvider("pk", "sk"))

BTC_ADDRESS = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
ETH_ADDRESS = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
XRP_ADDRESS = "rHb9CJAWyB4rj91VRWn96DkukG4bwdtyTh"


def request(**changes: object) -> OrderRequest:
    base = OrderRequest(
        from_leg=Leg(currency="BTC", network="BTC"),
        to_leg=Leg(currency="ETH", network="ERC20"),
        amount=Decimal("0.05"),
        rate_mode=RateMode.FLOATING,
        destination=Party(address=ETH_ADDRESS),
        refund=Party(address=BTC_ADDRESS),
        user_id="user-1",
    )
    return base.model_copy(update=changes)


def reasons(req: OrderRequest) -> dict[str, str]:
    with pytest.raises(ValidationFailedError) as caught:
        validate_order(req, client=UNREACHABLE, catalogue=CATALOGUE)
    return {f.field: f.reason for f in caught.value.fields}


@pytest.mark.parametrize(
    ("amount", "ok"),
    [("0.05", True), ("1", True), ("0.00000001", True), ("0.000000001", False), ("0", False), ("-1", False)],
)
def test_amount_must_be_positive_within_the_instrument_precision(amount: str, ok: bool) -> None:
    assert (check_amount(Decimal(amount), BTC) is None) is ok


def test_trailing_zeros_beyond_precision_still_count_as_places() -> None:
    problem = check_amount(Decimal("0.100000000"), BTC)
    assert problem is not None
    assert "8 decimal places" in problem.reason


def test_infinite_and_nan_amounts_are_refused() -> None:
    assert check_amount(Decimal("Infinity"), BTC) is not None
    assert check_amount(Decimal("NaN"), BTC) is not None


def test_memo_required_network_without_memo_is_refused() -> None:
    problems = check_party_format(Party(address=XRP_ADDRESS), XRP, "destination")
    assert [p.field for p in problems] == ["destination.memo"]
    assert check_party_format(Party(address=XRP_ADDRESS, memo="42"), XRP, "destination") == []


def test_every_local_problem_is_reported_at_once() -> None:
    found = reasons(
        request(
            user_id=None,
            amount=Decimal("0.123456789"),
            destination=Party(address="0x1234"),
            refund=Party(address="nonsense"),
        )
    )
    assert set(found) == {"userId", "amount", "destination.address", "refund.address"}


@pytest.mark.parametrize(
    ("leg_field", "leg", "words"),
    [
        ("from", Leg(currency="OMG", network="ERC20"), "disabled"),
        ("to", Leg(currency="USD", network="USD"), "fiat"),
        ("from", Leg(currency="USD", network="USD"), "fiat"),
    ],
)
def test_inactive_and_fiat_legs_are_refused(leg_field: str, leg: Leg, words: str) -> None:
    change = {"from_leg": leg} if leg_field == "from" else {"to_leg": leg, "destination": Party(address="x")}
    found = reasons(request(**change))
    assert words in found[leg_field]


def test_catalogue_lookup_ignores_case_and_padding() -> None:
    assert CATALOGUE.find(" btc ", "Btc") == BTC
    assert CATALOGUE.of_kind("fiat") == [USD]
