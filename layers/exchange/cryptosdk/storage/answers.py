"""Which Idempotency-Keys' first requests ended with a pending (202) answer: one small item per
such key in the idempotency table (see cryptosdk.orders.idempotency for why, and why only those)."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import cached_property
from typing import Any

from cryptosdk.runtime.observability import logger

# Only needs to outlive a first request's in-flight window; a day, as idempotency records had.
ANSWER_TTL_SECONDS = 24 * 3600


class PendingAnswers:
    """Which keys' first requests ended with a pending (202) answer, in the idempotency table."""

    def __init__(self, table_name: str, connect: Callable[[], Any]) -> None:
        """`connect` gives the DynamoDB client on first use (most creates never need this table)."""
        self.table_name = table_name
        self._connect = connect

    @cached_property
    def client(self) -> Any:
        return self._connect()

    @staticmethod
    def _key(order_id: str) -> dict[str, Any]:
        return {"id": {"S": f"answered-pending#{order_id}"}}

    def record(self, order_id: str) -> None:
        expires = int(time.time()) + ANSWER_TTL_SECONDS
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item={**self._key(order_id), "expiration": {"N": str(expires)}},
            )
        except Exception:
            # A retry within the in-flight window then gets 409 and retries: slower, never a second order.
            logger.exception("could not record a pending answer", order_id=order_id)

    def recorded(self, order_id: str) -> bool:
        item = self.client.get_item(TableName=self.table_name, Key=self._key(order_id), ConsistentRead=True)
        return "Item" in item
