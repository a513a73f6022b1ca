"""The reference storefront page (web/) as static files: served by the local gateway at `/`, and
assembled into one self-contained folder for any static host (`python -m local.storefront dist`).

The page's only third-party code, the QR code generator, comes from the npm package
qrcode-generator in local/node_modules (installed by `make install`), mapped to
assets/vendor/qrcode.mjs; nothing is fetched from the internet at run time.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

REPO_ROOT = Path(__file__).resolve().parent.parent
WEB_DIR = REPO_ROOT / "web"
NODE_MODULES = Path(__file__).resolve().parent / "node_modules"
VENDOR = {"assets/vendor/qrcode.mjs": NODE_MODULES / "qrcode-generator" / "dist" / "qrcode.mjs"}
# Served as files: everything else under web/ (README, screenshots) is not part of the page.
PAGE_FILES = ("index.html", "config.js")
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}
HEADERS = [
    ("cache-control", "no-cache"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
]


@dataclass(frozen=True)
class StaticFile:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def serve(path: str, web_dir: Path = WEB_DIR) -> StaticFile | None:
    """The page's file for a GET of `path`, or None when the path is not the page's (an API route)."""
    name = "index.html" if path in ("/", "/index.html") else path.removeprefix("/")
    if name in VENDOR:
        return _file(VENDOR[name], missing="qrcode-generator is not installed: run make install")
    if name not in PAGE_FILES and not name.startswith("assets/"):
        return None
    target = (web_dir / name).resolve()
    if not target.is_relative_to(web_dir.resolve()):
        return _not_found("Not Found")
    return _file(target, missing="Not Found")


def _file(target: Path, missing: str) -> StaticFile:
    content_type = CONTENT_TYPES.get(target.suffix)
    if content_type is None or not target.is_file():
        return _not_found(missing)
    return StaticFile(200, [("content-type", content_type), *HEADERS], target.read_bytes())


def _not_found(message: str) -> StaticFile:
    body = json.dumps({"message": message}).encode()
    return StaticFile(404, [("content-type", "application/json")], body)


# -- a folder for a static host -----------------------------------------------------------------


def build_dist(out: Path, api_url: str, auth: str, web_dir: Path = WEB_DIR) -> list[Path]:
    """Copy the page and its vendored library into `out`, with config.js pointing at `api_url`.

    The Content-Security-Policy's connect-src is narrowed to the API's origin, so the page can talk
    to that API and nothing else.
    """
    origin = _origin(api_url)
    missing = [str(source) for source in VENDOR.values() if not source.is_file()]
    if missing:
        raise FileNotFoundError(f"not installed (run make install): {', '.join(missing)}")
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(web_dir / "assets", out / "assets", ignore=shutil.ignore_patterns("vendor"))
    for name, source in VENDOR.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, out / name)
    index = (web_dir / "index.html").read_text(encoding="utf-8")
    (out / "index.html").write_text(
        index.replace("connect-src 'self' https:", f"connect-src 'self' {origin}"), encoding="utf-8"
    )
    config = (web_dir / "config.js").read_text(encoding="utf-8")
    config = config.replace('apiBaseUrl: "",', f"apiBaseUrl: {json.dumps(api_url.rstrip('/'))},", 1)
    config = config.replace('auth: "none",', f"auth: {json.dumps(auth)},", 1)
    (out / "config.js").write_text(config, encoding="utf-8")
    return sorted(path for path in out.rglob("*") if path.is_file())


def _origin(api_url: str) -> str:
    parts = urlsplit(api_url)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise ValueError(f"the API URL must be an absolute http(s) URL, not {api_url!r}")
    return f"{parts.scheme}://{parts.netloc}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.storefront", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    dist = sub.add_parser("dist", help="write a self-contained copy of the page for a static host")
    dist.add_argument("--out", type=Path, default=REPO_ROOT / "build" / "web")
    dist.add_argument("--api-url", required=True, help="the deployed API, e.g. https://abc.execute-api...")
    dist.add_argument("--auth", choices=("jwt", "none"), default="jwt")
    args = parser.parse_args(argv)
    try:
        files = build_dist(args.out, args.api_url, args.auth)
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {len(files)} files to {args.out}; host them and add their origin to CorsAllowOrigins")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
