"""The exchange's endpoints and the sandbox control API, independent of the HTTP transport."""

from __future__ import annotations

import json
import re
import threading
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from pydantic import BaseModel, ValidationError

from local.sandbox import auth, rates
from local.sandbox.catalogue import Catalogue, Instrument, load_catalogue
from local.sandbox.deposit_addresses import deposit_address
from local.sandbox.errors import SandboxError, bad_request, conflict, not_found, unsupported
from local.sandbox.faults import FaultPlan
from local.sandbox.orders import LifecycleSettings, Order, OrderBook
from local.sandbox.schemas import (
    ConfigPatch,
    CreateOrderBody,
    EventCommand,
    FaultSpec,
    InstrumentRef,
    KeysBody,
    RateQuery,
    ValidateAddressBody,
)

ModelT = TypeVar("ModelT", bound=BaseModel)
_EVENTS_PATH = re.compile(r"^/_sandbox/orders/(\d+)/events$")


@dataclass
class Request:
    method: str
    path: str
    query_string: str
    body: bytes
    client_ip: str
    headers: auth.AuthHeaders
    public_key: str = ""

    def query(self) -> dict[str, str]:
        return dict(parse_qsl(self.query_string, keep_blank_values=True))

    def json(self) -> Any:
        if not self.body.strip():
            raise bad_request("A JSON body is required")
        try:
            return json.loads(self.body)
        except ValueError as error:
            raise bad_request(f"Malformed JSON body: {error}") from error


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class SandboxSettings:
    timestamp_window: float = 30.0
    lifecycle: LifecycleSettings = field(default_factory=LifecycleSettings)

    def copy(self) -> SandboxSettings:
        return SandboxSettings(
            self.timestamp_window,
            LifecycleSettings(
                self.lifecycle.step_seconds, self.lifecycle.lapse_seconds, self.lifecycle.unpaid_fraction
            ),
        )


