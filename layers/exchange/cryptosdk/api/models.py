"""Our HTTP contract: camelCase JSON, decimals as strings, times as ISO 8601 UTC.

These models are what the OpenAPI document shows; converting to and from the domain happens here
so handlers stay a parse-call-shape affair.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from pydantic.alias_generators import to_camel

from cryptosdk.domain.order import (
    AddressVerdict,
    ChangeCause,
    FieldError,
    Leg,
    Order,
    OrderRequest,
    Party,
    RateMode,
    ValidationFailedError,
    to_iso,
)
from cryptosdk.domain.status import OrderStatus
from cryptosdk.exchange.models import Instrument, Rate
from cryptosdk.exchange.money import decimal_text, optional_decimal_text

# No control characters (C0, DEL, C1: NUL, newlines, escapes) in anything we store, log or hand the exchange:
# JSON can carry them, but no currency, address, memo or id of ours contains one. Surrounding
# whitespace (a tab included) is allowed because it is stripped before the check; the document
# then says exactly what the model accepts.
NO_CONTROLS = r"^\s*[^\x00-\x1f\x7f-\x9f]*\s*$"
Code = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32, pattern=NO_CONTROLS)
]
Address = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=256, pattern=NO_CONTROLS)
]
# The API's memo text (bounded, no controls); the exchange wire's `models.Memo` normalises numbers.
MemoText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=128, pattern=NO_CONTROLS)]
Ident = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128, pattern=NO_CONTROLS)
]
# A header value is used as it came (never stripped), so not even surrounding whitespace controls pass;
# a NUL or a newline in an Idempotency-Key would otherwise reach DynamoDB keys and log lines.
HEADER_TEXT = r"^[^\x00-\x1f\x7f-\x9f]+$"
# A positive decimal written as a string: no exponent, no sign, no thousands separators.
DECIMAL = r"^(0|[1-9][0-9]{0,30})(\.[0-9]{1,30})?$"
DecimalString = Annotated[str, StringConstraints(pattern=DECIMAL)]

# A caller reads these instead of the regular expression a pattern error would quote.
PATTERN_REASONS = {
    NO_CONTROLS: "Must not contain control characters.",
    HEADER_TEXT: "Must not contain control characters.",
    DECIMAL: 'Must be a positive decimal number written as a string, like "0.05" '
    "(no sign, exponent or separators; at most 30 digits each side of the point).",
}


class ApiModel(BaseModel):
    # defer_build: each model's validator is built on first use, so a cold start builds only the
    # models its route touches (see cryptosdk.exchange.models).
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", defer_build=True
    )


# -- requests -----------------------------------------------------------------------------------


class LegIn(ApiModel):
    currency: Code = Field(examples=["BTC"])
    network: Code = Field(examples=["BTC"])


class PartyIn(ApiModel):
    address: Address
    memo: MemoText | None = None


class CreateOrderBody(ApiModel):
    from_: LegIn = Field(alias="from")
    to: LegIn
    amount: DecimalString = Field(description="Deposit amount in the 'from' currency", examples=["0.05"])
    rate_mode: Literal["FLOATING", "FIXED"] = "FLOATING"
    destination: PartyIn
    refund: PartyIn | None = None
    user_id: Ident | None = Field(
        default=None, description="Required unless the caller's token names the user"
    )
    session_id: Ident | None = None
    external_ref: Ident | None = None

    def to_domain(self, user_id: str | None) -> OrderRequest:
        try:
            amount = Decimal(self.amount)
        except InvalidOperation:
            # The pattern refuses these when the body is validated; a body built or changed
            # without validation must still never become an order for 0.
            raise ValidationFailedError(
                [FieldError(field="amount", reason=PATTERN_REASONS[DECIMAL])]
            ) from None
        return OrderRequest(
            from_leg=Leg(currency=self.from_.currency, network=self.from_.network),
            to_leg=Leg(currency=self.to.currency, network=self.to.network),
            amount=amount,
            rate_mode=RateMode(self.rate_mode),
            destination=Party(address=self.destination.address, memo=self.destination.memo or None),
            refund=Party(address=self.refund.address, memo=self.refund.memo or None) if self.refund else None,
            user_id=user_id,
            session_id=self.session_id,
            external_ref=self.external_ref,
        )


class AddressValidateBody(ApiModel):
    currency: Code
    network: Code
    address: Address
    memo: MemoText | None = None


# -- responses ----------------------------------------------------------------------------------


class InstrumentOut(ApiModel):
    currency: str
    network: str
    name: str
    kind: Literal["crypto", "fiat"]
    requires_memo: bool
    precision: int | None
    slug: str | None

    @classmethod
    def from_instrument(cls, i: Instrument) -> InstrumentOut:
        kind: Literal["crypto", "fiat"] = "fiat" if i.instrument_type.lower() == "fiat" else "crypto"
        return cls(
            currency=i.currency_title,
            network=i.network_title,
            name=i.currency_friendly_title or i.currency_title,
            kind=kind,
            requires_memo=i.requires_memo,
            precision=i.precision_decimals,
            slug=i.slug,
        )


class InstrumentsOut(ApiModel):
    instruments: list[InstrumentOut]


class LegOut(ApiModel):
    currency: str
    network: str


class RateOut(ApiModel):
    from_: LegOut = Field(alias="from")
    to: LegOut
    amount: str | None = Field(description="Deposit amount quoted")
    amount_to_receive: str | None
    rate: str | None
    network_fee: str | None
    min: str | None
    max: str | None = Field(description="null when the route has no maximum")
    rate_mode: str
    expires_at: str | None = Field(default=None, description="Fixed quotes: when the quote lapses")

    @classmethod
    def from_rate(cls, rate: Rate, frm: LegOut, to: LegOut, amount: str | None, mode: str) -> RateOut:
        rules = rate.deposit_rules
        expires = None
        if mode == "FIXED" and rate.fixed_rate_max_time_minutes and rate.updated_at:
            from datetime import timedelta

            expires = to_iso(rate.updated_at + timedelta(minutes=rate.fixed_rate_max_time_minutes))
        maximum = rules.max_amount if rules else None
        return cls(
            from_=frm,
            to=to,
            amount=amount if amount is not None else optional_decimal_text(rate.amount_to_give),
            amount_to_receive=optional_decimal_text(rate.amount_to_get),
            rate=optional_decimal_text(rate.price),
            network_fee=optional_decimal_text(rate.final_network_fee_amount),
            min=optional_decimal_text(rules.min_amount) if rules else None,
            max=optional_decimal_text(maximum) if maximum else None,
            rate_mode=rate.rate_mode or mode,
            expires_at=expires,
        )


class AddressVerdictOut(ApiModel):
    valid: bool
    memo_required: bool
    reason: str | None

    @classmethod
    def from_verdict(cls, v: AddressVerdict) -> AddressVerdictOut:
        return cls(valid=v.valid, memo_required=v.memo_required, reason=v.reason)


class DepositOut(ApiModel):
    address: str | None
    memo: str | None = Field(description="Must be shown to the user when present")
    amount: str
    currency: str
    network: str


class PartyOut(ApiModel):
    address: str
    memo: str | None


class StatusChangeOut(ApiModel):
    status: OrderStatus
    at: str
    cause: ChangeCause | None = Field(
        default=None, description="What moved it: request, exchange, reconciliation, refusal or expiry"
    )
    reason: str | None = None


class DepositSeenOut(ApiModel):
    amount: str | None
    tx_id: str | None
    confirmations: int | None


class WithdrawalOut(ApiModel):
    amount: str | None
    network_fee: str | None
    tx_id: str | None


class OrderOut(ApiModel):
    id: str
    exchange_order_id: int | None
    status: OrderStatus
    deposit: DepositOut
    amount_to_receive: str | None
    rate_mode: str
    from_: LegOut = Field(alias="from")
    to: LegOut
    destination: PartyOut
    refund: PartyOut | None
    user_id: str
    session_id: str | None
    external_ref: str | None
    created_at: str
    updated_at: str
    status_history: list[StatusChangeOut]
    deposits: list[DepositSeenOut]
    withdrawals: list[WithdrawalOut]

    @classmethod
    def from_order(cls, o: Order) -> OrderOut:
        return cls(
            id=o.id,
            exchange_order_id=o.exchange_order_id,
            status=o.status,
            deposit=DepositOut(
                address=o.deposit_address,
                memo=o.deposit_memo,
                amount=decimal_text(o.claimed_deposit_amount),
                currency=o.from_leg.currency,
                network=o.from_leg.network,
            ),
            amount_to_receive=optional_decimal_text(o.amount_to_receive),
            rate_mode=o.rate_mode.value,
            from_=LegOut(currency=o.from_leg.currency, network=o.from_leg.network),
            to=LegOut(currency=o.to_leg.currency, network=o.to_leg.network),
            destination=PartyOut(address=o.destination.address, memo=o.destination.memo),
            refund=PartyOut(address=o.refund.address, memo=o.refund.memo) if o.refund else None,
            user_id=o.user_id,
            session_id=o.session_id,
            external_ref=o.external_ref,
            created_at=to_iso(o.created_at),
            updated_at=to_iso(o.updated_at),
            status_history=[
                StatusChangeOut(status=h.status, at=to_iso(h.at), cause=h.cause, reason=h.reason)
                for h in o.status_history
            ],
            deposits=[
                DepositSeenOut(
                    amount=optional_decimal_text(d.amount), tx_id=d.tx_id, confirmations=d.confirmations
                )
                for d in o.deposits
            ],
            withdrawals=[
                WithdrawalOut(
                    amount=optional_decimal_text(w.amount),
                    network_fee=optional_decimal_text(w.network_fee),
                    tx_id=w.tx_id,
                )
                for w in o.withdrawals
            ],
        )


class OrdersPage(ApiModel):
    orders: list[OrderOut]
    next_cursor: str | None = Field(description="Pass back as ?cursor= for the next page; null on the last")


class FieldReason(ApiModel):
    field: str
    reason: str


class ErrorDetail(ApiModel):
    code: str
    message: str
    fields: list[FieldReason] | None = None
    order_id: str | None = Field(
        default=None,
        description="The order this answer is about: on a refused create, the failed order that the "
        "Idempotency-Key is bound to (every retry with that key gets this same answer)",
    )
    request_id: str | None


class ErrorResponse(ApiModel):
    error: ErrorDetail


class GatewayRefusal(ApiModel):
    """API Gateway's own body when it refuses a credential, before any function of ours runs."""

    message: str = Field(examples=["Forbidden"])
