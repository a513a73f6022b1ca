"""Lambda SnapStart runtime hooks (template parameter SnapStart=true; Python 3.12+ runtimes).

With SnapStart, Lambda runs a published version's init once, snapshots the memory, and starts
every new execution environment from that snapshot. What the snapshot holds after
`before_snapshot`:

- every module the first request of the function's routes would import (botocore's client
  machinery, urllib3, the cryptosdk modules);
- botocore clients of the process's one session with their service models loaded, and the exchange
  client's urllib3 pool manager: objects only, no connection (nothing is called before the snapshot);
- the settings read from the environment, which is the same for every environment of a version.

It never holds a secret, a DynamoDB item, the instrument catalogue or an open socket: nothing is
fetched before the snapshot. `after_restore` then re-creates what must be unique or fresh in each
restored environment: the `random` seed (the retry jitter; uuid4 and secrets read os.urandom and
need nothing), every connection pool (closed, so no socket state survives from the snapshot
machine), the exchange key cache (a secret with a TTL) and the in-memory catalogue.

`snapshot_restore_py` exists only in the Lambda Python runtime: elsewhere (tests, `make run`)
`register` finds nothing to register with and returns False.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from typing import Any

from cryptosdk.container import Container, container

# What a function's first request needs; each handler names its own (see before_snapshot).
EXCHANGE = "exchange"  # the signed exchange client (keys from Secrets Manager)
STORE = "store"  # the orders table through OrderStore
IDEMPOTENCY = "idempotency"  # the pending-answer records in the idempotency table
POLLER = "poller"  # the poller's dependencies: its DynamoDB client
MODELS = "models"  # pydantic validators (built on first use otherwise: defer_build)
PUBLISHER = "publisher"  # the stream function's EventBridge publisher


def register(*needs: str, modules: Iterable[str] = ()) -> bool:
    """Register this module's hooks with the SnapStart runtime; False outside Lambda."""
    try:
        from snapshot_restore_py import (  # type: ignore[import-not-found]
            register_after_restore,
            register_before_snapshot,
        )
    except ImportError:
        return False
    wanted = tuple(modules)
    register_before_snapshot(lambda: before_snapshot(*needs, modules=wanted))
    register_after_restore(after_restore)
    return True


def before_snapshot(*needs: str, modules: Iterable[str] = ()) -> None:
    """Import and construct what the first request would, opening no connection."""
    import importlib

    for name in modules:
        importlib.import_module(name)
    for need in needs:
        _PRIMERS[need]()


def after_restore() -> None:
    """Re-create what must be unique or fresh in each environment restored from the snapshot."""
    random.seed()  # from os.urandom: no two restored environments share a jitter sequence
    built = container()
    for pool_owner in _pool_owners(built):
        pool_owner()
    exchange = built.built("exchange")
    if exchange is not None:
        forget = getattr(exchange.keys, "forget", None)
        if forget is not None:
            forget()  # the exchange key pair (nothing is read before the snapshot: a rule, not luck)
    instruments = built.built("instruments")
    if instruments is not None:
        instruments.forget()


# -- primers: construct, never call -------------------------------------------------------------


def _prime_exchange() -> None:
    _ = getattr(container().exchange.keys, "client", None)  # the Secrets Manager client, never called


def _prime_store() -> None:
    store = container().orders
    _ = store._client


def _prime_idempotency() -> None:
    _ = container().answers.client


def _prime_poller() -> None:
    _ = container().poller_deps.store._client


def _prime_publisher() -> None:
    _ = container().publisher._client


def _prime_models() -> None:
    # Lazy: runs once, before the snapshot; api.models is not a module the stream function loads.
    from pydantic import BaseModel

    from cryptosdk.api import models as api_models
    from cryptosdk.domain import order as domain
    from cryptosdk.exchange import models

    for module in (models, domain, api_models):
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, BaseModel)
                and value.__module__ == module.__name__
            ):
                value.model_rebuild(force=True)


_PRIMERS: dict[str, Callable[[], None]] = {
    EXCHANGE: _prime_exchange,
    STORE: _prime_store,
    IDEMPOTENCY: _prime_idempotency,
    POLLER: _prime_poller,
    MODELS: _prime_models,
    PUBLISHER: _prime_publisher,
}


def _pool_owners(built: Container) -> list[Callable[[], None]]:
    """Closers of the connection pools built before the snapshot. Each is empty (nothing is called
    before it) and reopens on first use; closing them makes that a rule rather than luck."""
    closers: list[Callable[[], None]] = []
    exchange = built.built("exchange")
    if exchange is not None:
        closers.append(exchange.close)
    closers += [client.close for client in _aws_clients(built)]
    return closers


def _cached(owner: Any, attribute: str) -> Any:
    """A cached_property's value if it was built, without building it."""
    return vars(owner).get(attribute) if owner is not None else None


def _aws_clients(built: Container) -> list[Any]:
    """The botocore clients the container built: its DynamoDB client (every store's), the Secrets
    Manager client of the exchange keys and the publisher's EventBridge client."""
    exchange = built.built("exchange")
    clients = [
        built.built("dynamodb"),
        _cached(exchange.keys if exchange is not None else None, "client"),
        _cached(built.built("publisher"), "_client"),
    ]
    return [client for client in clients if client is not None]
