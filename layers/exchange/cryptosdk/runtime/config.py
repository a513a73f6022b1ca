"""Settings from environment variables, read once and validated at first use."""

from __future__ import annotations

import os

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class Settings(BaseModel):
    """Every knob the layer reads from the environment (names as in the template's Globals)."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    orders_table: str = Field(alias="ORDERS_TABLE")
    idempotency_table: str = Field(alias="IDEMPOTENCY_TABLE")
    exchange_secret_id: str = Field(alias="EXCHANGE_SECRET_ID")
    exchange_api_url: str = Field(alias="EXCHANGE_API_URL")
    event_bus_name: str = Field(alias="EVENT_BUS_NAME")
    # How long a Secrets Manager read is trusted before it is fetched again. An hour: a rotated
    # key is picked up at once anyway (a 401 forces a fresh read), and every warm container's
    # re-reads are a Secrets Manager bill (4 containers x 5 min = 1,152 calls a day).
    secret_max_age_seconds: int = Field(default=3600, alias="SECRET_MAX_AGE_SECONDS", ge=0)
    connect_timeout_seconds: float = Field(default=3.05, alias="EXCHANGE_CONNECT_TIMEOUT", gt=0)
    read_timeout_seconds: float = Field(default=10.0, alias="EXCHANGE_READ_TIMEOUT", gt=0)
    max_attempts: int = Field(default=4, alias="EXCHANGE_MAX_ATTEMPTS", ge=1)
    instruments_cache_seconds: int = Field(default=300, alias="INSTRUMENTS_CACHE_SECONDS", ge=0)
    # The exchange publishes no expiry: an unpaid order counts as expired after this long.
    unpaid_order_ttl_seconds: int = Field(default=3600, alias="UNPAID_ORDER_TTL_SECONDS", gt=0)
    # Caps every poll interval (demos and local runs want minutes to become seconds); unset in AWS.
    poll_interval_max_seconds: float | None = Field(default=None, alias="POLL_INTERVAL_MAX_SECONDS", gt=0)
    poll_shards: int = Field(default=4, alias="POLL_SHARDS", ge=1, le=64)
    poller_concurrency: int = Field(default=16, alias="POLLER_CONCURRENCY", ge=1, le=256)
    auth_mode: str = Field(default="IAM", alias="AUTH_MODE", pattern="^(IAM|JWT|NONE)$")


class ConfigurationError(RuntimeError):
    """A required environment variable is missing or malformed; the message names it."""


def load_settings(environ: dict[str, str]) -> Settings:
    try:
        return Settings.model_validate(environ)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors())
        raise ConfigurationError(f"invalid configuration: {problems}") from None


def settings_from_environment() -> Settings:
    """The settings of this process's environment (cryptosdk.container reads them once)."""
    return load_settings(dict(os.environ))
