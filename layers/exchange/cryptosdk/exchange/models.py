"""The exchange's wire models (upstream contract), pydantic v2.

Attributes are snake_case, the wire is camelCase. Amounts are Decimal, accepted as strings or
numbers and written as plain decimal strings, never floats. Unknown fields are ignored so an
upstream addition never breaks us; documented shape variants are normalised here, once.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from cryptosdk.exchange.money import Amount


def _memo(value: Any) -> Any:
    # Destination tags arrive as numbers from some clients; the wire and our storage use text.
    if isinstance(value, bool):
        raise ValueError("a memo cannot be a boolean")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and not value.strip():
        return None
    return value


Memo = Annotated[str | None, BeforeValidator(_memo)]


def _utc(value: datetime) -> datetime:
    # The exchange sends ISO 8601 with Z; a naive value can only mean UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# Not the domain's `UtcDatetime`: this one accepts the exchange's naive times and, in JSON, keeps
# pydantic's ISO form, which is what `claimedPublicRate.updatedAt` echoes back to the exchange.
WireDatetime = Annotated[datetime, AfterValidator(_utc)]


class RateMode(StrEnum):
    """The exchange's two rate modes; the domain and the API use this one enum too."""

    FLOATING = "FLOATING"
    FIXED = "FIXED"


class WireModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="ignore",
        frozen=True,
        # Built on first use, not at import: a cold start pays only for the models its request
        # touches (building all of them at import took ~25 ms of every function's init).
        defer_build=True,
    )

    def to_wire(self) -> dict[str, Any]:
        """The JSON-ready body: camelCase keys, amounts as strings, absent optionals left out."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class InstrumentRef(WireModel):
    currency_title: str
    network_title: str


class Instrument(WireModel):
    currency_title: str
    network_title: str
    currency_friendly_title: str | None = None
    slug: str | None = None
    instrument_type: str = "crypto"
    precision_decimals: int | None = None
    requires_memo: bool = False
    is_active: bool = True
    currency_logo_link: str | None = None
    okex_currency_friendly_title: str | None = None

    @property
    def ref(self) -> InstrumentRef:
        return InstrumentRef(currency_title=self.currency_title, network_title=self.network_title)


class AddressValidation(WireModel):
    result: bool
    message: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _bare_boolean(cls, value: Any) -> Any:
        if isinstance(value, bool):
            return {"result": value}
        return value


class RateRequest(WireModel):
    instrument_from_currency_title: str
    instrument_from_network_title: str
    instrument_to_currency_title: str
    instrument_to_network_title: str
    claimed_deposit_amount: Amount | None = None
    claimed_deposit_amount_currency: str | None = None
    rate_mode: RateMode = RateMode.FLOATING
    markup: Amount | None = None


class AmountRules(WireModel):
    min_amount: Amount | None = None
    # "0" means no maximum (contract); see `has_max`.
    max_amount: Amount | None = None
    withdrawal_fee_rules: Any = None

    @property
    def has_max(self) -> bool:
        return self.max_amount is not None and self.max_amount > 0


class QuoteSide(WireModel):
    base_value: Amount | None = None
    quote_value: Amount | None = None


class Quotes(WireModel):
    sell_quote: QuoteSide | None = None
    buy_quote: QuoteSide | None = None


class Rate(WireModel):
    instrument_from: InstrumentRef | None = None
    instrument_to: InstrumentRef | None = None
    deposit_rules: AmountRules | None = None
    withdrawal_rules: AmountRules | None = None
    price: Amount | None = None
    reverse_price: Amount | None = None
    amount_to_get: Amount | None = None
    final_network_fee_amount: Amount | None = None
    enable_fixed_rate: bool | None = None
    rate_mode: RateMode | None = None
    min_confirmations_to_trade: int | None = None
    min_confirmations_to_withdraw: int | None = None
    updated_at: WireDatetime | None = None
    liquidity_provider_public_code: str | None = None
    amount_to_give: Amount | None = None
    amount_to_give_currency_title: str | None = None
    market_min_amount: Amount | None = None
    market_left_price: Amount | None = None
    market_right_price: Amount | None = None
    market_amount_to_get: Amount | None = None
    market_amount_to_get_usdt: Amount | None = Field(default=None, alias="marketAmountToGetUSDT")
    amount_to_get_usdt: Amount | None = Field(default=None, alias="amountToGetUSDT")
    liquidity_provider_quotes: Quotes | None = None
    quotes_without_network_fee: Quotes | None = None
    platform_fee_absolute: Amount | None = Field(default=None, alias="platformFee_Absolute")
    fixed_rate_max_time_minutes: int | None = Field(default=None, alias="fixedRate_maxTimeMinutes")
    fixed_rate_max_amount: Amount | None = Field(default=None, alias="fixedRate_maxAmount")
    fixed_rate_max_rate_volatility_percent: Amount | None = Field(
        default=None, alias="fixedRate_maxRateVolatilityPercent"
    )

    def claimed_public_rate(self) -> dict[str, Any]:
        """The quote as create-order's `claimedPublicRate` (the provider SDK's shape): a FIXED
        order is honoured at `claimedAmountToReceive` while the rate stays within its allowance."""
        wire = self.to_wire()
        claimed: dict[str, Any] = {"claimedAmountToReceive": wire.get("amountToGet")}
        for name in (
            "price",
            "finalNetworkFeeAmount",
            "platformFee_Absolute",
            "updatedAt",
            "fixedRate_maxAmount",
            "fixedRate_maxTimeMinutes",
            "fixedRate_maxRateVolatilityPercent",
        ):
            if name in wire:
                claimed[name] = wire[name]
        return {key: value for key, value in claimed.items() if value is not None}


class Pair(WireModel):
    instrument_from: InstrumentRef
    instrument_to: InstrumentRef
    is_active: bool = True


class CreateOrderRequest(WireModel):
    instrument_from: InstrumentRef
    instrument_to: InstrumentRef
    destination_address: str = Field(min_length=1)
    destination_address_memo: Memo = None
    refund_address: str | None = None
    refund_address_memo: Memo = None
    claimed_deposit_amount: Amount
    rate_mode: RateMode = RateMode.FLOATING
    markup: Amount | None = None
    # The quote being honoured (fixed rate): the exchange's own rate object, passed back as given.
    # A `Rate` is accepted and turned into that object.
    claimed_public_rate: dict[str, Any] | None = None
    claimed_network_fee: Amount | None = None

    @field_validator("claimed_public_rate", mode="before")
    @classmethod
    def _rate_object(cls, value: Any) -> Any:
        return value.claimed_public_rate() if isinstance(value, Rate) else value


class DepositAddress(WireModel):
    deposit_address: str
    deposit_address_memo: Memo = None
    instrument: InstrumentRef | None = None

    @model_validator(mode="before")
    @classmethod
    def _bare_string(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"depositAddress": value}
        return value


class OrderEvent(WireModel):
    kind: str
    created_at: WireDatetime | None = None


class Deposit(WireModel):
    created_at: WireDatetime | None = None
    instrument: InstrumentRef | None = None
    amount: Amount
    confirmations: int = 0
    tx_id: str | None = None
    is_pending: bool = False


class Withdrawal(WireModel):
    created_at: WireDatetime | None = None
    instrument: InstrumentRef | None = None
    amount: Amount
    network_fee: Amount | None = None
    tx_id: str | None = None


class OrderPair(WireModel):
    instrument_from: InstrumentRef
    instrument_to: InstrumentRef


class ExchangeOrder(WireModel):
    order_id: int
    legacy_order_id: str | None = None
    created_at: WireDatetime
    rate_mode: RateMode | None = None
    claimed_deposit_amount: Amount | None = None
    amount_to_get: Amount | None = None
    pair: OrderPair | str | None = None
    destination_address: str
    destination_address_memo: Memo = None
    refund_address: str | None = None
    refund_address_memo: Memo = None
    deposit_address: DepositAddress | None = None
    order_events: list[OrderEvent] = Field(default_factory=list)
    deposits: list[Deposit] = Field(default_factory=list)
    withdrawals: list[Withdrawal] = Field(default_factory=list)
    completed: bool = False
    user_email: str | None = None
    is_platform_email: bool | None = None
    markup: Amount | None = None
    claimed_network_fee: Amount | None = None
    claimed_public_rate: dict[str, Any] | None = None
    kyc_form_link: str | None = Field(default=None, alias="KYCFormLink")
    liquidity_provider_public_code: str | None = None
    # Older answers carry a status word; anything else is kept as given rather than refused.
    status: str | None = None

    @field_validator("order_events")
    @classmethod
    def _newest_first(cls, events: list[OrderEvent]) -> list[OrderEvent]:
        # The contract says newest first; sort (stably) so consumers never depend on the sender.
        epoch = datetime.min.replace(tzinfo=UTC)
        return sorted(events, key=lambda event: event.created_at or epoch, reverse=True)

    @field_validator("status", mode="before")
    @classmethod
    def _status_word(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @property
    def latest_event(self) -> OrderEvent | None:
        return self.order_events[0] if self.order_events else None

    @property
    def event_kinds(self) -> list[str]:
        """Event kinds oldest first: the path the order took."""
        return [event.kind for event in reversed(self.order_events)]


class OrderList(WireModel):
    """The order list answer: a bare list, or an envelope holding it."""

    items: list[ExchangeOrder]

    @model_validator(mode="before")
    @classmethod
    def _envelope(cls, value: Any) -> Any:
        return {"items": _unwrap_list(value, "orders")}


class PairList(WireModel):
    items: list[Pair]

    @model_validator(mode="before")
    @classmethod
    def _envelope(cls, value: Any) -> Any:
        return {"items": _unwrap_list(value, "pairs")}


class InstrumentList(WireModel):
    items: list[Instrument]

    @model_validator(mode="before")
    @classmethod
    def _envelope(cls, value: Any) -> Any:
        return {"items": _unwrap_list(value, "instruments")}


def _unwrap_list(value: Any, name: str) -> Any:
    if isinstance(value, dict):
        for key in (name, "items", "data", "results"):
            if isinstance(value.get(key), list):
                return value[key]
    return value
