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
DESCRIPTION = (
    "Server-side integration with the instant-exchange API. JSON in and out, camelCase, decimal "
    "amounts as strings, times as ISO 8601 UTC. Every error has the shape "
    '{"error": {"code", "message", "fields"?, "requestId"}}.'
)


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


def build_document() -> dict[str, Any]:
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": TITLE, "version": VERSION, "description": DESCRIPTION},
        "paths": {},
        "components": {"schemas": {}},
    }
    for module in http_handler_modules():
        app = module.app
        part = json.loads(app.get_openapi_json_schema(title=TITLE, version=VERSION))
        for path, operations in part.get("paths", {}).items():
            document["paths"].setdefault(path, {}).update(operations)
        for name, schema in part.get("components", {}).get("schemas", {}).items():
            existing = document["components"]["schemas"].get(name)
            if existing is not None and existing != schema:
                raise RuntimeError(f"schema {name} differs between functions")
            document["components"]["schemas"][name] = schema
    _drop_default_validation_schemas(document)
    document["paths"] = dict(sorted(document["paths"].items()))
    document["components"]["schemas"] = dict(sorted(document["components"]["schemas"].items()))
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
