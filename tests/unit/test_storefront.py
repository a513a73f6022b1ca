"""The storefront page's static side: what the gateway serves at / (and refuses), the folder built
for a static host, and the page's contract with the API and with its own HTML."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from local import storefront
from local.gateway import Gateway, IncomingRequest

WEB = storefront.WEB_DIR
OPENAPI = json.loads((storefront.REPO_ROOT / "openapi.json").read_text())


@pytest.fixture
def vendored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in for the npm package's file, so these tests do not need node_modules."""
    library = tmp_path / "qrcode.mjs"
    library.write_text("export default function qrcode() {}\n")
    monkeypatch.setitem(storefront.VENDOR, "assets/vendor/qrcode.mjs", library)
    return library


def test_the_root_is_the_page_and_its_assets_have_their_types() -> None:
    index = storefront.serve("/")
    script = storefront.serve("/assets/app.js")
    style = storefront.serve("/assets/style.css")

    assert index is not None
    assert index.status == 200
    assert index.body == (WEB / "index.html").read_bytes()
    assert ("content-type", "text/html; charset=utf-8") in index.headers
    assert ("x-content-type-options", "nosniff") in index.headers
    assert script is not None
    assert ("content-type", "text/javascript; charset=utf-8") in script.headers
    assert style is not None
    assert ("content-type", "text/css; charset=utf-8") in style.headers


@pytest.mark.parametrize(
    "path", ["/instruments", "/orders", "/orders/ord_1", "/docs", "/openapi.json", "/README.md"]
)
def test_api_routes_and_other_paths_are_not_the_pages(path: str) -> None:
    assert storefront.serve(path) is None


@pytest.mark.parametrize(
    "path", ["/assets/../../pyproject.toml", "/assets/../../local/stack.py", "/assets/nothing.js", "/assets/"]
)
def test_nothing_outside_the_page_or_missing_is_served(path: str) -> None:
    answer = storefront.serve(path)
    assert answer is not None
    assert answer.status == 404


def test_the_qr_library_comes_from_node_modules_and_its_absence_says_what_to_do(
    vendored: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    found = storefront.serve("/assets/vendor/qrcode.mjs")
    assert found is not None
    assert found.status == 200
    assert found.body == vendored.read_bytes()

    monkeypatch.setitem(storefront.VENDOR, "assets/vendor/qrcode.mjs", tmp_path / "absent.mjs")
    missing = storefront.serve("/assets/vendor/qrcode.mjs")
    assert missing is not None
    assert missing.status == 404
    assert b"make install" in missing.body


def test_the_gateway_serves_the_page_at_the_root_and_still_404s_unknown_paths() -> None:
    gateway = Gateway([], invoke=lambda name, event: pytest.fail("no function should run"))

    def get(path: str) -> tuple[int, bytes]:
        request = IncomingRequest("GET", path, "order=ord_1", [], b"", "127.0.0.1", "HTTP/1.1")
        answer = gateway.handle(request)
        return answer.status, answer.body

    assert get("/") == (200, (WEB / "index.html").read_bytes())
    assert get("/nothing/here")[0] == 404


def test_dist_is_self_contained_and_points_at_the_deployed_api(vendored: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    api = "https://abc123.execute-api.eu-west-1.amazonaws.com/"

    files = storefront.build_dist(out, api, "jwt")

    names = {str(path.relative_to(out)) for path in files}
    assert {"index.html", "config.js", "assets/app.js", "assets/vendor/qrcode.mjs"} <= names
    assert (out / "assets/vendor/qrcode.mjs").read_bytes() == vendored.read_bytes()
    config = (out / "config.js").read_text()
    assert 'apiBaseUrl: "https://abc123.execute-api.eu-west-1.amazonaws.com",' in config
    assert 'auth: "jwt",' in config
    index = (out / "index.html").read_text()
    assert "connect-src 'self' https://abc123.execute-api.eu-west-1.amazonaws.com;" in index
    assert "https:;" not in index


@pytest.mark.parametrize("url", ["abc123.execute-api.amazonaws.com", "ftp://host", "https://"])
def test_dist_refuses_an_api_url_that_is_not_absolute_http(vendored: Path, tmp_path: Path, url: str) -> None:
    with pytest.raises(ValueError, match="absolute http"):
        storefront.build_dist(tmp_path / "site", url, "jwt")
    assert not (tmp_path / "site").exists()


def test_dist_refuses_to_build_without_the_qr_library(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(storefront.VENDOR, "assets/vendor/qrcode.mjs", tmp_path / "absent.mjs")
    assert storefront.main(["dist", "--out", str(tmp_path / "site"), "--api-url", "https://x.example"]) == 2
    assert not (tmp_path / "site").exists()


def _typedefs() -> dict[str, list[str]]:
    source = (WEB / "assets" / "api-types.js").read_text()
    found: dict[str, list[str]] = {}
    for block in re.findall(r"/\*\*(.*?)\*/", source, flags=re.S):
        name = re.search(r"@typedef \{object\} (\w+)", block)
        if name:
            found[name.group(1)] = re.findall(r"@property \{[^}]*\} \[?(\w+)", block)
    return found


def test_the_pages_api_types_name_only_what_the_openapi_document_has() -> None:
    schemas = OPENAPI["components"]["schemas"]
    typedefs = _typedefs()

    assert len(typedefs) >= 10
    for name, properties in typedefs.items():
        assert name in schemas, f"{name} is not a schema of openapi.json"
        declared = schemas[name].get("properties", {})
        missing = [p for p in properties if p not in declared]
        assert not missing, f"{name} in web/assets/api-types.js has {missing}, openapi.json does not"


def test_every_element_the_scripts_look_up_and_every_label_target_exists_in_the_page() -> None:
    html = (WEB / "index.html").read_text()
    ids = set(re.findall(r'\bid="([^"]+)"', html))
    looked_up: set[str] = set()
    for script in (WEB / "assets").glob("*.js"):
        text = script.read_text()
        looked_up |= set(re.findall(r'\$\("([\w-]+)"\)', text))
        looked_up |= set(re.findall(r'data-copy="([\w-]+)"', text))
    looked_up |= set(re.findall(r'data-copy="([\w-]+)"', html))
    labelled = set(re.findall(r'<label for="([^"]+)"', html))

    assert looked_up, "the scripts should look elements up with $()"
    assert looked_up - ids == set()
    assert labelled - ids == set()
