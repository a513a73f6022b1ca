"""The one place that builds what a Lambda container (execution environment) works with.

`container()` is the process's `Container`: the settings, read once, and every client and store
built on first use, so a function pays only for what its routes touch (the stream function never
builds an exchange client; GET /rates never loads botocore). Handlers take what a route needs from it
and hand it to the services, which find nothing through module globals. One DynamoDB client serves
both tables and every use in a container (API reads, pending answers, the poller): its pool is
sized for the poller's workers, and a pool opens connections only as they are needed.

Tests that change the environment or the endpoints call `reset_container()`; SnapStart's hooks
(cryptosdk.snapstart) build the first request's parts before the snapshot and renew what was built
after a restore.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from cryptosdk.orders.instruments import InstrumentCache
from cryptosdk.runtime.config import Settings, settings_from_environment
from cryptosdk.storage.answers import PendingAnswers

if TYPE_CHECKING:
    from cryptosdk.exchange.client import ExchangeClient
    from cryptosdk.orders.events import EventPublisher
    from cryptosdk.orders.polling.options import PollerDeps, PollerOptions
    from cryptosdk.orders.service import OrderDeps
    from cryptosdk.storage.orders import OrderStore


class Container:
    """Settings and the clients built from them, each on first use and then kept."""

    def __init__(self, settings: Settings | None = None) -> None:
        if settings is not None:
            self.__dict__["settings"] = settings

    @cached_property
    def settings(self) -> Settings:
        return settings_from_environment()

    def built(self, name: str) -> Any:
        """The part `name` if it was built, without building it (SnapStart's restore hook)."""
        return vars(self).get(name)

    @cached_property
    def dynamodb(self) -> Any:
        # botocore (~100 ms) loads here, at a route's first DynamoDB call, never at a handler's import.
        from cryptosdk.runtime.aws_sdk import dynamodb_client

        # The poller's workers each hold a connection (botocore's default pool is 10).
        return dynamodb_client(pool=self.settings.poller_concurrency + 4)

    @cached_property
    def orders(self) -> OrderStore:
        # Lazy (~8 ms): the stream function imports this module but stores nothing.
        from cryptosdk.storage.orders import OrderStore

        return OrderStore(self.settings.orders_table, connect=self._dynamodb)

    @cached_property
    def answers(self) -> PendingAnswers:
        return PendingAnswers(self.settings.idempotency_table, connect=self._dynamodb)

    @cached_property
    def exchange(self) -> ExchangeClient:
        """One pooled session with keys from Secrets Manager (read at the first signed call)."""
        # Lazy (~65 ms with urllib3): the stream function and GET /orders never call the exchange.
        from cryptosdk.exchange.client import ExchangeClient
        from cryptosdk.exchange.retry import RetryPolicy
        from cryptosdk.exchange.secrets import SecretsManagerKeyProvider
        from cryptosdk.exchange.transport import DEFAULT_POOL_SIZE
        from cryptosdk.runtime.observability import count_exchange_attempt

        settings = self.settings
        keys = SecretsManagerKeyProvider(settings.exchange_secret_id, max_age=settings.secret_max_age_seconds)
        return ExchangeClient(
            settings.exchange_api_url,
            keys,
            connect_timeout=settings.connect_timeout_seconds,
            read_timeout=settings.read_timeout_seconds,
            retry=RetryPolicy(max_attempts=settings.max_attempts),
            pool_size=max(DEFAULT_POOL_SIZE, settings.poller_concurrency * 2),
            on_attempt=count_exchange_attempt,
        )

    @cached_property
    def publisher(self) -> EventPublisher:
        from cryptosdk.orders.events import EventPublisher  # lazy (~6 ms): only the stream function publishes

        return EventPublisher(self.settings.event_bus_name)

    @cached_property
    def instruments(self) -> InstrumentCache:
        # The exchange client is built only on a miss of both cache levels.
        return InstrumentCache(
            lambda: self.exchange.list_instruments(), self.orders, self.settings.instruments_cache_seconds
        )

    @cached_property
    def order_deps(self) -> OrderDeps:
        # Lazy (~10 ms): the order service and its validation, only in the function that places orders.
        from cryptosdk.orders.polling.pacing import poll_interval_cap
        from cryptosdk.orders.service import OrderDeps

        return OrderDeps(
            client=self.exchange,
            store=self.orders,
            answers=self.answers,
            catalogue=self.instruments.catalogue,
            poll_shards=self.settings.poll_shards,
            poll_cap=poll_interval_cap(self.settings.poll_interval_max_seconds),
        )

    @cached_property
    def poller_deps(self) -> PollerDeps:
        from cryptosdk.orders.polling.options import PollerDeps  # lazy (~10 ms): poller and refresh only

        return PollerDeps(client=self.exchange, store=self.orders)

    @cached_property
    def poller_options(self) -> PollerOptions:
        from cryptosdk.orders.polling.options import PollerOptions  # lazy (~10 ms): poller and refresh only

        return PollerOptions.from_settings(self.settings)

    def _dynamodb(self) -> Any:
        return self.dynamodb


_CONTAINER: list[Container] = []


def container() -> Container:
    """This process's container, made on first use."""
    if not _CONTAINER:
        _CONTAINER.append(Container())
    return _CONTAINER[0]


def reset_container() -> None:
    """Forget the container: the next `container()` reads the environment and builds anew (tests)."""
    _CONTAINER.clear()
