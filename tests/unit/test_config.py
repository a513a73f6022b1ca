"""Settings are read once from the environment; a missing or malformed variable is named."""

from __future__ import annotations

import pytest

from cryptosdk.runtime.config import ConfigurationError, load_settings

REQUIRED = {
    "ORDERS_TABLE": "orders",
    "IDEMPOTENCY_TABLE": "idempotency",
    "EXCHANGE_SECRET_ID": "cryptosdk/dev/exchange-keys",
    "EXCHANGE_API_URL": "https://exchange.example.com",
    "EVENT_BUS_NAME": "cryptosdk-dev",
}


def test_given_the_template_variables_when_loaded_then_defaults_fill_the_rest() -> None:
    settings = load_settings({**REQUIRED, "POLL_SHARDS": "8"})

    assert settings.orders_table == "orders"
    assert settings.poll_shards == 8
    assert settings.poll_interval_max_seconds is None
    assert settings.auth_mode == "IAM"


@pytest.mark.parametrize("missing", sorted(REQUIRED))
def test_given_a_missing_variable_when_loaded_then_the_error_names_it(missing: str) -> None:
    environ = {k: v for k, v in REQUIRED.items() if k != missing}

    with pytest.raises(ConfigurationError, match=missing):
        load_settings(environ)


def test_given_a_malformed_value_when_loaded_then_the_error_names_the_variable() -> None:
    with pytest.raises(ConfigurationError, match="POLL_SHARDS"):
        load_settings({**REQUIRED, "POLL_SHARDS": "zero"})
    with pytest.raises(ConfigurationError, match="AUTH_MODE"):
        load_settings({**REQUIRED, "AUTH_MODE": "OPEN"})
