"""How an order and its poll schedule are stored: flat camelCase items (plain Python values; the
store adds DynamoDB's attribute types). Amounts are decimal *strings* (exact, trailing zeros kept),
times fixed-width ISO 8601 UTC strings so the GSI range keys sort as times; `version` (N) guards
every write. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from cryptosdk.domain.order import (
    DepositRecord,
    Leg,
    Order,
    Party,
    Refusal,
    StatusChange,
    WithdrawalRecord,
    parse_iso,
    to_iso,
)
from cryptosdk.domain.schedule import PollView, order_digest, status_since
from cryptosdk.domain.status import OrderStatus, is_terminal
from cryptosdk.exchange.money import optional_decimal_text

SCHEDULE_PREFIX = "poll#"
# The attributes of the poll schedule: in its own item, or inline on an order the old code wrote.
SCHEDULE_KEYS = ("pollShard", "nextPollAt", "pollFailures")


def schedule_id(order_id: str) -> str:
    return f"{SCHEDULE_PREFIX}{order_id}"


# -- item <-> domain --------------------------------------------------------------------------


def order_to_item(order: Order) -> dict[str, Any]:
    """The stored item for an order, as plain Python values (None attributes left out)."""
    item: dict[str, Any] = {
        "id": order.id,
        "userId": order.user_id,
        "sessionId": order.session_id,
        "externalRef": order.external_ref,
        "idempotencyKey": order.idempotency_key,
        "requestHash": order.request_hash,
        "exchangeOrderId": order.exchange_order_id,
        "fromCurrency": order.from_leg.currency,
        "fromNetwork": order.from_leg.network,
        "toCurrency": order.to_leg.currency,
        "toNetwork": order.to_leg.network,
        "rateMode": order.rate_mode.value,
        "claimedDepositAmount": optional_decimal_text(order.claimed_deposit_amount),
        "amountToReceive": optional_decimal_text(order.amount_to_receive),
        "destinationAddress": order.destination.address,
        "destinationMemo": order.destination.memo,
        "refundAddress": order.refund.address if order.refund else None,
        "refundMemo": order.refund.memo if order.refund else None,
        "depositAddress": order.deposit_address,
        "depositMemo": order.deposit_memo,
        "status": order.status.value,
        "statusHistory": [history_entry(h) for h in order.status_history],
        "createdAt": to_iso(order.created_at),
        "updatedAt": to_iso(order.updated_at),
        "version": order.version,
        "deposits": [d.model_dump(mode="json", by_alias=True, exclude_none=True) for d in order.deposits],
        "withdrawals": [
            w.model_dump(mode="json", by_alias=True, exclude_none=True) for w in order.withdrawals
        ],
        "pollShard": order.poll_shard,
        "nextPollAt": to_iso(order.next_poll_at) if order.next_poll_at else None,
        "pollFailures": order.poll_failures,
        "failureReason": order.failure_reason,
        "correlationId": order.correlation_id,
        "refusal": order.refusal.model_dump(mode="json", by_alias=True, exclude_none=True)
        if order.refusal
        else None,
        "createAttempts": order.create_attempts,
        "lastCreateAt": to_iso(order.last_create_at) if order.last_create_at else None,
    }
    return {k: v for k, v in item.items() if v is not None}


def stored_items(order: Order, *, remembered: bool = False) -> list[dict[str, Any]]:
    """The items an active order is stored as (plain values): the order, and its poll schedule
    when it has one (tools that seed a table write exactly what the store writes); `remembered`:
    the schedule as a back-off move leaves it, with the order's poll view."""
    items = [without_schedule(order_to_item(order))]
    if order.poll_shard is not None and order.next_poll_at is not None and not is_terminal(order.status):
        schedule = schedule_item(order.id, order.poll_shard, order.next_poll_at, order.poll_failures)
        items.append({**schedule, **(view_attributes(order) or {})} if remembered else schedule)
    return items


def view_attributes(order: Order) -> dict[str, Any] | None:
    """What a schedule item remembers of its order (cryptosdk.domain.schedule): None for an
    order not yet confirmed upstream (its polls always read the order)."""
    if order.exchange_order_id is None or is_terminal(order.status):
        return None
    return {
        "exchangeOrderId": order.exchange_order_id,
        "destinationAddress": order.destination.address,
        "orderStatus": order.status.value,
        "statusSince": to_iso(status_since(order)),
        "createdAt": to_iso(order.created_at),
        "orderVersion": order.version,
        "exchangeDigest": order_digest(order),
    }


_VIEW_KEYS = (
    "exchangeOrderId",
    "destinationAddress",
    "orderStatus",
    "statusSince",
    "createdAt",
    "orderVersion",
)


