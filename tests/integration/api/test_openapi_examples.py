"""Every example in openapi.json is a real answer's twin: it validates against its schema, and a
real answer of the same operation and status (handlers, moto, the sandbox) has the same shape
(keys at every level, JSON types where both are non-null) and, for errors, the same code."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.integration.api.conftest import Answer, Call, new_key, order_body, wait_for_intent

ROOT = Path(__file__).resolve().parents[3]
DOCUMENT: dict[str, Any] = json.loads((ROOT / "openapi.json").read_text())
RATE_QUERY = {"from": "BTC", "fromNetwork": "BTC", "to": "ETH", "toNetwork": "ERC20", "amount": "0.05"}
VALIDATE_BODY = {"currency": "XRP", "network": "XRP", "address": "rHb9CJAWyB4rj91VRWn96DkukG4bwdtyTh"}


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in DOCUMENT["paths"].items()
        for method, operation in item.items()
    ]


def _validator(schema: dict[str, Any]) -> jsonschema.protocols.Validator:
    resolvable = {**schema, "components": DOCUMENT["components"]}
    return jsonschema.Draft202012Validator(resolvable)


def _shape_differences(example: Any, real: Any, where: str = "$") -> list[str]:
    """Where the example and the real answer differ in shape: keys of every object, the JSON type
    of every value (null matches anything: the schema says where null is allowed), and the
    elements of lists compared with the real list's first element."""
    if example is None or real is None:
        return []
    if isinstance(example, dict) and isinstance(real, dict):
        found = (
            [f"{where}: keys {sorted(set(example) ^ set(real))} differ"] if set(example) != set(real) else []
        )
        for key in set(example) & set(real):
            found += _shape_differences(example[key], real[key], f"{where}.{key}")
        return found
    if isinstance(example, list) and isinstance(real, list):
        found = []
        for i, item in enumerate(example):
            if real:
                found += _shape_differences(item, real[0], f"{where}[{i}]")
        return found
    kinds = (bool, int, float, str)
    same = any(isinstance(example, k) and isinstance(real, k) for k in kinds)
    same = same and isinstance(example, bool) == isinstance(real, bool)
    return [] if same else [f"{where}: {type(example).__name__} vs {type(real).__name__}"]


# -- scenarios: one real answer per documented (operation, status) -------------------------------


def _created(api: Call) -> Answer:
    return api("POST", "/orders", body=order_body(), headers={"Idempotency-Key": new_key()})


def _order_id(api: Call) -> str:
    return str(_created(api).json["id"])


def _short_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    from cryptosdk.container import reset_container

    monkeypatch.setenv("EXCHANGE_READ_TIMEOUT", "0.3")
    monkeypatch.setenv("EXCHANGE_MAX_ATTEMPTS", "1")
    reset_container()


def _jwt(monkeypatch: pytest.MonkeyPatch) -> None:
    from cryptosdk.container import reset_container

    monkeypatch.setenv("AUTH_MODE", "JWT")
    reset_container()


def _in_progress(api: Call, faults: Callable[..., None], monkeypatch: pytest.MonkeyPatch) -> Answer:
    """A retry while the first request with the same key still waits on the exchange."""
    faults(endpoint="/api/v2/orders/public/create", kind="hang", hangSeconds=1.5, count=1)
    key, body = new_key(), order_body()
    first = threading.Thread(
        target=api, args=("POST", "/orders"), kwargs={"body": body, "headers": {"Idempotency-Key": key}}
    )
    first.start()
    wait_for_intent()
    try:
        return api("POST", "/orders", body=body, headers={"Idempotency-Key": key})
    finally:
        first.join(timeout=10)


Scenario = Callable[[Call, Callable[..., None], pytest.MonkeyPatch], Answer]


def _outcome_unknown(api: Call, faults: Callable[..., None], mp: pytest.MonkeyPatch) -> Answer:
    """The create is lost on the wire and the order list cannot be read to find out what happened."""
    faults(endpoint="/api/v2/orders/public/create", kind="drop", count=1)
    faults(endpoint="/api/v2/orders", kind="503")
    return _created(api)


def _on_rates(fault: dict[str, Any], short_timeouts: bool = False) -> Scenario:
    def run(api: Call, faults: Callable[..., None], mp: pytest.MonkeyPatch) -> Answer:
        if short_timeouts:
            _short_timeouts(mp)
        faults(endpoint="/api/v2/rates/public/one", **fault)
        return api("GET", "/rates", query=RATE_QUERY)

    return run


