"""DynamoDB access for orders; the only module that talks to DynamoDB about orders.

Stored item shape (the orders table, see template.yaml): flat camelCase attributes. Amounts are
stored as decimal *strings* (exact, trailing zeros kept, never a DynamoDB number context error);
times as fixed-width ISO 8601 UTC strings so the GSI range keys sort as times; `version` (N) guards
every write.

Two item types share the table (see the README's storage design):
- the order (`id = ord_...`): written only when something about the order changes (status,
  exchange data, failure); in the ByUserKeys index (KEYS_ONLY on userId/createdAt, keys that never
  change), so an order write never rewrites an index entry after the create;
- its poll schedule (`id = poll#<orderId>`: orderId, pollShard, nextPollAt, pollFailures), the only
  thing in the sparse DueForPoll index. It is moved only when the next poll is more than one poll
  period away (a back-off); an order polled every run keeps its due time and costs no write.
  A terminal order's schedule is deleted.
Orders written by the old code carry pollShard/nextPollAt/pollFailures inline and so still sit
in DueForPoll: the first write to such an order moves them into its schedule item (the upgrade).
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from cryptosdk.domain.order import (
    ChangeCause,
    DepositRecord,
    InvalidCursorError,
    Leg,
    Order,
    OrderExistsError,
    Party,
    Refusal,
    StaleOrderError,
    StatusChange,
    WithdrawalRecord,
    parse_iso,
    to_iso,
    utc_now,
)
from cryptosdk.domain.schedule import PollView, order_digest, status_since
from cryptosdk.domain.status import TERMINAL_STATUSES, OrderStatus, is_terminal
from cryptosdk.exchange.money import optional_decimal_text
from cryptosdk.runtime.observability import correlation_id

BY_USER_INDEX = "ByUserKeys"
DUE_FOR_POLL_INDEX = "DueForPoll"
SCHEDULE_PREFIX = "poll#"
# The attributes of the poll schedule: in its own item, or inline on an order the old code wrote.
SCHEDULE_KEYS = ("pollShard", "nextPollAt", "pollFailures")
# The poller's schedule (rate(1 minute)): a next poll at most this far off needs no write, since
# the item stays due and the next run takes it.
POLL_PERIOD = timedelta(minutes=1)
_MAX_PAGE = 100
_BATCH_GET = 100
_BATCH_STATEMENTS = 25
SCHEDULE_BATCH_SIZE = _BATCH_STATEMENTS
_CURSOR_MAX_CHARS = 2048


def schedule_id(order_id: str) -> str:
    return f"{SCHEDULE_PREFIX}{order_id}"


class StorageBusyError(RuntimeError):
    """DynamoDB kept leaving keys of a batch read unprocessed."""


class ScheduleWriteError(RuntimeError):
    """DynamoDB refused a schedule move for a reason other than its condition."""


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
    items = [_without_schedule(order_to_item(order))]
    if order.poll_shard is not None and order.next_poll_at is not None and not is_terminal(order.status):
        schedule = _schedule_item(order.id, order.poll_shard, order.next_poll_at, order.poll_failures)
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


def _without_schedule(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in SCHEDULE_KEYS}


# Order fields that live in the schedule item (domain names).
_SCHEDULE_FIELDS = frozenset({"next_poll_at", "poll_failures", "poll_shard"})

# Attributes every write sets; a write that would change only these changes nothing.
_BOOKKEEPING = frozenset({"updatedAt", "version", "correlationId"})


def _order_unchanged(before: Mapping[str, Any], after: Mapping[str, Any]) -> bool:
    keys = (set(before) | set(after)) - _BOOKKEEPING
    return all(before.get(k) == after.get(k) for k in keys)


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
        refusal=Refusal.model_validate(item["refusal"]) if "refusal" in item else None,
        create_attempts=int(item.get("createAttempts", 1)),
        last_create_at=item.get("lastCreateAt"),
    )


def _decisive(item: Mapping[str, Any]) -> PollView | None:
    view = schedule_view(item)
    return view if view is not None and view.may_decide else None


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


# -- poll schedules ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduleMove:
    """A schedule item moved to `next_poll_at`, on condition it is still due at `expected_due`
    (None: only that it exists), so an overlapping writer's newer schedule is never overwritten."""

    order_id: str
    next_poll_at: datetime
    failures: int
    expected_due: datetime | None
    # The poll view written with the move (`view_attributes`, plain values); None leaves it.
    view: Mapping[str, Any] | None = None


