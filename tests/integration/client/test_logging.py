"""Every log record of the client, over success, every error and retries, holds no secret."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterator

import pytest

from cryptosdk.exchange import errors
from cryptosdk.exchange.client import (
    CREATE_ORDER_PATH,
    INSTRUMENT_PATH,
    INSTRUMENTS_PATH,
    ORDERS_PATH,
    ExchangeClient,
)
from cryptosdk.exchange.retry import RetryPolicy
from cryptosdk.exchange.secrets import StaticKeyProvider
from cryptosdk.exchange.transport import HttpRequest, HttpResponse, HttpTransport
from cryptosdk.orders.reconcile import create_or_recover
from cryptosdk.runtime.observability import logger
from local.sandbox import SandboxServer
from tests.integration.client.conftest import SandboxControl
from tests.integration.client.routes import BTC, BTC_ADDRESS_BAD_CHECKSUM, ETH, ETH_ADDRESS, btc_to_eth, rate

SENSITIVE_HEADERS = ("X-Api-Public-Key", "X-Api-Signature", "X-Api-Timestamp")


class RecordingTransport(HttpTransport):
    """Real HTTP; remembers every header value the client sent so the test knows what to look for."""

    def __init__(self) -> None:
        super().__init__("http://127.0.0.1")
        self.header_values: set[str] = set()

    def send(self, request: HttpRequest, *, connect_timeout: float, read_timeout: float) -> HttpResponse:
        for name in SENSITIVE_HEADERS:
            if name in request.headers:
                self.header_values.add(str(request.headers[name]))
        return super().send(request, connect_timeout=connect_timeout, read_timeout=read_timeout)


@pytest.fixture
def powertools_stream(caplog: pytest.LogCaptureFixture) -> Iterator[io.StringIO]:
    """The Powertools logger's own JSON output, plus caplog attached to the same logger."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    std_logger = logging.getLogger(logger.name)
    std_logger.addHandler(handler)
    std_logger.addHandler(caplog.handler)
    previous = std_logger.level
    std_logger.setLevel(logging.DEBUG)
    yield stream
    std_logger.setLevel(previous)
    std_logger.removeHandler(handler)
    std_logger.removeHandler(caplog.handler)


def exercise(
    sandbox: SandboxServer,
    control: SandboxControl,
    make_client: Callable[..., ExchangeClient],
    transport: RecordingTransport,
    wrong_secret: str,
) -> list[errors.ExchangeError]:
    keys = control.new_keys()
    client = make_client(keys=keys, transport=transport)
    raised: list[errors.ExchangeError] = []

    def expect(error: type[errors.ExchangeError], call: Callable[[], object]) -> None:
        with pytest.raises(error) as caught:
            call()
        raised.append(caught.value)

    # Success on every kind of call.
    client.list_instruments()
    client.get_instrument("BTC", "BTC")
    client.validate_address("BTC", "BTC", BTC_ADDRESS_BAD_CHECKSUM)
    client.get_rate(rate(BTC, ETH, "0.1"))
    order = client.create_order(btc_to_eth("0.1"))
    client.get_order(order.order_id, ETH_ADDRESS)
    client.list_orders()
    # Every error class the sandbox can produce, with retries along the way.
    expect(
        errors.InvalidRequestError,
        lambda: client.create_order(btc_to_eth(destination=BTC_ADDRESS_BAD_CHECKSUM)),
    )
    bad_keys = StaticKeyProvider(keys.get().public_key, wrong_secret)
    expect(errors.AuthError, lambda: make_client(keys=bad_keys, transport=transport).list_orders())
    expect(errors.NotFoundError, lambda: client.get_order(987_654_321, ETH_ADDRESS))
    expect(errors.AmountOutOfLimitsError, lambda: client.get_rate(rate(BTC, ETH, "0.00000001")))
    stale = {"claimedAmountToReceive": "0.000001"}
    expect(
        errors.ConflictError,
        lambda: client.create_order(btc_to_eth(rate_mode="FIXED", claimed_public_rate=stale)),
    )
    expect(errors.UnsupportedRouteError, lambda: client.get_rate(rate(BTC, BTC, "0.1")))
    control.fault(INSTRUMENT_PATH, "424", count=1)
    expect(errors.DependencyFailedError, lambda: client.get_instrument("BTC", "BTC"))
    control.fault(INSTRUMENTS_PATH, "429", count=9, retryAfter=0.01)
    expect(errors.RateLimitedError, client.list_instruments)
    control.clear_faults()
    slow = make_client(keys=keys, transport=transport, read_timeout=0.5)
    for fault in ({"kind": "503"}, {"kind": "drop"}, {"kind": "latency", "latencyMs": 1500}):
        control.fault(ORDERS_PATH, count=1, **fault)  # type: ignore[arg-type]
        slow.list_orders()  # one failure, then success
    control.clear_faults()
    control.fault(INSTRUMENT_PATH, "hang", hangSeconds=1)
    expect(
        errors.UpstreamTimeoutError,
        lambda: make_client(
            keys=keys, transport=transport, read_timeout=0.2, retry=RetryPolicy(max_attempts=2)
        ).get_instrument("BTC", "BTC"),
    )
    control.clear_faults()
    control.fault(CREATE_ORDER_PATH, "502", count=1)
    # As the create service calls it: the client's report, then the order-list search it logs.
    expect(errors.OrderOutcomeUnknownError, lambda: create_or_recover(client, btc_to_eth("0.3")))
    fenced = SandboxServer(port=0, whitelist=["203.0.113.7"]).start()
    try:
        fenced_client = make_client(
            base_url=fenced.url,
            keys=StaticKeyProvider(fenced.public_key, fenced.secret_key),
            transport=transport,
        )
        expect(errors.ForbiddenError, fenced_client.list_orders)
    finally:
        fenced.stop()
    transport.header_values.update({keys.get().secret_value(), wrong_secret, fenced.secret_key})
    return raised


def test_no_key_signature_or_header_value_in_any_log_record(
    sandbox: SandboxServer,
    control: SandboxControl,
    make_client: Callable[..., ExchangeClient],
    caplog: pytest.LogCaptureFixture,
    powertools_stream: io.StringIO,
) -> None:
    transport = RecordingTransport()
    raised = exercise(sandbox, control, make_client, transport, wrong_secret="wrong-secret-5f1e2d")
    secrets = transport.header_values
    assert len([value for value in secrets if len(value) == 44]) > 15  # many distinct signatures were sent

    output = powertools_stream.getvalue()
    records = [record for record in caplog.records if record.name == logger.name]
    record_texts = [f"{record.getMessage()} {record.__dict__}" for record in records]
    error_texts = [f"{error} {error!r} {error.message} {error.__dict__}" for error in raised]
    for secret in secrets:
        assert secret not in output
        for text in record_texts + error_texts:
            assert secret not in text

    # The logs are useful, not just clean: each call logs method, path, status, attempt and latency.
    calls = [
        record.__dict__
        for record in records
        if record.getMessage() in ("exchange call", "exchange call failed")
    ]
    assert all({"method", "path", "status", "attempt", "latency_ms"} <= call.keys() for call in calls)
    assert {call["status"] for call in calls} >= {
        200,
        201,
        400,
        401,
        403,
        404,
        406,
        409,
        422,
        424,
        429,
        502,
        503,
    }
    assert any(call.get("upstream_message") == "Too Many Requests" and call["attempt"] > 1 for call in calls)
    assert any(call.get("outcome") == "timeout" for call in calls)
    assert "exchange call will be retried" in output
    assert "create-order outcome unknown" in output
