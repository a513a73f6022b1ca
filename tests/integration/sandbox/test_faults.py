"""Fault injection over real HTTP: each kind, per endpoint, by count and by probability."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from local.sandbox import SandboxServer

INSTRUMENTS = "/api/v2/instruments/public"
PAIRS = "/api/v2/pairs/public"


def inject(sandbox: SandboxServer, *faults: dict[str, object]) -> None:
    response = requests.post(sandbox.url + "/_sandbox/faults", json={"faults": list(faults)}, timeout=5)
    assert response.status_code == 201, response.text


def get(sandbox: SandboxServer, path: str, timeout: float = 5) -> requests.Response:
    return requests.get(sandbox.url + path, timeout=timeout)


@pytest.mark.parametrize("status", [500, 502, 503, 504, 424])
def test_status_faults_answer_in_the_error_shape_for_count_requests(
    sandbox: SandboxServer, status: int
) -> None:
    inject(sandbox, {"endpoint": INSTRUMENTS, "kind": str(status), "count": 2})
    answers = [get(sandbox, INSTRUMENTS) for _ in range(3)]
    assert [answer.status_code for answer in answers] == [status, status, 200]
    assert answers[0].json()["statusCode"] == status


def test_429_with_and_without_retry_after(sandbox: SandboxServer) -> None:
    inject(sandbox, {"endpoint": INSTRUMENTS, "kind": "429", "count": 1, "retryAfter": 2})
    with_header = get(sandbox, INSTRUMENTS)
    assert with_header.status_code == 429
    assert with_header.headers["Retry-After"] == "2"
    inject(sandbox, {"endpoint": INSTRUMENTS, "kind": 429, "count": 1})
    without = get(sandbox, INSTRUMENTS)
    assert without.status_code == 429
    assert "Retry-After" not in without.headers


def test_faults_apply_only_to_their_endpoint(sandbox: SandboxServer) -> None:
    inject(sandbox, {"endpoint": PAIRS, "kind": "503"})
    assert get(sandbox, INSTRUMENTS).status_code == 200
    assert get(sandbox, PAIRS).status_code == 503


def test_wildcard_endpoint_spares_the_control_api(sandbox: SandboxServer) -> None:
    inject(sandbox, {"endpoint": "*", "kind": "500"})
    assert get(sandbox, INSTRUMENTS).status_code == 500
    assert requests.delete(sandbox.url + "/_sandbox/faults", timeout=5).status_code == 200
    assert get(sandbox, INSTRUMENTS).status_code == 200


def test_probability_zero_never_fires_and_one_always_does(sandbox: SandboxServer) -> None:
    inject(sandbox, {"endpoint": INSTRUMENTS, "kind": "500", "probability": 0})
    assert all(get(sandbox, INSTRUMENTS).status_code == 200 for _ in range(5))
    requests.delete(sandbox.url + "/_sandbox/faults", timeout=5)
    inject(sandbox, {"endpoint": INSTRUMENTS, "kind": "500", "probability": 1})
    assert all(get(sandbox, INSTRUMENTS).status_code == 500 for _ in range(5))


def test_half_probability_fires_sometimes(sandbox: SandboxServer) -> None:
    inject(sandbox, {"endpoint": PAIRS, "kind": "502", "probability": 0.5})
    statuses = [get(sandbox, PAIRS + "?limit=1").status_code for _ in range(60)]
    assert 5 < statuses.count(502) < 55


def test_latency_delays_without_failing(sandbox: SandboxServer) -> None:
    inject(sandbox, {"endpoint": PAIRS, "kind": "latency", "latencyMs": 200})
    started = time.perf_counter()
    response = get(sandbox, PAIRS + "?limit=1")
    assert response.status_code == 200
    assert time.perf_counter() - started >= 0.2


def test_latency_is_served_concurrently(sandbox: SandboxServer) -> None:
    inject(sandbox, {"endpoint": PAIRS, "kind": "latency", "latencyMs": 300})
    started = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda _: get(sandbox, PAIRS + "?limit=1").status_code, range(8)))
    assert statuses == [200] * 8
    assert time.perf_counter() - started < 0.3 * 4  # not one after another


def test_latency_combines_with_a_status_fault(sandbox: SandboxServer) -> None:
    inject(
        sandbox,
        {"endpoint": PAIRS, "kind": "latency", "latencyMs": 150},
        {"endpoint": PAIRS, "kind": "503", "count": 1},
    )
    started = time.perf_counter()
    assert get(sandbox, PAIRS).status_code == 503
    assert time.perf_counter() - started >= 0.15


def test_drop_closes_the_connection_without_a_response(sandbox: SandboxServer) -> None:
    inject(sandbox, {"endpoint": INSTRUMENTS, "kind": "drop", "count": 1})
    with pytest.raises(requests.ConnectionError):
        get(sandbox, INSTRUMENTS)
    assert get(sandbox, INSTRUMENTS).status_code == 200


def test_hang_outlasts_a_read_timeout(sandbox: SandboxServer) -> None:
    inject(sandbox, {"endpoint": INSTRUMENTS, "kind": "hang", "hangSeconds": 2, "count": 1})
    with pytest.raises(requests.ReadTimeout):
        get(sandbox, INSTRUMENTS, timeout=0.3)


def test_hang_ends_by_dropping_the_connection(sandbox: SandboxServer) -> None:
    inject(sandbox, {"endpoint": INSTRUMENTS, "kind": "hang", "hangSeconds": 0.2, "count": 1})
    with pytest.raises(requests.ConnectionError):
        get(sandbox, INSTRUMENTS, timeout=3)


def test_invalid_fault_is_400(sandbox: SandboxServer) -> None:
    for fault in ({"kind": "418"}, {"kind": "500", "probability": 2}, {"kind": "429", "count": 0}):
        response = requests.post(sandbox.url + "/_sandbox/faults", json=fault, timeout=5)
        assert response.status_code == 400, fault


def test_faults_are_listed_with_remaining_counts(sandbox: SandboxServer) -> None:
    inject(sandbox, {"endpoint": INSTRUMENTS, "kind": "500", "count": 3})
    get(sandbox, INSTRUMENTS)
    listed = requests.get(sandbox.url + "/_sandbox/faults", timeout=5).json()["faults"]
    assert [(fault["kind"], fault["remaining"]) for fault in listed] == [("500", 2)]


def test_stats_count_every_attempt_including_faulted_ones(sandbox: SandboxServer) -> None:
    inject(sandbox, {"endpoint": INSTRUMENTS, "kind": "503", "count": 2})
    for _ in range(3):
        get(sandbox, INSTRUMENTS)
    stats = requests.get(sandbox.url + "/_sandbox/stats", timeout=5).json()
    assert stats["requests"][INSTRUMENTS] == 3
    assert stats["responses"][INSTRUMENTS] == {"503": 2, "200": 1}
    requests.delete(sandbox.url + "/_sandbox/stats", timeout=5)
    assert requests.get(sandbox.url + "/_sandbox/stats", timeout=5).json()["requests"] == {
        "/_sandbox/stats": 1
    }