def _as_jwt(method: str, path: str, **kwargs: Any) -> Scenario:
    def run(api: Call, faults: Callable[..., None], mp: pytest.MonkeyPatch) -> Answer:
        _jwt(mp)
        return api(method, path, **kwargs)

    return run


# One real answer per error code an example shows (the examples are keyed by code).
ERROR_SCENARIOS: dict[str, Scenario] = {
    "malformed_json": lambda api, faults, mp: api(
        "POST", "/orders", raw_body="{", headers={"Idempotency-Key": new_key()}
    ),
    "invalid_cursor": lambda api, faults, mp: api(
        "GET", "/orders", query={"userId": "user-1", "cursor": "not-a-cursor"}
    ),
    "unauthenticated": _as_jwt("GET", "/orders/ord_x", claims={"iss": "x"}),
    "forbidden": _as_jwt("GET", "/orders", query={"userId": "other"}, claims={"sub": "me"}),
    "order_not_found": lambda api, faults, mp: api("GET", "/orders/ord_missing"),
    "request_in_progress": _in_progress,
    "unsupported_media_type": lambda api, faults, mp: api(
        "POST", "/addresses/validate", raw_body="x", headers={"content-type": "text/plain"}
    ),
    "validation_failed": lambda api, faults, mp: api(
        "POST", "/orders", body=order_body(amount="0.00001"), headers={"Idempotency-Key": new_key()}
    ),
    "dependency_failed": _on_rates({"kind": "424"}),
    "rate_limited": _on_rates({"kind": "429", "retryAfter": 0.2}),
    "upstream_unreachable": _on_rates({"kind": "drop"}, short_timeouts=True),
    "upstream_unavailable": _on_rates({"kind": "503"}),
    "upstream_timeout": _on_rates({"kind": "hang", "hangSeconds": 1}, short_timeouts=True),
}


def _refused_by_gateway(auth_mode: str) -> Scenario:
    """The local gateway (API Gateway's stand-in) in AuthMode IAM or JWT, asked without a credential."""

    def run(api: Call, faults: Callable[..., None], mp: pytest.MonkeyPatch) -> Answer:
        from local.gateway import Gateway, IncomingRequest
        from local.template import load_template

        def no_function(name: str, event: dict[str, Any]) -> Any:
            raise AssertionError(f"{name} ran although the credential was refused")

        gateway = Gateway(load_template().routes(), no_function, auth_mode=auth_mode)
        request = IncomingRequest("GET", "/instruments", "", [], b"", "127.0.0.1", "HTTP/1.1")
        answer = gateway.handle(request)
        return Answer(answer.status, dict(answer.headers), answer.body.decode())

    return run


# API Gateway's refusals, keyed by the message of their body.
GATEWAY_SCENARIOS: dict[str, Scenario] = {
    "Unauthorized": _refused_by_gateway("JWT"),
    "Forbidden": _refused_by_gateway("IAM"),
}

# Codes no scenario here can provoke on demand: compared in shape with the status's default code.
UNPROVOKED = {
    # A write racing the refresh between its read and its conditional update
    # (StaleOrderError; the store's own tests cover it).
    "conflict",
}

SUCCESS_SCENARIOS: dict[tuple[str, str, int], Scenario] = {
    ("GET", "/instruments", 200): lambda api, faults, mp: api("GET", "/instruments"),
    ("GET", "/rates", 200): lambda api, faults, mp: api("GET", "/rates", query=RATE_QUERY),
    ("POST", "/addresses/validate", 200): lambda api, faults, mp: api(
        "POST", "/addresses/validate", body=VALIDATE_BODY
    ),
    ("POST", "/orders", 201): lambda api, faults, mp: _created(api),
    ("POST", "/orders", 202): _outcome_unknown,
    ("GET", "/orders", 200): lambda api, faults, mp: (
        _created(api),
        api("GET", "/orders", query={"userId": "user-1", "limit": "1"}),
    )[1],
    ("GET", "/orders/{orderId}", 200): lambda api, faults, mp: api("GET", f"/orders/{_order_id(api)}"),
    ("POST", "/orders/{orderId}/refresh", 200): lambda api, faults, mp: api(
        "POST", f"/orders/{_order_id(api)}/refresh"
    ),
}


def _responses() -> list[tuple[str, str, int, dict[str, Any]]]:
    return [
        (method, path, int(status), response)
        for method, path, operation in _operations()
        for status, response in operation["responses"].items()
    ]


