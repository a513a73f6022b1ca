"""Reconciliation of creates whose outcome was unknown: which listed exchange order a create made.

The exchange offers no lookup by our id, only its order list (newest first). So:
- `find_matching_order` is the rule: same destination, amount, memo and pair, created since the
  create began (give or take the clocks' skew), not already taken by another of our orders.
- `create_or_recover` is the create service's call: when the client reports the outcome unknown,
  one page of the list is read at once and a match is adopted; else the caller gets the error
  and the stored intent is settled later (cryptosdk.orders.settle).
- `RecentOrders` serves a poller run: one run may hold many pending intents, so the list is read
  once per run, page by page only as far back as the oldest intent needs, and shared by them all.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from cryptosdk.domain.order import Order, utc_now
from cryptosdk.exchange import errors
from cryptosdk.exchange.models import CreateOrderRequest, ExchangeOrder, InstrumentRef, OrderPair, Rate
from cryptosdk.runtime.observability import logger

if TYPE_CHECKING:
    from cryptosdk.exchange.client import ExchangeClient

# How much earlier than the create call (or the stored intent) the exchange may stamp the order it
# made: the two clocks differ. Any wider and an identical earlier order of ours would be taken for
# the one a failed create made.
MATCH_CLOCK_SKEW = timedelta(seconds=30)


@dataclass(frozen=True)
class CreateLookup:
    """How the create service looks for an unknown create in the order list, right after it."""

    # One page, newest first: the order a create just made is among the newest.
    limit: int = 50
    window: timedelta = MATCH_CLOCK_SKEW
    # Seconds to wait first when no answer came at all (an HTTP 5xx means the exchange has finished).
    delay: float = 1.0
    sleep: Callable[[float], None] = time.sleep


DEFAULT_CREATE_LOOKUP = CreateLookup()


def create_or_recover(
    client: ExchangeClient, request: CreateOrderRequest, lookup: CreateLookup = DEFAULT_CREATE_LOOKUP
) -> ExchangeOrder:
    """Create an order upstream; when the outcome is unknown, the listed order it made, if any.
    Raises OrderOutcomeUnknownError when the list does not show it (or cannot be read): the
    caller must not create it again, only leave it to reconciliation."""
    try:
        return client.create_order(request)
    except errors.OrderOutcomeUnknownError as unknown:
        return recover_created_order(client, unknown, lookup)


def recover_created_order(
    client: ExchangeClient,
    unknown: errors.OrderOutcomeUnknownError,
    lookup: CreateLookup = DEFAULT_CREATE_LOOKUP,
) -> ExchangeOrder:
    """The order the create `unknown` reports made, from one read of the order list."""
    # Lazy: importing the create service must not load the client and urllib3 (its callers hold a
    # client, so it is loaded by the time a create has failed).
    from cryptosdk.exchange.client import CREATE_ORDER_PATH

    cause, request, sent_at = unknown.cause, unknown.request, unknown.sent_at
    if cause is None or request is None or sent_at is None:
        raise unknown  # not the client's report of a create: nothing to search with
    logger.warning(
        "create-order outcome unknown; searching the order list",
        path=CREATE_ORDER_PATH,
        error_code=cause.code,
        status=cause.status,
    )
    if cause.status is None and lookup.delay > 0:
        # No answer at all: the exchange may still be working on the create. Give it a moment
        # so the order list reflects it (an HTTP 5xx means it has finished, so no wait then).
        lookup.sleep(lookup.delay)
    try:
        recent = client.list_orders(offset=0, limit=lookup.limit, order="desc")
    except errors.ExchangeError as lookup_error:
        raise _still_unknown(
            unknown,
            f"create-order failed ({cause.code}) and the order list could not be read "
            f"({lookup_error.code}); the order may exist",
        ) from None
    found = find_matching_order(recent, request, since=sent_at - lookup.window, anchor=sent_at)
    if found is None:
        raise _still_unknown(
            unknown, f"create-order failed ({cause.code}) and no matching order is in the order list"
        )
    logger.info(
        "create-order outcome recovered from the order list",
        path=CREATE_ORDER_PATH,
        order_id=found.order_id,
        error_code=cause.code,
    )
    return found


def _still_unknown(unknown: errors.OrderOutcomeUnknownError, message: str) -> errors.OrderOutcomeUnknownError:
    return errors.OrderOutcomeUnknownError(
        message,
        status=unknown.status,
        request_id=unknown.request_id,
        request=unknown.request,
        sent_at=unknown.sent_at,
        cause=unknown.cause,
    )


def upstream_request(order: Order, claimed_rate: Rate | None = None) -> CreateOrderRequest:
    """The exchange's create-order body for a stored intent (also what reconciliation matches on)."""
    return CreateOrderRequest(
        instrument_from=InstrumentRef(
            currency_title=order.from_leg.currency, network_title=order.from_leg.network
        ),
        instrument_to=InstrumentRef(currency_title=order.to_leg.currency, network_title=order.to_leg.network),
        destination_address=order.destination.address,
        destination_address_memo=order.destination.memo,
        refund_address=order.refund.address if order.refund else None,
        refund_address_memo=order.refund.memo if order.refund else None,
        claimed_deposit_amount=order.claimed_deposit_amount,
        rate_mode=order.rate_mode.value,
        claimed_public_rate=claimed_rate,
    )


