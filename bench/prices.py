"""Prices and assumptions of `make cost`: the one place they live.

Prices are AWS list prices for us-east-1 as published on the services' pricing pages, read on
PRICES_READ (DynamoDB on-demand after the November 2024 cut). Change a number here and every figure
`make cost` prints follows. Free tiers are left out on purpose: the bill at scale has none.

The workload model is the one issue 10 states: 1,000 completed orders a day, a 25-minute lifecycle
(the deposit seen at minute 8, confirmed and exchanged by 14, payout started at 18, completed at
24), about 5 API requests per order, the poller on a one-minute schedule.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

PRICES_READ = "2026-12-02"
REGION = "us-east-1"

# -- list prices (USD) ---------------------------------------------------------------------------

# DynamoDB on-demand (standard table class): per million request units.
DYNAMODB_WRITE_PER_MILLION = Decimal("0.625")
DYNAMODB_READ_PER_MILLION = Decimal("0.125")
# Lambda, x86: per million requests and per GB-second of billed duration (1 ms granularity).
LAMBDA_REQUESTS_PER_MILLION = Decimal("0.20")
LAMBDA_GB_SECOND = Decimal("0.0000166667")
# Secrets Manager: per 10,000 API calls (the $0.40 per secret-month is a fixed cost, not per order).
SECRETS_PER_10K_CALLS = Decimal("0.05")
# EventBridge custom events: per million entries (each up to 64 KB). The poller's schedule rule
# (an EventBridge scheduled rule, not Scheduler) is free.
EVENTBRIDGE_PER_MILLION_ENTRIES = Decimal("1.00")
# API Gateway HTTP API: per million requests (first 300 million a month).
HTTP_API_PER_MILLION = Decimal("1.00")
# DynamoDB Streams records read by a Lambda trigger are free; filtered-out records invoke nothing.

# -- the workload --------------------------------------------------------------------------------

ORDERS_PER_DAY = 1_000
POLL_TICKS_PER_DAY = 24 * 60  # rate(1 minute)
# Minute of the order's life at which the sandbox moves it (the lifecycle of the model).
LIFECYCLE_MINUTES: tuple[tuple[int, str], ...] = (
    (8, "INCOMING_FUNDS_DETECTED"),
    (14, "DEPOSIT_REGISTERED"),
    (18, "FUNDS_WITHDRAWAL_START"),
    (24, "WITHDRAWAL_COMPLETED"),
)
# The API requests one order costs (minute of its life, route): 5 per order.
API_REQUESTS: tuple[tuple[int, str], ...] = (
    (0, "POST /addresses/validate"),
    (0, "POST /orders"),
    (1, "GET /orders/{orderId}"),
    (25, "GET /orders/{orderId}"),
    (25, "GET /orders"),
)

# -- what the local run cannot measure -----------------------------------------------------------

# Round trip to the exchange from a Lambda in us-east-1 (assumed): added to the measured local
# duration for each exchange call made in sequence (a poller tick overlaps its calls).
EXCHANGE_CALL_SECONDS = Decimal("0.15")
# One DynamoDB / EventBridge / Secrets Manager call from Lambda (assumed; the local run counts
# the calls and measures the CPU, since the shared machine's wall time says nothing about AWS).
AWS_CALL_SECONDS = Decimal("0.008")
# Memory of each function (template.yaml): the API functions use the Globals, the poller its own.
API_MEMORY_MB = 512
POLLER_MEMORY_MB = 1024
EVENTS_MEMORY_MB = 512
# Signing functions that are warm all day at this load (CreateOrder, Orders, Instruments, Poller);
# each re-reads the secret once per cache period (cryptosdk.runtime.config SECRET_MAX_AGE_SECONDS).
WARM_SIGNING_CONTAINERS = 4
SECRET_MAX_AGE_SECONDS = 3600
# What DynamoDB Local leaves out: it answers BatchExecuteStatement without consumed capacity, so
# each schedule move it carried out is computed from its size: the ~130-byte schedule item (1 unit)
# plus DueForPoll, whose sort key moved (a delete and a put of the small entry: 2 units).
SCHEDULE_MOVE_UNITS = {"table": 1, "DueForPoll": 2}


@dataclass(frozen=True)
class NaiveAssumptions:
    """The naive integration the issue compares with, computed by the same price model:
    - a Scan of the whole orders table every minute to find active orders (eventually
      consistent: 0.5 read unit per 4 KB), the table holding `retained_orders` orders;
    - a Secrets Manager read for every exchange call (no cache);
    - every poll rewrites the whole order item (PutItem), both indexes projecting ALL, so each
      poll writes the item once in the table and once in each index, and moving `nextPollAt`
      (DueForPoll's sort key) writes that index twice (delete + put).
    """

    retained_orders: int = 14_000  # two weeks at 1,000 a day; the scan grows with the table
    polls_per_order: int = 20


NAIVE = NaiveAssumptions()


def lambda_cost(invocations: Decimal, gb_seconds: Decimal) -> Decimal:
    return invocations * LAMBDA_REQUESTS_PER_MILLION / 1_000_000 + gb_seconds * LAMBDA_GB_SECOND


def dynamodb_cost(write_units: Decimal, read_units: Decimal) -> Decimal:
    return (
        write_units * DYNAMODB_WRITE_PER_MILLION / 1_000_000
        + read_units * DYNAMODB_READ_PER_MILLION / 1_000_000
    )


def secrets_cost(calls: Decimal) -> Decimal:
    return calls * SECRETS_PER_10K_CALLS / 10_000


def events_cost(entries: Decimal) -> Decimal:
    return entries * EVENTBRIDGE_PER_MILLION_ENTRIES / 1_000_000


def http_api_cost(requests: Decimal) -> Decimal:
    return requests * HTTP_API_PER_MILLION / 1_000_000
