"""`ExchangeClient`: the signed, retrying, typed client of the exchange API.

Every protected call is serialised once, signed, and sent as exactly those bytes. Calls that are
safe to repeat are retried on 429, temporary 5xx, timeouts and dropped connections; create-order
is not, and after an unknown outcome it looks for the order before anyone creates it again.
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

import json
import os
import re
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal, Protocol, TypeVar
from urllib import request as urllib_request
from urllib.parse import quote, urlsplit

import urllib3
from pydantic import BaseModel, ValidationError
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
    OrderPair,
    Pair,
    PairList,
    Rate,
    RateRequest,
)
from cryptosdk.exchange.money import decimal_text
from cryptosdk.exchange.retry import RetryPolicy, RetryState, parse_retry_after
from cryptosdk.exchange.secrets import ApiKeys, KeyProvider
from cryptosdk.exchange.signing import compact_json, signed_headers
from cryptosdk.runtime.observability import logger

INSTRUMENTS_PATH = "/api/v2/instruments/public"
INSTRUMENT_PATH = "/api/v2/instruments/public/one"
VALIDATE_ADDRESS_PATH = "/api/v2/instruments/public/validate-address"
RATE_PATH = "/api/v2/rates/public/one"
PAIRS_PATH = "/api/v2/pairs/public"
CREATE_ORDER_PATH = "/api/v2/orders/public/create"
ORDER_INFO_PATH = "/api/v2/orders/public-info"
ORDERS_PATH = "/api/v2/orders"

DEFAULT_POOL_SIZE = 64
# How much earlier than the create call (or the stored intent) the exchange may stamp the order it
# made: the two clocks differ. Any wider and an identical earlier order of ours would be taken for
# the one a failed create made.
MATCH_CLOCK_SKEW = timedelta(seconds=30)
# Response headers that may carry the exchange's (or a proxy's) request id, first match wins.
_REQUEST_ID_HEADERS = ("X-Request-Id", "X-Amzn-Requestid", "X-Amz-Request-Id", "Request-Id", "X-Trace-Id")
_USER_AGENT = "cryptosdk/0.1 (+urllib3)"

# Sent beside each call's own headers (as requests' session did; keep-alive is HTTP/1.1's default).
_FIXED_HEADERS = {"User-Agent": _USER_AGENT, "Accept-Encoding": "gzip, deflate"}

M = TypeVar("M", bound=BaseModel)
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


@dataclass(frozen=True)
class HttpRequest:
    """Exactly what goes on the wire: the URL holds the signed query as it was signed."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes | None


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: Mapping[str, str]  # case-insensitive (urllib3's HTTPHeaderDict)
    content: bytes


class Transport(Protocol):
    def send(self, request: HttpRequest, *, connect_timeout: float, read_timeout: float) -> HttpResponse: ...

    def close(self) -> None: ...


class HttpTransport:
    """One pooled urllib3 `PoolManager` (the urllib3 botocore already loads, so the client adds no
    HTTP stack of its own). Proxy and CA settings are read once, here, from the environment:
    HTTPS_PROXY / HTTP_PROXY / ALL_PROXY with NO_PROXY for this host, REQUESTS_CA_BUNDLE or
    CURL_CA_BUNDLE for a private CA (else the system's store; SSL_CERT_FILE works through OpenSSL).
    Retries and redirects are the client's business, never urllib3's.

    Tests subclass it and override `send` to watch or break real HTTP."""

    def __init__(self, base_url: str, pool_size: int = DEFAULT_POOL_SIZE) -> None:
        self.proxy = _environ_proxy(base_url)
        self.ca_bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or None
        options: dict[str, Any] = {"num_pools": 4, "maxsize": max(pool_size, 1), "block": False}
        if self.ca_bundle:
            options["ca_certs"] = self.ca_bundle
        self._pool: urllib3.PoolManager = (
            urllib3.ProxyManager(self.proxy, **options) if self.proxy else urllib3.PoolManager(**options)
        )

    def send(self, request: HttpRequest, *, connect_timeout: float, read_timeout: float) -> HttpResponse:
        """Raises urllib3's TimeoutError on a timeout, another urllib3 HTTPError (or OSError) when
        the connection fails."""
        response = self._pool.urlopen(
            request.method,
            request.url,
            body=request.body,
            headers=dict(request.headers),
            retries=False,
            redirect=False,
            timeout=urllib3.Timeout(connect=connect_timeout, read=read_timeout),
            preload_content=True,
        )
        return HttpResponse(status=response.status, headers=response.headers, content=response.data or b"")

    def close(self) -> None:
        self._pool.clear()


