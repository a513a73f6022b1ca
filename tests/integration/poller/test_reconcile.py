"""Intents whose create-order outcome was unknown: adopted from the exchange's order list, or
failed once the reconciliation deadline has passed."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from cryptosdk.status import OrderStatus
from tests.integration.poller.conftest import World, history

LIST = "/api/v2/orders"


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


def test_an_intent_never_created_upstream_waits_then_fails_after_the_deadline(world: World) -> None:
    client = world.client(keys=world.new_keys())
    intent = world.intent()
    deps = world.deps(client)

    waiting = world.poll(deps=deps, reconcile_deadline=timedelta(minutes=15))

    pending = world.stored(intent)
    assert (waiting.changed, waiting.updated) == (0, 1)
    assert pending.status == OrderStatus.PENDING_CREATE
    assert pending.version == 1  # nothing changed, nothing written
    assert pending.next_poll_at == intent.next_poll_at  # polled again next run (30 s < the period)
    assert world.events_for(intent) == []
    world.later(timedelta(minutes=16))

    world.poll(deps=deps, reconcile_deadline=timedelta(minutes=15))

    failed = world.stored(intent)
    assert failed.status == OrderStatus.FAILED
    assert failed.failure_reason is not None
    assert "not in the exchange's order list" in failed.failure_reason
    assert "pollShard" not in world.item(intent)
    assert world.events_for(intent) == [("pending_create", "failed")]


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


def test_an_unreadable_order_list_backs_the_intent_off_without_failing_it(world: World) -> None:
    client = world.client(max_attempts=1, keys=world.new_keys())
    intent = world.intent()
    world.fault(LIST, "503")

    summary = world.poll(deps=world.deps(client))

    stored = world.stored(intent)
    assert summary.failed == 1
    assert stored.status == OrderStatus.PENDING_CREATE
    assert stored.poll_failures == 1
    assert stored.next_poll_at == world.clock() + timedelta(seconds=60)


def test_an_identical_exchange_order_made_before_the_intent_is_not_adopted(world: World) -> None:
    # An earlier order of the same shape (another of our orders); this intent's create made nothing.
    client = world.client(keys=world.new_keys())
    world.upstream(client)
    world.later(timedelta(minutes=2))
    intent = world.intent()

    world.poll(deps=world.deps(client))

    pending = world.stored(intent)
    assert pending.status == OrderStatus.PENDING_CREATE
    assert pending.exchange_order_id is None
    assert world.events_for(intent) == []


def test_one_exchange_order_is_adopted_by_at_most_one_identical_intent(world: World) -> None:
    client = world.client(keys=world.new_keys())
    created = world.upstream(client)
    intents = [world.intent(), world.intent()]

    summary = world.poll(deps=world.deps(client))

    adopted = [world.stored(intent).exchange_order_id for intent in intents]
    assert sorted(adopted, key=lambda found: found is None) == [created.order_id, None]
    assert summary.changed == 1
