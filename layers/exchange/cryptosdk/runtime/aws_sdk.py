"""The AWS SDK this layer runs on: the Lambda runtime's own boto3, checked at init, and lean clients.

boto3 is not shipped in the layer (33 MB unpacked with its bytecode: more than the whole layer's
25 MB budget); the runtime's copy is compiled and already on the path. What we rely on from it is
checked once at init, so an old runtime SDK fails the cold start with a sentence saying what to do
instead of a TypeError deep inside the first request.
"""

from __future__ import annotations

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


def dynamodb_client(pool: int | None = None, **client_kwargs: Any) -> Any:
    """A DynamoDB client of boto3's default session with `lean_config` (a new Session would re-read
    botocore's data files: ~100 ms of a cold start); `pool` connections at most (botocore's default
    is 10: a poller with more workers would open a fresh connection per call past the tenth)."""
    import boto3  # heavy (~100 ms): loaded when a function first touches DynamoDB, never at import

    config = lean_config(max_pool_connections=pool) if pool else lean_config()
    return boto3.client("dynamodb", config=config, **client_kwargs)