def schedule_view(item: Mapping[str, Any]) -> PollView | None:
    """The poll view a schedule item (plain values) carries; None when it carries none (written at
    the create, or by older code) or one this code cannot read."""
    if not all(key in item for key in _VIEW_KEYS) or "exchangeDigest" not in item:
        return None
    try:
        return PollView(
            id=str(item["orderId"]),
            exchange_order_id=int(item["exchangeOrderId"]),
            destination_address=str(item["destinationAddress"]),
            status=OrderStatus(item["orderStatus"]),
            status_since=parse_iso(item["statusSince"]),
            created_at=parse_iso(item["createdAt"]),
            version=int(item["orderVersion"]),
            exchange_digest=str(item["exchangeDigest"]),
            next_poll_at=parse_iso(item["nextPollAt"]),
            poll_failures=int(item.get("pollFailures", 0)),
        )
    except (KeyError, ValueError):
        return None


def schedule_view_from_av(av: Mapping[str, Any]) -> PollView | None:
    """`schedule_view` straight from DynamoDB attribute values: the due read's hot path, without a
    deserializer call per attribute (every attribute read here is one S or N)."""
    try:
        plain: dict[str, Any] = {
            key: next(iter(av[key].values()))
            for key in (*_VIEW_KEYS, "exchangeDigest", "orderId", "nextPollAt")
        }
    except (KeyError, AttributeError, StopIteration):
        return None
    plain["pollFailures"] = av.get("pollFailures", {}).get("N", 0)
    return schedule_view(plain)


def without_schedule(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in SCHEDULE_KEYS}


# Order fields that live in the schedule item (domain names).
SCHEDULE_FIELDS = frozenset({"next_poll_at", "poll_failures", "poll_shard"})

# Attributes every write sets; a write that would change only these changes nothing.
_BOOKKEEPING = frozenset({"updatedAt", "version", "correlationId"})


def order_unchanged(before: Mapping[str, Any], after: Mapping[str, Any]) -> bool:
    keys = (set(before) | set(after)) - _BOOKKEEPING
    return all(before.get(k) == after.get(k) for k in keys)


def history_entry(change: StatusChange) -> dict[str, Any]:
    return change.model_dump(mode="json", exclude_none=True)


def item_to_order(item: Mapping[str, Any]) -> Order:
    refund = None
    if item.get("refundAddress"):
        refund = Party(address=item["refundAddress"], memo=item.get("refundMemo"))
    return Order(
        id=item["id"],
        user_id=item["userId"],
        session_id=item.get("sessionId"),
        external_ref=item.get("externalRef"),
        idempotency_key=item.get("idempotencyKey"),
        request_hash=item.get("requestHash"),
        exchange_order_id=int(item["exchangeOrderId"]) if "exchangeOrderId" in item else None,
        from_leg=Leg(currency=item["fromCurrency"], network=item["fromNetwork"]),
        to_leg=Leg(currency=item["toCurrency"], network=item["toNetwork"]),
        rate_mode=item["rateMode"],
        claimed_deposit_amount=item["claimedDepositAmount"],
        amount_to_receive=item.get("amountToReceive"),
        destination=Party(address=item["destinationAddress"], memo=item.get("destinationMemo")),
        refund=refund,
        deposit_address=item.get("depositAddress"),
        deposit_memo=item.get("depositMemo"),
        status=item["status"],
        status_history=tuple(StatusChange.model_validate(h) for h in item.get("statusHistory", [])),
        created_at=item["createdAt"],
        updated_at=item["updatedAt"],
        version=int(item["version"]),
        deposits=tuple(DepositRecord.model_validate(d) for d in item.get("deposits", [])),
        withdrawals=tuple(WithdrawalRecord.model_validate(w) for w in item.get("withdrawals", [])),
        poll_shard=item.get("pollShard"),
        next_poll_at=item.get("nextPollAt"),
        poll_failures=int(item.get("pollFailures", 0)),
        failure_reason=item.get("failureReason"),
        correlation_id=item.get("correlationId"),
        refusal=Refusal.model_validate(item["refusal"]) if "refusal" in item else None,
        create_attempts=int(item.get("createAttempts", 1)),
        last_create_at=item.get("lastCreateAt"),
    )


def decisive_view(av: Mapping[str, Any]) -> PollView | None:
    """The poll view of a due item (DynamoDB attribute values) when a poll may be decided from it."""
    view = schedule_view_from_av(av)
    return view if view is not None and view.may_decide else None


def schedule_item(order_id: str, shard: str, next_poll_at: datetime, failures: int) -> dict[str, Any]:
    return {
        "id": schedule_id(order_id),
        "orderId": order_id,
        "pollShard": shard,
        "nextPollAt": to_iso(next_poll_at),
        "pollFailures": failures,
    }
