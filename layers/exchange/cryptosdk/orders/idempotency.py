"""One Idempotency-Key, one answer, without a lock table on the happy path.

Our order id is derived from (user, Idempotency-Key) and the intent is written conditionally, so a
key can record one intent only, and the stored intent says what the key's first request answered:

- its refusal (the exchange refused it): that refusal again;
- an exchange order id written by the request itself (the entry after the intent in its history
  has cause `exchange`): 201; written later by the poller (cause `reconciliation`): 202, as the
  first answer was;
- still `pending_create`: either the first request is still running (a concurrent duplicate:
  409 `request_in_progress`, as Powertools idempotency answered), or it ended with a pending
  outcome (202). Only that ending is recorded, as a small item in the idempotency table (the one
  place written outside the orders table, so an orders-table outage cannot lose it), and only on
  that rare path. Without one, the first request counts as running until the in-flight window
  after its intent has passed (the function's timeout: it cannot run longer), then 202: what a
  killed invocation leaves, settled by the poller.

A fresh create thus costs one GetItem (the replay check, before anything is validated or sent)
and the intent's writes; Powertools idempotency's in-progress put and completion update are gone.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from cryptosdk.domain.order import ChangeCause, Order

# Lambda ends an invocation at the function's timeout (25 s in template.yaml; an HTTP API
# integration gives up at 30 s): a first request whose intent is older cannot still be running.
DEFAULT_IN_FLIGHT = timedelta(seconds=30)


def in_progress_error() -> Exception:
    """The error the API maps to 409 `request_in_progress` (Powertools' own class, imported only
    on this rare path: the idempotency package is not loaded otherwise)."""
    from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError

    return IdempotencyAlreadyInProgressError("A request with this Idempotency-Key is in progress.")


def created_by_request(order: Order) -> bool:
    """Whether the request that recorded the intent also stored the exchange's order (its 201)."""
    history = order.status_history
    return len(history) > 1 and history[1].cause == ChangeCause.EXCHANGE


def maybe_in_flight(order: Order, now: datetime, window: timedelta = DEFAULT_IN_FLIGHT) -> bool:
    """Whether the request that recorded `order` may still be running: `window` is how long a
    first request may run (the function's timeout)."""
    return now < order.created_at + window
