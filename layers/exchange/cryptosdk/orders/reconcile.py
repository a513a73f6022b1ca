"""Reconciliation of orders whose create-order outcome was unknown (intent stored, no exchange id).

The exchange offers no lookup by our id, only its order list (newest first). One run may hold many
pending intents, so the list is read once per run, page by page only as far back as the oldest
intent needs, and shared by every intent in that run.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from cryptosdk.domain.order import utc_now
from cryptosdk.exchange.client import MATCH_CLOCK_SKEW, find_matching_order

if TYPE_CHECKING:
    from cryptosdk.domain.order import Order
    from cryptosdk.exchange.client import ExchangeClient
    from cryptosdk.exchange.models import ExchangeOrder

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
        # Lazy: the order service (and its validation imports) is needed only when intents exist.
        from cryptosdk.orders.service import upstream_request

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