def find_matching_order(
    orders: Sequence[ExchangeOrder],
    request: CreateOrderRequest,
    *,
    since: datetime,
    anchor: datetime | None = None,
    exclude: Collection[int] = (),
) -> ExchangeOrder | None:
    """The order `request` would have created: one of the same shape created at or after `since`
    and not in `exclude` (ids already taken by another of our orders).

    Without `anchor` the newest wins. With it (when the create began), the first one created at or
    after it wins, else the closest one before it: each of several identical creates a minute
    apart then takes the order that followed it, not the newest of them all.
    """
    candidates = [
        order
        for order in orders
        if order.created_at >= since and order.order_id not in exclude and _same_order(order, request)
    ]
    if anchor is None:
        return max(candidates, key=lambda order: order.created_at, default=None)
    after = [order for order in candidates if order.created_at >= anchor]
    if after:
        return min(after, key=lambda order: order.created_at)
    return max(candidates, key=lambda order: order.created_at, default=None)


def _same_order(order: ExchangeOrder, request: CreateOrderRequest) -> bool:
    if order.destination_address != request.destination_address:
        return False
    if order.claimed_deposit_amount is None or order.claimed_deposit_amount != request.claimed_deposit_amount:
        return False
    if (
        request.destination_address_memo
        and order.destination_address_memo != request.destination_address_memo
    ):
        return False
    return _same_pair(order.pair, request)


_CODE_SEPARATORS = re.compile(r"[^A-Z0-9]+")


def _same_pair(pair: OrderPair | str | None, request: CreateOrderRequest) -> bool:
    source, target = request.instrument_from, request.instrument_to
    if isinstance(pair, OrderPair):
        return pair.instrument_from == source and pair.instrument_to == target
    if isinstance(pair, str):
        # Whole codes only ("BTC" is not in "WBTC/ETH"), source named before target (pairs are directed).
        codes = [code for code in _CODE_SEPARATORS.split(pair.upper()) if code]
        wanted_from, wanted_to = source.currency_title.upper(), target.currency_title.upper()
        if wanted_from not in codes or wanted_to not in codes:
            return False
        first_from = codes.index(wanted_from)
        return (
            wanted_to in codes[first_from + 1 :] if wanted_from != wanted_to else codes.count(wanted_to) > 1
        )
    return True  # no pair given: destination + amount + time already narrow it down


DEFAULT_PAGE_SIZE = 100
# A bound on how far back one run reads; an intent older than the pages read stays pending until
# its reconciliation deadline marks it failed.
DEFAULT_MAX_PAGES = 5


class RecentOrders:
    """The exchange's newest orders, fetched lazily and shared (thread-safe) within one run."""

    def __init__(
        self,
        client: ExchangeClient,
        *,
        skew: timedelta = MATCH_CLOCK_SKEW,
        page_size: int = DEFAULT_PAGE_SIZE,
        max_pages: int = DEFAULT_MAX_PAGES,
        clock: Callable[[], datetime] = utc_now,
        claimed: Collection[int] = (),
    ) -> None:
        self._client = client
        self._skew = skew
        self._page_size = page_size
        self._max_pages = max_pages
        self._lock = threading.Lock()
        self._orders: list[ExchangeOrder] = []
        self._pages = 0
        self._exhausted = False
        # Exchange ids adopted in this run: two identical intents must not both take one order.
        self._claimed: set[int] = set(claimed)
        self._clock = clock
        self._read_at: datetime | None = None

    @property
    def pages_read(self) -> int:
        return self._pages

    @property
    def read_at(self) -> datetime | None:
        """When the first page was asked for: the list shows every order committed before it."""
        return self._read_at

    @property
    def claimed(self) -> frozenset[int]:
        with self._lock:
            return frozenset(self._claimed)

    def absence_proven_at(self, intent: Order) -> datetime | None:
        """When the list that did not show `intent`'s order was read, if the pages read reach back
        to when it could have been created; None when they do not (a busy exchange pushed it past
        the pages one run reads), which proves nothing."""
        since = intent.created_at - self._skew
        with self._lock:
            covered = self._exhausted or self._reaches(since)
            return self._read_at if covered else None

    def find(self, intent: Order) -> ExchangeOrder | None:
        """The exchange's order that `intent` created, if the exchange has it."""
        # The intent is written just before the create call, so the order it made is not older
        # (give or take the clocks' skew); anything earlier belongs to another order.
        since = intent.created_at - self._skew
        with self._lock:
            # Held across the HTTP call on purpose: every other intent waits for the same pages.
            self._cover(since)
            found = find_matching_order(
                self._orders,
                upstream_request(intent),
                since=since,
                anchor=intent.created_at,
                exclude=self._claimed,
            )
            if found is not None:
                self._claimed.add(found.order_id)
            return found

    def _cover(self, since: datetime) -> None:
        while not self._exhausted and self._pages < self._max_pages and not self._reaches(since):
            if self._read_at is None:
                self._read_at = self._clock()
            page = self._client.list_orders(
                offset=self._pages * self._page_size, limit=self._page_size, order="desc"
            )
            self._pages += 1
            self._orders.extend(page)
            if len(page) < self._page_size:
                self._exhausted = True

    def _reaches(self, since: datetime) -> bool:
        return bool(self._orders) and min(order.created_at for order in self._orders) < since
