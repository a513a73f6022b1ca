"""Keys from Secrets Manager (moto): validated, cached, re-read with force after a 401 (rotation)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from moto import mock_aws

from cryptosdk.exchange import errors
from cryptosdk.exchange.client import ExchangeClient
from cryptosdk.exchange.errors import CredentialsError
from cryptosdk.exchange.retry import RetryPolicy
from cryptosdk.exchange.secrets import ApiKeys, SecretsManagerKeyProvider, StaticKeyProvider, parse_keys
from cryptosdk.exchange.transport import HttpRequest, HttpResponse

SECRET_ID = "cryptosdk/exchange-keys"
OLD = {"publicKey": "pk-rotating", "secretKey": "old-secret-value-1111"}
NEW = {"publicKey": "pk-rotating", "secretKey": "new-secret-value-2222"}


@pytest.fixture(scope="module")
def mocked_secretsmanager() -> Iterator[object]:
    # One moto world for the module (starting it costs ~0.5 s); each test gets a fresh secret.
    with mock_aws():
        yield boto3.client("secretsmanager", region_name="us-east-1")


@pytest.fixture
def secretsmanager(mocked_secretsmanager: Any) -> Iterator[object]:
    parameters.clear_caches()
    mocked_secretsmanager.create_secret(Name=SECRET_ID, SecretString=json.dumps(OLD))
    yield mocked_secretsmanager
    parameters.clear_caches()
    for secret in mocked_secretsmanager.list_secrets()["SecretList"]:
        mocked_secretsmanager.delete_secret(SecretId=secret["ARN"], ForceDeleteWithoutRecovery=True)


def rotate(client: object, value: dict[str, str]) -> None:
    client.put_secret_value(SecretId=SECRET_ID, SecretString=json.dumps(value))  # type: ignore[attr-defined]


class TestParseKeys:
    def test_valid_secret(self) -> None:
        keys = parse_keys({**OLD, "comment": "ignored"}, SECRET_ID)
        assert keys.public_key == "pk-rotating"
        assert keys.secret_value() == OLD["secretKey"]

    @pytest.mark.parametrize("missing", ["publicKey", "secretKey"])
    def test_missing_field_is_named_and_no_value_echoed(self, missing: str) -> None:
        raw = {k: v for k, v in OLD.items() if k != missing}
        with pytest.raises(CredentialsError) as caught:
            parse_keys(raw, SECRET_ID)
        message = str(caught.value)
        assert repr(missing) in message
        assert SECRET_ID in message
        assert all(value not in message for value in OLD.values())
        assert caught.value.__cause__ is None
        assert caught.value.__suppress_context__

    def test_empty_secret_value_refused_without_echo(self) -> None:
        with pytest.raises(CredentialsError, match="secretKey") as caught:
            parse_keys({"publicKey": "pk-x", "secretKey": ""}, SECRET_ID)
        assert "pk-x" not in str(caught.value)

    @pytest.mark.parametrize("raw", ["just-a-string", ["a"], None])
    def test_not_an_object(self, raw: object) -> None:
        with pytest.raises(CredentialsError, match="JSON object"):
            parse_keys(raw, SECRET_ID)


def test_secret_never_in_repr_or_str() -> None:
    keys = ApiKeys(public_key="pk", secret_key="super-secret-123")
    provider = StaticKeyProvider("pk", "super-secret-123")
    for text in (repr(keys), str(keys), repr(provider), keys.model_dump_json()):
        assert "super-secret-123" not in text
    assert provider.get(force=True) is provider.get()


class TestSecretsManagerProvider:
    def test_reads_and_caches_until_forced(self, secretsmanager: object) -> None:
        provider = SecretsManagerKeyProvider(SECRET_ID, max_age=300)
        assert provider.get().secret_value() == OLD["secretKey"]
        rotate(secretsmanager, NEW)
        assert provider.get().secret_value() == OLD["secretKey"]  # cached within max_age
        assert provider.get(force=True).secret_value() == NEW["secretKey"]
        assert provider.get().secret_value() == NEW["secretKey"]  # the forced read refreshed the cache

    def test_forced_reads_are_throttled(self, secretsmanager: object) -> None:
        # A key that is simply wrong must not turn every 401 into a Secrets Manager call.
        now = [1000.0]
        provider = SecretsManagerKeyProvider(SECRET_ID, min_force_interval=30.0, clock=lambda: now[0])
        assert provider.get(force=True).secret_value() == OLD["secretKey"]
        rotate(secretsmanager, NEW)
        now[0] += 29.0
        assert provider.get(force=True).secret_value() == OLD["secretKey"]  # within the interval: cached
        now[0] += 1.0
        assert provider.get(force=True).secret_value() == NEW["secretKey"]

    def test_zero_max_age_always_reads(self, secretsmanager: object) -> None:
        provider = SecretsManagerKeyProvider(SECRET_ID, max_age=0)
        provider.get()
        rotate(secretsmanager, NEW)
        assert provider.get().secret_value() == NEW["secretKey"]

    def test_missing_secret_is_a_credentials_error(self, secretsmanager: object) -> None:
        with pytest.raises(CredentialsError, match="cannot read secret 'nope'"):
            SecretsManagerKeyProvider("nope").get()

    def test_non_json_secret_does_not_echo_its_content(self, secretsmanager: object) -> None:
        secretsmanager.create_secret(Name="plain", SecretString="hunter2-not-json")  # type: ignore[attr-defined]
        with pytest.raises(CredentialsError, match="not valid JSON") as caught:
            SecretsManagerKeyProvider("plain").get()
        assert "hunter2" not in str(caught.value)

    def test_malformed_secret_names_the_field(self, secretsmanager: object) -> None:
        rotate(secretsmanager, {"publicKey": "pk-only"})
        with pytest.raises(CredentialsError, match="missing field 'secretKey'"):
            SecretsManagerKeyProvider(SECRET_ID).get(force=True)


class VerifyingExchange:
    """A transport-level stand-in for the exchange: checks the v2 signature against the key it
    currently holds and answers 401 (contract body) or an empty order list."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.answers: list[int] = []

    def send(self, request: HttpRequest, *, connect_timeout: float, read_timeout: float) -> HttpResponse:
        headers = request.headers
        message = headers["X-Api-Timestamp"] + urlsplit(request.url).query + headers["X-Api-Public-Key"]
        digest = hmac.new(self.secret.encode(), message.encode(), hashlib.sha256).digest()
        ok = hmac.compare_digest(base64.b64encode(digest).decode(), headers["X-Api-Signature"])
        status = 200 if ok else 401
        self.answers.append(status)
        return HttpResponse(status, {}, b"[]" if ok else b'{"statusCode":401,"message":"Invalid signature"}')

    def close(self) -> None:
        pass