class RequestStats:
    """Request and response counts per path, for tests asserting attempt counts and for benchmarks."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: Counter[str] = Counter()
        self._responses: defaultdict[str, Counter[str]] = defaultdict(Counter)

    def request(self, path: str) -> None:
        with self._lock:
            self._requests[path] += 1

    def response(self, path: str, status: int | str) -> None:
        with self._lock:
            self._responses[path][str(status)] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "total": sum(self._requests.values()),
                "requests": dict(self._requests),
                "responses": {path: dict(counts) for path, counts in self._responses.items()},
            }

    def clear(self) -> None:
        with self._lock:
            self._requests.clear()
            self._responses.clear()


Handler = Callable[[Request], Reply]


class SandboxApp:
    """State (keys, orders, faults, stats, settings) and one method per endpoint."""

    def __init__(
        self,
        keys: dict[str, str],
        whitelist: frozenset[str],
        settings: SandboxSettings,
        now: Callable[[], float],
        catalogue: Catalogue | None = None,
    ) -> None:
        self.catalogue = catalogue or load_catalogue()
        self.keys = dict(keys)
        self._initial_keys = dict(keys)
        self.whitelist = whitelist
        self.settings = settings
        self._initial_settings = settings.copy()
        self.now = now
        self.orders = OrderBook(settings.lifecycle, now)
        self.faults = FaultPlan()
        self.stats = RequestStats()
        self.routes: dict[tuple[str, str], Handler] = {
            ("GET", "/api/v2/instruments/public"): self.list_instruments,
            ("POST", "/api/v2/instruments/public/one"): self.signed(self.get_instrument),
            ("POST", "/api/v2/instruments/public/validate-address"): self.signed(self.validate_address),
            ("GET", "/api/v2/rates/public/one"): self.rate_from_query,
            ("POST", "/api/v2/rates/public/one"): self.rate_from_body,
            ("GET", "/api/v2/pairs/public"): self.list_pairs,
            ("POST", "/api/v2/orders/public/create"): self.signed(self.create_order),
            ("GET", "/api/v2/orders/public-info"): self.signed(self.order_info),
            ("GET", "/api/v2/orders"): self.signed(self.list_orders),
            ("POST", "/_sandbox/reset"): self.reset,
            ("GET", "/_sandbox/faults"): self.list_faults,
            ("POST", "/_sandbox/faults"): self.add_faults,
            ("DELETE", "/_sandbox/faults"): self.clear_faults,
            ("GET", "/_sandbox/stats"): self.get_stats,
            ("DELETE", "/_sandbox/stats"): self.clear_stats,
            ("GET", "/_sandbox/config"): self.get_config,
            ("POST", "/_sandbox/config"): self.set_config,
            ("POST", "/_sandbox/keys"): self.add_keys,
            ("GET", "/_sandbox/health"): lambda _request: Reply(200, {"status": "ok"}),
        }

    # ---- dispatch ------------------------------------------------------------------------------

    def handle(self, request: Request) -> Reply:
        handler = self.routes.get((request.method, request.path))
        if handler is None:
            match = _EVENTS_PATH.match(request.path)
            if request.method == "POST" and match:
                return self.order_event(request, int(match.group(1)))
            raise not_found(f"No route for {request.method} {request.path}", "ROUTE_NOT_FOUND")
        return handler(request)

    def signed(self, handler: Handler) -> Handler:
        def verified(request: Request) -> Reply:
            policy = auth.AuthPolicy(self.keys, self.settings.timestamp_window, self.whitelist)
            request.public_key = auth.verify(
                request.headers,
                request.method,
                request.body,
                request.query_string,
                request.client_ip,
                policy,
                self.now(),
            )
            return handler(request)

        return verified

    # ---- instruments ---------------------------------------------------------------------------

    def list_instruments(self, request: Request) -> Reply:
        return Reply(200, [instrument.to_wire() for instrument in self.catalogue.active()])

    def get_instrument(self, request: Request) -> Reply:
        ref = parse(InstrumentRef, request.json())
        return Reply(200, self.catalogue.get(ref.currency_title, ref.network_title).to_wire_one())

    def validate_address(self, request: Request) -> Reply:
        body = parse(ValidateAddressBody, request.json())
        instrument = self.catalogue.get(body.currency_title, body.network_title)
        reason = address_problem(instrument, body.address, body.memo)
        if reason:
            return Reply(200, {"result": False, "message": reason})
        return Reply(200, {"result": True, "message": "Address is valid"})

    # ---- rates and pairs -----------------------------------------------------------------------

    def rate_from_query(self, request: Request) -> Reply:
        return Reply(200, rates.quote(self.catalogue, parse(RateQuery, request.query())).to_wire())

    def rate_from_body(self, request: Request) -> Reply:
        return Reply(200, rates.quote(self.catalogue, parse(RateQuery, request.json())).to_wire())

    def list_pairs(self, request: Request) -> Reply:
        query = request.query()
        offset = _int_param(query, "offset", 0, 0, None)
        limit = _int_param(query, "limit", 100, 1, 1000)
        return Reply(200, self.catalogue.pairs(offset, limit))

    # ---- orders --------------------------------------------------------------------------------

    def create_order(self, request: Request) -> Reply:
        body = parse(CreateOrderBody, request.json())
        source = self._order_leg(body.instrument_from)
        target = self._order_leg(body.instrument_to)
        quote = rates.quote(self.catalogue, _rate_query(body, source, target))
        _check_addresses(body, source, target)
        amount_to_get = _honoured_amount(body, quote)
        order_id = self.orders.allocate_id()
        address, memo = deposit_address(source.network, order_id)
        order = Order(
            order_id=order_id,
            public_key=request.public_key,
            created_at=self.now(),
            source=source,
            target=target,
            rate_mode=body.rate_mode,
            markup=body.markup,
            deposit_amount=body.claimed_deposit_amount,
            amount_to_get=amount_to_get,
            network_fee=quote.network_fee,
            destination_address=body.destination_address,
            destination_memo=body.destination_address_memo,
            refund_address=body.refund_address,
            refund_memo=body.refund_address_memo,
            deposit_address=address,
            deposit_memo=memo,
            claimed_network_fee=body.claimed_network_fee or rates.fmt(quote.network_fee),
            claimed_public_rate=body.claimed_public_rate or quote.claimed_public_rate(),
            min_confirmations=max(1, quote.min_confirmations_trade),
            never_pays=self.orders.never_pays(order_id),
        )
        return Reply(201, self.orders.add(order))

    def _order_leg(self, ref: InstrumentRef) -> Instrument:
        instrument = self.catalogue.tradable(ref.currency_title, ref.network_title)
        if instrument.is_fiat:
            raise unsupported(
                f"Fiat instrument {instrument.currency} cannot be an order leg", "FIAT_NOT_SUPPORTED"
            )
        return instrument

    def order_info(self, request: Request) -> Reply:
        query = request.query()
        order_id = _int_param(query, "orderId", None, 1, None)
        destination = query.get("destinationAddress", "")
        if not destination:
            raise bad_request("destinationAddress is required")
        return Reply(200, self.orders.public_info(order_id, destination))

    def list_orders(self, request: Request) -> Reply:
        query = request.query()
        offset = _int_param(query, "offset", 0, 0, None)
        limit = _int_param(query, "limit", 50, 1, 500)
        direction = query.get("order", "desc").lower()
        if direction not in ("asc", "desc"):
            raise bad_request("order must be asc or desc")
        return Reply(200, self.orders.list_for(request.public_key, offset, limit, direction == "desc"))

    # ---- control API ---------------------------------------------------------------------------

    def order_event(self, request: Request, order_id: int) -> Reply:
        command = parse(EventCommand, request.json())
        return Reply(200, self.orders.command(order_id, command.kind))

    def reset(self, request: Request) -> Reply:
        self.orders.clear()
        self.faults.clear()
        self.stats.clear()
        self.keys.clear()
        self.keys.update(self._initial_keys)
        initial = self._initial_settings.copy()
        self.settings.timestamp_window = initial.timestamp_window
        self.settings.lifecycle.step_seconds = initial.lifecycle.step_seconds
        self.settings.lifecycle.lapse_seconds = initial.lifecycle.lapse_seconds
        self.settings.lifecycle.unpaid_fraction = initial.lifecycle.unpaid_fraction
        return Reply(200, {"reset": True})

    def list_faults(self, request: Request) -> Reply:
        return Reply(200, {"faults": self.faults.list()})

    def add_faults(self, request: Request) -> Reply:
        payload = request.json()
        specs = payload if isinstance(payload, list) else payload.get("faults", [payload])
        if not isinstance(specs, list) or not specs:
            raise bad_request('Give one fault object, a list of them, or {"faults": [...]}')
        parsed = [parse(FaultSpec, spec) for spec in specs]
        return Reply(201, {"faults": [self.faults.add(spec) for spec in parsed]})

    def clear_faults(self, request: Request) -> Reply:
        self.faults.clear()
        return Reply(200, {"faults": []})

    def get_stats(self, request: Request) -> Reply:
        return Reply(200, self.stats.snapshot())

    def clear_stats(self, request: Request) -> Reply:
        self.stats.clear()
        return Reply(200, self.stats.snapshot())

    def get_config(self, request: Request) -> Reply:
        lifecycle = self.settings.lifecycle
        return Reply(
            200,
            {
                "stepSeconds": lifecycle.step_seconds,
                "lapseSeconds": lifecycle.lapse_seconds,
                "unpaidFraction": lifecycle.unpaid_fraction,
                "timestampWindow": self.settings.timestamp_window,
                "orders": len(self.orders),
            },
        )

    def set_config(self, request: Request) -> Reply:
        patch = parse(ConfigPatch, request.json())
        given = patch.model_fields_set
        lifecycle = self.settings.lifecycle
        if "step_seconds" in given:
            lifecycle.step_seconds = patch.step_seconds or None
        if "lapse_seconds" in given:
            lifecycle.lapse_seconds = patch.lapse_seconds or None
        if "unpaid_fraction" in given:
            lifecycle.unpaid_fraction = patch.unpaid_fraction or 0.0
        if patch.timestamp_window is not None:
            self.settings.timestamp_window = patch.timestamp_window
        return self.get_config(request)

    def add_keys(self, request: Request) -> Reply:
        body = parse(KeysBody, request.json())
        if body.replace:
            self.keys.clear()
        self.keys[body.public_key] = body.secret_key
        return Reply(200, {"publicKeys": sorted(self.keys)})


# ---- helpers -------------------------------------------------------------------------------------


def parse(model: type[ModelT], data: Any) -> ModelT:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise bad_request(f"{where}: {first['msg']}", "VALIDATION_ERROR", field=where) from None


def _int_param(query: dict[str, str], name: str, default: int | None, low: int, high: int | None) -> int:
    raw = query.get(name, "")
    if raw == "" and default is not None:
        return default
    if not raw.isdigit() or int(raw) < low or (high is not None and int(raw) > high):
        limit = f" and at most {high}" if high is not None else ""
        raise bad_request(f"{name} must be an integer of at least {low}{limit}", field=name)
    return int(raw)


def _rate_query(body: CreateOrderBody, source: Instrument, target: Instrument) -> RateQuery:
    return RateQuery.model_validate(
        {
            "instrumentFromCurrencyTitle": source.currency,
            "instrumentFromNetworkTitle": source.network,
            "instrumentToCurrencyTitle": target.currency,
            "instrumentToNetworkTitle": target.network,
            "claimedDepositAmount": body.claimed_deposit_amount,
            "rateMode": body.rate_mode,
            "markup": body.markup,
        }
    )


def _check_addresses(body: CreateOrderBody, source: Instrument, target: Instrument) -> None:
    reason = address_problem(target, body.destination_address, body.destination_address_memo)
    if reason:
        raise bad_request(f"destinationAddress: {reason}", "INVALID_ADDRESS", field="destinationAddress")
    if body.refund_address is None:
        return
    reason = address_problem(source, body.refund_address, body.refund_address_memo, memo_optional=True)
    if reason:
        raise bad_request(f"refundAddress: {reason}", "INVALID_ADDRESS", field="refundAddress")


def _honoured_amount(body: CreateOrderBody, quote: rates.Quote) -> Decimal:
    """FIXED orders keep the claimed amount when it is within the rate's volatility allowance."""
    claimed = (body.claimed_public_rate or {}).get("claimedAmountToReceive")
    if body.rate_mode != "FIXED" or claimed in (None, ""):
        return quote.amount_to_get
    try:
        amount = Decimal(str(claimed))
    except ArithmeticError:
        raise bad_request("claimedPublicRate.claimedAmountToReceive must be a decimal") from None
    allowance = quote.amount_to_get * Decimal(rates.FIXED_RATE_VOLATILITY_PERCENT) / 100
    if amount <= 0 or abs(amount - quote.amount_to_get) > allowance:
        raise conflict("The claimed fixed rate is no longer available", "RATE_CHANGED")
    return amount


def address_problem(
    instrument: Instrument, address: str, memo: str | None, memo_optional: bool = False
) -> str | None:
    """A sentence saying what is wrong with the address or memo, or None when both are fine."""
    if instrument.is_fiat:
        return f"{instrument.currency} is a fiat currency and has no addresses"
    check_address, check_memo = _address_checks()
    verdict = check_address(instrument.network, address)
    if not verdict.valid:
        return str(verdict.reason or f"Not a valid {instrument.network} address")
    if memo is None and memo_optional:
        return None
    verdict = check_memo(instrument.network, memo, instrument.requires_memo)
    if not verdict.valid:
        return str(verdict.reason or f"Invalid memo for {instrument.network}")
    return None


def _address_checks() -> tuple[Any, Any]:
    # The exchange's own verdict: bip-utils (address_oracle), never the layer's checksum code, so
    # that a bug there shows up against the sandbox. Memo rules carry no checksum and are shared.
    from cryptosdk.addresses import check_memo
    from local.sandbox.address_oracle import check_address

    return check_address, check_memo


def error_reply(error: SandboxError) -> Reply:
    return Reply(error.status, error.body(), dict(error.headers))