def test_every_operation_has_a_request_example_and_every_response_an_example() -> None:
    missing = []
    for method, path, operation in _operations():
        body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if body is not None and not body.get("examples"):
            missing.append(f"{method} {path} request")
        missing += [
            f"{method} {path} parameter {p['name']}"
            for p in operation.get("parameters", [])
            if not p.get("examples")
        ]
        for status, response in operation["responses"].items():
            if not response.get("content", {}).get("application/json", {}).get("examples"):
                missing.append(f"{method} {path} {status}")
    assert not missing, missing


@pytest.mark.parametrize(
    ("method", "path", "status", "response"),
    _responses(),
    ids=lambda v: str(v) if not isinstance(v, dict) else "",
)
def test_each_response_example_fits_its_schema(
    method: str, path: str, status: int, response: dict[str, Any]
) -> None:
    media = response["content"]["application/json"]
    validator = _validator(media["schema"])
    for name, example in media["examples"].items():
        errors = [e.message for e in validator.iter_errors(example["value"])]
        assert not errors, f"{method} {path} {status} example {name}: {errors}"


def test_each_request_example_fits_its_schema() -> None:
    for method, path, operation in _operations():
        for parameter in operation.get("parameters", []):
            validator = _validator(parameter["schema"])
            for name, example in parameter["examples"].items():
                errors = [e.message for e in validator.iter_errors(example["value"])]
                assert not errors, f"{method} {path} {parameter['name']} example {name}: {errors}"
        media = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if media is None:
            continue
        validator = _validator(media["schema"])
        for name, example in media["examples"].items():
            errors = [e.message for e in validator.iter_errors(example["value"])]
            assert not errors, f"{method} {path} request example {name}: {errors}"


def _scenario(method: str, path: str, status: int, example: dict[str, Any]) -> tuple[Scenario, str | None]:
    """The scenario giving a real answer for this example, and the error code it must show."""
    if status < 400:
        return SUCCESS_SCENARIOS[(method, path, status)], None
    from cryptosdk.api.examples import ERROR_EXAMPLE_FOR_STATUS

    if "error" not in example["value"]:
        return GATEWAY_SCENARIOS[str(example["value"]["message"])], None
    code = str(example["value"]["error"]["code"])
    if code in UNPROVOKED:
        default = ERROR_EXAMPLE_FOR_STATUS[status]
        return ERROR_SCENARIOS[default], default
    return ERROR_SCENARIOS[code], code


def _distinct_examples() -> list[tuple[str, str, int, str, dict[str, Any]]]:
    """Each example once: an error example shared by several operations needs one real answer."""
    found: dict[str, tuple[str, str, int, str, dict[str, Any]]] = {}
    for method, path, status, response in _responses():
        for name, example in response["content"]["application/json"]["examples"].items():
            key = f"{status} {name}" if status >= 400 else f"{method} {path} {status} {name}"
            found.setdefault(key, (method, path, status, name, example))
    return list(found.values())


@pytest.mark.parametrize(
    ("method", "path", "status", "name", "example"),
    _distinct_examples(),
    ids=[f"{m} {p} {s} {n}" for m, p, s, n, _ in _distinct_examples()],
)
def test_each_response_example_has_the_shape_of_a_real_answer(
    api: Call,
    faults: Callable[..., None],
    monkeypatch: pytest.MonkeyPatch,
    method: str,
    path: str,
    status: int,
    name: str,
    example: dict[str, Any],
) -> None:
    scenario, code = _scenario(method, path, status, example)
    real = scenario(api, faults, monkeypatch)
    assert real.status == status, real.text
    differences = _shape_differences(example["value"], real.json)
    assert not differences, (name, differences, real.text)
    if code is not None:
        assert real.json["error"]["code"] == code, (name, real.text)
    if code is not None and code == example["value"]["error"]["code"]:
        # Same code, same words: the example is that answer, not a paraphrase of it.
        shown = {k: v for k, v in example["value"]["error"].items() if k != "requestId"}
        assert shown == {k: v for k, v in real.json["error"].items() if k != "requestId"}, real.text


def test_the_shape_comparison_sees_a_missing_key_a_changed_type_and_list_elements() -> None:
    real = {"a": "1", "b": [{"c": 1}], "d": None}
    assert _shape_differences({"a": "x", "b": [{"c": 2}], "d": "set"}, real) == []
    assert _shape_differences({"a": "x", "b": [{"c": 2}]}, real) == ["$: keys ['d'] differ"]
    assert _shape_differences({"a": 1, "b": [{"c": 2}], "d": None}, real) == ["$.a: int vs str"]
    assert _shape_differences({"a": "x", "b": [{"c": True}], "d": None}, real) == ["$.b[0].c: bool vs int"]
