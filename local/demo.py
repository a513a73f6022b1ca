"""`python -m local.demo` (`make demo`): walk the whole flow against the running local stack.

Start the stack first in another terminal, with a short poll period so the walk takes seconds:
    make run ARGS="--poll-every 5"
then `make demo`. Each step prints what was sent and what came back: the instrument catalogue, a
quote, a rejected invalid address, a rejected missing XRP destination tag, an order with its
deposit instructions, the sandbox paying it, the poller moving it to completed, and the
OrderStatusChanged event that reached the EventBridge bus.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import requests

from local.stack import DEFAULT_STATE_DIR, REGION, read_state

BTC_REFUND = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
ETH_DESTINATION = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
XRP_DESTINATION = "rHb9CJAWyB4rj91VRWn96DkukG4bwdtyTh"
TERMINAL = {"completed", "refunded", "expired", "failed"}


class DemoError(RuntimeError):
    """A step did not answer as the flow expects; the message says which and what came back."""


class Demo:
    def __init__(
        self, state: dict[str, Any], out: Callable[[str], None] = print, wait_seconds: float = 150
    ) -> None:
        self.api = state["api"]
        self.sandbox = state["sandbox"]
        self.state = state
        self.out = out
        self.wait_seconds = wait_seconds
        self.http = requests.Session()
        self.user_id = f"demo-{uuid.uuid4().hex[:8]}"

    def step(self, title: str) -> None:
        self.out(f"\n== {title}")

    def call(self, method: str, path: str, *, expect: int | tuple[int, ...], **kwargs: Any) -> Any:
        response = self.http.request(method, self.api + path, timeout=30, **kwargs)
        self.out(f"{method} {path} -> {response.status_code}")
        allowed = (expect,) if isinstance(expect, int) else expect
        if response.status_code not in allowed:
            raise DemoError(f"{method} {path} answered {response.status_code}: {response.text[:500]}")
        return response.json()

    def run(self) -> dict[str, Any]:
        self.instruments()
        self.quote()
        self.invalid_address()
        self.missing_memo()
        order = self.create_order()
        self.pay(order)
        final = self.wait_for_completion(order["id"])
        event = self.event_on_bus(order["id"])
        self.out("\ndemo finished: order completed and the event reached the bus")
        return {"order": final, "event": event}

    def instruments(self) -> None:
        self.step("1. instruments")
        body = self.call("GET", "/instruments", expect=200)
        items = body["instruments"]
        self.out(
            f"{len(items)} instruments, e.g. "
            + ", ".join(f"{i['currency']}/{i['network']}" for i in items[:5])
        )

    def quote(self) -> None:
        self.step("2. a quote: 0.05 BTC -> ETH (ERC20)")
        params = {"from": "BTC", "fromNetwork": "BTC", "to": "ETH", "toNetwork": "ERC20", "amount": "0.05"}
        body = self.call("GET", "/rates", params=params | {"rateMode": "FLOATING"}, expect=200)
        self.out(f"you would receive {body.get('amountToReceive')} ETH")

    def invalid_address(self) -> None:
        self.step("3. an invalid address is rejected before any order exists")
        payload = {"currency": "ETH", "network": "ERC20", "address": "0x1234"}
        body = self.call("POST", "/addresses/validate", json=payload, expect=(200, 400, 422))
        if body.get("valid") is not False and "error" not in body:
            raise DemoError(f"0x1234 was not rejected: {body}")
        self.out(f"rejected: {json.dumps(body)}")

    def _order_body(self, to: dict[str, str], destination: dict[str, str]) -> dict[str, Any]:
        return {
            "from": {"currency": "BTC", "network": "BTC"},
            "to": to,
            "amount": "0.05",
            "rateMode": "FLOATING",
            "destination": destination,
            "refund": {"address": BTC_REFUND},
            "userId": self.user_id,
        }

    def missing_memo(self) -> None:
        self.step("4. an XRP order without its destination tag is rejected")
        body = self._order_body({"currency": "XRP", "network": "XRP"}, {"address": XRP_DESTINATION})
        answer = self.call(
            "POST", "/orders", json=body, headers={"Idempotency-Key": str(uuid.uuid4())}, expect=(400, 422)
        )
        self.out(f"rejected: {json.dumps(answer)}")

    def create_order(self) -> dict[str, Any]:
        self.step("5. create an order: 0.05 BTC -> ETH (ERC20)")
        body = self._order_body({"currency": "ETH", "network": "ERC20"}, {"address": ETH_DESTINATION})
        order: dict[str, Any] = self.call(
            "POST", "/orders", json=body, headers={"Idempotency-Key": str(uuid.uuid4())}, expect=201
        )
        deposit = order["deposit"]
        memo = f" with memo {deposit['memo']}" if deposit.get("memo") else ""
        self.out(f"order {order['id']} ({order['status']}): send {deposit['amount']} {deposit['currency']}")
        self.out(f"  to {deposit['address']}{memo}; you receive about {order.get('amountToReceive')} ETH")
        return order

    def pay(self, order: dict[str, Any]) -> None:
        self.step("6. the sandbox exchange pays it out (deposit seen, exchanged, withdrawn)")
        exchange_id = order["exchangeOrderId"]
        response = self.http.post(
            f"{self.sandbox}/_sandbox/orders/{exchange_id}/events",
            json={"kind": "WITHDRAWAL_COMPLETED"},
            timeout=10,
        )
        self.out(f"POST /_sandbox/orders/{exchange_id}/events WITHDRAWAL_COMPLETED -> {response.status_code}")
        if response.status_code != 200:
            raise DemoError(f"the sandbox refused the payout: {response.text[:300]}")

    def wait_for_completion(self, order_id: str) -> dict[str, Any]:
        self.step("7. the scheduled poller picks the change up")
        deadline = time.monotonic() + self.wait_seconds
        last = ""
        while time.monotonic() < deadline:
            order: dict[str, Any] = self.http.get(f"{self.api}/orders/{order_id}", timeout=30).json()
            if order["status"] != last:
                last = order["status"]
                self.out(f"GET /orders/{order_id}: {last}")
            if last in TERMINAL:
                history = " -> ".join(change["status"] for change in order["statusHistory"])
                self.out(f"history: {history}")
                if last != "completed":
                    raise DemoError(f"the order ended {last}, not completed")
                return order
            time.sleep(1)
        raise DemoError(
            f"still {last} after {self.wait_seconds:.0f} s; is the stack polling? "
            'start it with make run ARGS="--poll-every 5"'
        )

    def event_on_bus(self, order_id: str) -> dict[str, Any]:
        self.step("8. the OrderStatusChanged event on the bus")
        sqs = _session().client("sqs", endpoint_url=self.state["moto"])
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            # A short VisibilityTimeout walks past the messages already seen (every status change
            # of every order is on the tap now) and leaves them for the next reader: it only looks.
            messages = sqs.receive_message(
                QueueUrl=self.state["bus_tap_queue_url"], MaxNumberOfMessages=10, VisibilityTimeout=5
            ).get("Messages", [])
            for message in messages:
                envelope = json.loads(message["Body"])
                detail = envelope.get("detail", {})
                if detail.get("orderId") == order_id and detail.get("newStatus") == "completed":
                    self.out(f"{envelope['detail-type']} from {envelope['source']}: {json.dumps(detail)}")
                    return dict(envelope)
            time.sleep(0.5)
        raise DemoError(f"no OrderStatusChanged event for {order_id} reached the bus")


def _session() -> Any:
    import boto3

    return boto3.session.Session(
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - moto's fake key
        region_name=REGION,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR)
    parser.add_argument("--wait", type=float, default=150, help="seconds to wait for the poller")
    args = parser.parse_args(argv)
    state = read_state(args.state_dir)
    if state is None:
        print('no local stack is running: start it with make run ARGS="--poll-every 5"', file=sys.stderr)
        return 2
    try:
        Demo(state, wait_seconds=args.wait).run()
    except (DemoError, requests.RequestException) as exc:
        print(f"\ndemo failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
