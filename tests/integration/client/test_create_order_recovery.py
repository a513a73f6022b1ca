"""Create-order is never repeated blindly: after an unknown outcome the order list decides.

The client only reports the unknown outcome (with the request it sent and when); the create
service's `create_or_recover` (cryptosdk.orders.reconcile) reads the list and adopts the match."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from urllib3.exceptions import ProtocolError

from cryptosdk.exchange import errors
from cryptosdk.exchange.client import CREATE_ORDER_PATH, ORDERS_PATH, ExchangeClient
from cryptosdk.exchange.models import CreateOrderRequest, ExchangeOrder
from cryptosdk.exchange.transport import HttpRequest, HttpResponse, HttpTransport
from cryptosdk.orders.reconcile import CreateLookup, create_or_recover
from tests.integration.client.conftest import SandboxControl
from tests.integration.client.routes import btc_to_eth

# The tests' clients answer at once; the wait before a lookup is tested on its own below.
NO_WAIT = CreateLookup(delay=0.0)


def create(
    client: ExchangeClient, request: CreateOrderRequest, lookup: CreateLookup = NO_WAIT
) -> ExchangeOrder:
    return create_or_recover(client, request, lookup)


class LosingResponses(HttpTransport):
    """Real HTTP, but the answer to the next `lose` creates vanishes after the exchange processed
    them: the connection reset that leaves the outcome unknown."""

    def __init__(self, base_url: str, lose: int) -> None:
        super().__init__(base_url)
        self.lose = lose

    def send(self, request: HttpRequest, *, connect_timeout: float, read_timeout: float) -> HttpResponse:
        response = super().send(request, connect_timeout=connect_timeout, read_timeout=read_timeout)
        if CREATE_ORDER_PATH in request.url and self.lose > 0:
            self.lose -= 1
            raise ProtocolError("Connection aborted.", ConnectionResetError("connection reset by peer"))
        return response


@pytest.mark.parametrize("kind", ["502", "drop"])
def test_the_client_reports_an_unknown_create_with_what_a_search_needs_and_searches_nothing(
    kind: str, control: SandboxControl, make_client: Callable[..., ExchangeClient]
) -> None:
    client = make_client(keys=control.new_keys())
    control.fault(CREATE_ORDER_PATH, kind, count=1)
    request = btc_to_eth("0.1")
    before = datetime.now(UTC)
    with pytest.raises(errors.OrderOutcomeUnknownError) as caught:
        client.create_order(request)
    unknown = caught.value
    assert unknown.request == request
    assert unknown.sent_at is not None
    assert before <= unknown.sent_at <= datetime.now(UTC)
    assert unknown.code == "order_outcome_unknown"
    if kind == "drop":
        assert isinstance(unknown.cause, errors.TransportError)
        assert unknown.status is None
    else:
        assert isinstance(unknown.cause, errors.UpstreamUnavailableError)
        assert unknown.status == unknown.cause.status == 502
    assert control.requests_to(CREATE_ORDER_PATH) == 1
    assert control.requests_to(ORDERS_PATH) == 0  # the search is the caller's


def test_an_http_5xx_is_searched_at_once_without_waiting(
    control: SandboxControl, make_client: Callable[..., ExchangeClient]
) -> None:
    # The exchange answered, so it has finished with the create: nothing to wait for.
    client = make_client(keys=control.new_keys())
    waited: list[float] = []
    control.fault(CREATE_ORDER_PATH, "503", count=1)
    with pytest.raises(errors.OrderOutcomeUnknownError):
        create(client, btc_to_eth("0.1"), CreateLookup(delay=1.0, sleep=waited.append))
    assert waited == []
    assert control.requests_to(ORDERS_PATH) == 1


@pytest.mark.parametrize("kind", ["500", "503", "drop"])
def test_fault_before_processing_is_unknown_and_not_repeated(
    kind: str, control: SandboxControl, make_client: Callable[..., ExchangeClient]
) -> None:
    # The sandbox's faults fire before its handler: nothing was created.
    client = make_client(keys=control.new_keys())
    control.fault(CREATE_ORDER_PATH, kind, count=1)
    with pytest.raises(errors.OrderOutcomeUnknownError) as caught:
        create(client, btc_to_eth("0.1"))
    assert control.requests_to(CREATE_ORDER_PATH) == 1  # no second create
    assert control.requests_to(ORDERS_PATH) == 1  # the order list was consulted
    assert client.list_orders() == []
    assert "no matching order" in caught.value.message
    if kind != "drop":
        assert caught.value.status == int(kind)


def test_lost_answer_of_a_processed_create_returns_the_order(
    control: SandboxControl, make_client: Callable[..., ExchangeClient]
) -> None:
    client = make_client(keys=control.new_keys(), transport=LosingResponses(control.server.url, lose=1))
    recovered = create(client, btc_to_eth("0.1"))
    listed = client.list_orders()
    assert [order.order_id for order in listed] == [recovered.order_id]
    assert recovered.claimed_deposit_amount == Decimal("0.1")
    assert control.requests_to(CREATE_ORDER_PATH) == 1


def test_recovery_picks_the_matching_order_not_an_earlier_different_one(
    control: SandboxControl, make_client: Callable[..., ExchangeClient]
) -> None:
    keys = control.new_keys()
    earlier = make_client(keys=keys).create_order(btc_to_eth("0.25"))
    client = make_client(keys=keys, transport=LosingResponses(control.server.url, lose=1))
    recovered = create(client, btc_to_eth("0.1"))
    assert recovered.order_id != earlier.order_id
    assert recovered.claimed_deposit_amount == Decimal("0.1")
    assert len(client.list_orders()) == 2


def test_timeout_while_the_exchange_is_still_working_is_recovered(
    control: SandboxControl, make_client: Callable[..., ExchangeClient]
) -> None:
    # The create is answered late (after our read timeout) but it is processed: the client
    # waits a moment, then finds it in the list instead of creating it again. Its wait ends when
    # the sandbox has really created the order, not after a pause a loaded machine may outrun.
    client = make_client(keys=control.new_keys(), read_timeout=0.15)
    waited: list[float] = []

    def wait(seconds: float) -> None:
        waited.append(seconds)
        control.wait_until_answered(CREATE_ORDER_PATH, 201)

    control.fault(CREATE_ORDER_PATH, "latency", count=1, latencyMs=300)
    recovered = create(client, btc_to_eth("0.1"), CreateLookup(delay=1.2, sleep=wait))
    assert waited == [1.2]  # no answer at all: the lookup waited first
    assert [order.order_id for order in client.list_orders()] == [recovered.order_id]
    assert control.requests_to(CREATE_ORDER_PATH) == 1


def test_same_order_outside_the_lookup_window_is_not_claimed(
    control: SandboxControl, make_client: Callable[..., ExchangeClient]
) -> None:
    keys = control.new_keys()
    make_client(keys=keys).create_order(btc_to_eth("0.1"))
    # A client whose clock says an hour later: the identical earlier order is too old to be ours.
    later = make_client(keys=keys, utcnow=lambda: datetime.now(UTC) + timedelta(hours=1))
    control.fault(CREATE_ORDER_PATH, "502", count=1)
    with pytest.raises(errors.OrderOutcomeUnknownError):
        create(later, btc_to_eth("0.1"))


def test_an_identical_order_made_minutes_before_the_call_is_not_taken_for_ours(
    control: SandboxControl, make_client: Callable[..., ExchangeClient]
) -> None:
    # Same destination, amount and pair, another Idempotency-Key, two minutes earlier: the create
    # that failed before processing made nothing, so the earlier order must not be returned.
    keys = control.new_keys()
    make_client(keys=keys).create_order(btc_to_eth("0.1"))
    later = make_client(keys=keys, utcnow=lambda: datetime.now(UTC) + timedelta(minutes=2))
    control.fault(CREATE_ORDER_PATH, "502", count=1)
    with pytest.raises(errors.OrderOutcomeUnknownError):
        create(later, btc_to_eth("0.1"))
    assert control.requests_to(CREATE_ORDER_PATH) == 2  # one create each, none repeated


def test_unreadable_order_list_is_still_unknown(
    control: SandboxControl, make_client: Callable[..., ExchangeClient]
) -> None:
    client = make_client(keys=control.new_keys())
    control.fault(CREATE_ORDER_PATH, "503", count=1)
    control.fault(ORDERS_PATH, "503")
    with pytest.raises(errors.OrderOutcomeUnknownError) as caught:
        create(client, btc_to_eth("0.1"))
    assert "could not be read" in caught.value.message
    assert control.requests_to(CREATE_ORDER_PATH) == 1


def test_rate_limited_create_is_retried_because_nothing_was_done(
    control: SandboxControl, make_client: Callable[..., ExchangeClient]
) -> None:
    client = make_client(keys=control.new_keys())
    control.fault(CREATE_ORDER_PATH, "429", count=1)
    created = create(client, btc_to_eth("0.1"))
    assert control.requests_to(CREATE_ORDER_PATH) == 2
    assert [order.order_id for order in client.list_orders()] == [created.order_id]


def test_dependency_failure_on_create_is_reported_not_searched(
    control: SandboxControl, make_client: Callable[..., ExchangeClient]
) -> None:
    client = make_client(keys=control.new_keys())
    control.fault(CREATE_ORDER_PATH, "424", count=1)
    with pytest.raises(errors.DependencyFailedError):
        create(client, btc_to_eth("0.1"))
    assert control.requests_to(ORDERS_PATH) == 0


def test_a_drop_after_fault_creates_the_order_and_loses_only_the_answer(
    control: SandboxControl, make_client: Callable[..., ExchangeClient]
) -> None:
    client = make_client(keys=control.new_keys())
    control.fault(CREATE_ORDER_PATH, "drop-after", count=1)

    recovered = create(client, btc_to_eth("0.1"))

    assert [order.order_id for order in client.list_orders()] == [recovered.order_id]
    assert control.requests_to(CREATE_ORDER_PATH) == 1


def test_a_late_fault_creates_the_order_after_the_caller_gave_up(
    control: SandboxControl, make_client: Callable[..., ExchangeClient]
) -> None:
    # The create the exchange finishes after our lookup: unknown now, in the order list later.
    client = make_client(keys=control.new_keys())
    control.fault(CREATE_ORDER_PATH, "late", latencyMs=600, count=1)

    with pytest.raises(errors.OrderOutcomeUnknownError):
        create(client, btc_to_eth("0.1"))
    assert client.list_orders() == []

    # The late create lands about 600 ms after the drop: wait for it with a deadline, not a sleep.
    deadline = time.monotonic() + 10
    while not (listed := client.list_orders()) and time.monotonic() < deadline:
        time.sleep(0.05)
    (landed,) = listed
    assert landed.claimed_deposit_amount == Decimal("0.1")
    assert control.requests_to(CREATE_ORDER_PATH) == 1
