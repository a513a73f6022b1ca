"""The order service: validate -> record intent -> create upstream -> complete -> deposit instructions.

Idempotent on the caller's Idempotency-Key, keyed on (userId, key) so two users' keys never
collide: the order id is derived from them and the intent is written conditionally, and the stored
intent (its request hash, refusal, history) gives a replay the first answer; the same key with
another body is refused (cryptosdk.orders.idempotency).

Outcomes of a placement:
- created: the exchange confirmed the order and it is stored with its deposit instructions (201).
- pending: the intent is stored (status `pending_create`, in the poll index) but the exchange's
  answer is unknown, or it answered and our store step failed. The caller gets 202 with our order
  id; the poller reconciles it against the exchange's order list (completes or fails it). A retry
  with the same key returns the same order, never a second upstream create.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from cryptosdk.domain.order import (
    ChangeCause,
    ForbiddenOrderError,
    IdempotencyKeyReusedError,
    Order,
    OrderExistsError,
    OrderNotFoundError,
    OrderRefusedError,
    OrderRequest,
    Refusal,
    StaleOrderError,
    StatusChange,
    new_order_id,
    shard_for,
    utc_now,
)
from cryptosdk.domain.status import OrderStatus, is_terminal, status_from_exchange
from cryptosdk.exchange import errors
from cryptosdk.exchange.models import ExchangeOrder
from cryptosdk.orders import idempotency
from cryptosdk.orders.instruments import Catalogue
from cryptosdk.orders.polling.pacing import next_poll_delay
from cryptosdk.orders.reconcile import create_or_recover, upstream_request
from cryptosdk.orders.validation import ValidatedOrder, validate_order
from cryptosdk.runtime.observability import logger

if TYPE_CHECKING:
    from cryptosdk.exchange.client import ExchangeClient
    from cryptosdk.storage.answers import PendingAnswers
    from cryptosdk.storage.orders import OrderStore


@dataclass
class OrderDeps:
    """What placing an order works with (cryptosdk.container builds one per container)."""

    client: ExchangeClient
    store: OrderStore
    answers: PendingAnswers
    catalogue: Callable[[], Catalogue]
    poll_shards: int = 4
    poll_cap: timedelta | None = None
    # How long a first request may still be running after its intent: the function's timeout,
    # set from the Lambda context at the start of each invocation (register_lambda_context).
    in_flight: timedelta = field(default=idempotency.DEFAULT_IN_FLIGHT)


@dataclass(frozen=True)
class Placement:
    order_id: str
    created: bool
    # The order as this call stored it, when this call placed it (so the answer needs no re-read);
    # None on a replay or a pending outcome, where the stored order is read instead.
    order: Order | None = None


def intent_id(user_id: str, idempotency_key: str) -> str:
    """Our order id for one (user, Idempotency-Key): a retry can never record a second intent."""
    digest = hashlib.sha256(f"{user_id}\x00{idempotency_key}".encode()).hexdigest()
    return f"ord_{digest[:32]}"


def request_hash(request: OrderRequest) -> str:
    canonical = json.dumps(request.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def build_intent(
    validated: ValidatedOrder,
    idempotency_key: str | None,
    now: datetime,
    shards: int,
    *,
    order_id: str | None = None,
) -> Order:
    request = validated.request
    order_id = order_id or new_order_id()
    return Order(
        id=order_id,
        request_hash=request_hash(request),
        user_id=validated.user_id,
        session_id=request.session_id,
        external_ref=request.external_ref,
        idempotency_key=idempotency_key,
        from_leg=request.from_leg.model_copy(
            update={
                "currency": validated.from_instrument.currency_title,
                "network": validated.from_instrument.network_title,
            }
        ),
        to_leg=request.to_leg.model_copy(
            update={
                "currency": validated.to_instrument.currency_title,
                "network": validated.to_instrument.network_title,
            }
        ),
        rate_mode=request.rate_mode,
        claimed_deposit_amount=request.amount,
        amount_to_receive=validated.rate.amount_to_get,
        destination=request.destination,
        refund=request.refund,
        status=OrderStatus.PENDING_CREATE,
        status_history=(
            StatusChange(
                status=OrderStatus.PENDING_CREATE, at=now, cause=ChangeCause.REQUEST, reason="intent recorded"
            ),
        ),
        created_at=now,
        updated_at=now,
        version=1,
        last_create_at=now,
        poll_shard=shard_for(order_id, shards),
        # Due at once: the next poller run settles it if this request cannot (cryptosdk.orders.settle).
        next_poll_at=now,
    )


def place_order(request: OrderRequest, idempotency_key: str | None, deps: OrderDeps) -> Placement:
    """Place one order; with a key, once per (user, key): a replay gets the first answer."""
    client, store = deps.client, deps.store
    user_id = (request.user_id or "").strip()
    if idempotency_key and user_id:
        # One key, one outcome: a key that already recorded an order answers with that order (or
        # with the exchange's refusal of it) before anything is validated or sent again.
        existing = store.get(intent_id(user_id, idempotency_key))
        if existing is not None:
            return _replayed(existing, request_hash(request), deps)
    validated = validate_order(request, client=client, catalogue=deps.catalogue())
    order_id = intent_id(validated.user_id, idempotency_key) if idempotency_key else None
    intent = build_intent(validated, idempotency_key, utc_now(), deps.poll_shards, order_id=order_id)
    try:
        intent = store.put_intent(intent)
    except OrderExistsError:
        # A concurrent request with the same key recorded it between our read and our write.
        existing = store.get(intent.id)
        if existing is None:
            raise StaleOrderError(f"order {intent.id} vanished while being replayed") from None
        return _replayed(existing, request_hash(request), deps)
    placement = _create_upstream(client, store, intent, validated, deps.poll_cap)
    if not placement.created and idempotency_key:
        deps.answers.record(intent.id)
    return placement


def _create_upstream(
    client: ExchangeClient,
    store: OrderStore,
    intent: Order,
    validated: ValidatedOrder,
    poll_cap: timedelta | None,
) -> Placement:
    # A fixed order is honoured at the quote it was shown, so the quote travels with the create.
    claimed_rate = validated.rate if validated.request.rate_mode.value == "FIXED" else None
    try:
        # An unknown outcome is looked for in the order list at once (one read); only if the list
        # does not show it is the intent left pending.
        created = create_or_recover(client, upstream_request(intent, claimed_rate))
    except errors.OrderOutcomeUnknownError as exc:
        logger.warning(
            "create-order outcome unknown; left for reconciliation", order_id=intent.id, error=str(exc)
        )
        return Placement(intent.id, created=False)
    except errors.ExchangeError as exc:
        # A definite refusal: nothing exists upstream, so the intent ends here, for good.
        raise _close_refused_intent(store, intent, exc) from None
    try:
        completed = record_created(store, intent, created, poll_cap=poll_cap)
    except Exception:
        # The order exists upstream; the intent (still pending_create, in the poll index) lets the
        # poller find it in the exchange's order list and complete it.
        logger.exception(
            "order created upstream but not stored; left for reconciliation",
            order_id=intent.id,
            exchange_order_id=created.order_id,
        )
        return Placement(intent.id, created=False)
    return Placement(intent.id, created=True, order=completed)


def record_created(
    store: OrderStore,
    intent: Order,
    created: ExchangeOrder,
    *,
    reason: str = "created upstream",
    cause: ChangeCause = ChangeCause.EXCHANGE,
    now: datetime | None = None,
    poll_cap: timedelta | None = None,
) -> Order:
    """Store the exchange's answer to a create on the intent that made it (one conditional write)."""
    now = now or utc_now()
    status = status_from_exchange(created)
    deposit = created.deposit_address
    return store.complete_creation(
        intent,
        exchange_order_id=created.order_id,
        deposit_address=deposit.deposit_address if deposit else None,
        deposit_memo=deposit.deposit_address_memo if deposit else None,
        amount_to_receive=created.amount_to_get or intent.amount_to_receive,
        status=status,
        poll_shard=None if is_terminal(status) else intent.poll_shard,
        next_poll_at=None
        if is_terminal(status)
        else now + next_poll_delay(status, cap=poll_cap, waited=timedelta(0)),
        reason=reason,
        cause=cause,
        now=now,
    )