def client_against(exchange: VerifyingExchange, provider: SecretsManagerKeyProvider) -> ExchangeClient:
    return ExchangeClient(
        "http://exchange.invalid", provider, transport=exchange, retry=RetryPolicy(max_attempts=1)
    )


def test_401_after_rotation_rereads_the_secret_and_succeeds(secretsmanager: object) -> None:
    provider = SecretsManagerKeyProvider(SECRET_ID, max_age=300)
    exchange = VerifyingExchange(OLD["secretKey"])
    client = client_against(exchange, provider)
    assert client.list_orders() == []
    # The key is rotated at the exchange and in Secrets Manager; our cache still holds the old one.
    rotate(secretsmanager, NEW)
    exchange.secret = NEW["secretKey"]
    assert client.list_orders() == []
    assert exchange.answers == [200, 401, 200]


def test_401_with_a_key_that_rereading_does_not_change_is_not_retried(secretsmanager: object) -> None:
    exchange = VerifyingExchange("the-exchange-knows-another-key")
    client = client_against(exchange, SecretsManagerKeyProvider(SECRET_ID))
    with pytest.raises(errors.AuthError) as caught:
        client.list_orders()
    assert exchange.answers == [401]  # the forced re-read gave the same keys
    assert caught.value.message == "Invalid signature"
    assert OLD["secretKey"] not in str(caught.value)


def test_importing_the_client_loads_no_boto3() -> None:
    # Secrets are read on first use, so boto3 (and its ~100 ms import) stays off the import path.
    code = "import sys, cryptosdk.exchange.client, cryptosdk.exchange.secrets; print('boto3' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd="layers/exchange"
    )
    assert out.stdout.strip() == "False"
