"""Orders over real HTTP: create, validate-address, public-info, list, lifecycle by command and by clock."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import requests

from local.sandbox import SandboxServer
from local.sandbox.deposit_addresses import deposit_address
from tests.integration.sandbox.conftest import ManualClock, Signed, deposit_leg

CREATE = "/api/v2/orders/public/create"
INFO = "/api/v2/orders/public-info"
VALIDATE = "/api/v2/instruments/public/validate-address"
ORDER_FIELDS = {
    "orderId",
    "legacyOrderId",
    "createdAt",
    "rateMode",
    "claimedDepositAmount",
    "amountToGet",
    "pair",
    "destinationAddress",
    "destinationAddressMemo",
    "depositAddress",
    "orderEvents",
    "deposits",
    "withdrawals",
    "completed",
    "userEmail",
    "isPlatformEmail",
    "refundAddress",
    "claimedNetworkFee",
    "KYCFormLink",
    "liquidityProviderPublicCode",
    "claimedPublicRate",
}
HAPPY = [
    "CREATION_END",
    "INCOMING_FUNDS_DETECTED",
    "DEPOSIT_REGISTERED",
    "FUNDS_WITHDRAWAL_START",
    "WITHDRAWAL_COMPLETED",
]


def valid_address(network: str) -> str:
    # A real checksummed address of the network (the sandbox's own HD derivation, far from order ids).
    return deposit_address(network, 7)[0]


def order_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "instrumentFrom": deposit_leg("BTC", "BTC"),
        "instrumentTo": deposit_leg("USDT", "TRC20"),
        "destinationAddress": valid_address("TRC20"),
        "claimedDepositAmount": "0.01",
        "rateMode": "FLOATING",
    }
    body.update(overrides)
    return body


def create(client: Signed, **overrides: Any) -> dict[str, Any]:
    response = client.post(CREATE, order_body(**overrides))
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


def info(client: Signed, order: dict[str, Any]) -> dict[str, Any]:
    query = f"orderId={order['orderId']}&destinationAddress={order['destinationAddress']}"
    response = client.get(INFO, query)
    assert response.status_code == 200, response.text
    return dict(response.json())


def kinds(order: dict[str, Any]) -> list[str]:
    return [event["kind"] for event in reversed(order["orderEvents"])]


def command(client: Signed, order: dict[str, Any], kind: str) -> requests.Response:
    return client.control("POST", f"/_sandbox/orders/{order['orderId']}/events", {"kind": kind})


# ---- validate-address -------------------------------------------------------------------------------


def test_validate_address_accepts_a_real_address(signed: Signed) -> None:
    body = {"currencyTitle": "ETH", "networkTitle": "ERC20", "address": valid_address("ERC20")}
    response = signed.post(VALIDATE, body)
    assert response.status_code == 200
    assert response.json()["result"] is True
    assert set(response.json()) == {"result", "message"}


def test_validate_address_refuses_a_broken_checksum_with_a_reason(signed: Signed) -> None:
    address = valid_address("BTC")
    broken = address[:-1] + ("q" if address[-1] != "q" else "p")
    response = signed.post(VALIDATE, {"currencyTitle": "BTC", "networkTitle": "BTC", "address": broken})
    assert response.json()["result"] is False
    assert response.json()["message"]


def test_validate_address_requires_the_memo_where_the_network_does(signed: Signed) -> None:
    address = valid_address("XRP")
    without = signed.post(VALIDATE, {"currencyTitle": "XRP", "networkTitle": "XRP", "address": address})
    with_tag = signed.post(
        VALIDATE, {"currencyTitle": "XRP", "networkTitle": "XRP", "address": address, "memo": 12345}
    )
    assert without.json()["result"] is False
    assert with_tag.json()["result"] is True


# ---- create -------------------------------------------------------------------------------------------


def test_create_answers_the_documented_shape(signed: Signed) -> None:
    order = create(signed)
    assert set(order) >= ORDER_FIELDS
    assert isinstance(order["orderId"], int)
    assert isinstance(order["legacyOrderId"], str)
    assert order["completed"] is False
    assert order["deposits"] == []
    assert order["withdrawals"] == []
    assert kinds(order) == ["CREATION_END"]
    deposit = order["depositAddress"]
    assert deposit["instrument"] == deposit_leg("BTC", "BTC")
    assert deposit["depositAddressMemo"] is None
    assert deposit["depositAddress"].startswith("bc1")
    assert order["pair"]["instrumentTo"] == {
        "currencyTitle": "USDT",
        "networkTitle": "TRC20",
        "precisionDecimals": 6,
    }
    assert Decimal(order["amountToGet"]) > 0
    assert order["claimedPublicRate"]["claimedAmountToReceive"] == order["amountToGet"]


def test_each_order_gets_its_own_deposit_address(signed: Signed) -> None:
    first, second = create(signed), create(signed)
    assert first["orderId"] != second["orderId"]
    assert first["depositAddress"]["depositAddress"] != second["depositAddress"]["depositAddress"]


def test_memo_networks_share_an_address_and_give_each_order_a_memo(signed: Signed) -> None:
    leg = {"instrumentFrom": deposit_leg("XRP", "XRP"), "claimedDepositAmount": "100"}
    first, second = create(signed, **leg), create(signed, **leg)
    assert first["depositAddress"]["depositAddress"] == second["depositAddress"]["depositAddress"]
    assert first["depositAddress"]["depositAddressMemo"] != second["depositAddress"]["depositAddressMemo"]
    assert first["depositAddress"]["depositAddressMemo"]


def test_numeric_destination_memo_and_sdk_extras_are_accepted(signed: Signed) -> None:
    order = create(
        signed,
        instrumentTo=deposit_leg("XLM", "XLM"),
        destinationAddress=valid_address("XLM"),
        destinationAddressMemo=987654,
        claimedNetworkFee="0.01",
        claimedPublicRate={"claimedAmountToReceive": "1", "price": "1", "updatedAt": "x", "quotes": {}},
        browserFingerprint="fp",
    )
    assert order["destinationAddressMemo"] == "987654"
    assert order["claimedNetworkFee"] == "0.01"


def test_missing_destination_memo_is_400(signed: Signed) -> None:
    response = signed.post(
        CREATE, order_body(instrumentTo=deposit_leg("XRP", "XRP"), destinationAddress=valid_address("XRP"))
    )
    assert response.status_code == 400
    assert "destinationAddress" in response.json()["message"]


def test_invalid_destination_address_is_400(signed: Signed) -> None:
    response = signed.post(CREATE, order_body(destinationAddress=valid_address("ERC20")))
    assert response.status_code == 400


def test_fiat_leg_is_422_and_limits_are_406(signed: Signed) -> None:
    fiat = signed.post(
        CREATE, order_body(instrumentFrom=deposit_leg("EUR", "EUR"), claimedDepositAmount="100")
    )
    assert fiat.status_code == 422
    small = signed.post(CREATE, order_body(claimedDepositAmount="0.000001"))
    assert small.status_code == 406
    assert small.json()["message"] == "Amount Too Small"


def test_fixed_order_honours_a_claimed_rate_within_tolerance_only(signed: Signed) -> None:
    quote = requests.get(
        signed.url + "/api/v2/rates/public/one",
        params={
            "instrumentFromCurrencyTitle": "BTC",
            "instrumentFromNetworkTitle": "BTC",
            "instrumentToCurrencyTitle": "USDT",
            "instrumentToNetworkTitle": "TRC20",
            "claimedDepositAmount": "0.01",
            "rateMode": "FIXED",
        },
        timeout=5,
    ).json()
    claimed = {"claimedAmountToReceive": quote["amountToGet"], "price": quote["price"]}
    order = create(signed, rateMode="FIXED", claimedPublicRate=claimed)
    assert order["amountToGet"] == quote["amountToGet"]
    greedy = {"claimedAmountToReceive": str(Decimal(quote["amountToGet"]) * 2)}
    assert signed.post(CREATE, order_body(rateMode="FIXED", claimedPublicRate=greedy)).status_code == 409


# ---- public-info and list -------------------------------------------------------------------------------


def test_public_info_needs_the_matching_destination(signed: Signed) -> None:
    order = create(signed)
    assert info(signed, order)["orderId"] == order["orderId"]
    wrong = signed.get(INFO, f"orderId={order['orderId']}&destinationAddress={valid_address('ERC20')}")
    assert wrong.status_code == 404
    missing = signed.get(INFO, f"orderId=1&destinationAddress={order['destinationAddress']}")
    assert missing.status_code == 404
    assert signed.get(INFO, "orderId=abc&destinationAddress=x").status_code == 400


def test_order_list_is_newest_first_by_default_and_pages(
    sandbox_factory: Callable[..., SandboxServer],
) -> None:
    client = Signed(sandbox_factory())
    created = [create(client)["orderId"] for _ in range(3)]
    newest_first = [order["orderId"] for order in client.get("/api/v2/orders").json()]
    assert newest_first == created[::-1]
    ascending = client.get("/api/v2/orders", "offset=1&limit=1&order=asc").json()
    assert [order["orderId"] for order in ascending] == [created[1]]
    assert client.get("/api/v2/orders", "order=sideways").status_code == 400


def test_order_list_holds_only_the_callers_orders(sandbox_factory: Callable[..., SandboxServer]) -> None:
    server = sandbox_factory()
    mine = Signed(server)
    create(mine)
    requests.post(
        server.url + "/_sandbox/keys", json={"publicKey": "other", "secretKey": "other-secret"}, timeout=5
    )
    other = Signed(server, "other", "other-secret")
    assert other.get("/api/v2/orders").json() == []
    assert len(mine.get("/api/v2/orders").json()) == 1


# ---- lifecycle ----------------------------------------------------------------------------------------


def test_command_to_withdrawal_completed_walks_every_step(signed: Signed) -> None:
    order = create(signed)
    response = command(signed, order, "WITHDRAWAL_COMPLETED")
    assert response.status_code == 200
    state = info(signed, order)
    assert kinds(state) == HAPPY
    assert state["completed"] is True
    (deposit,) = state["deposits"]
    assert deposit["confirmations"] == 2  # minConfirmationsToTrade of BTC
    assert deposit["isPending"] is False
    assert deposit["txId"]
    (withdrawal,) = state["withdrawals"]
    assert withdrawal["amount"] == order["amountToGet"]
    assert withdrawal["txId"]
    assert withdrawal["networkFee"]


def test_command_to_an_intermediate_step_stops_there(signed: Signed) -> None:
    order = create(signed)
    command(signed, order, "INCOMING_FUNDS_DETECTED")
    state = info(signed, order)
    assert kinds(state) == HAPPY[:2]
    assert state["deposits"][0]["confirmations"] == 0
    assert state["deposits"][0]["isPending"] is True


def test_aml_hold_then_refund(signed: Signed) -> None:
    order = create(signed)
    command(signed, order, "AMLBOT_AML_FROZEN_BY_LIQUIDITY_PROVIDER")
    assert kinds(info(signed, order))[-1] == "AMLBOT_AML_FROZEN_BY_LIQUIDITY_PROVIDER"
    command(signed, order, "REFUND_COMPLETED")
    state = info(signed, order)
    assert kinds(state)[-2:] == ["REFUND_REQUESTED", "REFUND_COMPLETED"]
    assert state["completed"] is False
    assert command(signed, order, "WITHDRAWAL_COMPLETED").status_code == 409


def test_aml_hold_can_be_released_to_payout(signed: Signed) -> None:
    order = create(signed)
    command(signed, order, "AMLBOT_AML_FROZEN_BY_LIQUIDITY_PROVIDER")
    command(signed, order, "WITHDRAWAL_COMPLETED")
    assert kinds(info(signed, order))[-2:] == ["FUNDS_WITHDRAWAL_START", "WITHDRAWAL_COMPLETED"]


def test_unknown_kind_is_400_and_unknown_order_404(signed: Signed) -> None:
    order = create(signed)
    assert command(signed, order, "TELEPORTED").status_code == 400
    assert command(signed, {"orderId": 1}, "WITHDRAWAL_COMPLETED").status_code == 404


def test_clock_moves_orders_through_the_happy_path(
    sandbox_factory: Callable[..., SandboxServer], clock: ManualClock
) -> None:
    client = Signed(sandbox_factory(step_seconds=0.05, now=clock))
    order = create(client)
    # BTC: detect, 2 confirmations, register, start, complete = 6 steps of 50 ms.
    clock.advance(0.05 * 5 + 0.01)
    assert info(client, order)["completed"] is False  # 5 of the 6 steps taken
    clock.advance(0.05)
    state = info(client, order)
    assert state["completed"] is True
    assert kinds(state) == HAPPY
    times = [event["createdAt"] for event in reversed(state["orderEvents"])]
    assert times == sorted(times)


def test_clock_speed_can_change_at_runtime(
    sandbox_factory: Callable[..., SandboxServer], clock: ManualClock
) -> None:
    client = Signed(sandbox_factory(now=clock))  # no step: the clock never moves an order
    order = create(client)
    clock.advance(0.3)
    assert kinds(info(client, order)) == ["CREATION_END"]
    assert client.control("POST", "/_sandbox/config", {"stepSeconds": 0.02}).status_code == 200
    assert info(client, order)["completed"] is True


def test_unpaid_order_lapses_and_then_gets_no_events(
    sandbox_factory: Callable[..., SandboxServer], clock: ManualClock
) -> None:
    client = Signed(sandbox_factory(lapse_seconds=0.2, now=clock))
    order = create(client)
    clock.advance(0.21)
    assert kinds(info(client, order)) == ["CREATION_END"]
    assert command(client, order, "INCOMING_FUNDS_DETECTED").status_code == 409
    assert kinds(info(client, order)) == ["CREATION_END"]


def test_an_unpaid_order_is_open_until_its_lapse_time(
    sandbox_factory: Callable[..., SandboxServer], clock: ManualClock
) -> None:
    client = Signed(sandbox_factory(lapse_seconds=0.2, now=clock))
    order = create(client)
    clock.advance(0.19)
    assert command(client, order, "INCOMING_FUNDS_DETECTED").status_code == 200


def test_paid_order_does_not_lapse(sandbox_factory: Callable[..., SandboxServer], clock: ManualClock) -> None:
    client = Signed(sandbox_factory(lapse_seconds=0.2, now=clock))
    order = create(client)
    command(client, order, "INCOMING_FUNDS_DETECTED")
    clock.advance(0.3)
    assert command(client, order, "WITHDRAWAL_COMPLETED").status_code == 200


def test_lapse_command_ends_an_unpaid_order_now(signed: Signed) -> None:
    order = create(signed)
    assert command(signed, order, "LAPSE").status_code == 200
    assert command(signed, order, "INCOMING_FUNDS_DETECTED").status_code == 409


def test_unpaid_fraction_keeps_the_clock_from_paying(
    sandbox_factory: Callable[..., SandboxServer], clock: ManualClock
) -> None:
    client = Signed(sandbox_factory(step_seconds=0.02, lapse_seconds=0.3, unpaid_fraction=1.0, now=clock))
    order = create(client)
    clock.advance(0.4)
    assert kinds(info(client, order)) == ["CREATION_END"]
    assert command(client, order, "INCOMING_FUNDS_DETECTED").status_code == 409


def test_reset_forgets_orders(sandbox_factory: Callable[..., SandboxServer]) -> None:
    client = Signed(sandbox_factory())
    order = create(client)
    assert client.control("POST", "/_sandbox/reset").status_code == 200
    query = f"orderId={order['orderId']}&destinationAddress={order['destinationAddress']}"
    assert client.get(INFO, query).status_code == 404
