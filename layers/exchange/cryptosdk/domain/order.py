"""The order as the backend thinks of it (no HTTP, no DynamoDB), plus domain errors.

Three kinds of model stay apart: the API contract (`api_models`), this domain model, and the
stored item (`storage`, which owns how an Order becomes a DynamoDB item and back).
"""

from __future__ import annotations

import uuid
import zlib
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, field_validator

from cryptosdk.domain.status import OrderStatus, can_transition_with_history
from cryptosdk.exchange.models import RateMode as RateMode  # the exchange's enum, re-exported for the domain
from cryptosdk.exchange.money import Amount


def to_iso(moment: datetime) -> str:
    """`moment` as fixed-width ISO 8601 UTC (YYYY-MM-DDTHH:MM:SS.ffffffZ)."""
    if moment.tzinfo is None:
        raise ValueError("datetimes must be timezone-aware (UTC)")
    # Fixed width (microseconds always written) so ISO strings sort as times: the GSI range keys
    # depend on it. isoformat, not strftime: several per poll, and strftime is the slower one.
    return moment.astimezone(UTC).isoformat(timespec="microseconds")[:-6] + "Z"


def parse_iso(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"timestamp without a zone: {text!r}")
    return moment.astimezone(UTC)


def utc_now() -> datetime:
    return datetime.now(UTC)


def _as_utc(value: datetime | str) -> datetime:
    if isinstance(value, str):
        return parse_iso(value)
    if value.tzinfo is None:
        raise ValueError("datetimes must be timezone-aware (UTC)")
    return value.astimezone(UTC)


UtcDatetime = Annotated[datetime, PlainSerializer(to_iso, return_type=str, when_used="json")]


def new_order_id() -> str:
    return "ord_" + uuid.uuid4().hex


def shard_for(order_id: str, shards: int) -> str:
    """The poll shard of an order: stable across runs (crc32, not Python's salted hash)."""
    return str(zlib.crc32(order_id.encode()) % max(shards, 1))


class _Model(BaseModel):
    # defer_build: validators are built on first use, not at import (see cryptosdk.exchange.models).
    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore", defer_build=True)


class Leg(_Model):
    currency: str
    network: str


class Party(_Model):
    """An address the exchange pays out to (destination) or returns funds to (refund)."""

    address: str
    memo: str | None = None


class ChangeCause(StrEnum):
    """Why a status changed: every history entry names one (the audit trail's "who moved it")."""

    REQUEST = "request"  # the caller's create request recorded the intent
    EXCHANGE = "exchange"  # the exchange's answer or one of its order events
    RECONCILIATION = "reconciliation"  # an unknown create settled against the exchange's order list
    REFUSAL = "refusal"  # the exchange refused the create
    EXPIRY = "expiry"  # unpaid past UNPAID_ORDER_TTL_SECONDS


class StatusChange(_Model):
    """One entry of an order's append-only status history."""

    status: OrderStatus
    at: UtcDatetime
    cause: ChangeCause | None = None  # None only on entries written before causes were recorded
    reason: str | None = None

    @field_validator("at", mode="before")
    @classmethod
    def _utc(cls, value: datetime | str) -> datetime:
        return _as_utc(value)


class DepositRecord(_Model):
    amount: Amount | None = None
    tx_id: str | None = Field(default=None, alias="txId")
    confirmations: int | None = None
    is_pending: bool | None = Field(default=None, alias="isPending")
    created_at: str | None = Field(default=None, alias="createdAt")


class WithdrawalRecord(_Model):
    amount: Amount | None = None
    network_fee: Amount | None = Field(default=None, alias="networkFee")
    tx_id: str | None = Field(default=None, alias="txId")
    created_at: str | None = Field(default=None, alias="createdAt")


class Refusal(_Model):
    """What the exchange answered when it refused a create: enough to give the same answer again."""

    status: int | None = None
    code: str
    message: str
    kind: str  # our error class's code (cryptosdk.exchange.errors), which decides the HTTP answer
    limit: Amount | None = None
    bound: str | None = None
    retry_after: float | None = Field(default=None, alias="retryAfter")


