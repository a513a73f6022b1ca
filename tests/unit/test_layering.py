"""The layer's packages depend one way: a package imports only packages below it (README, "How the
code is laid out"). Function-local imports count too: a lazy import is still a dependency."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "layers" / "exchange" / "cryptosdk"

# Lower number = lower layer. Packages of one level do not import each other.
LEVELS: dict[str, int] = {
    "runtime": 0,
    "exchange": 1,
    "addresses": 2,
    "domain": 2,
    "storage": 3,
    "orders": 4,
    "api": 5,
    "container": 6,
    "snapstart": 7,
}


def _part(path: Path) -> str:
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def _imports(path: Path) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("cryptosdk."):
            found.append((node.lineno, node.module.split(".")[1]))
        elif isinstance(node, ast.Import):
            found += [
                (node.lineno, a.name.split(".")[1]) for a in node.names if a.name.startswith("cryptosdk.")
            ]
    return found


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or p.parent != PACKAGE)


def test_every_module_belongs_to_a_known_layer() -> None:
    unknown = sorted({_part(p) for p in _modules()} - set(LEVELS))
    assert unknown == [], f"add these to LEVELS (and to the README's layout): {unknown}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_go_down_only(path: Path) -> None:
    here = _part(path)
    wrong = [
        f"line {line}: {here} -> {target}"
        for line, target in _imports(path)
        if target in LEVELS and target != here and LEVELS[target] >= LEVELS[here]
    ]
    assert wrong == []


def test_the_rule_catches_an_upward_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from cryptosdk.api.resolver import build_resolver\n")
    assert _imports(module) == [(2, "api")]
