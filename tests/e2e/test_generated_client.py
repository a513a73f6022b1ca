"""A user's first step: generate a Python client from the committed openapi.json with
openapi-python-client, then walk instruments -> rate -> validate -> create -> get -> list with
it against the local stack.

The generator lives in its own venv (pins in openapi-client-requirements.txt: its pydantic and
ruff pins are not the project's), built once under the temp dir and reused while the pins stay
the same. Measured (`pytest tests/e2e/test_generated_client.py --durations=3`): 71 s with the
venv to build on a busy 2-core machine (14 s of pip when idle), 14-15 s once it is cached, of which
the stack's start is about 8 s, generating the client under 1 s and the walk about 4.5 s.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from local.runtime import REPO_ROOT
from tests.e2e.test_local_stack import RunningStack, stack, started_stacks  # noqa: F401  (the stack fixtures)

REQUIREMENTS = Path(__file__).with_name("openapi-client-requirements.txt")
PACKAGE = "crypto_sdk_exchange_backend_client"

WALK = r"""
import json, sys, uuid
from crypto_sdk_exchange_backend_client import Client
from crypto_sdk_exchange_backend_client.api.catalogue import get_rate, list_instruments
from crypto_sdk_exchange_backend_client.api.addresses import validate_address
from crypto_sdk_exchange_backend_client.api.orders import create_order, get_order, list_orders
from crypto_sdk_exchange_backend_client.models import (
    AddressValidateBody, CreateOrderBody, LegIn, PartyIn, InstrumentsOut, RateOut,
    AddressVerdictOut, OrderOut, OrdersPage, ErrorResponse,
)

client = Client(base_url=sys.argv[1], raise_on_unexpected_status=True)
steps = {}
answer = list_instruments.sync_detailed(client=client)
assert isinstance(answer.parsed, InstrumentsOut), answer
steps["instruments"] = [answer.status_code, sorted({i.currency for i in answer.parsed.instruments})]
answer = get_rate.sync_detailed(
    client=client, from_="BTC", from_network="BTC", to="ETH", to_network="ERC20", amount="0.05"
)
assert isinstance(answer.parsed, RateOut), answer
steps["rate"] = [answer.status_code, answer.parsed.amount, answer.parsed.amount_to_receive]
eth = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
check = AddressValidateBody(currency="ETH", network="ERC20", address=eth)
answer = validate_address.sync_detailed(client=client, body=check)
assert isinstance(answer.parsed, AddressVerdictOut), answer
steps["validate"] = [answer.status_code, answer.parsed.valid]
user = "client-" + uuid.uuid4().hex[:8]
body = CreateOrderBody(
    from_=LegIn(currency="BTC", network="BTC"), to=LegIn(currency="ETH", network="ERC20"),
    amount="0.05", destination=PartyIn(address=eth),
    refund=PartyIn(address="bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"), user_id=user,
)
answer = create_order.sync_detailed(client=client, body=body, idempotency_key=str(uuid.uuid4()))
assert isinstance(answer.parsed, OrderOut), answer
created = answer.parsed
steps["create"] = [answer.status_code, created.id, created.deposit.address, str(created.status)]
answer = get_order.sync_detailed(created.id, client=client)
assert isinstance(answer.parsed, OrderOut), answer
steps["get"] = [answer.status_code, answer.parsed.id, [str(h.status) for h in answer.parsed.status_history]]
answer = list_orders.sync_detailed(client=client, user_id=user)
assert isinstance(answer.parsed, OrdersPage), answer
steps["list"] = [answer.status_code, [o.id for o in answer.parsed.orders]]
answer = get_order.sync_detailed("ord_missing", client=client)
assert isinstance(answer.parsed, ErrorResponse), answer
steps["missing"] = [answer.status_code, answer.parsed.error.code]
print(json.dumps(steps))
"""


def _generator_venv() -> Path:
    """The cached venv holding openapi-python-client, keyed by the pins and the Python version."""
    pins = hashlib.sha256(REQUIREMENTS.read_bytes() + sys.version.encode()).hexdigest()[:12]
    venv = Path(tempfile.gettempdir()) / f"cryptosdk-openapi-client-{pins}"
    if (venv / ".ready").exists():
        return venv
    building = Path(tempfile.mkdtemp(prefix="cryptosdk-openapi-client-build-"))
    subprocess.run([sys.executable, "-m", "venv", str(building)], check=True)
    pip = [str(building / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    result = subprocess.run([*pip, "-r", str(REQUIREMENTS)], capture_output=True, text=True)
    if result.returncode != 0:
        shutil.rmtree(building, ignore_errors=True)
        pytest.fail(f"could not install openapi-python-client:\n{result.stderr[-2000:]}")
    (building / ".ready").touch()
    try:
        # Atomic: a parallel run sees a whole venv or none. Entry-point scripts would keep the
        # build path in their shebang, so the generator runs as `python -m openapi_python_client`.
        building.rename(venv)
    except OSError:
        shutil.rmtree(building, ignore_errors=True)
    return venv


@pytest.fixture(scope="module")
def generated_client(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    venv = _generator_venv()
    out = tmp_path_factory.mktemp("client")
    env = {**os.environ, "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            str(REPO_ROOT / "openapi.json"),
            "--meta",
            "none",
        ],
        cwd=out,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # A warning means a part of the document the generator could not turn into code.
    assert "Warning" not in result.stdout + result.stderr, result.stdout + result.stderr
    assert (out / PACKAGE / "api" / "orders" / "create_order.py").exists()
    return venv, out


def test_a_client_generated_from_the_document_walks_the_main_calls(
    stack: RunningStack,  # noqa: F811
    generated_client: tuple[Path, Path],
) -> None:
    venv, out = generated_client
    result = subprocess.run(
        [str(venv / "bin" / "python"), "-c", WALK, stack.api],
        cwd=out,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    steps = json.loads(result.stdout.strip().splitlines()[-1])

    assert steps["instruments"][0] == 200
    assert {"BTC", "ETH"} <= set(steps["instruments"][1])
    assert steps["rate"][:2] == [200, "0.05"]
    assert steps["rate"][2]
    assert steps["validate"] == [200, True]
    status, order_id, deposit_address, order_status = steps["create"]
    assert status == 201
    assert order_id.startswith("ord_")
    assert deposit_address
    assert order_status == "awaiting_deposit"
    assert steps["get"][:2] == [200, order_id]
    assert steps["get"][2][0] == "pending_create"
    assert steps["list"] == [200, [order_id]]
    assert steps["missing"] == [404, "order_not_found"]


def test_the_stack_serves_the_document_with_its_own_url_and_auth_mode(
    stack: RunningStack,  # noqa: F811
) -> None:
    import requests

    served = requests.get(f"{stack.api}/openapi.json", timeout=10).json()
    committed = json.loads((REPO_ROOT / "openapi.json").read_text())

    assert served["servers"] == [{"url": stack.api, "description": "The local stack (AuthMode=NONE)."}]
    assert served["x-auth-mode"] == "NONE"
    assert served["security"] == []
    assert "securitySchemes" not in served["components"]
    assert served["paths"] == committed["paths"]