class Order(_Model):
    """One order of ours; `exchange_order_id` is None until the upstream create is confirmed."""

    id: str
    user_id: str
    session_id: str | None = None
    external_ref: str | None = None
    idempotency_key: str | None = None
    # sha256 of the request that placed the order: a replayed Idempotency-Key must carry the same.
    request_hash: str | None = None
    exchange_order_id: int | None = None
    from_leg: Leg
    to_leg: Leg
    rate_mode: RateMode
    claimed_deposit_amount: Amount
    amount_to_receive: Amount | None = None
    destination: Party
    refund: Party | None = None
    deposit_address: str | None = None
    deposit_memo: str | None = None
    status: OrderStatus
    status_history: tuple[StatusChange, ...] = ()
    created_at: UtcDatetime
    updated_at: UtcDatetime
    version: int = Field(ge=1)
    deposits: tuple[DepositRecord, ...] = ()
    withdrawals: tuple[WithdrawalRecord, ...] = ()
    poll_shard: str | None = None
    next_poll_at: UtcDatetime | None = None
    poll_failures: int = 0
    failure_reason: str | None = None
    # The invocation that made the latest write (API Gateway request id or poller event id).
    correlation_id: str | None = None
    # The exchange's refusal of the create, kept so a retry with the same key gets the same answer.
    refusal: Refusal | None = None
    # Create calls made for this intent (a settled-absent create is placed again under the same id)
    # and when the latest began: its outcome is only confirmed absent a settle window later.
    create_attempts: int = Field(default=1, ge=1)
    last_create_at: UtcDatetime | None = None

    @field_validator("created_at", "updated_at", "next_poll_at", "last_create_at", mode="before")
    @classmethod
    def _utc(cls, value: datetime | str | None) -> datetime | None:
        return None if value is None else _as_utc(value)

    def can_become(self, status: OrderStatus) -> bool:
        """Whether this order may move to `status`: forward only, never out of a terminal status,
        never below the main-path status it had before a hold (cryptosdk.domain.status)."""
        return can_transition_with_history(
            self.status, status, [change.status for change in self.status_history]
        )

    def status_change(
        self, status: OrderStatus, *, at: datetime, cause: ChangeCause | None, reason: str | None
    ) -> StatusChange:
        """The history entry that moves this order to `status`; InvalidTransitionError when the
        move is not allowed (the audit trail only records moves the status model allows)."""
        if not self.can_become(status):
            raise InvalidTransitionError(f"{self.status.value} -> {status.value} is not allowed")
        return StatusChange(status=status, at=at, cause=cause, reason=reason)


# -- domain errors ----------------------------------------------------------------------------
# Each class states the answer it gets (status, stable code, Retry-After); the HTTP adapter
# (cryptosdk.api.error_mapping) reads these instead of testing classes one by one. The numbers are
# HTTP statuses because the API is this domain's only face; nothing here imports HTTP code.


class FieldError(BaseModel):
    """One reason a request field was refused, addressed by its path in the request body."""

    model_config = ConfigDict(frozen=True)

    field: str
    reason: str


class DomainError(Exception):
    http_status: ClassVar[int] = 400
    code: ClassVar[str] = "domain_error"
    # Seconds a caller should wait before trying again, when waiting helps.
    retry_after: ClassVar[int | None] = None
    # The caller's message when it must not depend on the instance (ids, internal state).
    public_message: ClassVar[str | None] = None

    def __init__(self, message: str, fields: Sequence[FieldError] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.fields = tuple(fields)


class OrderNotFoundError(DomainError):
    http_status = 404
    code = "order_not_found"
    public_message = "No such order."


class _ConcurrentChangeError(DomainError):
    """The order moved under us; reading it again and retrying resolves it."""

    http_status = 409
    code = "conflict"
    retry_after = 1
    public_message = "The order changed meanwhile; read it again."


class OrderExistsError(_ConcurrentChangeError):
    pass


class StaleOrderError(_ConcurrentChangeError):
    """Someone else wrote the order since it was read (version mismatch)."""


class InvalidTransitionError(_ConcurrentChangeError):
    pass


class IdempotencyKeyReusedError(DomainError):
    """The Idempotency-Key already placed an order for a different request."""

    http_status = 422
    code = "idempotency_key_reused"
    public_message = "The Idempotency-Key was used with another request."

    def __init__(self, message: str = "The Idempotency-Key was used with another request.") -> None:
        reason = "This key was already used with a different body."
        super().__init__(message, [FieldError(field="Idempotency-Key", reason=reason)])


class OrderRefusedError(DomainError):
    """The exchange refused this order's create: the order is `failed` for good, and every request
    with the same Idempotency-Key gets this same answer (one key, one outcome). Its status and code
    are the stored exchange error's, so the adapter answers it from `refusal`, not from the class."""

    code = "order_refused"

    def __init__(self, order_id: str, refusal: Refusal) -> None:
        super().__init__(f"The exchange refused order {order_id}: {refusal.message}")
        self.order_id = order_id
        self.refusal = refusal


class InvalidCursorError(DomainError):
    code = "invalid_cursor"

    def __init__(self, message: str) -> None:
        super().__init__(message, [FieldError(field="cursor", reason=message)])


class ValidationFailedError(DomainError):
    """The pre-create pipeline refused the request; `fields` says which field and why."""

    http_status = 422
    code = "validation_failed"

    def __init__(self, fields: list[FieldError], message: str = "The request has invalid fields.") -> None:
        super().__init__(message, fields)


class UnauthenticatedError(DomainError):
    http_status = 401
    code = "unauthenticated"


class AccessDeniedError(DomainError):
    http_status = 403
    code = "forbidden"


class ForbiddenOrderError(OrderNotFoundError):
    """The caller may not see this order; answered exactly as a missing one so ids cannot be probed."""


class OrderRequest(_Model):
    """What a caller asks for, after the API layer parsed it (the validation pipeline's input)."""

    from_leg: Leg
    to_leg: Leg
    amount: Decimal
    rate_mode: RateMode = RateMode.FLOATING
    destination: Party
    refund: Party | None = None
    user_id: str | None = None
    session_id: str | None = None
    external_ref: str | None = None


class AddressVerdict(_Model):
    valid: bool
    memo_required: bool
    reason: str | None = None
