"""SnapStart hooks: the snapshot gets imports and clients but no connection; a restore re-seeds and
empties what must be fresh. Sockets are blocked here, so a hook that called out would fail."""

from __future__ import annotations

import random
import sys
import types
from collections.abc import Callable, Iterator

import pytest

from cryptosdk import snapstart
from cryptosdk.container import container, reset_container

ENV = {
    "ORDERS_TABLE": "orders",
    "IDEMPOTENCY_TABLE": "idempotency",
    "EXCHANGE_SECRET_ID": "cryptosdk/dev/exchange-keys",
    "EXCHANGE_API_URL": "https://exchange.invalid",
    "EVENT_BUS_NAME": "bus",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
}


@pytest.fixture
def stack_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    reset_container()
    yield
    reset_container()


@pytest.fixture
def runtime(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Callable[[], None]]]:
    """A stand-in for the Lambda runtime's snapshot_restore_py (not importable outside Lambda)."""
    hooks: dict[str, list[Callable[[], None]]] = {"before": [], "after": []}
    module = types.ModuleType("snapshot_restore_py")
    module.register_before_snapshot = hooks["before"].append  # type: ignore[attr-defined]
    module.register_after_restore = hooks["after"].append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", module)
    return hooks


def test_outside_lambda_nothing_is_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", None)  # import fails, as off Lambda
    assert snapstart.register(snapstart.STORE) is False


def test_the_snapshot_holds_clients_and_models_but_no_connection_or_secret(
    stack_env: None, runtime: dict[str, list[Callable[[], None]]]
) -> None:
    from cryptosdk.exchange import models

    needs = (snapstart.STORE, snapstart.EXCHANGE, snapstart.IDEMPOTENCY, snapstart.POLLER, snapstart.MODELS)
    assert snapstart.register(*needs, modules=("cryptosdk.orders.validation",)) is True
    assert len(runtime["before"]) == 1
    assert len(runtime["after"]) == 1

    runtime["before"][0]()  # a connection attempt would raise: sockets are blocked

    built = container()
    assert "_client" in vars(built.orders)
    for part in ("exchange", "answers", "poller_deps", "dynamodb"):
        assert built.built(part) is not None, part
    assert built.built("publisher") is None  # not a need of this function: never built
    keys = built.exchange.keys
    assert "client" in vars(keys)  # the Secrets Manager client is built...
    assert type(models.Rate.__pydantic_validator__).__name__ == "SchemaValidator"
    assert "cryptosdk.orders.validation" in sys.modules
    # ...and nothing was fetched: no secret value cached.
    assert vars(keys)["_cached"] is None


def test_a_restore_reseeds_and_empties_what_must_be_fresh(
    stack_env: None, runtime: dict[str, list[Callable[[], None]]]
) -> None:
    from cryptosdk.exchange.secrets import ApiKeys
    from cryptosdk.orders.instruments import Catalogue

    snapstart.register(snapstart.STORE, snapstart.EXCHANGE, snapstart.IDEMPOTENCY, snapstart.POLLER)
    runtime["before"][0]()
    random.seed(1234)
    snapshot_sequence = [random.random() for _ in range(3)]
    random.seed(1234)  # as every environment restored from one snapshot would be
    catalogue = container().instruments
    catalogue._memory = (float("inf"), Catalogue(()))
    keys = container().exchange.keys
    vars(keys)["_cached"] = (0.0, ApiKeys(publicKey="pk", secretKey="sk"))  # as if read before

    runtime["after"][0]()

    assert [random.random() for _ in range(3)] != snapshot_sequence
    assert catalogue._memory is None
    assert vars(keys)["_cached"] is None
