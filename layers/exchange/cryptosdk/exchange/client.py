"""`ExchangeClient`: the signed, retrying, typed client of the exchange API.

Every protected call is serialised once, signed, and sent as exactly those bytes. Calls that are
safe to repeat are retried on 429, temporary 5xx, timeouts and dropped connections; create-order
is not: after an unknown outcome it raises OrderOutcomeUnknownError with the request it sent, and
the caller looks for the order (cryptosdk.orders.reconcile) before anyone creates it again.
Logs carry method, path, status, attempt, latency and the exchange's message; never a key, a
signature or a header value.

Outside Lambda (`pip install ./layers/exchange`)::

    from cryptosdk.exchange.client import ExchangeClient
    from cryptosdk.exchange.secrets import StaticKeyProvider

    client = ExchangeClient("https://exchange.example", StaticKeyProvider(public_key, secret_key))
    instruments = client.list_instruments()

In Lambda, `cryptosdk.container` builds one from the environment with keys from Secrets Manager.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import NewConnectionError
from urllib3.exceptions import TimeoutError as Urllib3Timeout

from cryptosdk.exchange import errors
from cryptosdk.exchange.models import (
    AddressValidation,
    CreateOrderRequest,
    ExchangeOrder,
    Instrument,
    InstrumentList,
    OrderList,
    Pair,
    PairList,
    Rate,
    RateRequest,
)
from cryptosdk.exchange.retry import RetryPolicy, RetryState, parse_retry_after
from cryptosdk.exchange.secrets import ApiKeys, KeyProvider
from cryptosdk.exchange.signing import compact_json, signed_headers
from cryptosdk.exchange.transport import (
    DEFAULT_POOL_SIZE,
    HttpRequest,
    HttpResponse,
    HttpTransport,
    Transport,
)
from cryptosdk.exchange.wire import build_query, decode, parse, request_id_of, scrub, sensitive_values
from cryptosdk.runtime.observability import logger

INSTRUMENTS_PATH = "/api/v2/instruments/public"
INSTRUMENT_PATH = "/api/v2/instruments/public/one"
VALIDATE_ADDRESS_PATH = "/api/v2/instruments/public/validate-address"
RATE_PATH = "/api/v2/rates/public/one"
PAIRS_PATH = "/api/v2/pairs/public"
CREATE_ORDER_PATH = "/api/v2/orders/public/create"
ORDER_INFO_PATH = "/api/v2/orders/public-info"
ORDERS_PATH = "/api/v2/orders"

_USER_AGENT = "cryptosdk/0.1 (+urllib3)"

# Sent beside each call's own headers (as requests' session did; keep-alive is HTTP/1.1's default).
_FIXED_HEADERS = {"User-Agent": _USER_AGENT, "Accept-Encoding": "gzip, deflate"}

SortOrder = Literal["asc", "desc"]


@dataclass(frozen=True)
class _Call:
    method: Literal["GET", "POST"]
    path: str
    query: str = ""
    body: bytes | None = None
    signed: bool = False
    # False for calls with side effects: only a 429 (refused before any work) is retried.
    repeatable: bool = True


def _epoch_ms() -> int:
    return time.time_ns() // 1_000_000


def _utcnow() -> datetime:
    return datetime.now(UTC)


class ExchangeClient:
    def __init__(
        self,
        base_url: str,
        keys: KeyProvider,
        *,
        transport: Transport | None = None,
        connect_timeout: float = 3.05,
        read_timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        pool_size: int = DEFAULT_POOL_SIZE,
        clock_ms: Callable[[], int] = _epoch_ms,
        utcnow: Callable[[], datetime] = _utcnow,
        on_attempt: Callable[[int | None], None] | None = None,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._keys = keys
        self._transport: Transport = transport or HttpTransport(base_url, pool_size)
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self._clock_ms = clock_ms
        # Stamps when a create began (OrderOutcomeUnknownError.sent_at, where a search starts from).
        self._utcnow = utcnow
        # Told the HTTP status of every attempt (None: no answer); Lambda wires it to metrics.
        self._on_attempt = on_attempt

    def __repr__(self) -> str:
        return f"ExchangeClient(base_url={self._base_url!r})"

    @property
    def keys(self) -> KeyProvider:
        return self._keys

    def __enter__(self) -> ExchangeClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._transport.close()

    # ---- endpoints ---------------------------------------------------------------------------

    def list_instruments(self) -> list[Instrument]:
        data = self._execute(_Call("GET", INSTRUMENTS_PATH))
        return parse(InstrumentList, data, INSTRUMENTS_PATH).items

    def get_instrument(self, currency: str, network: str) -> Instrument:
        body = compact_json({"currencyTitle": currency, "networkTitle": network})
        data = self._execute(_Call("POST", INSTRUMENT_PATH, body=body, signed=True))
        return parse(Instrument, data, INSTRUMENT_PATH)

    def validate_address(
        self, currency: str, network: str, address: str, memo: str | None = None
    ) -> AddressValidation:
        payload: dict[str, str] = {"currencyTitle": currency, "networkTitle": network, "address": address}
        if memo is not None:
            payload["memo"] = memo
        call = _Call("POST", VALIDATE_ADDRESS_PATH, body=compact_json(payload), signed=True)
        return parse(AddressValidation, self._execute(call), VALIDATE_ADDRESS_PATH)

    def get_rate(self, request: RateRequest) -> Rate:
        query = build_query(request.to_wire().items())
        return parse(Rate, self._execute(_Call("GET", RATE_PATH, query=query)), RATE_PATH)

    def list_pairs(self, offset: int = 0, limit: int = 100) -> list[Pair]:
        query = build_query([("offset", offset), ("limit", limit)])
        return parse(PairList, self._execute(_Call("GET", PAIRS_PATH, query=query)), PAIRS_PATH).items

    def get_order(self, order_id: int, destination_address: str) -> ExchangeOrder:
        query = build_query([("orderId", order_id), ("destinationAddress", destination_address)])
        data = self._execute(_Call("GET", ORDER_INFO_PATH, query=query, signed=True))
        return parse(ExchangeOrder, data, ORDER_INFO_PATH)

    def list_orders(self, offset: int = 0, limit: int = 50, order: SortOrder = "desc") -> list[ExchangeOrder]:
        query = build_query([("offset", offset), ("limit", limit), ("order", order)])
        data = self._execute(_Call("GET", ORDERS_PATH, query=query, signed=True))
        return parse(OrderList, data, ORDERS_PATH).items

    def create_order(self, request: CreateOrderRequest) -> ExchangeOrder:
        """Create an order upstream. Never repeated blindly (only a 429, refused before any work, is
        retried): after a timeout, a dropped connection or a 5xx the order may exist, so this
        raises OrderOutcomeUnknownError carrying the request and when it was sent; the caller looks
        for the order in the order list (cryptosdk.orders.reconcile), never creates it again."""
        call = _Call(
            "POST", CREATE_ORDER_PATH, body=compact_json(request.to_wire()), signed=True, repeatable=False
        )
        sent_at = self._utcnow()
        try:
            return parse(ExchangeOrder, self._execute(call), CREATE_ORDER_PATH)
        except (errors.UpstreamTimeoutError, errors.TransportError, errors.UpstreamUnavailableError) as exc:
            raise errors.OrderOutcomeUnknownError(
                f"create-order failed ({exc.code}); the order may exist",
                status=exc.status,
                request_id=exc.request_id,
                request=request,
                sent_at=sent_at,
                cause=exc,
            ) from None

    # ---- transport ---------------------------------------------------------------------------

    def _execute(self, call: _Call) -> Any:
        """Run one logical call (with its retries); returns the decoded JSON of the 2xx answer."""
        budget = self._retry.start()
        keys = self._keys.get() if call.signed else None
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._attempt(call, keys, attempt, budget)
            except errors.AuthError:
                if keys is None or refreshed:
                    raise
                # The key may have been rotated since we cached it: re-read once, and try once
                # more only if that gave different keys (the same keys cannot succeed).
                refreshed = True
                fresh = self._keys.get(force=True)
                if fresh == keys:
                    raise
                keys = fresh
                logger.info(
                    "exchange refused the key; retrying once with freshly read keys",
                    method=call.method,
                    path=call.path,
                    attempt=attempt,
                )
            except errors.ExchangeError as exc:
                delay = self._retry_delay(call, exc, budget)
                if delay is None:
                    raise
                logger.warning(
                    "exchange call will be retried",
                    method=call.method,
                    path=call.path,
                    attempt=attempt,
                    error_code=exc.code,
                    status=exc.status,
                    delay_ms=round(delay * 1000, 1),
                )
                self._sleep(delay)

    @staticmethod
    def _retry_delay(call: _Call, error: errors.ExchangeError, budget: RetryState) -> float | None:
        if isinstance(error, errors.RateLimitedError):
            return budget.next_delay(error.retry_after)
        if not call.repeatable:
            return None
        transient = isinstance(error, errors.UpstreamTimeoutError | errors.TransportError) or (
            error.status in errors.RETRYABLE_STATUSES
            and not isinstance(error, errors.UnexpectedResponseError)
        )
        return budget.next_delay() if transient else None

    def _attempt(self, call: _Call, keys: ApiKeys | None, attempt: int, budget: RetryState) -> Any:
        prepared = self._prepare(call, keys)
        # Never wait for an answer past the call's deadline.
        read_timeout = max(0.001, min(self._read_timeout, budget.remaining()))
        started = time.perf_counter()
        try:
            response = self._transport.send(
                prepared, connect_timeout=self._connect_timeout, read_timeout=read_timeout
            )
        except NewConnectionError as exc:
            # Refused or unresolvable (urllib3 files it under connect timeouts, for old callers).
            self._log(call, attempt, started, None, type(exc).__name__)
            raise errors.TransportError(f"{type(exc).__name__} on {call.method} {call.path}") from None
        except Urllib3Timeout:
            self._log(call, attempt, started, None, "timeout")
            raise errors.UpstreamTimeoutError(
                f"no answer from {call.method} {call.path} within {read_timeout:.2f}s"
            ) from None
        except (Urllib3Error, OSError) as exc:
            # Never chain or log the exception: it may hold the request, headers included.
            self._log(call, attempt, started, None, type(exc).__name__)
            raise errors.TransportError(f"{type(exc).__name__} on {call.method} {call.path}") from None
        return self._handle(call, response, attempt, started, keys, prepared)

    def _prepare(self, call: _Call, keys: ApiKeys | None) -> HttpRequest:
        if keys is None:
            headers = {"Accept": "application/json"}
            if call.body is not None:
                headers["Content-Type"] = "application/json"
        else:
            payload: bytes | str = (
                call.body if call.method == "POST" and call.body is not None else call.query
            )
            headers = signed_headers(keys, payload, self._clock_ms())
        headers.update(_FIXED_HEADERS)
        if call.body is not None:
            headers["Content-Length"] = str(len(call.body))
        # The query is sent as it was signed: build_query left nothing for a lower layer to re-encode.
        url = f"{self._base_url}{call.path}?{call.query}" if call.query else self._base_url + call.path
        return HttpRequest(call.method, url, headers, call.body)

    def _handle(
        self,
        call: _Call,
        response: HttpResponse,
        attempt: int,
        started: float,
        keys: ApiKeys | None,
        prepared: HttpRequest,
    ) -> Any:
        request_id = request_id_of(response.headers)
        if 200 <= response.status < 300:
            self._log(call, attempt, started, response.status, "ok", request_id=request_id)
            return decode(response, call.path, request_id)
        body = scrub(response.content, sensitive_values(keys, prepared))
        error = errors.error_from_response(
            response.status,
            body,
            request_id,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
        )
        self._log(call, attempt, started, response.status, error.code, request_id, error.message)
        raise error

    def _log(
        self,
        call: _Call,
        attempt: int,
        started: float,
        status: int | None,
        outcome: str,
        request_id: str | None = None,
        upstream_message: str | None = None,
    ) -> None:
        if self._on_attempt is not None:
            self._on_attempt(status)
        fields: dict[str, Any] = {
            "method": call.method,
            "path": call.path,
            "status": status,
            "attempt": attempt,
            "latency_ms": round((time.perf_counter() - started) * 1000, 1),
            "outcome": outcome,
        }
        if request_id:
            fields["upstream_request_id"] = request_id
        if upstream_message:
            fields["upstream_message"] = upstream_message
        if outcome == "ok":
            logger.info("exchange call", **fields)
        else:
            logger.warning("exchange call failed", **fields)
