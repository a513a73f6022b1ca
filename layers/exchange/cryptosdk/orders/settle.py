"""Settling a create whose outcome is unknown: adopt the exchange's order, place it again under the
same intent, or fail it with a reason. Usually within a minute, never by creating a second order.

When the exchange answers a create with a 5xx, a timeout or a dropped connection, the order may or
may not exist upstream, and the exchange offers no lookup by our id: only its order list. So:

- Until the settle window since the latest create attempt began has passed, the intent is left
  alone (no lookup, no write): the request that made it may still be storing the exchange's answer,
  and the attempt may still land (the exchange finishing a request we stopped waiting for). The
  intent stays due, and a poller run waits within its own deadline for windows about to close.
- Then, in a list read after the window: found (same destination, amount, pair, created since the
  intent) → adopt it; not found → place it again under the same intent, at most `max_attempts`
  creates in all, or fail it when it may not be placed again (a fixed-rate quote cannot be honoured
  later; the intent outlived its deadline). A list that does not reach back to the intent proves
  nothing and changes nothing.

Why a re-place cannot duplicate the order a late first create made:
1. the attempt is claimed first, in the item's version-conditioned write (`createAttempts` + 1,
   `lastCreateAt` = now): of two pollers (or a poller and a manual refresh) only one places it;
2. the exchange's order list is read again right before the create, after the claim, and an order
   found there is adopted instead;
3. the window (CREATE_SETTLE_WINDOW) is longer than any create call of ours can last plus the time the
   exchange needs to finish and list an order, so an attempt that was going to land has landed.
The remaining case, an exchange that commits a create more than the window after it was sent, is
outside what the exchange's documentation or our sandbox shows: it would leave a second upstream
order that no order of ours points to; never shown to anyone, it lapses unpaid.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from cryptosdk.domain.order import ChangeCause, Order, RateMode
from cryptosdk.domain.status import OrderStatus
from cryptosdk.exchange import errors
from cryptosdk.orders.reconcile import RecentOrders, create_or_recover, upstream_request
from cryptosdk.runtime.observability import logger

if TYPE_CHECKING:
    from collections.abc import Callable, Collection

    from cryptosdk.exchange.client import ExchangeClient
    from cryptosdk.storage.orders import OrderStore

# From the start of a create attempt until a list read may prove it absent. A create call of ours
# lasts at most ~28 s (only a 429, refused before any work, is retried, within the client's 25 s
# retry deadline; the last attempt waits at most the connect timeout plus what remains of it), and
# the exchange is given 12 s more to finish a request we stopped waiting for and list the order.
# 40 s keeps the whole settle inside a minute: the poller runs every minute and waits, within its
# run, for windows that close before its deadline.
CREATE_SETTLE_WINDOW = timedelta(seconds=40)
# Creates for one intent in all (the first included); then it fails with the reason.
MAX_CREATE_ATTEMPTS = 3


class Verdict(StrEnum):
    WAIT = "wait"  # the window since the latest attempt has not passed (or the list was read before it)
    REPLACE = "replace"  # confirmed absent: place it again under the same intent
    FAIL = "fail"  # confirmed absent and it may not be placed again


@dataclass(frozen=True)
class Settlement:
    verdict: Verdict
    reason: str | None = None


def attempt_started(order: Order) -> datetime:
    """When the latest create attempt for `order` began (intents stored before attempts were
    counted have only their creation time)."""
    return order.last_create_at or order.created_at


def settle_at(order: Order, window: timedelta = CREATE_SETTLE_WINDOW) -> datetime:
    """The first moment a list read can prove the latest create attempt absent."""
    return attempt_started(order) + window


def settle_verdict(
    order: Order,
    list_read_at: datetime | None,
    now: datetime,
    *,
    window: timedelta = CREATE_SETTLE_WINDOW,
    max_attempts: int = MAX_CREATE_ATTEMPTS,
    deadline: timedelta = timedelta(minutes=15),
) -> Settlement:
    """What to do with a pending intent that a list read at `list_read_at` did not find (pure);
    `list_read_at` is None when the pages read did not reach back to the intent (no proof)."""
    if now - order.created_at >= deadline:
        # Whatever the list showed: a create this old is not placed any more, and failing it creates
        # nothing (an upstream order we could not see would lapse unpaid, its address never shown).
        reason = "create-order outcome unknown and the order is not in the exchange's order list"
        return Settlement(Verdict.FAIL, f"{reason}; past the {int(deadline.total_seconds())} s deadline")
    if list_read_at is None or list_read_at < settle_at(order, window):
        return Settlement(Verdict.WAIT)
    absent = (
        f"create-order outcome unknown and the order is not in the exchange's order list "
        f"{int(window.total_seconds())} s after attempt {order.create_attempts}"
    )
    if order.rate_mode == RateMode.FIXED:
        return Settlement(Verdict.FAIL, f"{absent}; a fixed-rate quote is not placed again at a later rate")
    if order.create_attempts >= max_attempts:
        return Settlement(Verdict.FAIL, f"{absent}; no more attempts ({max_attempts} in all)")
    return Settlement(Verdict.REPLACE)


@dataclass(frozen=True)
class Replaced:
    """What placing an intent again did: the order as stored now, and whether its status moved."""

    order: Order
    changed: bool


def place_again(
    order: Order,
    *,
    client: ExchangeClient,
    store: OrderStore,
    clock: Callable[[], datetime],
    claimed: Collection[int] = (),
    poll_cap: timedelta | None = None,
) -> Replaced:
    """Place a confirmed-absent intent again under its own id. Raises StaleOrderError when another
    writer got there first (nothing was sent)."""
    # Lazy: the order service (validation, ~8 ms of the poller's cold start) only when intents exist.
    from cryptosdk.orders.service import record_created

    now = clock()
    attempt = order.create_attempts + 1
    # The intent stays due (next_poll_at untouched): every run looks at it, and the one running
    # when this attempt's window closes settles it.
    claim = {"create_attempts": attempt, "last_create_at": now}
    # 1. The claim: only the writer whose conditional write wins sends the create.
    mine = store.apply_update(order, claim, order.version, now=now)
    # 2. A last look right before creating: a first attempt that landed late is adopted instead.
    recent = RecentOrders(client, clock=clock, claimed=claimed)
    found = recent.find(mine)
    if found is None and recent.absence_proven_at(mine) is None:
        # The pages read do not reach back to the intent: no proof, so no create.
        logger.warning("order list too long to prove an unknown create absent", order_id=mine.id)
        return Replaced(mine, changed=False)
    if found is not None:
        logger.info("unknown create found in the exchange's order list", order_id=mine.id, attempt=attempt)
        stored = record_created(
            store,
            mine,
            found,
            reason="reconciled from the exchange's order list before placing it again",
            cause=ChangeCause.RECONCILIATION,
            now=clock(),
            poll_cap=poll_cap,
        )
        return Replaced(stored, stored.status != OrderStatus.PENDING_CREATE)
    logger.warning("placing an unknown create again", order_id=mine.id, attempt=attempt)
    try:
        created = create_or_recover(client, upstream_request(mine))
    except errors.OrderOutcomeUnknownError:
        # Unknown again: settled by the same rule one window after this attempt.
        return Replaced(mine, changed=False)
    except errors.ExchangeError as exc:
        reason = f"exchange refused the order on attempt {attempt}: {exc.code}"
        failed = store.mark_failed(mine, reason, cause=ChangeCause.REFUSAL, now=clock())
        return Replaced(failed, changed=True)
    stored = record_created(
        store,
        mine,
        created,
        reason=f"created upstream on attempt {attempt}",
        cause=ChangeCause.RECONCILIATION,
        now=clock(),
        poll_cap=poll_cap,
    )
    return Replaced(stored, changed=True)
