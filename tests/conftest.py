"""Settings every test tier shares: no test can ever reach real AWS."""

from __future__ import annotations

import os

import pytest

# Forced, not defaulted: a developer's real credentials must never leak into a test run.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_SERVICE_NAME": "cryptosdk-test",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "CryptoSDK",
        "POWERTOOLS_DEV": "false",
    }
)
os.environ.pop("AWS_PROFILE", None)

pytest_plugins = ["tests.fixtures.sandbox", "tests.fixtures.aws", "tests.fixtures.dynamodb_local"]


@pytest.fixture(autouse=True)
def _no_correlation_id_from_an_earlier_test() -> None:
    """A handler leaves its correlation id on the shared logger until the next invocation resets
    it (as in Lambda); every order write stores it, so each test starts outside any invocation."""
    from cryptosdk.runtime.observability import logger

    logger.set_correlation_id(None)