def _environ_proxy(base_url: str) -> str | None:
    """The proxy the environment names for `base_url` (None when NO_PROXY covers its host)."""
    parts = urlsplit(base_url)
    proxies = urllib_request.getproxies_environment()
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    bypass = urllib_request.proxy_bypass_environment  # type: ignore[attr-defined]  # in the stdlib, not its stubs
    if not proxy or bypass(parts.hostname or "", proxies):
        return None
    return proxy


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
        order_lookup_window: timedelta = MATCH_CLOCK_SKEW,
        order_lookup_limit: int = 50,
        order_lookup_delay: float = 1.0,
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
        self._utcnow = utcnow
        self._lookup_window = order_lookup_window
        self._lookup_limit = order_lookup_limit
        self._lookup_delay = order_lookup_delay
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
        return _parse(InstrumentList, data, INSTRUMENTS_PATH).items

    def get_instrument(self, currency: str, network: str) -> Instrument:
        body = compact_json({"currencyTitle": currency, "networkTitle": network})
        data = self._execute(_Call("POST", INSTRUMENT_PATH, body=body, signed=True))
        return _parse(Instrument, data, INSTRUMENT_PATH)

    def validate_address(
        self, currency: str, network: str, address: str, memo: str | None = None
    ) -> AddressValidation:
        payload: dict[str, str] = {"currencyTitle": currency, "networkTitle": network, "address": address}
        if memo is not None:
            payload["memo"] = memo
        call = _Call("POST", VALIDATE_ADDRESS_PATH, body=compact_json(payload), signed=True)
        return _parse(AddressValidation, self._execute(call), VALIDATE_ADDRESS_PATH)

    def get_rate(self, request: RateRequest) -> Rate:
        query = build_query(request.to_wire().items())
        return _parse(Rate, self._execute(_Call("GET", RATE_PATH, query=query)), RATE_PATH)

    def list_pairs(self, offset: int = 0, limit: int = 100) -> list[Pair]:
        query = build_query([("offset", offset), ("limit", limit)])
        return _parse(PairList, self._execute(_Call("GET", PAIRS_PATH, query=query)), PAIRS_PATH).items

    def get_order(self, order_id: int, destination_address: str) -> ExchangeOrder:
        query = build_query([("orderId", order_id), ("destinationAddress", destination_address)])
        data = self._execute(_Call("GET", ORDER_INFO_PATH, query=query, signed=True))
        return _parse(ExchangeOrder, data, ORDER_INFO_PATH)

    def list_orders(self, offset: int = 0, limit: int = 50, order: SortOrder = "desc") -> list[ExchangeOrder]:
        query = build_query([("offset", offset), ("limit", limit), ("order", order)])
        data = self._execute(_Call("GET", ORDERS_PATH, query=query, signed=True))
        return _parse(OrderList, data, ORDERS_PATH).items

    def create_order(self, request: CreateOrderRequest) -> ExchangeOrder:
        """Create an order upstream. Never repeated blindly: after a timeout, a dropped connection
        or a 5xx the order may exist, so the order list is searched before giving up with
        OrderOutcomeUnknownError (the caller must then reconcile, not create again)."""
        call = _Call(
            "POST", CREATE_ORDER_PATH, body=compact_json(request.to_wire()), signed=True, repeatable=False
        )
        started = self._utcnow()
        try:
            return _parse(ExchangeOrder, self._execute(call), CREATE_ORDER_PATH)
        except (errors.UpstreamTimeoutError, errors.TransportError, errors.UpstreamUnavailableError) as exc:
            return self._recover_created_order(request, started, exc)

    # ---- create-order recovery ---------------------------------------------------------------

    def _recover_created_order(
        self, request: CreateOrderRequest, started: datetime, cause: errors.ExchangeError
    ) -> ExchangeOrder:
        logger.warning(
            "create-order outcome unknown; searching the order list",
            path=CREATE_ORDER_PATH,
            error_code=cause.code,
            status=cause.status,
        )
        if cause.status is None and self._lookup_delay > 0:
            # No answer at all: the exchange may still be working on the create. Give it a moment
            # so the order list reflects it (an HTTP 5xx means it has finished, so no wait then).
            self._sleep(self._lookup_delay)
        try:
            recent = self.list_orders(offset=0, limit=self._lookup_limit, order="desc")
        except errors.ExchangeError as lookup_error:
            raise errors.OrderOutcomeUnknownError(
                f"create-order failed ({cause.code}) and the order list could not be read "
                f"({lookup_error.code}); the order may exist",
                status=cause.status,
                request_id=cause.request_id,
            ) from None
        found = find_matching_order(recent, request, since=started - self._lookup_window, anchor=started)
        if found is None:
            raise errors.OrderOutcomeUnknownError(
                f"create-order failed ({cause.code}) and no matching order is in the order list",
                status=cause.status,
                request_id=cause.request_id,
            )
        logger.info(
            "create-order outcome recovered from the order list",
            path=CREATE_ORDER_PATH,
            order_id=found.order_id,
            error_code=cause.code,
        )
        return found

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
        request_id = _request_id(response.headers)
        if 200 <= response.status < 300:
            self._log(call, attempt, started, response.status, "ok", request_id=request_id)
            return _decode(response, call.path, request_id)
        body = _scrub(response.content, _sensitive_values(keys, prepared))
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


