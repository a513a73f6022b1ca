"""One OpenAPI 3 document for the whole HTTP API, generated from the three functions' resolvers.

python -m local.openapi --write openapi.json   # regenerate
python -m local.openapi --check openapi.json   # exit 1 when the committed file is stale
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from local.runtime import function_specs, load_handler_module
from local.template import load_template

ROOT = Path(__file__).resolve().parents[1]
TITLE = "CryptoSDK exchange backend"
VERSION = "1.0.0"
DESCRIPTION = """\
Server-side integration with the instant-exchange API: instruments, quotes, address checks and
orders with their status history.

**Format.** JSON in and out, camelCase keys. Amounts are decimal numbers written as strings
(`"0.05"`), never JSON numbers; times are ISO 8601 UTC (`2026-03-01T12:00:00Z`).

**Authentication** depends on the deployment's `AuthMode` parameter: `IAM` (the default) wants
every request signed with AWS SigV4 (scheme `sigv4`), `JWT` wants `Authorization: Bearer <token>`
from the configured issuer (scheme `bearerJwt`; the user id then comes from the token's `sub`),
`NONE` (dev stages only) wants nothing. API Gateway refuses a missing or bad credential before
our code runs, with its own body `{"message": "Forbidden"}` (IAM, 403) or
`{"message": "Unauthorized"}` (JWT, 401).

**Idempotency.** `POST /orders` needs an `Idempotency-Key` header (1-128 characters, one key per
intended order). Retrying with the same key and the same body returns the same order instead of
placing a second one; the same key with a different body is refused with 422
`idempotency_key_reused`; a retry while the first request still runs gets 409
`request_in_progress` with `Retry-After`. The other operations are reads (or a refresh, which
is safe to repeat) and need no key.

**Errors** all have one shape, `{"error": {"code", "message", "fields"?, "requestId"}}`:
`code` is a stable machine-readable string, `message` a sentence for people, `fields` (on
validation errors) a list of `{"field", "reason"}`, and `requestId` the API Gateway request id
to quote when asking for help. Statuses: 400 malformed request, 401 not authenticated, 403 not
allowed, 404 no such order, 409 conflict (retry after `Retry-After`), 415 body not JSON,
422 invalid fields, 424/429/502/503/504 the exchange failed in that way (503, 504, 424 and 429
carry `Retry-After`), 500 our fault (bare `internal_error`)."""

CONTACT = {"name": "CryptoSDK API team", "email": "api-team@example.com"}
LICENSE = {"name": "Proprietary", "url": "https://example.com/license"}

SIGV4 = "sigv4"
BEARER = "bearerJwt"
AUTH_SCHEMES: dict[str, str | None] = {"IAM": SIGV4, "JWT": BEARER, "NONE": None}
SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    SIGV4: {
        "type": "apiKey",
        "name": "Authorization",
        "in": "header",
        "description": (
            "AuthMode=IAM. Sign every request with AWS Signature Version 4 for the service "
            "`execute-api` in the API's region, using credentials whose IAM policy allows "
            "`execute-api:Invoke` on this API (botocore's `SigV4Auth`, `aws-requests-auth` or any "
            "AWS SDK signer): the signature goes in `Authorization`, with `X-Amz-Date` and, for "
            "temporary credentials, `X-Amz-Security-Token`."
        ),
        "x-amazon-apigateway-authtype": "awsSigv4",
    },
    BEARER: {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": (
            "AuthMode=JWT. A JWT from the deployment's JwtIssuer whose audience is one of its "
            "JwtAudience, sent as `Authorization: Bearer <token>`; its `sub` claim is the user."
        ),
    },
}
# The committed document: either scheme, as the deployment's AuthMode chooses.
COMMITTED_SECURITY: list[dict[str, list[str]]] = [{SIGV4: []}, {BEARER: []}]
COMMITTED_SERVERS: list[dict[str, Any]] = [
    {
        "url": "https://{apiId}.execute-api.{region}.amazonaws.com",
        "description": "A deployed stack's HTTP API ($default stage): its ApiUrl output.",
        "variables": {
            "apiId": {"default": "abcde12345", "description": "The HttpApi id (the stack's ApiUrl output)."},
            "region": {"default": "us-east-1", "description": "The AWS region the stack runs in."},
        },
    }
]
TAGS = [
    {"name": "catalogue", "description": "What the exchange offers and at what rate."},
    {"name": "addresses", "description": "Checks on payout and refund addresses."},
    {"name": "orders", "description": "Placing orders and following them to completion."},
]


def http_handler_modules() -> list[ModuleType]:
    """The handler module of every function behind an API route, in the template's route order."""
    template = load_template(parameters={"ExchangeApiUrl": "https://exchange.invalid"})
    specs = function_specs(template)
    functions = dict.fromkeys(route.function for route in template.routes())
    return [load_handler_module(specs[function]) for function in functions]


def _drop_default_validation_schemas(document: dict[str, Any]) -> None:
    """Our 422 answers use ErrorResponse; Powertools' default validation schemas would be a lie."""
    schemas = document.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ResponseValidationError", "ValidationError"):
        others = {k: v for k, v in schemas.items() if k != name}
        in_use = json.dumps([document.get("paths", {}), others])
        if f"#/components/schemas/{name}" not in in_use:
            schemas.pop(name, None)


def _merger() -> Any:
    """Powertools' own multi-function merge, configured with what the whole API shares."""
    from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge
    from aws_lambda_powertools.event_handler.openapi.models import Contact, License, Server, Tag

    return OpenAPIMerge(
        title=TITLE,
        version=VERSION,
        description=DESCRIPTION,
        contact=Contact(**CONTACT),
        license_info=License(**LICENSE),
        servers=[Server(**server) for server in COMMITTED_SERVERS],
        security_schemes=SECURITY_SCHEMES,  # type: ignore[arg-type]  # plain dicts serialise as given
        security=COMMITTED_SECURITY,
        tags=[Tag(**tag) for tag in TAGS],
        on_conflict="error",
    )


def build_document() -> dict[str, Any]:
    merger = _merger()
    seen: dict[str, Any] = {}
    for module in http_handler_modules():
        part = module.app.get_openapi_schema(title=TITLE, version=VERSION)
        part = json.loads(part.model_dump_json(by_alias=True, exclude_none=True))
        # Powertools' merge lets a later function's schema replace an earlier one of the same
        # name; two different models under one name would be a silent lie, so refuse them.
        for name, schema in part.get("components", {}).get("schemas", {}).items():
            if seen.setdefault(name, schema) != schema:
                raise RuntimeError(f"schema {name} differs between functions")
        merger.add_schema(part)
    document: dict[str, Any] = json.loads(json.dumps(merger.get_openapi_schema(), default=_plain))
    _drop_default_validation_schemas(document)
    document["paths"] = dict(sorted(document["paths"].items()))
    components = document["components"]
    components["schemas"] = dict(sorted(components["schemas"].items()))
    return document


def _plain(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", by_alias=True, exclude_none=True)
    return str(value)  # pydantic's URL types


def served_document(committed: dict[str, Any], api_url: str, auth_mode: str) -> dict[str, Any]:
    """The document as the local stack serves it: its own URL as the server and only the scheme
    of the AuthMode it runs (none for NONE), so Swagger UI's "Try it out" and a client generated
    from it talk to this stack the way it checks credentials."""
    if auth_mode not in AUTH_SCHEMES:
        raise ValueError(f"auth mode must be one of {sorted(AUTH_SCHEMES)}, not {auth_mode!r}")
    document: dict[str, Any] = json.loads(json.dumps(committed))
    scheme = AUTH_SCHEMES[auth_mode]
    document["servers"] = [{"url": api_url, "description": f"The local stack (AuthMode={auth_mode})."}]
    document["x-auth-mode"] = auth_mode
    components = document.setdefault("components", {})
    if scheme is None:
        document["security"] = []
        components.pop("securitySchemes", None)
    else:
        document["security"] = [{scheme: []}]
        components["securitySchemes"] = {scheme: SECURITY_SCHEMES[scheme]}
    note = {
        "IAM": "a request without an `AWS4-HMAC-SHA256` Authorization header is refused "
        "(signatures are not verified locally)",
        "JWT": "a request without a bearer JWT is refused "
        "(its signature is not verified locally; `sub` names the user)",
        "NONE": "no credential is needed",
    }[auth_mode]
    info = document.setdefault("info", {})
    info["description"] = f"**This local stack runs AuthMode={auth_mode}**: {note}.\n\n" + str(
        info.get("description", "")
    )
    return document


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", metavar="FILE", type=Path)
    group.add_argument("--check", metavar="FILE", type=Path)
    args = parser.parse_args(argv)
    text = render(build_document())
    if args.write:
        args.write.write_text(text, encoding="utf-8")
        print(f"wrote {args.write}")
        return 0
    current = args.check.read_text(encoding="utf-8") if args.check.exists() else ""
    if current == text:
        print(f"{args.check} is up to date")
        return 0
    diff = difflib.unified_diff(
        current.splitlines(), text.splitlines(), str(args.check), "generated", lineterm="", n=1
    )
    shown = list(diff)[:40]
    print("\n".join(shown), file=sys.stderr)
    print(f"{args.check} is stale: run `make openapi` and commit it", file=sys.stderr)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
