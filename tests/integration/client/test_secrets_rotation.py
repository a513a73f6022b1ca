"""Key rotation end to end: Secrets Manager (moto) + the sandbox over HTTP."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import boto3
import pytest
import requests
from aws_lambda_powertools.utilities import parameters
from moto import mock_aws

from cryptosdk.exchange import errors
from cryptosdk.exchange.client import ORDERS_PATH, ExchangeClient
from cryptosdk.exchange.secrets import SecretsManagerKeyProvider
from local.sandbox import SandboxServer
from tests.integration.client.conftest import SandboxControl

SECRET_ID = "exchange/partner-keys"
PUBLIC = "pk-rotation-test"


@pytest.fixture
def secretsmanager() -> Iterator[object]:
    parameters.clear_caches()
    with mock_aws():
        yield boto3.client("secretsmanager", region_name="us-east-1")
    parameters.clear_caches()


def set_sandbox_key(sandbox: SandboxServer, secret: str) -> None:
    answer = requests.post(
        f"{sandbox.url}/_sandbox/keys", json={"publicKey": PUBLIC, "secretKey": secret}, timeout=5
    )
    answer.raise_for_status()


def test_rotated_key_is_picked_up_after_one_401(
    sandbox: SandboxServer,
    secretsmanager: object,
    control: SandboxControl,
    make_client: Callable[..., ExchangeClient],
) -> None:
    set_sandbox_key(sandbox, "first-secret-aaaa")
    secretsmanager.create_secret(  # type: ignore[attr-defined]
        Name=SECRET_ID, SecretString=json.dumps({"publicKey": PUBLIC, "secretKey": "first-secret-aaaa"})
    )
    client = make_client(keys=SecretsManagerKeyProvider(SECRET_ID, max_age=300))
    assert client.list_orders() == []

    # Rotation: the exchange and the secret change together; our cached copy is now stale.
    set_sandbox_key(sandbox, "second-secret-bbbb")
    secretsmanager.put_secret_value(  # type: ignore[attr-defined]
        SecretId=SECRET_ID, SecretString=json.dumps({"publicKey": PUBLIC, "secretKey": "second-secret-bbbb"})
    )
    assert client.list_orders() == []
    assert control.requests_to(ORDERS_PATH) == 3  # ok, 401 with the cached key, ok after the forced read


def test_exchange_rotated_but_secret_not_yet_reports_auth_error(
    sandbox: SandboxServer,
    secretsmanager: object,
    control: SandboxControl,
    make_client: Callable[..., ExchangeClient],
) -> None:
    set_sandbox_key(sandbox, "exchange-only-secret")
    secretsmanager.create_secret(  # type: ignore[attr-defined]
        Name=SECRET_ID, SecretString=json.dumps({"publicKey": PUBLIC, "secretKey": "stale-secret"})
    )
    client = make_client(keys=SecretsManagerKeyProvider(SECRET_ID))
    with pytest.raises(errors.AuthError) as caught:
        client.list_orders()
    assert "stale-secret" not in repr(caught.value)
    assert control.requests_to(ORDERS_PATH) == 1  # the forced re-read found the same stale key


def test_the_container_builds_the_client_from_settings_without_reading_the_secret(
    sandbox: SandboxServer, secretsmanager: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cryptosdk.container import container, reset_container

    set_sandbox_key(sandbox, "factory-secret")
    env = {
        "ORDERS_TABLE": "orders",
        "IDEMPOTENCY_TABLE": "idempotency",
        "EXCHANGE_SECRET_ID": SECRET_ID,
        "EXCHANGE_API_URL": sandbox.url,
        "EVENT_BUS_NAME": "bus",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    reset_container()
    try:
        client = container().exchange  # no secret exists yet: building the client must not read it
        assert container().exchange is client
        secretsmanager.create_secret(  # type: ignore[attr-defined]
            Name=SECRET_ID, SecretString=json.dumps({"publicKey": PUBLIC, "secretKey": "factory-secret"})
        )
        assert client.list_orders() == []
        assert client.get_instrument("BTC", "BTC").currency_title == "BTC"
    finally:
        reset_container()
