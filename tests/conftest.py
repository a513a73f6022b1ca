"""Settings every test tier shares: no test can ever reach real AWS."""

from __future__ import annotations

import os

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
