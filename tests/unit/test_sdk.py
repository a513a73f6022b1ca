"""The runtime SDK check: an old botocore fails at init with a sentence, a current one passes."""

from __future__ import annotations

import os
import subprocess
import sys

import botocore
import pytest

from cryptosdk.runtime.aws_sdk import MIN_BOTOCORE, SdkTooOldError, lean_config, require_botocore


@pytest.mark.parametrize("version", ["1.35.99", "1.29.0", "0.9", "1.3"])
def test_an_older_botocore_is_refused_with_what_to_do(version: str) -> None:
    with pytest.raises(SdkTooOldError) as refused:
        require_botocore(version)
    message = str(refused.value)
    assert version in message
    assert "1.36.0" in message
    assert "requirements.txt" in message


@pytest.mark.parametrize("version", ["1.36.0", "1.36.1", "1.44.8", "2.0.0", "1.40.0.dev1"])
def test_a_new_enough_botocore_passes(version: str) -> None:
    require_botocore(version)


def test_the_development_sdk_is_new_enough_and_the_lean_config_uses_what_it_checks() -> None:
    require_botocore()
    assert tuple(int(p) for p in botocore.__version__.split(".")[:3]) >= MIN_BOTOCORE
    config = lean_config(max_pool_connections=7)
    assert config.request_checksum_calculation == "when_required"
    assert config.response_checksum_validation == "when_required"
    assert config.parameter_validation is False
    assert config.max_pool_connections == 7


def test_the_layers_clients_and_items_never_import_boto3() -> None:
    # boto3's package import (its session, s3transfer) is 60-90 ms of a cold start that botocore
    # clients do not need; one import anywhere on the request path would bring it back.
    code = """
import sys
from cryptosdk.container import Container
from cryptosdk.runtime.aws_sdk import dynamodb_client, session
from cryptosdk.storage.codec import item_from_attributes, item_to_attributes
from cryptosdk.exchange.secrets import SecretsManagerKeyProvider
from cryptosdk.orders.events import EventPublisher
from decimal import Decimal
clients = [dynamodb_client(pool=3), SecretsManagerKeyProvider("s").client, EventPublisher("bus")._client]
stored = item_to_attributes({"id": "o", "amount": Decimal("1.5"), "history": [{"s": "new"}]})
item = item_from_attributes(stored)
assert item["amount"] == Decimal("1.5"), item
assert len({id(c.meta.events) for c in clients}) == 3 and session() is session()
print("boto3" in sys.modules, clients[0].meta.config.max_pool_connections)
"""
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd="layers/exchange", env=env
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["False", "3"]


def test_clients_are_made_one_at_a_time_from_one_session() -> None:
    # A botocore session is not thread-safe: the poller's workers may all ask for the Secrets
    # Manager client at their first signed call, at once.
    import threading
    import time

    from cryptosdk.runtime.aws_sdk import client, reset_session, session

    reset_session()
    inside: list[int] = []
    active = [0]
    guard = threading.Lock()

    def slow_class_creation(**_: object) -> None:
        with guard:
            active[0] += 1
            inside.append(active[0])
        time.sleep(0.01)
        with guard:
            active[0] -= 1

    session().register("creating-client-class", slow_class_creation)
    try:
        made: list[object] = []
        threads = [
            threading.Thread(target=lambda: made.append(client("secretsmanager", region_name="us-east-1")))
            for _ in range(8)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(made) == 8
        assert max(inside) == 1, inside
    finally:
        reset_session()
