"""Pydantic models for every body and query the sandbox accepts (its input boundary)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

RateMode = Literal["FLOATING", "FIXED"]


def _memo_text(value: Any) -> str | None:
    # Memos and tags arrive as JSON numbers (the provider's SDK types them int) or strings.
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError("memo must be a string or a number")
    if isinstance(value, int | str):
        return str(value)
    raise ValueError("memo must be a string or a number")


class _Body(BaseModel):
    # Unknown fields are ignored, as the exchange does (the SDK sends browserFingerprint, referrerId, ...).
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class InstrumentRef(_Body):
    currency_title: str = Field(alias="currencyTitle", min_length=1)
    network_title: str = Field(alias="networkTitle", min_length=1)


class ValidateAddressBody(InstrumentRef):
    address: str
    memo: str | None = None

    _memo = field_validator("memo", mode="before")(_memo_text)


class RateQuery(_Body):
    from_currency: str = Field(alias="instrumentFromCurrencyTitle", min_length=1)
    from_network: str = Field(alias="instrumentFromNetworkTitle", min_length=1)
    to_currency: str = Field(alias="instrumentToCurrencyTitle", min_length=1)
    to_network: str = Field(alias="instrumentToNetworkTitle", min_length=1)
    claimed_deposit_amount: Decimal | None = Field(default=None, alias="claimedDepositAmount", gt=0)
    claimed_deposit_amount_currency: str | None = Field(default=None, alias="claimedDepositAmountCurrency")
    rate_mode: RateMode = Field(default="FLOATING", alias="rateMode")
    markup: Decimal = Field(default=Decimal(0), ge=0, lt=100)

    @field_validator("claimed_deposit_amount", "markup", mode="before")
    @classmethod
    def _blank_is_absent(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("markup", mode="after")
    @classmethod
    def _markup_default(cls, value: Decimal | None) -> Decimal:
        return Decimal(0) if value is None else value

    @field_validator("claimed_deposit_amount", mode="after")
    @classmethod
    def _finite(cls, value: Decimal | None) -> Decimal | None:
        if value is not None and not value.is_finite():
            raise ValueError("amount must be a finite decimal")
        return value


class CreateOrderBody(_Body):
    instrument_from: InstrumentRef = Field(alias="instrumentFrom")
    instrument_to: InstrumentRef = Field(alias="instrumentTo")
    destination_address: str = Field(alias="destinationAddress", min_length=1)
    destination_address_memo: str | None = Field(default=None, alias="destinationAddressMemo")
    refund_address: str | None = Field(default=None, alias="refundAddress")
    refund_address_memo: str | None = Field(default=None, alias="refundAddressMemo")
    claimed_deposit_amount: Decimal = Field(alias="claimedDepositAmount", gt=0)
    rate_mode: RateMode = Field(default="FLOATING", alias="rateMode")
    markup: Decimal = Field(default=Decimal(0), ge=0, lt=100)
    claimed_public_rate: dict[str, Any] | None = Field(default=None, alias="claimedPublicRate")
    claimed_network_fee: str | None = Field(default=None, alias="claimedNetworkFee")

    _memos = field_validator("destination_address_memo", "refund_address_memo", mode="before")(_memo_text)

    @field_validator("markup", mode="before")
    @classmethod
    def _markup_blank(cls, value: Any) -> Any:
        return 0 if value in (None, "") else value

    @field_validator("refund_address", mode="before")
    @classmethod
    def _refund_blank(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("claimed_network_fee", mode="before")
    @classmethod
    def _fee_text(cls, value: Any) -> Any:
        return None if value is None else str(value)

    @field_validator("claimed_deposit_amount", mode="after")
    @classmethod
    def _finite(cls, value: Decimal) -> Decimal:
        if not value.is_finite():
            raise ValueError("amount must be a finite decimal")
        return value


class EventCommand(_Body):
    kind: str = Field(min_length=1)


# "drop-after": the request is carried out, then the connection dropped (the answer is lost);
# "late": the connection is dropped at once and the request carried out `latencyMs` later (a create
# the exchange finishes after the caller gave up on it).
FaultKind = Literal["429", "500", "502", "503", "504", "424", "latency", "drop", "hang", "drop-after", "late"]


class FaultSpec(_Body):
    endpoint: str = Field(default="*", min_length=1)
    kind: FaultKind
    probability: float = Field(default=1.0, ge=0, le=1)
    count: int | None = Field(default=None, ge=1)
    retry_after: float | None = Field(default=None, alias="retryAfter", ge=0)
    latency_ms: float = Field(default=0, alias="latencyMs", ge=0)
    hang_seconds: float = Field(default=30, alias="hangSeconds", ge=0)

    @field_validator("kind", mode="before")
    @classmethod
    def _kind_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class ConfigPatch(_Body):
    step_seconds: float | None = Field(default=None, alias="stepSeconds", ge=0)
    lapse_seconds: float | None = Field(default=None, alias="lapseSeconds", ge=0)
    timestamp_window: float | None = Field(default=None, alias="timestampWindow", gt=0)
    unpaid_fraction: float | None = Field(default=None, alias="unpaidFraction", ge=0, le=1)


class KeysBody(_Body):
    public_key: str = Field(alias="publicKey", min_length=1)
    secret_key: str = Field(alias="secretKey", min_length=1)
    replace: bool = False
