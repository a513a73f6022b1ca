"""The partner key pair: from Secrets Manager in AWS, or given directly anywhere else.

Nothing is read at import time; botocore loads on first use.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from functools import cached_property
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from cryptosdk.exchange.errors import CredentialsError

DEFAULT_MAX_AGE_SECONDS = 300
DEFAULT_MIN_FORCE_INTERVAL_SECONDS = 30.0


class ApiKeys(BaseModel):
    """Secret JSON `{"publicKey": ..., "secretKey": ...}`; the secret never shows in repr or str."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    public_key: str = Field(alias="publicKey", min_length=1)
    secret_key: SecretStr = Field(alias="secretKey", min_length=1)

    def secret_value(self) -> str:
        return self.secret_key.get_secret_value()


class KeyProvider(Protocol):
    def get(self, force: bool = False) -> ApiKeys:
        """The current key pair; `force=True` bypasses any cache (after a 401, keys may have rotated)."""
        ...


class StaticKeyProvider:
    """Keys held in memory: for `pip install` users outside AWS, and for tests."""

    def __init__(self, public_key: str, secret_key: str) -> None:
        self._keys = ApiKeys(public_key=public_key, secret_key=SecretStr(secret_key))

    def get(self, force: bool = False) -> ApiKeys:
        return self._keys

    def __repr__(self) -> str:
        return f"StaticKeyProvider(public_key={self._keys.public_key!r})"


class SecretsManagerKeyProvider:
    """Reads the secret from Secrets Manager and keeps it for `max_age` seconds.

    A forced read (after a 401) bypasses the cache, but at most once per `min_force_interval`
    seconds: with a key that is simply wrong, every call of every poller thread would otherwise
    hit Secrets Manager. The client is one of the process's one botocore session (a new session's first client
    re-reads botocore's endpoint and model files: about 100 ms of a cold first request); Powertools'
    parameters utility, which did this before, cost about 20 ms more to import than it saves.
    """

    def __init__(
        self,
        secret_id: str,
        *,
        max_age: int = DEFAULT_MAX_AGE_SECONDS,
        min_force_interval: float = DEFAULT_MIN_FORCE_INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.secret_id = secret_id
        self.max_age = max_age
        self.min_force_interval = min_force_interval
        self._clock = clock
        self._lock = threading.Lock()
        self._last_forced: float | None = None
        self._cached: tuple[float, ApiKeys] | None = None  # (read at, keys)

    @cached_property
    def client(self) -> Any:
        # botocore loads at the first signed call, never at import.
        from cryptosdk.runtime.aws_sdk import client

        return client("secretsmanager")

    def get(self, force: bool = False) -> ApiKeys:
        force = force and self._may_force()
        cached = self._cached
        if not force and cached is not None and self._clock() - cached[0] < self.max_age:
            return cached[1]
        keys = parse_keys(self._fetch(), self.secret_id)
        self._cached = (self._clock(), keys)
        return keys

    def forget(self) -> None:
        """Drop the cached keys (a SnapStart restore; tests)."""
        self._cached = None

    def _may_force(self) -> bool:
        with self._lock:
            now = self._clock()
            if self._last_forced is not None and now - self._last_forced < self.min_force_interval:
                return False
            self._last_forced = now
            return True

    def _fetch(self) -> Any:
        try:
            text = self.client.get_secret_value(SecretId=self.secret_id).get("SecretString")
        except Exception as exc:
            # botocore's message names the error and the operation, never a secret value.
            raise CredentialsError(f"cannot read secret {self.secret_id!r}: {exc}") from None
        if text is None:
            raise CredentialsError(f"secret {self.secret_id!r} has no string value")
        try:
            return json.loads(text)
        except ValueError:
            # The parser's message may quote part of the secret; say only what is wrong.
            raise CredentialsError(f"secret {self.secret_id!r} is not valid JSON") from None

    def __repr__(self) -> str:
        return f"SecretsManagerKeyProvider(secret_id={self.secret_id!r}, max_age={self.max_age})"


def parse_keys(raw: Any, source: str) -> ApiKeys:
    """Validate the secret's JSON; the error names missing or bad fields, never their values."""
    if not isinstance(raw, dict):
        raise CredentialsError(f"secret {source!r} must be a JSON object with publicKey and secretKey")
    try:
        return ApiKeys.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(_describe(err) for err in exc.errors(include_input=False, include_url=False))
        raise CredentialsError(f"secret {source!r} is malformed: {problems}") from None


def _describe(error: Any) -> str:
    field = ".".join(str(part) for part in error["loc"]) or "secret"
    if error["type"] == "missing":
        return f"missing field {field!r}"
    return f"field {field!r} is invalid ({error['type']})"
