"""Intents whose create-order outcome was unknown: adopted from the exchange's order list, placed
again under the same intent once confirmed absent (never a second upstream order), or failed with
the reason."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from cryptosdk.domain.order import ChangeCause, RateMode, StaleOrderError
from cryptosdk.domain.status import OrderStatus
from cryptosdk.orders.reconcile import RecentOrders
from cryptosdk.orders.service import record_created
from cryptosdk.orders.settle import CREATE_SETTLE_WINDOW, place_again
from tests.integration.poller.conftest import World, history

LIST = "/api/v2/orders"
CREATE = "/api/v2/orders/public/create"
WINDOW = CREATE_SETTLE_WINDOW


def test_an_intent_the_exchange_did_create_is_adopted_with_its_deposit_details(world: World) -> None:
    keys = world.new_keys()  # an order list holding only this test's orders
    client = world.client(keys=keys)
    world.upstream(client, amount=Decimal("0.02"))  # same destination, other amount: not ours
    created = world.upstream(client)
    intent = world.intent()

    summary = world.poll(deps=world.deps(client))

    adopted = world.stored(intent)
    assert summary.changed == 1
    assert adopted.exchange_order_id == created.order_id
    assert adopted.deposit_address == created.deposit_address.deposit_address
    assert adopted.status == OrderStatus.AWAITING_DEPOSIT
    assert history(adopted) == ["pending_create", "awaiting_deposit"]
    assert adopted.status_history[-1].reason == "reconciled from the exchange's order list"
    # Just entered awaiting_deposit (polled every minute): its schedule stays due, unwritten.
    assert adopted.next_poll_at == intent.next_poll_at
    assert world.events_for(intent) == [("pending_create", "awaiting_deposit")]


def test_an_adopted_order_already_paid_upstream_lands_on_its_current_status(world: World) -> None:
    keys = world.new_keys()
    client = world.client(keys=keys)
    created = world.upstream(client)
    intent = world.intent()
    world.http.post(
        f"{world.sandbox.url}/_sandbox/orders/{created.order_id}/events",
        json={"kind": "INCOMING_FUNDS_DETECTED"},
        timeout=5,
    ).raise_for_status()

    world.poll(deps=world.deps(client))

    adopted = world.stored(intent)
    assert adopted.status == OrderStatus.CONFIRMING
    assert adopted.deposits[0].tx_id
    assert world.events_for(intent) == [("pending_create", "confirming")]


def test_an_intent_never_created_upstream_is_placed_again_within_the_run(world: World) -> None:
    client = world.client(keys=world.new_keys())
    intent = world.intent()
    before = world.requests_to(CREATE)

    summary = world.poll(deps=world.deps(client))

    placed = world.stored(intent)
    assert summary.settle_waits == 1
    assert summary.oldest_unsettled_create_seconds == 0
    assert placed.status == OrderStatus.AWAITING_DEPOSIT
    assert placed.create_attempts == 2
    assert world.requests_to(CREATE) - before == 1
    assert len(client.list_orders(limit=100)) == 1  # one upstream order for this key, not two
    assert history(placed) == ["pending_create", "awaiting_deposit"]
    assert placed.status_history[-1].cause == ChangeCause.RECONCILIATION
    assert placed.status_history[-1].reason == "created upstream on attempt 2"
    assert world.events_for(intent) == [("pending_create", "awaiting_deposit")]


def test_without_waiting_in_the_run_the_intent_is_due_when_its_window_closes(world: World) -> None:
    client = world.client(keys=world.new_keys())
    intent = world.intent()
    deps = world.deps(client)

    first = world.poll(deps=deps, settle_wait=timedelta(0))

    assert world.stored(intent) == intent  # untouched while its create may still land
    assert first.skipped == 1
    assert first.oldest_unsettled_create_seconds == (world.clock() - intent.created_at).total_seconds()
    world.later(WINDOW)

    world.poll(deps=deps, settle_wait=timedelta(0))

    assert world.stored(intent).status == OrderStatus.AWAITING_DEPOSIT


def test_a_create_that_lands_late_within_the_window_is_adopted_not_placed_twice(world: World) -> None:
    client = world.client(keys=world.new_keys())
    intent = world.intent()
    deps = world.deps(client)
    landed: list[int] = []

    def the_first_create_lands_while_the_run_waits(seconds: float) -> None:
        if not landed:  # the run waits in slices (it re-reads the intent between them)
            landed.append(world.upstream(client).order_id)
        world.clock.advance(timedelta(seconds=seconds))

    deps.sleep = the_first_create_lands_while_the_run_waits
    before = world.requests_to(CREATE)

    world.poll(deps=deps)

    adopted = world.stored(intent)
    assert adopted.exchange_order_id == landed[0]
    assert adopted.create_attempts == 1
    assert world.requests_to(CREATE) - before == 1  # only the late one the test made
    assert len(client.list_orders(limit=100)) == 1


def test_a_run_stops_waiting_for_an_intent_its_own_request_completes(world: World) -> None:
    """The usual unknown create: the run saw the intent while its request was still placing it.
    The request completes it a moment later, and the run stops waiting (it would hold up the next
    run for the whole window) without reading the order list or creating anything."""
    client = world.client(keys=world.new_keys())
    intent = world.intent()
    deps = world.deps(client)
    slept: list[float] = []

    def the_request_completes_its_create(seconds: float) -> None:
        if not slept:
            record_created(world.store, world.stored(intent), world.upstream(client), now=world.clock())
        slept.append(seconds)
        world.clock.advance(timedelta(seconds=seconds))

    deps.sleep = the_request_completes_its_create
    creates, lists = world.requests_to(CREATE), world.requests_to(LIST)

    summary = world.poll(deps=deps)

    assert summary.settle_waits == 1
    assert sum(slept) <= 1.0  # one re-check slice, not the 40 s window
    assert world.stored(intent).exchange_order_id is not None
    assert world.requests_to(CREATE) - creates == 1  # the request's own create, made by the test
    assert world.requests_to(LIST) == lists


def test_the_check_right_before_placing_again_adopts_an_order_that_just_landed(world: World) -> None:
    client = world.client(keys=world.new_keys())
    intent = world.intent()
    late = world.upstream(client)  # landed after the run's list read, before the create
    before = world.requests_to(CREATE)

    replaced = place_again(intent, client=client, store=world.store, clock=world.clock)

    assert replaced.order.exchange_order_id == late.order_id
    assert world.requests_to(CREATE) == before
    assert world.stored(intent).create_attempts == 2  # the attempt was claimed, then not needed


def test_a_re_place_whose_answer_is_lost_is_found_in_the_order_list_at_once(world: World) -> None:
    # The re-place reaches the exchange and its answer is lost: searched for at once, as a request's
    # create is, and stored on this attempt instead of being left for the next window.
    client = world.client(keys=world.new_keys())
    intent = world.intent()
    world.fault(CREATE, "drop-after", count=1)
    creates, lists = world.requests_to(CREATE), world.requests_to(LIST)

    replaced = place_again(intent, client=client, store=world.store, clock=world.clock)

    assert replaced.changed
    assert replaced.order.status == OrderStatus.AWAITING_DEPOSIT
    assert replaced.order.status_history[-1].reason == "created upstream on attempt 2"
    assert world.requests_to(CREATE) - creates == 1
    assert world.requests_to(LIST) - lists == 2  # the look before placing, the search after
    [upstream] = client.list_orders(limit=100)
    assert replaced.order.exchange_order_id == upstream.order_id


def test_two_writers_placing_one_intent_again_send_one_create(world_on_dynamodb_local: World) -> None:
    world = world_on_dynamodb_local
    client = world.client(keys=world.new_keys())
    intent = world.intent()
    outcomes: list[str] = []
    gate = threading.Barrier(2)

    def writer() -> None:
        gate.wait()
        try:
            place_again(intent, client=client, store=world.store, clock=world.clock)
            outcomes.append("placed")
        except StaleOrderError:
            outcomes.append("lost the claim")

    threads = [threading.Thread(target=writer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["lost the claim", "placed"]
    assert len(client.list_orders(limit=100)) == 1


@pytest.mark.parametrize(
    ("changes", "why"),
    [({"rate_mode": RateMode.FIXED}, "fixed-rate quote"), ({"create_attempts": 3}, "no more attempts")],
)
def test_an_intent_that_may_not_be_placed_again_fails_with_the_reason(
    world: World, changes: dict[str, Any], why: str
) -> None:
    client = world.client(keys=world.new_keys())
    intent = world.intent()
    world.store.apply_update(intent, changes)  # version 2
    before = world.requests_to(CREATE)

    world.poll(deps=world.deps(client))

    failed = world.stored(intent)
    assert failed.status == OrderStatus.FAILED
    assert failed.failure_reason is not None
    assert why in failed.failure_reason
    assert failed.status_history[-1].cause == ChangeCause.RECONCILIATION
    assert world.requests_to(CREATE) == before
    assert "pollShard" not in world.item(intent)
    assert world.events_for(intent) == [("pending_create", "failed")]


def test_an_intent_past_the_deadline_fails_without_being_placed_again(world: World) -> None:
    client = world.client(keys=world.new_keys())
    intent = world.intent()
    world.later(timedelta(minutes=16))

    world.poll(deps=world.deps(client), reconcile_deadline=timedelta(minutes=15))

    failed = world.stored(intent)
    assert failed.status == OrderStatus.FAILED
    assert failed.failure_reason is not None
    assert "deadline" in failed.failure_reason


def test_a_refused_re_place_fails_the_intent_with_the_refusal(world: World) -> None:
    client = world.client(keys=world.new_keys())
    intent = world.intent()
    world.fault(CREATE, "424")

    world.poll(deps=world.deps(client))

    failed = world.stored(intent)
    assert failed.status == OrderStatus.FAILED
    assert failed.status_history[-1].cause == ChangeCause.REFUSAL
    assert failed.failure_reason == "exchange refused the order on attempt 2: LIQUIDITY_PROVIDER_FAILED"


def test_many_intents_in_one_run_read_the_order_list_once(world: World) -> None:
    keys = world.new_keys()
    client = world.client(keys=keys)
    amounts = [Decimal("0.011"), Decimal("0.012"), Decimal("0.013"), Decimal("0.014")]
    created = {amount: world.upstream(client, amount=amount) for amount in amounts}
    intents = {amount: world.intent(amount=amount) for amount in amounts}
    before = world.requests_to(LIST)

    world.poll(deps=world.deps(client))

    assert world.requests_to(LIST) - before == 1
    for amount, intent in intents.items():
        assert world.stored(intent).exchange_order_id == created[amount].order_id


def test_an_unreadable_order_list_leaves_the_intent_due_without_failing_it(world: World) -> None:
    client = world.client(max_attempts=1, keys=world.new_keys())
    intent = world.intent()
    world.fault(LIST, "503")

    summary = world.poll(deps=world.deps(client))

    stored = world.stored(intent)
    assert summary.failed == 1
    assert summary.oldest_unsettled_create_seconds == (world.clock() - intent.created_at).total_seconds()
    # Not backed off, not rewritten: an unsettled create stays due and is looked at again next run.
    assert stored == intent


def test_an_identical_exchange_order_made_before_the_intent_is_not_adopted(world: World) -> None:
    # An earlier order of the same shape (another of our orders); this intent's create made nothing.
    client = world.client(keys=world.new_keys())
    earlier = world.upstream(client)
    world.later(timedelta(minutes=2))
    intent = world.intent()

    world.poll(deps=world.deps(client), settle_wait=timedelta(0))

    pending = world.stored(intent)
    assert pending.status == OrderStatus.PENDING_CREATE
    assert pending.exchange_order_id is None
    assert world.events_for(intent) == []
    world.later(WINDOW)
    world.poll(deps=world.deps(client), settle_wait=timedelta(0))
    assert world.stored(intent).exchange_order_id not in (None, earlier.order_id)


def test_one_exchange_order_is_adopted_by_at_most_one_identical_intent(world: World) -> None:
    client = world.client(keys=world.new_keys())
    created = world.upstream(client)
    intents = [world.intent(), world.intent()]

    summary = world.poll(deps=world.deps(client))

    # One takes the order that exists; the other, proven absent, is placed again: never both on one.
    adopted = [world.stored(intent).exchange_order_id for intent in intents]
    assert created.order_id in adopted
    assert len(set(adopted)) == 2
    assert None not in adopted
    assert summary.changed == 2


def test_a_list_that_does_not_reach_back_to_the_intent_proves_no_absence(world: World) -> None:
    # A busy exchange: newer orders push the intent's time past the pages one run reads.
    client = world.client(keys=world.new_keys())
    intent = world.intent()
    for n in range(3):
        world.upstream(client, amount=Decimal("0.02") + Decimal(n) / 1000)

    short = RecentOrders(client, clock=world.clock, page_size=2, max_pages=1)
    whole = RecentOrders(client, clock=world.clock, page_size=2, max_pages=5)

    assert short.find(intent) is None
    assert short.absence_proven_at(intent) is None
    assert whole.find(intent) is None
    assert whole.absence_proven_at(intent) == world.clock()


def test_a_re_place_that_is_unknown_again_stays_due_and_settles_one_window_later(world: World) -> None:
    client = world.client(keys=world.new_keys())
    intent = world.intent()
    world.fault(CREATE, "500", count=1)

    world.poll(deps=world.deps(client))

    again = world.stored(intent)
    assert again.status == OrderStatus.PENDING_CREATE
    assert again.create_attempts == 2
    assert again.next_poll_at == intent.next_poll_at  # still due: the next run looks at it
    world.later(WINDOW)

    world.poll(deps=world.deps(client))

    placed = world.stored(intent)
    assert placed.status == OrderStatus.AWAITING_DEPOSIT
    assert placed.status_history[-1].reason == "created upstream on attempt 3"
    assert len(client.list_orders(limit=100)) == 1


def test_the_run_settles_each_intent_as_its_own_window_closes(world: World) -> None:
    client = world.client(keys=world.new_keys())
    start = world.clock()
    early = world.intent(created_at=start - timedelta(seconds=20), amount=Decimal("0.031"))
    late = world.intent(created_at=start, amount=Decimal("0.032"))

    summary = world.poll(deps=world.deps(client))

    assert summary.settle_waits == 2
    for intent in (early, late):
        settled = world.stored(intent)
        assert settled.status == OrderStatus.AWAITING_DEPOSIT
        # Settled when its window closed, not when the last one of the run did.
        assert settled.status_history[-1].at == intent.created_at + WINDOW
