"""A poller process that dies right after its first status write, before anything else runs.

    python -m tests.integration.poller.dying_writer ENDPOINT TABLE SANDBOX_URL PUBLIC_KEY SECRET_KEY

The real poller path (fetch, decide, one conditional UpdateItem) against DynamoDB at ENDPOINT;
the store's write returns and the process ends with os._exit (no cleanup, no flush, no further
line of ours runs), exactly like a Lambda container killed between two statements.
"""

from __future__ import annotations

import os
import sys
from typing import Any

DIED_AFTER_WRITE = 97


def main(endpoint: str, table: str, sandbox_url: str, public_key: str, secret_key: str) -> int:
    import boto3

    from cryptosdk.exchange.client import ExchangeClient
    from cryptosdk.exchange.secrets import StaticKeyProvider
    from cryptosdk.orders.polling.options import PollerDeps, PollerOptions
    from cryptosdk.orders.polling.run import poll_due_orders
    from cryptosdk.storage.orders import OrderStore

    class DyingStore(OrderStore):
        def apply_update(self, *args: Any, **kwargs: Any) -> Any:
            super().apply_update(*args, **kwargs)
            os._exit(DIED_AFTER_WRITE)  # the write is committed; nothing after it happens

    dynamodb = boto3.session.Session(
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    ).client("dynamodb", endpoint_url=endpoint)
    deps = PollerDeps(
        client=ExchangeClient(sandbox_url, StaticKeyProvider(public_key, secret_key)),
        store=DyingStore(table, client=dynamodb),
    )
    poll_due_orders(deps=deps, options=PollerOptions(concurrency=1))
    return 0  # no order was due: the test sees 0, not DIED_AFTER_WRITE


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:6]))
