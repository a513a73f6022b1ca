"""Orders driven through every lifecycle path by the sandbox's event endpoint, polled to the end."""

from __future__ import annotations

from datetime import timedelta

from cryptosdk.domain.status import OrderStatus
from cryptosdk.orders.polling.pacing import awaiting_deposit_interval
from tests.integration.poller.conftest import World, history


def test_happy_path_ends_completed_with_tx_ids_and_one_event_per_change(world: World) -> None:
    order = world.active_order()

    steps = [
        ("INCOMING_FUNDS_DETECTED", "confirming"),
        ("DEPOSIT_REGISTERED", "exchanging"),
        ("FUNDS_WITHDRAWAL_START", "sending"),
        ("WITHDRAWAL_COMPLETED", "completed"),
    ]
    for kind, expected in steps:
        world.drive(order, kind)
        summary = world.poll()
        assert summary.changed == 1, (kind, summary)
        assert world.stored(order).status.value == expected
        world.later()

    final = world.stored(order)
    assert history(final) == [
        "pending_create",
        "awaiting_deposit",
        "confirming",
        "exchanging",
        "sending",
        "completed",
    ]
    assert final.version == 1 + len(steps)
    (deposit,) = final.deposits
    assert deposit.tx_id
    assert (deposit.confirmations or 0) > 0
    assert deposit.is_pending is False
    (payout,) = final.withdrawals
    assert payout.tx_id
    assert payout.tx_id != deposit.tx_id
    assert payout.amount == final.amount_to_receive
    # Terminal: out of the DueForPoll index.
    item = world.item(order)
    assert "pollShard" not in item
    assert "nextPollAt" not in item
    assert world.events_for(order) == [
        ("awaiting_deposit", "confirming"),
        ("confirming", "exchanging"),
        ("exchanging", "sending"),
        ("sending", "completed"),
    ]
    completed = [e for e in world.received_events() if e["detail"]["orderId"] == order.id][-1]
    assert completed["detail-type"] == "OrderStatusChanged"
    assert completed["detail"]["payoutTxId"] == payout.tx_id
    assert completed["detail"]["depositTxId"] == deposit.tx_id
    assert completed["detail"]["externalRef"] == order.external_ref
    assert world.poll().due == 0


def test_a_poll_that_finds_nothing_new_writes_nothing_while_the_order_is_polled_every_run(
    world: World,
) -> None:
    order = world.active_order()

    summary = world.poll()

    stored = world.stored(order)
    assert (summary.changed, summary.updated, summary.schedule_writes) == (0, 1, 0)
    assert stored.status == OrderStatus.AWAITING_DEPOSIT
    # Just created: its next poll is a minute away, which the next run is anyway; no write at all.
    assert stored.version == order.version
    assert stored.next_poll_at == order.next_poll_at
    assert int(world.item(order)["version"]) == order.version
    assert history(stored) == history(order)
    assert world.events_for(order) == []
    assert world.poll().due == 1  # still due: the next run takes it


def test_a_poll_that_finds_nothing_new_after_a_long_wait_backs_off_with_one_schedule_write(
    world: World,
) -> None:
    order = world.active_order()
    world.later(timedelta(minutes=10))

    summary = world.poll()

    stored = world.stored(order)
    waited = world.clock() - order.status_history[-1].at
    assert (summary.changed, summary.schedule_writes) == (0, 1)
    assert stored.version == order.version  # the order item is untouched
    assert stored.next_poll_at == world.clock() + awaiting_deposit_interval(waited)
    assert awaiting_deposit_interval(waited) == timedelta(minutes=5)
    assert world.poll().due == 0  # backed off: not due until then


def test_confirmations_rising_are_recorded_without_an_event(world: World) -> None:
    order = world.active_order()
    world.drive(order, "INCOMING_FUNDS_DETECTED")
    world.poll()
    assert world.stored(order).deposits[0].confirmations == 0
    world.later()
    world.drive(order, "DEPOSIT_REGISTERED")  # the sandbox confirms up to the minimum first

    world.poll()

    stored = world.stored(order)
    assert (stored.deposits[0].confirmations or 0) >= 1
    assert world.events_for(order) == [("awaiting_deposit", "confirming"), ("confirming", "exchanging")]


def test_refund_path_ends_refunded_with_the_refund_transfer(world: World) -> None:
    order = world.active_order()
    world.drive(order, "REFUND_REQUESTED")
    world.poll()
    assert world.stored(order).status == OrderStatus.REFUNDING
    world.later()
    world.drive(order, "REFUND_COMPLETED")

    world.poll()

    final = world.stored(order)
    assert final.status == OrderStatus.REFUNDED
    assert history(final)[-2:] == ["refunding", "refunded"]
    (refund,) = final.withdrawals
    assert refund.tx_id
    assert refund.amount == order.claimed_deposit_amount
    assert "nextPollAt" not in world.item(order)
    assert world.events_for(order) == [("awaiting_deposit", "refunding"), ("refunding", "refunded")]


def test_aml_hold_is_polled_and_released_to_completion(world: World) -> None:
    order = world.active_order()
    world.drive(order, "AMLBOT_AML_FROZEN_BY_LIQUIDITY_PROVIDER")
    world.poll()
    held = world.stored(order)
    assert held.status == OrderStatus.ON_HOLD
    assert held.next_poll_at == world.clock() + timedelta(minutes=10)  # held orders are polled slowly
    world.later()
    world.drive(order, "WITHDRAWAL_COMPLETED")

    world.poll()

    assert world.stored(order).status == OrderStatus.COMPLETED
    assert world.events_for(order) == [("awaiting_deposit", "on_hold"), ("on_hold", "completed")]


def test_an_unpaid_order_expires_after_the_ttl_and_leaves_the_index(world: World) -> None:
    order = world.active_order()
    world.poll(unpaid_ttl=timedelta(minutes=30))
    assert world.stored(order).status == OrderStatus.AWAITING_DEPOSIT
    world.later(timedelta(minutes=31))

    summary = world.poll(unpaid_ttl=timedelta(minutes=30))

    expired = world.stored(order)
    assert summary.changed == 1
    assert expired.status == OrderStatus.EXPIRED
    assert expired.status_history[-1].reason == "unpaid after 1800 s"
    assert "pollShard" not in world.item(order)
    assert world.events_for(order) == [("awaiting_deposit", "expired")]
    world.later()
    assert world.poll().due == 0


def test_an_order_paid_just_before_its_ttl_is_not_expired(world: World) -> None:
    order = world.active_order()
    world.drive(order, "INCOMING_FUNDS_DETECTED")
    world.later(timedelta(hours=2))

    world.poll(unpaid_ttl=timedelta(minutes=30))

    assert world.stored(order).status == OrderStatus.CONFIRMING
    assert world.events_for(order) == [("awaiting_deposit", "confirming")]


def test_a_terminal_status_reached_in_one_jump_skips_the_steps_between(world: World) -> None:
    order = world.active_order()
    world.drive(order, "WITHDRAWAL_COMPLETED")

    world.poll()

    final = world.stored(order)
    assert final.status == OrderStatus.COMPLETED
    assert history(final) == ["pending_create", "awaiting_deposit", "completed"]
    assert world.events_for(order) == [("awaiting_deposit", "completed")]
