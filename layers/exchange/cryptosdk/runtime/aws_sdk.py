"""The AWS SDK this layer runs on: the Lambda runtime's own botocore, checked at init, and lean clients.

Clients come from botocore directly: boto3 adds only resources and transfer helpers this layer does
not use, and importing it costs 60-90 ms of a cold start.

The SDK is not shipped in the layer (33 MB unpacked with its bytecode: more than the whole layer's
25 MB budget); the runtime's copy is compiled and already on the path. What we rely on from it is
checked once at init, so an old runtime SDK fails the cold start with a sentence saying what to do
instead of a TypeError deep inside the first request.
"""

from __future__ import annotations

import threading
from typing import Any

# Request/response checksum settings in botocore.config.Config arrived in botocore 1.36.0.
MIN_BOTOCORE = (1, 36, 0)


class SdkTooOldError(RuntimeError):
    """The runtime's botocore lacks a feature this layer uses; the message says which and what to do."""


def _version_tuple(text: str) -> tuple[int, ...]:
    parts = []
    for part in text.split(".")[:3]:
        digits = "".join(ch for ch in part if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def require_botocore(version: str | None = None) -> None:
    """Raise SdkTooOldError when botocore (the runtime's, or `version`) is older than MIN_BOTOCORE."""
    if version is None:
        import botocore  # light: the package's __init__ only; the heavy parts load with a client

        version = str(botocore.__version__)
    if _version_tuple(version) < MIN_BOTOCORE:
        wanted = ".".join(str(n) for n in MIN_BOTOCORE)
        raise SdkTooOldError(
            f"botocore {version} is older than {wanted}, which this layer needs (request checksum "
            f"settings). Use a newer Lambda runtime, or add boto3>=1.36 to "
            f"layers/exchange/requirements.txt to ship the SDK in the layer (about 33 MB)."
        )


def lean_config(**overrides: Any) -> Any:
    """Client settings for requests we build ourselves: checksums only where an operation requires
    them (DynamoDB needs none; TLS guards the bytes) and no client-side re-validation of parameters
    (DynamoDB refuses a malformed request anyway): both CPU on every call."""
    from botocore.config import Config

    settings: dict[str, Any] = {
        "request_checksum_calculation": "when_required",
        "response_checksum_validation": "when_required",
        "parameter_validation": False,
        **overrides,
    }
    return Config(**settings)


def session() -> Any:
    """This process's one botocore session: its first client reads botocore's endpoint and model
    files, later clients reuse them (a second session would read them again: ~100 ms)."""
    with _SESSION_LOCK:
        if not _SESSION:
            import botocore.session  # heavy: loaded with a function's first AWS call, never at import

            _SESSION.append(botocore.session.get_session())
        return _SESSION[0]


def reset_session() -> None:
    """Forget the session: the next client resolves credentials and settings anew (tests)."""
    with _SESSION_LOCK:
        _SESSION.clear()


def client(service: str, config: Any = None, **client_kwargs: Any) -> Any:
    """A botocore client of `session()` with `lean_config` unless `config` is given.

    botocore, not boto3: the clients are the same objects, but `import boto3` also imports its
    session and s3transfer machinery (60-90 ms of a cold start) that no code here uses. Clients are
    made one at a time: a botocore session is not thread-safe, and the poller's workers may all
    make their first signed call (and so ask for the Secrets Manager client) at once."""
    with _SESSION_LOCK:
        return session().create_client(service, config=config or lean_config(), **client_kwargs)


def dynamodb_client(pool: int | None = None, **client_kwargs: Any) -> Any:
    """A DynamoDB client with `lean_config`; `pool` connections at most (botocore's default is 10:
    a poller with more workers would open a fresh connection per call past the tenth)."""
    config = lean_config(max_pool_connections=pool) if pool else lean_config()
    return client("dynamodb", config, **client_kwargs)


_SESSION: list[Any] = []
_SESSION_LOCK = threading.RLock()  # client() holds it while session() takes it
