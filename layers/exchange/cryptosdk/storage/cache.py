"""Shared cache items in the orders table (the instruments catalogue): no extra resource to deploy,
and no userId, so no index entry. Expiry by DynamoDB TTL, checked on read (TTL deletion is lazy)."""

from __future__ import annotations

from datetime import datetime

from cryptosdk.storage.table import Table


class CacheItems(Table):
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