def _replayed(existing: Order, wanted_hash: str, deps: OrderDeps) -> Placement:
    """The answer a key's first request gave, from the intent it recorded (the replay before
    validation and the race at the conditional write both come here)."""
    if existing.request_hash != wanted_hash:
        raise IdempotencyKeyReusedError("The Idempotency-Key was used with another request.")
    if existing.refusal is not None:
        raise OrderRefusedError(existing.id, existing.refusal)
    if existing.exchange_order_id is not None:
        return Placement(existing.id, created=idempotency.created_by_request(existing))
    in_flight = idempotency.maybe_in_flight(existing, utc_now(), deps.in_flight)
    if in_flight and not deps.answers.recorded(existing.id):
        raise idempotency.in_progress_error()
    return Placement(existing.id, created=False)


def refusal_of(exc: errors.ExchangeError) -> Refusal:
    """The stored form of the exchange's refusal (what the HTTP answer is built from, every time)."""
    limit = getattr(exc, "limit", None)
    bound = getattr(exc, "bound", None)
    retry_after = getattr(exc, "retry_after", None)
    return Refusal(
        status=exc.status,
        code=exc.code,
        message=exc.message,
        kind=type(exc).default_code,
        limit=limit,
        bound=bound,
        retry_after=retry_after,
    )


def _close_refused_intent(store: OrderStore, intent: Order, exc: errors.ExchangeError) -> OrderRefusedError:
    refusal = refusal_of(exc)
    try:
        store.mark_failed(
            intent, f"exchange refused the order: {exc.code}", cause=ChangeCause.REFUSAL, refusal=refusal
        )
    except Exception:
        # The caller must still learn why the exchange refused; the poller settles the intent later.
        logger.exception("could not mark a refused order as failed", order_id=intent.id)
    return OrderRefusedError(intent.id, refusal)


# -- the handler's entry point ------------------------------------------------------------------


def register_lambda_context(context: Any, deps: OrderDeps) -> None:
    """The in-flight window of a first request is this function's timeout: the time an
    invocation has left when it starts."""
    remaining_ms = context.get_remaining_time_in_millis() if context is not None else None
    if remaining_ms:
        deps.in_flight = timedelta(milliseconds=remaining_ms)


# -- reads -------------------------------------------------------------------------------------


def get_order(order_id: str, store: OrderStore, *, user_id: str | None = None) -> Order:
    """One order; with `user_id` (JWT mode) only if it belongs to that user."""
    order = store.get(order_id) if order_id.startswith("ord_") else None
    if order is None:
        raise OrderNotFoundError(f"No order {order_id}.")
    if user_id is not None and order.user_id != user_id:
        raise ForbiddenOrderError(f"No order {order_id}.")
    return order


def list_orders(
    user_id: str, store: OrderStore, limit: int = 20, cursor: str | None = None
) -> tuple[list[Order], str | None]:
    return store.list_by_user(user_id, limit, cursor)
