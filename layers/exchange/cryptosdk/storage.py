"""DynamoDB access for orders; the only module that talks to DynamoDB about orders.

Stored item shape (the orders table, see template.yaml): flat camelCase attributes. Amounts are
stored as decimal *strings* (exact, trailing zeros kept, never a DynamoDB number context error);
times as fixed-width ISO 8601 UTC strings so the GSI range keys sort as times; `version` (N) guards
every write. Active orders carry `pollShard` + `nextPollAt` (the sparse DueForPoll index); a
terminal status REMOVEs both.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from datetime import datetime
from functools import cached_property
from typing import Any

from cryptosdk.domain import (
    DepositRecord,
    InvalidCursorError,
    InvalidTransitionError,
    Leg,
    Order,
    OrderExistsError,
    Party,
    StaleOrderError,
    StatusChange,
    WithdrawalRecord,
    to_iso,
    utc_now,
)
from cryptosdk.money import optional_decimal_text
from cryptosdk.observability import correlation_id
from cryptosdk.status import OrderStatus, can_transition_with_history, is_terminal

BY_USER_INDEX = "ByUser"
DUE_FOR_POLL_INDEX = "DueForPoll"
_MAX_PAGE = 100
_CURSOR_MAX_CHARS = 2048


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
        "statusHistory": [_history_entry(h) for h in order.status_history],
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
    }
    return {k: v for k, v in item.items() if v is not None}


def _history_entry(change: StatusChange) -> dict[str, Any]:
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
    )


# -- cursors ----------------------------------------------------------------------------------

_BY_USER_KEYS = frozenset({"id", "userId", "createdAt"})


def encode_cursor(last_key: Mapping[str, str]) -> str:
    raw = json.dumps(dict(last_key), separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *, user_id: str) -> dict[str, str]:
    """The LastEvaluatedKey inside a ByUser cursor; refuses anything we did not issue to this user."""
    if len(cursor) > _CURSOR_MAX_CHARS:
        raise InvalidCursorError("The cursor is not valid.")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw.decode())
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidCursorError("The cursor is not valid.") from None
    if not isinstance(data, dict) or set(data) != _BY_USER_KEYS:
        raise InvalidCursorError("The cursor is not valid.")
    if not all(isinstance(v, str) and v for v in data.values()):
        raise InvalidCursorError("The cursor is not valid.")
    if data["userId"] != user_id:
        # A cursor from another user's listing must not become a way to read their orders.
        raise InvalidCursorError("The cursor does not belong to this listing.")
    return {str(k): str(v) for k, v in data.items()}


# -- the store --------------------------------------------------------------------------------


class OrderStore:
    """Orders in DynamoDB. The boto3 client is created on first use, never at import."""

    def __init__(self, table_name: str, client: Any = None) -> None:
        self.table_name = table_name
        self._given_client = client

    @cached_property
    def _client(self) -> Any:
        if self._given_client is not None:
            return self._given_client
        import boto3  # heavy: kept off handler import paths

        return boto3.client("dynamodb")

    @cached_property
    def _codec(self) -> tuple[Any, Any]:
        from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

        return TypeSerializer(), TypeDeserializer()

    def _ser(self, value: Any) -> Any:
        return self._codec[0].serialize(value)

    def _to_av(self, item: Mapping[str, Any]) -> dict[str, Any]:
        return {k: self._ser(v) for k, v in item.items()}

    def _from_av(self, item: Mapping[str, Any]) -> dict[str, Any]:
        return {k: self._codec[1].deserialize(v) for k, v in item.items()}

    @staticmethod
    def _is_conditional_failure(exc: Exception) -> bool:
        response = getattr(exc, "response", None) or {}
        code = response.get("Error", {}).get("Code")
        return bool(code == "ConditionalCheckFailedException")

    # writes

    def put_intent(self, order: Order, *, replacing_failed_version: int | None = None) -> Order:
        """Record an order before the upstream create, so a crash afterwards loses nothing.

        Never overwrites an order, except a failed intent (nothing exists upstream) at exactly
        `replacing_failed_version`, which a retry with the same Idempotency-Key may place again.
        The item carries the writing invocation's correlation id (`correlationId`)."""
        order = order.model_copy(update={"correlation_id": correlation_id()})
        condition = "attribute_not_exists(id)"
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        if replacing_failed_version is not None:
            condition += " OR (#status = :failed AND #version = :version)"
            names = {"#status": "status", "#version": "version"}
            values = {
                ":failed": {"S": OrderStatus.FAILED.value},
                ":version": self._ser(replacing_failed_version),
            }
        try:
            self._client.put_item(
                TableName=self.table_name,
                Item=self._to_av(order_to_item(order)),
                ConditionExpression=condition,
                **({"ExpressionAttributeNames": names, "ExpressionAttributeValues": values} if names else {}),
            )
        except Exception as exc:
            if self._is_conditional_failure(exc):
                raise OrderExistsError(f"order {order.id} already exists") from None
            raise
        return order

    def apply_update(
        self,
        order: Order,
        new_fields: Mapping[str, Any],
        expected_version: int | None = None,
        *,
        reason: str | None = None,
        now: datetime | None = None,
    ) -> Order:
        """One conditional UpdateItem: the new fields, a history entry when the status changes,
        version + 1; fails with StaleOrderError when the stored version is not `expected_version`.

        `correlationId` becomes this invocation's (removed outside one), so the item and the event
        a write causes always name the request or poller run that wrote it."""
        expected = order.version if expected_version is None else expected_version
        now = now or utc_now()
        changes = dict(new_fields)
        new_status = changes.get("status")
        history = list(order.status_history)
        if new_status is not None and OrderStatus(new_status) != order.status:
            new_status = OrderStatus(new_status)
            earlier = [change.status for change in order.status_history]
            if not can_transition_with_history(order.status, new_status, earlier):
                raise InvalidTransitionError(f"{order.status.value} -> {new_status.value} is not allowed")
            history.append(StatusChange(status=new_status, at=now, reason=reason))
        if new_status is not None and is_terminal(OrderStatus(new_status)):
            changes["poll_shard"] = None
            changes["next_poll_at"] = None
        changes.update(
            status_history=tuple(history),
            updated_at=now,
            version=expected + 1,
            correlation_id=correlation_id(),
        )
        updated = Order.model_validate({**order.model_dump(), **changes})

        before = order_to_item(order)
        after = order_to_item(updated)
        names: dict[str, str] = {}
        values: dict[str, Any] = {":expected": self._ser(expected)}
        sets: list[str] = []
        removes: list[str] = []
        for i, key in enumerate(sorted(set(before) | set(after))):
            if key == "id" or before.get(key) == after.get(key):
                continue
            names[f"#a{i}"] = key
            if key in after:
                values[f":v{i}"] = self._ser(after[key])
                sets.append(f"#a{i} = :v{i}")
            else:
                removes.append(f"#a{i}")
        expression = "SET " + ", ".join(sets)
        if removes:
            expression += " REMOVE " + ", ".join(removes)
        names["#version"] = "version"
        try:
            self._client.update_item(
                TableName=self.table_name,
                Key={"id": {"S": order.id}},
                UpdateExpression=expression,
                ConditionExpression="attribute_exists(id) AND #version = :expected",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except Exception as exc:
            if self._is_conditional_failure(exc):
                raise StaleOrderError(f"order {order.id} changed since version {expected} was read") from None
            raise
        return updated

    def complete_creation(
        self,
        order: Order,
        *,
        exchange_order_id: int,
        deposit_address: str | None,
        deposit_memo: str | None,
        amount_to_receive: Any,
        status: OrderStatus,
        next_poll_at: datetime | None,
        poll_shard: str | None,
        reason: str | None = "created upstream",
        now: datetime | None = None,
    ) -> Order:
        fields: dict[str, Any] = {
            "exchange_order_id": exchange_order_id,
            "deposit_address": deposit_address,
            "deposit_memo": deposit_memo,
            "amount_to_receive": amount_to_receive,
            "status": status,
            "poll_shard": poll_shard,
            "next_poll_at": next_poll_at,
            "poll_failures": 0,
        }
        return self.apply_update(order, fields, order.version, reason=reason, now=now)

    def mark_failed(self, order: Order, reason: str, *, now: datetime | None = None) -> Order:
        fields = {"status": OrderStatus.FAILED, "failure_reason": reason}
        return self.apply_update(order, fields, order.version, reason=reason, now=now)

    # reads

    def get(self, order_id: str) -> Order | None:
        answer = self._client.get_item(
            TableName=self.table_name, Key={"id": {"S": order_id}}, ConsistentRead=True
        )
        item = answer.get("Item")
        return item_to_order(self._from_av(item)) if item else None

    def list_by_user(
        self, user_id: str, limit: int = 20, cursor: str | None = None
    ) -> tuple[list[Order], str | None]:
        """A user's orders, newest first, and the cursor of the next page (None on the last)."""
        params: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": BY_USER_INDEX,
            "KeyConditionExpression": "userId = :u",
            "ExpressionAttributeValues": {":u": {"S": user_id}},
            "ScanIndexForward": False,
            "Limit": max(1, min(limit, _MAX_PAGE)),
        }
        if cursor:
            start = decode_cursor(cursor, user_id=user_id)
            params["ExclusiveStartKey"] = {k: {"S": v} for k, v in start.items()}
        answer = self._client.query(**params)
        orders = [item_to_order(self._from_av(i)) for i in answer.get("Items", [])]
        last = answer.get("LastEvaluatedKey")
        next_cursor = encode_cursor({k: v["S"] for k, v in last.items()}) if last else None
        return orders, next_cursor

    def due_for_poll(
        self,
        shard: str,
        now: datetime,
        limit: int = 100,
        exclusive_start: Mapping[str, Any] | None = None,
    ) -> tuple[list[Order], dict[str, Any] | None]:
        """Active orders of one shard whose next poll time has come (a Query, never a Scan).

        Returns the orders and the raw LastEvaluatedKey to pass back as `exclusive_start`.
        """
        params: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": DUE_FOR_POLL_INDEX,
            "KeyConditionExpression": "pollShard = :s AND nextPollAt <= :now",
            "ExpressionAttributeValues": {":s": {"S": shard}, ":now": {"S": to_iso(now)}},
            "Limit": max(1, limit),
        }
        if exclusive_start:
            params["ExclusiveStartKey"] = dict(exclusive_start)
        answer = self._client.query(**params)
        orders = [item_to_order(self._from_av(i)) for i in answer.get("Items", [])]
        return orders, answer.get("LastEvaluatedKey")

    # shared cache items (same table: no extra resource to deploy; no userId so no GSI entry)

    def read_cache(self, key: str, now: datetime) -> str | None:
        """A cached payload still fresh at `now` (TTL deletion is lazy, so expiry is checked here)."""
        answer = self._client.get_item(TableName=self.table_name, Key={"id": {"S": key}})
        item = answer.get("Item")
        if not item or "payload" not in item or "ttl" not in item:
            return None
        if int(item["ttl"]["N"]) <= int(now.timestamp()):
            return None
        return str(item["payload"]["S"])

    def write_cache(self, key: str, payload: str, expires_at: datetime) -> None:
        self._client.put_item(
            TableName=self.table_name,
            Item={
                "id": {"S": key},
                "payload": {"S": payload},
                "ttl": {"N": str(int(expires_at.timestamp()))},
            },
        )


def get_store() -> OrderStore:
    """The process-wide store for the configured orders table."""
    global _STORE
    if _STORE is None:
        from cryptosdk.config import get_settings

        _STORE = OrderStore(get_settings().orders_table)
    return _STORE


def reset_store() -> None:
    """Forget the cached store (tests switch tables and endpoints)."""
    global _STORE
    _STORE = None


_STORE: OrderStore | None = None
