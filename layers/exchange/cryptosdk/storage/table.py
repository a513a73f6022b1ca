"""The DynamoDB plumbing every store of the orders table shares: the client (made on first use,
never at import), conditional-failure detection and batched reads (items as plain values: storage.codec)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from functools import cached_property
from typing import Any

from cryptosdk.runtime.aws_sdk import dynamodb_client
from cryptosdk.storage.codec import item_from_attributes

_BATCH_GET = 100


class StorageBusyError(RuntimeError):
    """DynamoDB kept leaving keys of a batch read unprocessed."""


class Table:
    """One DynamoDB table, read and written through a botocore client built on first use."""

    def __init__(
        self, table_name: str, client: Any = None, *, connect: Callable[[], Any] | None = None
    ) -> None:
        """`client`, or `connect` to get one on first use (the container's shared client), or else
        a client of its own on first use (tests and tools)."""
        self.table_name = table_name
        self._given_client = client
        self._connect = connect or dynamodb_client

    @cached_property
    def _client(self) -> Any:
        if self._given_client is not None:
            return self._given_client
        return self._connect()

    @staticmethod
    def _is_conditional_failure(exc: Exception) -> bool:
        response = getattr(exc, "response", None) or {}
        code = response.get("Error", {}).get("Code")
        return bool(code == "ConditionalCheckFailedException")

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
                    plain = item_from_attributes(item)
                    found[plain["id"]] = plain
                keys = answer.get("UnprocessedKeys", {}).get(self.table_name, {}).get("Keys", [])
            if keys:
                raise StorageBusyError(f"{len(keys)} orders not read after repeated throttling")
        return found
