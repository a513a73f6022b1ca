"""The order store: the orders table's items for orders (item mapping: cryptosdk.storage.items;
schedules: cryptosdk.storage.schedule; cache items: cryptosdk.storage.cache; listing cursors:
cryptosdk.storage.cursors). It only stores: which status moves exist is the domain's (`Order`).

Two item types share the table (see the README's storage design):
- the order (`id = ord_...`): written only when something about the order changes (status,
  exchange data, failure); in the ByUserKeys index (KEYS_ONLY on userId/createdAt, keys that never
  change), so an order write never rewrites an index entry after the create;
- its poll schedule (`id = poll#<orderId>`: orderId, pollShard, nextPollAt, pollFailures, and the
  order's poll view once a back-off move has written it), the only thing in the sparse DueForPoll
  index. It is moved only when the next poll is more than one poll period away (a back-off); an
  order polled every run keeps its due time and costs no write. A terminal order's schedule is
  deleted.
Orders written by the old code carry pollShard/nextPollAt/pollFailures inline and so still sit
in DueForPoll: the first write to such an order moves them into its schedule item (the upgrade).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from cryptosdk.domain.order import (
    ChangeCause,
    Order,
    OrderExistsError,
    Refusal,
    StaleOrderError,
    StatusChange,
    utc_now,
)
from cryptosdk.domain.status import TERMINAL_STATUSES, OrderStatus, is_terminal
from cryptosdk.runtime.observability import correlation_id
from cryptosdk.storage.cache import CacheItems
from cryptosdk.storage.codec import item_from_attributes, item_to_attributes, to_attribute
from cryptosdk.storage.cursors import decode_cursor, encode_cursor
from cryptosdk.storage.items import (
    SCHEDULE_FIELDS,
    history_entry,
    item_to_order,
    order_to_item,
    order_unchanged,
    schedule_id,
    view_attributes,
    without_schedule,
)
from cryptosdk.storage.schedule import (
    POLL_PERIOD,
    ScheduleBatch,
    ScheduleItems,
    ScheduleMove,
    needs_schedule_write,
)

BY_USER_INDEX = "ByUserKeys"
_MAX_PAGE = 100


class OrderStore(ScheduleItems, CacheItems):
    """Orders in DynamoDB. The botocore client is created on first use, never at import."""

    def __init__(
        self,
        table_name: str,
        client: Any = None,
        *,
        connect: Callable[[], Any] | None = None,
        schedule_batch: ScheduleBatch | None = None,
        poll_period: timedelta = POLL_PERIOD,
    ) -> None:
        super().__init__(table_name, client, connect=connect)
        self.schedule_batch = schedule_batch
        self.poll_period = poll_period

    def batching(self, batch: ScheduleBatch) -> OrderStore:
        """This store (same client) with schedule moves queued in `batch` instead of written."""
        view = copy.copy(self)  # a subclass stays itself; cached client and codec are shared
        view.__dict__["_client"] = self._client
        view.schedule_batch = batch
        return view

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
                Item=item_to_attributes(without_schedule(order_to_item(order))),
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
        if order.poll_shard is None and set(new_fields) <= SCHEDULE_FIELDS:
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
        after = without_schedule(order_to_item(updated))
        if not inline:
            before = without_schedule(before)
        if not inline and order_unchanged(before, after):
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
            ":expected": to_attribute(expected),
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
                values[f":v{i}"] = to_attribute(after[key])
                sets.append(f"#a{i} = :v{i}")
            else:
                removes.append(f"#a{i}")
        if appended:
            values[":appended"] = to_attribute([history_entry(change) for change in appended])
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
        order = item_to_order(item_from_attributes(item)) if item else None
        if order is None or not with_schedule or order.poll_shard is not None:
            return order
        schedule = self._client.get_item(
            TableName=self.table_name, Key={"id": {"S": schedule_id(order_id)}}, ConsistentRead=True
        ).get("Item")
        if schedule is None:
            return order
        plain = item_from_attributes(schedule)
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
