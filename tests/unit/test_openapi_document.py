"""The committed OpenAPI document's promises to generators and gateways, and the local variant."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from local.openapi import SECURITY_SCHEMES, served_document

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT: dict[str, Any] = json.loads((ROOT / "openapi.json").read_text())
METHODS = ("get", "put", "post", "delete", "patch")


def _operations() -> list[dict[str, Any]]:
    return [op for item in DOCUMENT["paths"].values() for m, op in item.items() if m in METHODS]


def test_every_operation_is_secured_by_the_deployed_schemes() -> None:
    schemes = DOCUMENT["components"]["securitySchemes"]
    assert schemes["sigv4"]["x-amazon-apigateway-authtype"] == "awsSigv4"
    assert (schemes["sigv4"]["type"], schemes["sigv4"]["in"], schemes["sigv4"]["name"]) == (
        "apiKey",
        "header",
        "Authorization",
    )
    assert "execute-api" in schemes["sigv4"]["description"]
    assert (schemes["bearerJwt"]["scheme"], schemes["bearerJwt"]["bearerFormat"]) == ("bearer", "JWT")
    # Root security applies to every operation none of which overrides it with its own.
    assert DOCUMENT["security"] == [{"sigv4": []}, {"bearerJwt": []}]
    assert all("security" not in op for op in _operations())


def test_the_server_is_templated_with_variables() -> None:
    [server] = DOCUMENT["servers"]
    assert server["url"] == "https://{apiId}.execute-api.{region}.amazonaws.com"
    assert set(server["variables"]) == {"apiId", "region"}
    assert all(v["default"] for v in server["variables"].values())


def test_info_names_license_contact_idempotency_and_the_error_shape() -> None:
    info = DOCUMENT["info"]
    assert info["license"]["name"]
    assert info["contact"]["email"]
    for words in ("Idempotency-Key", '{"error": {"code"', "Retry-After", "AuthMode"):
        assert words in info["description"]


def test_operation_ids_are_unique_and_named_for_clients() -> None:
    ids = [op["operationId"] for op in _operations()]
    assert len(ids) == len(set(ids))
    assert all(i.isidentifier() and "_" not in i for i in ids), ids


@pytest.mark.parametrize(("mode", "scheme"), [("IAM", "sigv4"), ("JWT", "bearerJwt")])
def test_the_served_document_names_the_stacks_url_and_only_its_scheme(mode: str, scheme: str) -> None:
    served = served_document(DOCUMENT, "http://127.0.0.1:4321", mode)

    assert served["servers"][0]["url"] == "http://127.0.0.1:4321"
    assert served["x-auth-mode"] == mode
    assert served["security"] == [{scheme: []}]
    assert served["components"]["securitySchemes"] == {scheme: SECURITY_SCHEMES[scheme]}
    assert f"AuthMode={mode}" in served["info"]["description"]
    assert DOCUMENT["security"] == [{"sigv4": []}, {"bearerJwt": []}], "the input is not changed"


def test_the_served_document_for_an_open_stack_has_no_security() -> None:
    served = served_document(DOCUMENT, "http://127.0.0.1:4321", "NONE")
    assert served["security"] == []
    assert "securitySchemes" not in served["components"]


def test_an_unknown_auth_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="auth mode"):
        served_document(DOCUMENT, "http://127.0.0.1:1", "OPEN")
