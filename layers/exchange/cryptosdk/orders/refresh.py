"""The manual refresh (`POST /orders/{id}/refresh`): one order polled now through the scheduled
run's own flow (fetch, decision, conditional write); its event, if the status moved, comes from
the orders table's stream like any other."""

from __future__ import annotations

from dataclasses import dataclass

from cryptosdk.domain.order import Order
from cryptosdk.domain.status import is_terminal
from cryptosdk.orders.polling.flow import Outcome, PollContext, run_one
from cryptosdk.orders.polling.options import PollerDeps, PollerOptions
from cryptosdk.orders.polling.pacing import Deadline, Pacer
from cryptosdk.orders.reconcile import RecentOrders
from cryptosdk.orders.service import get_order


@dataclass(frozen=True)
class RefreshResult:
    """What a manual refresh did: the order as stored now, and whether this refresh moved its
    status (the event for that change comes from the orders table's stream)."""

    order: Order
    changed: bool = False


def refresh(
    order_id: str, *, deps: PollerDeps, options: PollerOptions, user_id: str | None = None
) -> RefreshResult:
    """Poll one order now (the manual refresh route): the same fetch, decision and conditional
    write as the scheduled run. Raises the exchange's error (after recording the back-off) so the
    route can answer it; OrderNotFoundError when unknown."""
    order = get_order(order_id, deps.store, user_id=user_id)
    if is_terminal(order.status):
        return RefreshResult(order)
    ctx = PollContext(deps, options, Deadline(), Pacer(1), RecentOrders(deps.client, clock=deps.clock))
    ctx.pacer.acquire(lambda: False)
    result = run_one(order, ctx)
    if result.outcome == Outcome.FAILED and result.error is not None:
        raise result.error
    if result.outcome == Outcome.SKIPPED:
        # Lost a race with a newer write: show what is stored now.
        return RefreshResult(deps.store.get(order_id) or order)
    return RefreshResult(result.order or order, result.outcome == Outcome.CHANGED)


def refresh_order(
    order_id: str, *, deps: PollerDeps, options: PollerOptions, user_id: str | None = None
) -> Order:
    """`refresh`, answering only the order as stored now."""
    return refresh(order_id, user_id=user_id, deps=deps, options=options).order
