"""DynamoDB Local fixtures for this folder (suite-wide: plugin tests.fixtures.dynamodb_local)."""

from tests.fixtures.dynamodb_local import (  # noqa: F401 - fixtures are found by name
    _dynamodb_local_session_tables,
    dynamodb_local,
    dynamodb_local_tables,
)