@dataclass
class ScheduleBatch:
    """Schedule moves queued by a poller run's workers and written by its main thread, 25 to a
    BatchExecuteStatement call, each statement under its own condition. Moves are not order state:
    one lost with a dying run only means the order is polled again early."""

    moves: list[ScheduleMove] = field(default_factory=list)
    written: int = 0
    conflicts: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, move: ScheduleMove) -> None:
        with self.lock:
            self.moves.append(move)

    def take(self, at_least: int) -> list[ScheduleMove]:
        with self.lock:
            if len(self.moves) < max(at_least, 1):
                return []
            taken, self.moves = self.moves, []
            return taken


def needs_schedule_write(
    stored_due: datetime | None, next_poll_at: datetime, now: datetime, period: timedelta = POLL_PERIOD
) -> bool:
    """Whether moving a schedule to `next_poll_at` is worth a write: not when the item, left as it
    is, is taken by a run within one period of `next_poll_at` (it is due now, or due earlier than
    that anyway). At worst the order is polled one period early."""
    earliest = now if stored_due is None else max(stored_due, now)
    return next_poll_at - earliest > period


def _schedule_item(order_id: str, shard: str, next_poll_at: datetime, failures: int) -> dict[str, Any]:
    return {
        "id": schedule_id(order_id),
        "orderId": order_id,
        "pollShard": shard,
        "nextPollAt": to_iso(next_poll_at),
        "pollFailures": failures,
    }


# -- the store --------------------------------------------------------------------------------


