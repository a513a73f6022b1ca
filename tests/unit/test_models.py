"""Wire models: Decimal amounts end to end, the documented shape variants, camelCase aliases."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from cryptosdk.exchange.models import (
    AddressValidation,
    CreateOrderRequest,
    DepositAddress,
    ExchangeOrder,
    Instrument,
    InstrumentList,
    InstrumentRef,
    OrderList,
    PairList,
    Rate,
    RateRequest,
)

BTC = InstrumentRef(currency_title="BTC", network_title="BTC")
XRP = InstrumentRef(currency_title="XRP", network_title="XRP")


def order_payload(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "orderId": 1042,
        "legacyOrderId": "abc1042",
        "createdAt": "2026-11-27T07:00:00.000Z",
        "rateMode": "FLOATING",
        "claimedDepositAmount": "0.5",
        "amountToGet": "4321.123456",
        "destinationAddress": "rPEPPER7kfTD9w2To4CQk6UCfuHM9c6GDY",
        "destinationAddressMemo": 12345,
        "depositAddress": {
            "depositAddress": "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
            "depositAddressMemo": None,
            "instrument": {"currencyTitle": "BTC", "networkTitle": "BTC"},
        },
        "orderEvents": [],
        "deposits": [],
        "withdrawals": [],
        "completed": False,
        "someFutureField": {"nested": True},
    }
    payload.update(overrides)
    return payload


class TestAmounts:
    @pytest.mark.parametrize("value", ["0.10000000", 1, Decimal("0.1"), 0.1])
    def test_accepts_strings_and_numbers(self, value: object) -> None:
        request = CreateOrderRequest(
            instrument_from=BTC, instrument_to=XRP, destination_address="r1", claimed_deposit_amount=value
        )
        assert isinstance(request.claimed_deposit_amount, Decimal)
        assert request.claimed_deposit_amount == Decimal(str(value))

    def test_float_input_keeps_its_short_decimal_meaning(self) -> None:
        # 0.1 as a float is 0.1000000000000000055...; the sender meant 0.1.
        rate = Rate.model_validate({"price": 0.1})
        assert rate.price == Decimal("0.1")

    def test_json_numbers_parsed_as_decimal_keep_every_digit(self) -> None:
        raw = '{"price": 12345.123456789012345678, "amountToGet": 1e-12}'
        rate = Rate.model_validate(json.loads(raw, parse_float=Decimal))
        assert rate.price == Decimal("12345.123456789012345678")
        assert rate.amount_to_get == Decimal("1E-12")

    @pytest.mark.parametrize("bad", ["NaN", "Infinity", True, "12abc", ""])
    def test_rejects_non_amounts(self, bad: object) -> None:
        with pytest.raises(ValidationError):
            Rate.model_validate({"price": bad})

    def test_serialised_as_plain_decimal_strings_never_floats(self) -> None:
        request = CreateOrderRequest(
            instrument_from=BTC,
            instrument_to=XRP,
            destination_address="r1",
            claimed_deposit_amount=Decimal("1E+2"),
            markup=Decimal("0.50"),
        )
        wire = request.to_wire()
        assert wire["claimedDepositAmount"] == "100"
        assert wire["markup"] == "0.50"
        assert all(not isinstance(v, float) for v in wire.values())

    def test_decimal_round_trip_through_the_wire(self) -> None:
        original = ExchangeOrder.model_validate(order_payload(claimedDepositAmount="0.00012300"))
        again = ExchangeOrder.model_validate(json.loads(json.dumps(original.to_wire())))
        assert again == original
        assert again.to_wire()["claimedDepositAmount"] == "0.00012300"

    def test_python_dump_keeps_decimals(self) -> None:
        rate = Rate.model_validate({"price": "1.5"})
        assert rate.model_dump()["price"] == Decimal("1.5")


class TestOrderShapes:
    def test_deposit_address_object(self) -> None:
        order = ExchangeOrder.model_validate(order_payload())
        assert order.deposit_address is not None
        assert order.deposit_address.deposit_address == "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
        assert order.deposit_address.instrument == BTC

    def test_deposit_address_bare_string(self) -> None:
        order = ExchangeOrder.model_validate(
            order_payload(depositAddress="TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE")
        )
        assert order.deposit_address == DepositAddress(deposit_address="TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE")
        assert order.deposit_address.deposit_address_memo is None

    @pytest.mark.parametrize(
        ("memo", "expected"), [(12345, "12345"), ("12345", "12345"), ("", None), (None, None)]
    )
    def test_memo_as_number_or_string(self, memo: object, expected: str | None) -> None:
        order = ExchangeOrder.model_validate(order_payload(destinationAddressMemo=memo))
        assert order.destination_address_memo == expected

    def test_boolean_memo_is_refused(self) -> None:
        with pytest.raises(ValidationError):
            ExchangeOrder.model_validate(order_payload(destinationAddressMemo=True))

    def test_events_are_newest_first_whatever_the_sender_order(self) -> None:
        events = [
            {"kind": "CREATION_END", "createdAt": "2026-11-27T07:00:00Z"},
            {"kind": "DEPOSIT_REGISTERED", "createdAt": "2026-11-27T07:10:00Z"},
            {"kind": "INCOMING_FUNDS_DETECTED", "createdAt": "2026-11-27T07:05:00Z"},
        ]
        order = ExchangeOrder.model_validate(order_payload(orderEvents=events))
        assert [e.kind for e in order.order_events] == [
            "DEPOSIT_REGISTERED",
            "INCOMING_FUNDS_DETECTED",
            "CREATION_END",
        ]
        assert order.latest_event is not None
        assert order.latest_event.kind == "DEPOSIT_REGISTERED"
        assert order.event_kinds == ["CREATION_END", "INCOMING_FUNDS_DETECTED", "DEPOSIT_REGISTERED"]

    def test_no_events_means_no_latest_event(self) -> None:
        assert ExchangeOrder.model_validate(order_payload()).latest_event is None

    @pytest.mark.parametrize(
        ("raw", "word"), [("Waiting", "waiting"), ("completed", "completed"), (None, None)]
    )
    def test_optional_legacy_status_word(self, raw: str | None, word: str | None) -> None:
        payload = order_payload() if raw is None else order_payload(status=raw)
        assert ExchangeOrder.model_validate(payload).status == word

    def test_deposits_and_withdrawals(self) -> None:
        order = ExchangeOrder.model_validate(
            order_payload(
                deposits=[
                    {
                        "createdAt": "2026-11-27T07:05:00Z",
                        "instrument": {"currencyTitle": "BTC", "networkTitle": "BTC"},
                        "amount": "0.5",
                        "confirmations": 1,
                        "txId": "ab" * 32,
                        "isPending": True,
                    }
                ],
                withdrawals=[{"amount": "4321.1", "networkFee": "0.2", "txId": "CD" * 32}],
                completed=True,
            )
        )
        assert order.deposits[0].amount == Decimal("0.5")
        assert order.deposits[0].is_pending is True
        assert order.withdrawals[0].network_fee == Decimal("0.2")
        assert order.completed is True

    def test_timestamps_are_utc_even_when_naive(self) -> None:
        order = ExchangeOrder.model_validate(order_payload(createdAt="2026-11-27T07:00:00"))
        assert order.created_at == datetime(2026, 11, 27, 7, tzinfo=UTC)
        shifted = ExchangeOrder.model_validate(order_payload(createdAt="2026-11-27T09:00:00+02:00"))
        assert shifted.created_at.tzinfo is UTC
        assert shifted.created_at == order.created_at

    def test_unknown_fields_ignored_and_odd_aliases_read(self) -> None:
        order = ExchangeOrder.model_validate(order_payload(KYCFormLink="https://kyc.example/1"))
        assert order.kyc_form_link == "https://kyc.example/1"
        assert not hasattr(order, "some_future_field")

    def test_missing_required_field_is_refused(self) -> None:
        payload = order_payload()
        del payload["orderId"]
        with pytest.raises(ValidationError):
            ExchangeOrder.model_validate(payload)


class TestAddressValidation:
    @pytest.mark.parametrize("raw", [True, False])
    def test_bare_boolean(self, raw: bool) -> None:
        validation = AddressValidation.model_validate(raw)
        assert (validation.result, validation.message) == (raw, None)

    def test_object_with_message(self) -> None:
        validation = AddressValidation.model_validate({"result": False, "message": "bad checksum"})
        assert (validation.result, validation.message) == (False, "bad checksum")


class TestRate:
    def test_odd_upstream_names(self) -> None:
        rate = Rate.model_validate(
            {
                "amountToGetUSDT": "10.5",
                "marketAmountToGetUSDT": "10.6",
                "platformFee_Absolute": "0.01",
                "fixedRate_maxTimeMinutes": 20,
                "fixedRate_maxAmount": "3",
                "fixedRate_maxRateVolatilityPercent": "1.5",
                "depositRules": {"minAmount": "0.001", "maxAmount": "0"},
                "withdrawalRules": {"minAmount": "1", "maxAmount": "100", "withdrawalFeeRules": [{"x": 1}]},
                "liquidityProviderQuotes": {"sellQuote": {"baseValue": "1", "quoteValue": "2"}},
                "rateMode": "FIXED",
                "updatedAt": "2026-11-27T07:00:00Z",
            }
        )
        assert rate.amount_to_get_usdt == Decimal("10.5")
        assert rate.market_amount_to_get_usdt == Decimal("10.6")
        assert rate.platform_fee_absolute == Decimal("0.01")
        assert rate.fixed_rate_max_time_minutes == 20
        assert rate.fixed_rate_max_rate_volatility_percent == Decimal("1.5")
        assert rate.deposit_rules is not None
        assert rate.deposit_rules.has_max is False
        assert rate.withdrawal_rules is not None
        assert rate.withdrawal_rules.has_max is True
        assert rate.liquidity_provider_quotes is not None
        assert rate.liquidity_provider_quotes.sell_quote is not None
        assert rate.liquidity_provider_quotes.sell_quote.quote_value == Decimal("2")
        assert rate.to_wire()["platformFee_Absolute"] == "0.01"

    def test_rate_request_wire_names(self) -> None:
        request = RateRequest(
            instrument_from_currency_title="USDT",
            instrument_from_network_title="TRC20",
            instrument_to_currency_title="BTC",
            instrument_to_network_title="BTC",
            claimed_deposit_amount="100",
        )
        assert request.to_wire() == {
            "instrumentFromCurrencyTitle": "USDT",
            "instrumentFromNetworkTitle": "TRC20",
            "instrumentToCurrencyTitle": "BTC",
            "instrumentToNetworkTitle": "BTC",
            "claimedDepositAmount": "100",
            "rateMode": "FLOATING",
        }

    def test_unknown_rate_mode_refused_in_requests(self) -> None:
        with pytest.raises(ValidationError):
            RateRequest.model_validate(
                {
                    "instrumentFromCurrencyTitle": "A",
                    "instrumentFromNetworkTitle": "A",
                    "instrumentToCurrencyTitle": "B",
                    "instrumentToNetworkTitle": "B",
                    "rateMode": "SOMETIMES",
                }
            )


class TestCreateOrderRequest:
    def test_camel_case_wire_without_absent_optionals(self) -> None:
        request = CreateOrderRequest.model_validate(
            {
                "instrumentFrom": {"currencyTitle": "BTC", "networkTitle": "BTC"},
                "instrumentTo": {"currencyTitle": "XRP", "networkTitle": "XRP"},
                "destinationAddress": "rPEPPER7kfTD9w2To4CQk6UCfuHM9c6GDY",
                "destinationAddressMemo": 7,
                "claimedDepositAmount": "0.01",
            }
        )
        assert request.to_wire() == {
            "instrumentFrom": {"currencyTitle": "BTC", "networkTitle": "BTC"},
            "instrumentTo": {"currencyTitle": "XRP", "networkTitle": "XRP"},
            "destinationAddress": "rPEPPER7kfTD9w2To4CQk6UCfuHM9c6GDY",
            "destinationAddressMemo": "7",
            "claimedDepositAmount": "0.01",
            "rateMode": "FLOATING",
        }

    def test_empty_destination_refused(self) -> None:
        with pytest.raises(ValidationError):
            CreateOrderRequest(
                instrument_from=BTC, instrument_to=XRP, destination_address="", claimed_deposit_amount=1
            )


class TestLists:
    def test_instrument_list_bare_or_enveloped(self) -> None:
        item = {
            "currencyTitle": "USDT",
            "networkTitle": "TRC20",
            "requiresMemo": False,
            "precisionDecimals": 6,
        }
        for raw in ([item], {"instruments": [item]}, {"data": [item]}):
            instruments = InstrumentList.model_validate(raw).items
            assert instruments == [Instrument.model_validate(item)]
            assert instruments[0].ref == InstrumentRef(currency_title="USDT", network_title="TRC20")

    def test_order_and_pair_lists(self) -> None:
        assert OrderList.model_validate({"items": [order_payload()]}).items[0].order_id == 1042
        pair = {
            "instrumentFrom": {"currencyTitle": "BTC", "networkTitle": "BTC"},
            "instrumentTo": {"currencyTitle": "XRP", "networkTitle": "XRP"},
            "isActive": False,
        }
        assert PairList.model_validate([pair]).items[0].is_active is False

    def test_a_non_list_is_refused(self) -> None:
        with pytest.raises(ValidationError):
            OrderList.model_validate({"message": "nope"})


class TestClaimedPublicRate:
    quote = Rate.model_validate(
        {
            "amountToGet": "2.5",
            "price": "25",
            "finalNetworkFeeAmount": "0.001",
            "platformFee_Absolute": "0",
            "rateMode": "FIXED",
            "fixedRate_maxTimeMinutes": 10,
            "updatedAt": "2026-11-27T07:00:00Z",
        }
    )

    def test_rate_becomes_the_claimed_rate_object(self) -> None:
        claimed = self.quote.claimed_public_rate()
        assert claimed["claimedAmountToReceive"] == "2.5"
        assert claimed["price"] == "25"
        assert claimed["fixedRate_maxTimeMinutes"] == 10
        assert "fixedRate_maxAmount" not in claimed

    def test_create_order_accepts_a_rate_or_the_object(self) -> None:
        base = {
            "instrument_from": BTC,
            "instrument_to": XRP,
            "destination_address": "r1",
            "claimed_deposit_amount": 1,
        }
        from_rate = CreateOrderRequest.model_validate({**base, "claimed_public_rate": self.quote})
        from_dict = CreateOrderRequest.model_validate(
            {**base, "claimed_public_rate": self.quote.claimed_public_rate()}
        )
        assert from_rate == from_dict
        assert from_rate.to_wire()["claimedPublicRate"]["claimedAmountToReceive"] == "2.5"

    def test_a_bare_number_is_not_a_claimed_rate(self) -> None:
        # A price alone cannot be honoured; refusing it beats silently creating a floating order.
        with pytest.raises(ValidationError):
            CreateOrderRequest(
                instrument_from=BTC,
                instrument_to=XRP,
                destination_address="r1",
                claimed_deposit_amount=1,
                claimed_public_rate=Decimal("25"),
            )
