"""Poll schedule items (`poll#<orderId>`): the only items in the sparse DueForPoll index. A
schedule is moved only when the next poll is more than one poll period away (a back-off), queued by
a run's workers and written by its main thread 25 to a PartiQL BatchExecuteStatement, each
statement under its own condition; with each move it remembers the order's poll view
(cryptosdk.domain.schedule), so a due order waiting for its deposit is one item read."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cryptosdk.domain.order import Order, to_iso
from cryptosdk.domain.schedule import PollView
from cryptosdk.domain.status import is_terminal
from cryptosdk.runtime.observability import logger
from cryptosdk.storage.codec import item_from_attributes, item_to_attributes, to_attribute
from cryptosdk.storage.items import (
    SCHEDULE_PREFIX,
    decisive_view,
    item_to_order,
    schedule_id,
    schedule_item,
)
from cryptosdk.storage.table import Table

DUE_FOR_POLL_INDEX = "DueForPoll"
# The poller's schedule (rate(1 minute)): a next poll at most this far off needs no write, since
# the item stays due and the next run takes it.
POLL_PERIOD = timedelta(minutes=1)
_BATCH_STATEMENTS = 25
SCHEDULE_BATCH_SIZE = _BATCH_STATEMENTS


class ScheduleWriteError(RuntimeError):
    """DynamoDB refused a schedule move for a reason other than its condition."""


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


class ScheduleItems(Table):
    """The schedule side of the orders table."""

    # Set by the store: where a run queues its moves (None: written at once), and the period.
    schedule_batch: ScheduleBatch | None = None
    poll_period: timedelta = POLL_PERIOD

    def _create_schedule(self, order_id: str, shard: str, next_poll_at: datetime, failures: int) -> None:
        """The order's schedule item, unless it has one (a retried create, a repeated upgrade)."""
        try:
            self._client.put_item(
                TableName=self.table_name,
                Item=item_to_attributes(schedule_item(order_id, shard, next_poll_at, failures)),
                ConditionExpression="attribute_not_exists(id)",
            )
        except Exception as exc:
            if not self._is_conditional_failure(exc):
                raise

    def _delete_schedule(self, order_id: str) -> None:
        self._client.delete_item(TableName=self.table_name, Key={"id": {"S": schedule_id(order_id)}})

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
        return self._due_order(view, item_from_attributes(item) if item else None)

    def load_due_many(self, views: Sequence[PollView]) -> dict[str, Order | None]:
        """`load_due` for several views in one BatchGetItem (100 keys to a call): each GetItem is
        a whole botocore call, several times the CPU of its one item."""
        found = self._batch_get([view.id for view in views])
        return {view.id: self._due_order(view, found.get(view.id)) for view in views}

    def _due_order(self, view: PollView, item: Mapping[str, Any] | None) -> Order | None:
        order = item_to_order(item) if item else None
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
            parameters.append(to_attribute(value))
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
        current = self._client.get_item(
            TableName=self.table_name, Key={"id": {"S": schedule_id(move.order_id)}}, ConsistentRead=True
        ).get("Item")
        logger.info(
            "schedule left as another writer set it",
            order_id=move.order_id,
            schedule="gone" if current is None else "moved",
        )

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
        orders: list[Order | PollView] = []
        due: list[dict[str, Any]] = []
        # Which read path, never what is decided (a view that cannot decide reads its order anyway):
        # a backed-off schedule is taken within a period of its due time, while an order polled
        # every run keeps the due time it had, so a schedule long overdue has a status newer than
        # its view, and its order is read in the batch (one call per 100, not a GetItem each).
        fresh_since = now - self.poll_period * 1.5
        for raw in answer.get("Items", []):
            view = decisive_view(raw)
            if view is not None and view.next_poll_at > fresh_since:
                orders.append(view)  # most due orders: no deserializer, no order read
            else:
                due.append(item_from_attributes(raw))
        schedules = [i["orderId"] for i in due if str(i["id"]).startswith(SCHEDULE_PREFIX)]
        found = self._batch_get(schedules)
        for item in due:
            if not str(item["id"]).startswith(SCHEDULE_PREFIX):
                orders.append(item_to_order(item))  # written by the old code: schedule inline
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
