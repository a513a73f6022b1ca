"""The storefront's API types come from openapi.json: stale types fail, an API change fails the page.

These run the local Node tools (openapi-typescript, tsc) as subprocesses, no network; without them
(npm missing) they skip with the reason, as `make typecheck` does.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from local import storefront

BIN = storefront.NODE_MODULES / ".bin"
OPENAPI_TS = BIN / "openapi-typescript"
TSC = BIN / "tsc"
GENERATED = storefront.WEB_DIR / "assets" / "api.gen.d.ts"

pytestmark = pytest.mark.skipif(
    not (OPENAPI_TS.is_file() and TSC.is_file()),
    reason="openapi-typescript / TypeScript not installed (npm missing? run make install)",
)


def _run(*args: Path | str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    command = [str(a) for a in args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False, cwd=cwd)


def _page_with_types_from(document: dict[str, Any], tmp_path: Path) -> Path:
    """A copy of the page whose api.gen.d.ts is generated from `document` (the real one untouched)."""
    web = tmp_path / "web"
    shutil.copytree(storefront.WEB_DIR / "assets", web / "assets")
    shutil.copyfile(storefront.WEB_DIR / "tsconfig.json", web / "tsconfig.json")
    source = tmp_path / "openapi.json"
    source.write_text(json.dumps(document))
    generated = _run(OPENAPI_TS, source, "--output", web / "assets" / "api.gen.d.ts")
    assert generated.returncode == 0, generated.stderr
    return web


def test_the_committed_types_are_generated_from_the_committed_document() -> None:
    result = _run(OPENAPI_TS, storefront.REPO_ROOT / "openapi.json", "--output", GENERATED, "--check")

    assert result.returncode == 0, f"{GENERATED} is stale: run make web-types\n{result.stdout}{result.stderr}"


def test_an_api_change_breaks_the_pages_typecheck_where_the_page_depends_on_it(tmp_path: Path) -> None:
    # One generation and one tsc run for both changes (each run costs seconds); every error tsc
    # reports must be one of the two, so a broken copy of the page cannot pass for either.
    document = json.loads((storefront.REPO_ROOT / "openapi.json").read_text())
    order = document["components"]["schemas"]["OrderOut"]
    order["properties"]["depositInstructions"] = order["properties"].pop("deposit")
    order["required"] = ["depositInstructions" if p == "deposit" else p for p in order["required"]]
    document["components"]["schemas"]["OrderStatus"]["enum"].append("quarantined")

    web = _page_with_types_from(document, tmp_path)
    result = _run(TSC, "-p", ".", cwd=web)

    errors = [line for line in result.stdout.splitlines() if ": error TS" in line]
    renamed = [e for e in errors if "Property 'deposit' does not exist" in e]
    unlabelled = [e for e in errors if "Property 'quarantined' is missing" in e]
    assert result.returncode != 0
    assert renamed, result.stdout
    assert all(e.startswith("assets/order.js(") for e in renamed), result.stdout
    assert unlabelled, result.stdout
    assert all(e.startswith("assets/order.js(") for e in unlabelled), result.stdout
    assert sorted(errors) == sorted(renamed + unlabelled), result.stdout