class OrderStore:
    """Orders in DynamoDB. The boto3 client is created on first use, never at import."""

    def __init__(
        self,
        table_name: str,
        client: Any = None,
        *,
        schedule_batch: ScheduleBatch | None = None,
        poll_period: timedelta = POLL_PERIOD,
    ) -> None:
        self.table_name = table_name
        self._given_client = client
        self.schedule_batch = schedule_batch
        self.poll_period = poll_period

    def batching(self, batch: ScheduleBatch) -> OrderStore:
        """This store (same client) with schedule moves queued in `batch` instead of written."""
        view = copy.copy(self)  # a subclass stays itself; cached client and codec are shared
        view.__dict__["_client"] = self._client
        view.schedule_batch = batch
        return view

    @cached_property
    def _client(self) -> Any:
        if self._given_client is not None:
            return self._given_client
        from cryptosdk.runtime.aws_sdk import dynamodb_client  # boto3 is heavy: kept off handler import paths

        return dynamodb_client()

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

    def put_intent(self, order: Order) -> Order:
        """Record an order before the upstream create, so a crash afterwards loses nothing. Never
        overwrites an order: a failed one stays failed (one Idempotency-Key, one outcome). The item
        carries the writing invocation's correlation id (`correlationId`)."""
        order = order.model_copy(update={"correlation_id": correlation_id()})
        # The schedule first: a crash between the two leaves a schedule without an order, which
        # the poller deletes when it comes due; the other way round would leave an order nobody polls.
        if order.poll_shard is not None and order.next_poll_at is not None and not is_terminal(order.status):
            self._create_schedule(order.id, order.poll_shard, order.next_poll_at, order.poll_failures)
        try:
            self._client.put_item(
                TableName=self.table_name,
                Item=self._to_av(_without_schedule(order_to_item(order))),
                ConditionExpression="attribute_not_exists(id)",
            )
        except Exception as exc:
            if self._is_conditional_failure(exc):
                raise OrderExistsError(f"order {order.id} already exists") from None
            raise
        return order.model_copy(update={"poll_shard": None})

    def apply_update(
        self,
        order: Order,
        new_fields: Mapping[str, Any],
        expected_version: int | None = None,
        *,
        reason: str | None = None,
        cause: ChangeCause | None = None,
        now: datetime | None = None,
    ) -> Order:
        """One conditional UpdateItem: the new fields, a history entry when the status changes,
        version + 1; fails with StaleOrderError when the stored version is not `expected_version`.

        The write's own condition keeps the audit trail honest whoever calls: the stored item must
        be at `expected_version`, still in the status it was read in, not terminal (a terminal
        order is never written again), and have exactly the history entries read; the new entry is
        added with list_append, so no write can remove or rewrite an entry. `correlationId` becomes
        this invocation's (removed outside one), so the item and the event a write causes always
        name the request or poller run that wrote it."""
        if "status_history" in new_fields:
            raise ValueError("the status history only grows through a status change")
        expected = order.version if expected_version is None else expected_version
        now = now or utc_now()
        if order.poll_shard is None and set(new_fields) <= _SCHEDULE_FIELDS:
            # Only the schedule moves (most polls): no order to build, compare or write.
            moved = order.model_copy(update=dict(new_fields))
            self._reschedule(order, moved, now)
            return moved
        changes = dict(new_fields)
        new_status = changes.get("status")
        appended: list[StatusChange] = []
        if new_status is not None and OrderStatus(new_status) != order.status:
            # The domain decides which moves exist (InvalidTransitionError otherwise).
            appended.append(order.status_change(OrderStatus(new_status), at=now, cause=cause, reason=reason))
        if new_status is not None and is_terminal(OrderStatus(new_status)):
            changes["poll_shard"] = None
            changes["next_poll_at"] = None
        history = (*order.status_history, *appended)
        changes.update(
            status_history=history, updated_at=now, version=expected + 1, correlation_id=correlation_id()
        )
        updated = Order.model_validate({**order.model_dump(), **changes})

        # The old code's layout (schedule inline): this write moves the schedule into its item.
        inline = order.poll_shard is not None
        before = order_to_item(order)
        after = _without_schedule(order_to_item(updated))
        if not inline:
            before = _without_schedule(before)
        if not inline and _order_unchanged(before, after):
            # Nothing about the order changed: no order write (no version bump, no stream record);
            # at most its schedule moves.
            self._reschedule(order, updated, now)
            return order.model_copy(
                update={"next_poll_at": updated.next_poll_at, "poll_failures": updated.poll_failures}
            )
        if inline and updated.next_poll_at is not None and not is_terminal(updated.status):
            self._create_schedule(
                order.id, order.poll_shard or "0", updated.next_poll_at, updated.poll_failures
            )
        names: dict[str, str] = {"#version": "version", "#status": "status", "#history": "statusHistory"}
        values: dict[str, Any] = {
            ":expected": self._ser(expected),
            ":from": {"S": order.status.value},
            ":entries": {"N": str(len(order.status_history))},
        }
        sets: list[str] = []
        removes: list[str] = []
        for i, key in enumerate(sorted(set(before) | set(after))):
            if key in ("id", "statusHistory") or before.get(key) == after.get(key):
                continue
            names[f"#a{i}"] = key
            if key in after:
                values[f":v{i}"] = self._ser(after[key])
                sets.append(f"#a{i} = :v{i}")
            else:
                removes.append(f"#a{i}")
        if appended:
            values[":appended"] = self._ser([_history_entry(change) for change in appended])
            sets.append("#history = list_append(#history, :appended)")
        terminal = sorted(status.value for status in TERMINAL_STATUSES)
        for n, status in enumerate(terminal):
            values[f":t{n}"] = {"S": status}
        expression = "SET " + ", ".join(sets)
        if removes:
            expression += " REMOVE " + ", ".join(removes)
        condition = (
            "attribute_exists(id) AND #version = :expected AND #status = :from"
            " AND size(#history) = :entries"
            f" AND NOT (#status IN ({', '.join(f':t{n}' for n in range(len(terminal)))}))"
        )
        try:
            self._client.update_item(
                TableName=self.table_name,
                Key={"id": {"S": order.id}},
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except Exception as exc:
            if self._is_conditional_failure(exc):
                raise StaleOrderError(f"order {order.id} changed since version {expected} was read") from None
            raise
        if is_terminal(updated.status):
            self._delete_schedule(order.id)
        elif not inline:
            self._reschedule(order, updated, now)
        return updated.model_copy(update={"poll_shard": None})

    # schedule items

    def _create_schedule(self, order_id: str, shard: str, next_poll_at: datetime, failures: int) -> None:
        """The order's schedule item, unless it has one (a retried create, a repeated upgrade)."""
        try:
            self._client.put_item(
                TableName=self.table_name,
                Item=self._to_av(_schedule_item(order_id, shard, next_poll_at, failures)),
                ConditionExpression="attribute_not_exists(id)",
            )
        except Exception as exc:
            if not self._is_conditional_failure(exc):
                raise

    def _delete_schedule(self, order_id: str) -> None:
        self._client.delete_item(TableName=self.table_name, Key={"id": {"S": schedule_id(order_id)}})

    def _reschedule(self, order: Order, updated: Order, now: datetime) -> None:
        next_poll_at = updated.next_poll_at
        if next_poll_at is None:
            return
        same_failures = updated.poll_failures == order.poll_failures
        if same_failures and not needs_schedule_write(
            order.next_poll_at, next_poll_at, now, self.poll_period
        ):
            return
        view = view_attributes(updated)
        self._queue(ScheduleMove(order.id, next_poll_at, updated.poll_failures, order.next_poll_at, view))

    def _queue(self, move: ScheduleMove) -> None:
        if self.schedule_batch is not None:
            self.schedule_batch.add(move)
        else:
            self.write_schedule_moves([move])

    def move_schedule(
        self, view: PollView, next_poll_at: datetime | None, failures: int, now: datetime
    ) -> bool:
        """A poll that changed nothing about the order, seen through its schedule's view: only the
        schedule moves (when worth a write), its remembered view left as it is. True when moved."""
        if next_poll_at is None:
            return False
        if failures == view.poll_failures and not needs_schedule_write(
            view.next_poll_at, next_poll_at, now, self.poll_period
        ):
            return False
        self._queue(ScheduleMove(view.id, next_poll_at, failures, view.next_poll_at))
        return True

    def load_due(self, view: PollView) -> Order | None:
        """The order behind a due schedule view, with the schedule's state (eventually consistent:
        every write is conditional). None, and the schedule deleted, when there is nothing to poll."""
        answer = self._client.get_item(TableName=self.table_name, Key={"id": {"S": view.id}})
        item = answer.get("Item")
        order = item_to_order(self._from_av(item)) if item else None
        if order is None or is_terminal(order.status):
            self._delete_schedule(view.id)
            return None
        return order.model_copy(
            update={"next_poll_at": view.next_poll_at, "poll_failures": view.poll_failures}
        )

    def write_schedule_moves(self, moves: Sequence[ScheduleMove]) -> tuple[int, int]:
        """Each move as one PartiQL UPDATE under its own condition, 25 to a BatchExecuteStatement.
        A refused condition re-reads that one schedule item (never the batch): gone means the
        order ended, moved means an overlapping writer rescheduled it; either way theirs stands.
        Returns (written, conflicts)."""
        written = conflicts = 0
        for start in range(0, len(moves), _BATCH_STATEMENTS):
            chunk = moves[start : start + _BATCH_STATEMENTS]
            answer = self._client.batch_execute_statement(Statements=[self._move_statement(m) for m in chunk])
            for move, response in zip(chunk, answer.get("Responses", []), strict=False):
                code = (response.get("Error") or {}).get("Code")
                if code is None:
                    written += 1
                elif code == "ConditionalCheckFailed":
                    conflicts += 1
                    self._log_schedule_conflict(move)
                else:
                    raise ScheduleWriteError(f"schedule of {move.order_id} not written: {code}")
        return written, conflicts

    def _move_statement(self, move: ScheduleMove) -> dict[str, Any]:
        # The table name is our configuration, never input; every value is a parameter.
        sets = ["nextPollAt = ?", "pollFailures = ?"]
        parameters = [{"S": to_iso(move.next_poll_at)}, {"N": str(move.failures)}]
        for key, value in (move.view or {}).items():
            sets.append(f'"{key}" = ?')  # our attribute names, never input
            parameters.append(self._ser(value))
        statement = f'UPDATE "{self.table_name}" SET {", ".join(sets)} WHERE id = ?'  # noqa: S608
        parameters.append({"S": schedule_id(move.order_id)})
        if move.expected_due is not None:
            statement += " AND nextPollAt = ?"
            parameters.append({"S": to_iso(move.expected_due)})
        else:
            statement += " AND orderId = ?"
            parameters.append({"S": move.order_id})
        return {"Statement": statement, "Parameters": parameters}

    def _log_schedule_conflict(self, move: ScheduleMove) -> None:
        from cryptosdk.runtime.observability import logger

        current = self._client.get_item(
            TableName=self.table_name, Key={"id": {"S": schedule_id(move.order_id)}}, ConsistentRead=True
        ).get("Item")
        logger.info(
            "schedule left as another writer set it",
            order_id=move.order_id,
            schedule="gone" if current is None else "moved",
        )

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
        cause: ChangeCause = ChangeCause.EXCHANGE,
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
        return self.apply_update(order, fields, order.version, reason=reason, cause=cause, now=now)

    def mark_failed(
        self,
        order: Order,
        reason: str,
        *,
        cause: ChangeCause,
        refusal: Refusal | None = None,
        now: datetime | None = None,
    ) -> Order:
        fields: dict[str, Any] = {"status": OrderStatus.FAILED, "failure_reason": reason}
        if refusal is not None:
            fields["refusal"] = refusal
        return self.apply_update(order, fields, order.version, reason=reason, cause=cause, now=now)

    # reads

    def get(self, order_id: str, *, with_schedule: bool = False) -> Order | None:
        """One order; `with_schedule` also reads its poll schedule item (next_poll_at and
        poll_failures as stored there; None when the order has none, i.e. it ended)."""
        answer = self._client.get_item(
            TableName=self.table_name, Key={"id": {"S": order_id}}, ConsistentRead=True
        )
        item = answer.get("Item")
        order = item_to_order(self._from_av(item)) if item else None
        if order is None or not with_schedule or order.poll_shard is not None:
            return order
        schedule = self._client.get_item(
            TableName=self.table_name, Key={"id": {"S": schedule_id(order_id)}}, ConsistentRead=True
        ).get("Item")
        if schedule is None:
            return order
        plain = self._from_av(schedule)
        return order.model_copy(
            update={
                "next_poll_at": Order.model_validate(
                    {**order.model_dump(), "next_poll_at": plain["nextPollAt"]}
                ).next_poll_at,
                "poll_failures": int(plain.get("pollFailures", 0)),
            }
        )

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
        # The index holds keys only (written once, at the create): the page's orders are read by id.
        ids = [i["id"]["S"] for i in answer.get("Items", [])]
        found = self._batch_get(ids)
        orders = [item_to_order(found[i]) for i in ids if i in found]
        last = answer.get("LastEvaluatedKey")
        next_cursor = encode_cursor({k: v["S"] for k, v in last.items()}) if last else None
        return orders, next_cursor

    def _batch_get(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Items by id (plain values), 100 to a BatchGetItem, unprocessed keys asked again.
        Eventually consistent: every write is conditional, so a stale read costs a retry, not data."""
        found: dict[str, dict[str, Any]] = {}
        unique = list(dict.fromkeys(ids))
        for start in range(0, len(unique), _BATCH_GET):
            keys: list[dict[str, Any]] = [{"id": {"S": i}} for i in unique[start : start + _BATCH_GET]]
            for attempt in range(8):
                if not keys:
                    break
                if attempt:
                    time.sleep(min(0.05 * 2**attempt, 1.0))
                answer = self._client.batch_get_item(RequestItems={self.table_name: {"Keys": keys}})
                for item in answer.get("Responses", {}).get(self.table_name, []):
                    plain = self._from_av(item)
                    found[plain["id"]] = plain
                keys = answer.get("UnprocessedKeys", {}).get(self.table_name, {}).get("Keys", [])
            if keys:
                raise StorageBusyError(f"{len(keys)} orders not read after repeated throttling")
        return found

    def due_for_poll(
        self,
        shard: str,
        now: datetime,
        limit: int = 100,
        exclusive_start: Mapping[str, Any] | None = None,
    ) -> tuple[list[Order | PollView], dict[str, Any] | None]:
        """Active orders of one shard whose next poll time has come (a Query, never a Scan).

        A schedule item that remembers its order comes back as its `PollView` (one item read); the
        others as their order (read by BatchGetItem, 100 to a call). Returns them and the raw
        LastEvaluatedKey to pass back as `exclusive_start`.
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
        due = [self._from_av(i) for i in answer.get("Items", [])]
        views = {str(i["orderId"]): _decisive(i) for i in due if str(i["id"]).startswith(SCHEDULE_PREFIX)}
        found = self._batch_get([order_id for order_id, view in views.items() if view is None])
        orders: list[Order | PollView] = []
        for item in due:
            if not str(item["id"]).startswith(SCHEDULE_PREFIX):
                orders.append(item_to_order(item))  # written by the old code: schedule inline
                continue
            view = views[str(item["orderId"])]
            if view is not None:
                orders.append(view)
                continue
            order_item = found.get(item["orderId"])
            order = item_to_order(order_item) if order_item else None
            if order is None or is_terminal(order.status):
                # A create that died between its two puts, or an order that ended and lost the
                # race to delete its schedule: nothing to poll, so the schedule goes.
                self._delete_schedule(item["orderId"])
                continue
            orders.append(
                order.model_copy(
                    update={
                        "next_poll_at": Order.model_validate(
                            {**order.model_dump(), "next_poll_at": item["nextPollAt"]}
                        ).next_poll_at,
                        "poll_failures": int(item.get("pollFailures", 0)),
                    }
                )
            )
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
        from cryptosdk.runtime.config import get_settings

        _STORE = OrderStore(get_settings().orders_table)
    return _STORE


def reset_store() -> None:
    """Forget the cached store (tests switch tables and endpoints)."""
    global _STORE
    _STORE = None


_STORE: OrderStore | None = None
