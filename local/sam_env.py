"""The env-vars file for the real `sam local invoke` / `sam local start-api` (Docker) against the
running `make run` stack: `make run` writes it to .local-state/sam-env.json.

Without it a function in SAM's container resolves the template's Refs to logical ids
(ORDERS_TABLE=OrdersTable) and its SDK calls real AWS with the user's credentials. The file names,
per function logical id, every variable the template declares for it, with the local stack's
tables, secret and bus, and endpoints a container reaches: `AWS_ENDPOINT_URL` (every AWS service:
moto), `AWS_ENDPOINT_URL_DYNAMODB` (DynamoDB Local or moto) and `EXCHANGE_API_URL` (the sandbox),
on host.docker.internal. SAM applies only variables the template declares, which is why the
template declares both AWS_ENDPOINT_URL variables empty (the SDK ignores an empty one in AWS).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from local.runtime import FunctionSpec

FILE_NAME = "sam-env.json"
CONTAINER_HOST = "host.docker.internal"


def container_url(url: str, host: str = CONTAINER_HOST) -> str:
    """A loopback URL of this machine as a container sees it."""
    parts = urlsplit(url)
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def sam_env_vars(
    specs: Mapping[str, FunctionSpec], endpoints: Mapping[str, Any], host: str = CONTAINER_HOST
) -> dict[str, dict[str, str]]:
    """Logical id -> the function's template variables, pointed at the local stack."""
    pointed = {
        "AWS_ENDPOINT_URL": container_url(endpoints["moto"], host),
        "AWS_ENDPOINT_URL_DYNAMODB": container_url(endpoints["dynamodb"], host),
        "EXCHANGE_API_URL": container_url(endpoints["sandbox"], host),
    }
    files: dict[str, dict[str, str]] = {}
    for name, spec in specs.items():
        env = {key: str(value) for key, value in spec.environment.items()}
        missing = sorted(set(pointed) - set(env))
        if missing:
            # SAM would drop an override the template does not declare: the SDK would reach real AWS.
            raise ValueError(f"{name} declares no {', '.join(missing)} in template.yaml")
        env.update(pointed)
        files[name] = env
    return files


def write_sam_env(path: Path, specs: Mapping[str, FunctionSpec], endpoints: Mapping[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(sam_env_vars(specs, endpoints), indent=2, sort_keys=True) + "\n")
    return path