def build_query(items: Iterable[tuple[str, Any]]) -> str:
    """The raw query string that is both signed and sent: every byte outside the unreserved set
    percent-encoded (so no layer below can re-encode it), None values left out."""
    parts = []
    for name, value in items:
        if value is None:
            continue
        text = decimal_text(value) if isinstance(value, Decimal) else str(value)
        parts.append(f"{quote(name, safe='')}={quote(text, safe='')}")
    return "&".join(parts)


def find_matching_order(
    orders: Sequence[ExchangeOrder],
    request: CreateOrderRequest,
    *,
    since: datetime,
    anchor: datetime | None = None,
    exclude: Collection[int] = (),
) -> ExchangeOrder | None:
    """The order `request` would have created: one of the same shape created at or after `since`
    and not in `exclude` (ids already taken by another of our orders).

    Without `anchor` the newest wins. With it (when the create began), the first one created at or
    after it wins, else the closest one before it: each of several identical creates a minute
    apart then takes the order that followed it, not the newest of them all.
    """
    candidates = [
        order
        for order in orders
        if order.created_at >= since and order.order_id not in exclude and _same_order(order, request)
    ]
    if anchor is None:
        return max(candidates, key=lambda order: order.created_at, default=None)
    after = [order for order in candidates if order.created_at >= anchor]
    if after:
        return min(after, key=lambda order: order.created_at)
    return max(candidates, key=lambda order: order.created_at, default=None)


def _same_order(order: ExchangeOrder, request: CreateOrderRequest) -> bool:
    if order.destination_address != request.destination_address:
        return False
    if order.claimed_deposit_amount is None or order.claimed_deposit_amount != request.claimed_deposit_amount:
        return False
    if (
        request.destination_address_memo
        and order.destination_address_memo != request.destination_address_memo
    ):
        return False
    return _same_pair(order.pair, request)


_CODE_SEPARATORS = re.compile(r"[^A-Z0-9]+")


def _same_pair(pair: OrderPair | str | None, request: CreateOrderRequest) -> bool:
    source, target = request.instrument_from, request.instrument_to
    if isinstance(pair, OrderPair):
        return pair.instrument_from == source and pair.instrument_to == target
    if isinstance(pair, str):
        # Whole codes only ("BTC" is not in "WBTC/ETH"), source named before target (pairs are directed).
        codes = [code for code in _CODE_SEPARATORS.split(pair.upper()) if code]
        wanted_from, wanted_to = source.currency_title.upper(), target.currency_title.upper()
        if wanted_from not in codes or wanted_to not in codes:
            return False
        first_from = codes.index(wanted_from)
        return (
            wanted_to in codes[first_from + 1 :] if wanted_from != wanted_to else codes.count(wanted_to) > 1
        )
    return True  # no pair given: destination + amount + time already narrow it down


def _request_id(headers: Any) -> str | None:
    for name in _REQUEST_ID_HEADERS:
        value = headers.get(name)
        if value:
            return str(value)[:128]
    return None


def _sensitive_values(keys: ApiKeys | None, prepared: HttpRequest) -> list[str]:
    values = [str(prepared.headers.get("X-Api-Signature", ""))]
    if keys is not None:
        values.append(keys.secret_value())
    return [value for value in values if len(value) >= 8]


def _scrub(content: bytes, secrets: Iterable[str]) -> str:
    # Defence in depth: an error body that echoes our signature or secret must not carry it on.
    text = content.decode("utf-8", errors="replace")
    for secret in secrets:
        text = text.replace(secret, "[redacted]")
    return text


def _decode(response: HttpResponse, path: str, request_id: str | None) -> Any:
    try:
        # parse_float keeps every digit of numeric amounts; json's float would not.
        return json.loads(response.content, parse_float=Decimal)
    except ValueError:
        raise errors.UnexpectedResponseError(
            f"{path} answered {response.status} with a body that is not JSON",
            status=response.status,
            request_id=request_id,
        ) from None


def _parse(model: type[M], data: Any, path: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        # Field locations only: the values may be personal data.
        where = ", ".join(
            ".".join(str(part) for part in err["loc"]) or "body"
            for err in exc.errors(include_input=False, include_url=False)[:5]
        )
        raise errors.UnexpectedResponseError(
            f"{path} answered a shape we cannot read (at {where})", status=200
        ) from None
