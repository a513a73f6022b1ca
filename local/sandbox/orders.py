"""Orders in memory and their lifecycle, advanced by a lazy clock and by command.

Happy path, one micro-step per clock tick:
  CREATION_END -> INCOMING_FUNDS_DETECTED (deposit seen, 0 confirmations) -> confirmations rise
  one per tick up to minConfirmationsToTrade -> DEPOSIT_REGISTERED -> FUNDS_WITHDRAWAL_START
  -> WITHDRAWAL_COMPLETED (withdrawal with txId, completed: true).
Side paths (command only): AMLBOT_AML_FROZEN_BY_LIQUIDITY_PROVIDER after the deposit is registered
(the clock stops; FUNDS_WITHDRAWAL_START releases it), REFUND_REQUESTED -> REFUND_COMPLETED.
The clock is evaluated when an order is read, so no background thread is needed and event times
are the exact tick times. An unpaid order lapses `lapse_seconds` after creation and then never
gets another event.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from local.sandbox.catalogue import Instrument
from local.sandbox.errors import bad_request, conflict, not_found
from local.sandbox.rates import LIQUIDITY_PROVIDER, fmt

CREATION_END = "CREATION_END"
INCOMING_FUNDS_DETECTED = "INCOMING_FUNDS_DETECTED"
DEPOSIT_REGISTERED = "DEPOSIT_REGISTERED"
FUNDS_WITHDRAWAL_START = "FUNDS_WITHDRAWAL_START"
WITHDRAWAL_COMPLETED = "WITHDRAWAL_COMPLETED"
AML_FROZEN = "AMLBOT_AML_FROZEN_BY_LIQUIDITY_PROVIDER"
REFUND_REQUESTED = "REFUND_REQUESTED"
REFUND_COMPLETED = "REFUND_COMPLETED"
LAPSE = "LAPSE"  # sandbox-only command: make an unpaid order lapse now

HAPPY_PATH = (
    CREATION_END,
    INCOMING_FUNDS_DETECTED,
    DEPOSIT_REGISTERED,
    FUNDS_WITHDRAWAL_START,
    WITHDRAWAL_COMPLETED,
)
KINDS = frozenset((*HAPPY_PATH, AML_FROZEN, REFUND_REQUESTED, REFUND_COMPLETED, LAPSE))


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _tx_id(order_id: int, purpose: str) -> str:
    return hashlib.sha256(f"sandbox:{order_id}:{purpose}".encode()).hexdigest()


@dataclass
class LifecycleSettings:
    step_seconds: float | None = None
    lapse_seconds: float | None = 1800.0
    unpaid_fraction: float = 0.0


@dataclass
class Order:
    order_id: int
    public_key: str
    created_at: float
    source: Instrument
    target: Instrument
    rate_mode: str
    markup: Decimal
    deposit_amount: Decimal
    amount_to_get: Decimal
    network_fee: Decimal
    destination_address: str
    destination_memo: str | None
    refund_address: str | None
    refund_memo: str | None
    deposit_address: str
    deposit_memo: str | None
    claimed_network_fee: str
    claimed_public_rate: dict[str, Any]
    min_confirmations: int
    never_pays: bool = False
    events: list[tuple[float, str]] = field(default_factory=list)  # oldest first
    deposits: list[dict[str, Any]] = field(default_factory=list)
    withdrawals: list[dict[str, Any]] = field(default_factory=list)
    confirmations: int = 0
    last_change_at: float = 0.0
    lapsed: bool = False

    def reached(self, kind: str) -> bool:
        return any(event_kind == kind for _, event_kind in self.events)

    @property
    def paid(self) -> bool:
        return self.reached(INCOMING_FUNDS_DETECTED)

    @property
    def completed(self) -> bool:
        return self.reached(WITHDRAWAL_COMPLETED)

    @property
    def on_refund_path(self) -> bool:
        return self.reached(REFUND_REQUESTED)

    @property
    def frozen(self) -> bool:
        return (
            self.reached(AML_FROZEN) and not self.reached(FUNDS_WITHDRAWAL_START) and not self.on_refund_path
        )

    def to_wire(self) -> dict[str, Any]:
        return {
            "orderId": self.order_id,
            "legacyOrderId": f"SBX{self.order_id:08d}",
            "createdAt": iso(self.created_at),
            "rateMode": self.rate_mode,
            "claimedDepositAmount": fmt(self.deposit_amount),
            "amountToGet": fmt(self.amount_to_get),
            "markup": fmt(self.markup),
            "pair": {
                "instrumentFrom": self.source.ref_with_precision(),
                "instrumentTo": self.target.ref_with_precision(),
            },
            "destinationAddress": self.destination_address,
            "destinationAddressMemo": self.destination_memo,
            "refundAddress": self.refund_address,
            "refundAddressMemo": self.refund_memo,
            "depositAddress": {
                "depositAddress": self.deposit_address,
                "depositAddressMemo": self.deposit_memo,
                "instrument": self.source.ref(),
            },
            "orderEvents": [{"createdAt": iso(at), "kind": kind} for at, kind in reversed(self.events)],
            "deposits": [dict(deposit) for deposit in self.deposits],
            "withdrawals": [dict(withdrawal) for withdrawal in self.withdrawals],
            "completed": self.completed,
            "userEmail": None,
            "isPlatformEmail": False,
            "claimedNetworkFee": self.claimed_network_fee,
            "KYCFormLink": None,
            "liquidityProviderPublicCode": LIQUIDITY_PROVIDER,
            "claimedPublicRate": self.claimed_public_rate,
        }


class Lifecycle:
    """Pure state transitions of one order (the caller holds the book's lock)."""

    @staticmethod
    def next_happy_step(order: Order) -> Callable[[Order, float], None] | None:
        if order.lapsed or order.completed or order.frozen or order.on_refund_path:
            return None
        if not order.paid:
            return Lifecycle.detect
        if not order.reached(DEPOSIT_REGISTERED):
            return Lifecycle.confirm if order.confirmations < order.min_confirmations else Lifecycle.register
        if not order.reached(FUNDS_WITHDRAWAL_START):
            return Lifecycle.start_withdrawal
        return Lifecycle.complete_withdrawal

    @staticmethod
    def detect(order: Order, at: float) -> None:
        order.events.append((at, INCOMING_FUNDS_DETECTED))
        order.deposits.append(
            {
                "createdAt": iso(at),
                "instrument": order.source.ref(),
                "amount": fmt(order.deposit_amount),
                "confirmations": 0,
                "txId": _tx_id(order.order_id, "deposit"),
                "isPending": True,
            }
        )

    @staticmethod
    def confirm(order: Order, at: float) -> None:
        order.confirmations += 1
        order.deposits[-1]["confirmations"] = order.confirmations

    @staticmethod
    def register(order: Order, at: float) -> None:
        order.events.append((at, DEPOSIT_REGISTERED))
        order.deposits[-1]["isPending"] = False

    @staticmethod
    def start_withdrawal(order: Order, at: float) -> None:
        order.events.append((at, FUNDS_WITHDRAWAL_START))

    @staticmethod
    def complete_withdrawal(order: Order, at: float) -> None:
        order.events.append((at, WITHDRAWAL_COMPLETED))
        order.withdrawals.append(
            {
                "createdAt": iso(at),
                "instrument": order.target.ref(),
                "amount": fmt(order.amount_to_get),
                "networkFee": fmt(order.network_fee),
                "txId": _tx_id(order.order_id, "withdrawal"),
            }
        )

    @staticmethod
    def advance_happy_until(order: Order, kind: str, at: float) -> None:
        while not order.reached(kind):
            step = Lifecycle.next_happy_step(order)
            if step is None:
                raise conflict(f"Order {order.order_id} cannot reach {kind} from its current state")
            step(order, at)

    @staticmethod
    def apply_command(order: Order, kind: str, at: float) -> None:
        if order.lapsed:
            raise conflict(f"Order {order.order_id} has lapsed", "ORDER_LAPSED")
        if kind not in KINDS:
            raise bad_request(f"Unknown event kind {kind}", "UNKNOWN_EVENT_KIND")
        if order.reached(kind):
            return
        if kind == LAPSE:
            Lifecycle._lapse(order)
        elif kind in HAPPY_PATH:
            Lifecycle._happy(order, kind, at)
        elif kind == AML_FROZEN:
            Lifecycle._freeze(order, at)
        else:
            Lifecycle._refund(order, kind, at)

    @staticmethod
    def _lapse(order: Order) -> None:
        if order.paid:
            raise conflict(f"Order {order.order_id} is paid and cannot lapse")
        order.lapsed = True

    @staticmethod
    def _happy(order: Order, kind: str, at: float) -> None:
        if order.on_refund_path:
            raise conflict(f"Order {order.order_id} is being refunded")
        if order.frozen and kind in (FUNDS_WITHDRAWAL_START, WITHDRAWAL_COMPLETED):
            Lifecycle.start_withdrawal(order, at)  # the hold is released
        Lifecycle.advance_happy_until(order, kind, at)

    @staticmethod
    def _freeze(order: Order, at: float) -> None:
        if order.reached(FUNDS_WITHDRAWAL_START) or order.on_refund_path:
            raise conflict(f"Order {order.order_id} is past the AML check")
        Lifecycle.advance_happy_until(order, DEPOSIT_REGISTERED, at)
        order.events.append((at, AML_FROZEN))

    @staticmethod
    def _refund(order: Order, kind: str, at: float) -> None:
        if order.reached(FUNDS_WITHDRAWAL_START):
            raise conflict(f"Order {order.order_id} is already paying out")
        if not order.reached(DEPOSIT_REGISTERED):
            Lifecycle.advance_happy_until(order, DEPOSIT_REGISTERED, at)
        if not order.reached(REFUND_REQUESTED):
            order.events.append((at, REFUND_REQUESTED))
        if kind == REFUND_COMPLETED:
            order.events.append((at, REFUND_COMPLETED))
            order.withdrawals.append(
                {
                    "createdAt": iso(at),
                    "instrument": order.source.ref(),
                    "amount": fmt(order.deposit_amount),
                    "networkFee": "0",
                    "txId": _tx_id(order.order_id, "refund"),
                }
            )


class OrderBook:
    """Every order the sandbox has created, thread-safe; reads apply the clock first."""

    FIRST_ORDER_ID = 100_001

    def __init__(self, settings: LifecycleSettings, now: Callable[[], float]) -> None:
        self.settings = settings
        self._now = now
        self._lock = threading.Lock()
        self._orders: dict[int, Order] = {}
        self._next_id = self.FIRST_ORDER_ID
        self._keep = False

    def allocate_id(self) -> int:
        with self._lock:
            order_id = self._next_id
            self._next_id += 1
            return order_id

    def never_pays(self, order_id: int) -> bool:
        # Deterministic per id, so a benchmark run is repeatable.
        bucket = int.from_bytes(hashlib.sha256(str(order_id).encode()).digest()[:4], "big") / 2**32
        return bucket < self.settings.unpaid_fraction

    def add(self, order: Order) -> dict[str, Any]:
        with self._lock:
            order.events.append((order.created_at, CREATION_END))
            order.last_change_at = order.created_at
            self._orders[order.order_id] = order
            return order.to_wire()

    def public_info(self, order_id: int, destination_address: str) -> dict[str, Any]:
        with self._lock:
            order = self._orders.get(order_id)
            if order is None or order.destination_address != destination_address:
                raise not_found(f"Order {order_id} not found", "ORDER_NOT_FOUND")
            self._tick(order, self._now())
            return order.to_wire()

    def list_for(self, public_key: str, offset: int, limit: int, newest_first: bool) -> list[dict[str, Any]]:
        with self._lock:
            mine = [order for order in self._orders.values() if order.public_key == public_key]
            mine.sort(key=lambda order: order.order_id, reverse=newest_first)
            now = self._now()
            page = mine[offset : offset + limit]
            for order in page:
                self._tick(order, now)
            return [order.to_wire() for order in page]

    def command(self, order_id: int, kind: str) -> dict[str, Any]:
        with self._lock:
            order = self._orders.get(order_id)
            if order is None:
                raise not_found(f"Order {order_id} not found", "ORDER_NOT_FOUND")
            now = self._now()
            self._tick(order, now)
            Lifecycle.apply_command(order, kind, now)
            order.last_change_at = now
            return order.to_wire()

    def clear(self) -> None:
        with self._lock:
            if not self._keep:
                self._orders.clear()

    @contextlib.contextmanager
    def kept(self) -> Iterator[None]:
        """Within this block clear() keeps the orders (a settings reset that spares them)."""
        self._keep = True
        try:
            yield
        finally:
            self._keep = False

    def __len__(self) -> int:
        return len(self._orders)

    def _tick(self, order: Order, now: float) -> None:
        if order.lapsed:
            return
        step_seconds = self.settings.step_seconds
        lapse_at = order.created_at + self.settings.lapse_seconds if self.settings.lapse_seconds else None
        while step_seconds:
            at = order.last_change_at + step_seconds
            step = Lifecycle.next_happy_step(order)
            if at > now or step is None:
                break
            if not order.paid and (order.never_pays or (lapse_at is not None and at >= lapse_at)):
                break
            step(order, at)
            order.last_change_at = at
        if not order.paid and lapse_at is not None and now >= lapse_at:
            order.lapsed = True
