"""Lambda's event source mapping for DynamoDB streams, run locally (moto never runs one).

`StreamMapping` reads a table's stream (DynamoDB Local's, or moto's when Java is missing; both
speak the DynamoDB Streams API) shard by shard and invokes the function as Lambda would:
- the template's FilterCriteria drop records before batching (a dropped record is done);
- batches of at most BatchSize records, in order, one batch in flight per shard;
- a function error, or a partial batch response (ReportBatchItemFailures) naming a record, makes
  the shard resume at the first failed record: the records before it are done;
- with BisectBatchOnFunctionError, a batch that fails as a whole (an error, or its first record
  failed) is split in two and each half tried on its own, so a poison record ends up alone;
- a batch that still fails after MaximumRetryAttempts retries is sent to the on-failure
  destination (an SQS queue) in Lambda's shape (`DDBStreamBatchInfo`: shard and sequence range,
  not the records), and the shard moves on: a poison record never blocks the records after it.
`StreamService` runs every mapping of the template on a thread, like the scheduler does schedules.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Self

from local.runtime import ACCOUNT_ID
from local.service import Service
from local.template import StreamSource

Invoker = Callable[[dict[str, Any]], Any]
Parker = Callable[[dict[str, Any]], None]
Notice = Callable[[str], None]

_MISSING = object()
# DynamoDB Streams answers at most 1000 records per GetRecords.
_READ_LIMIT = 1000


class StreamSetupError(RuntimeError):
    """A stream source cannot be bound (its table has no stream); the message says which."""


class FilterError(ValueError):
    """A FilterCriteria pattern uses syntax the local mapping does not emulate; says which."""


# -- filters (Lambda's event filtering syntax, the part a DynamoDB pattern uses) -----------------


def matches(pattern: Mapping[str, Any], record: Mapping[str, Any]) -> bool:
    """Whether `record` passes one filter pattern (every key must match; lists are OR)."""
    for key, rule in pattern.items():
        value = record.get(key, _MISSING) if isinstance(record, Mapping) else _MISSING
        if isinstance(rule, Mapping):
            if not matches(rule, value if isinstance(value, Mapping) else {}):
                return False
        elif isinstance(rule, list):
            if not any(_matches_value(option, value) for option in rule):
                return False
        else:
            raise FilterError(f"filter value for {key!r} must be an object or a list, got {rule!r}")
    return True


def _matches_value(option: Any, value: Any) -> bool:
    if not isinstance(option, Mapping):
        return value is not _MISSING and value == option
    if len(option) != 1:
        raise FilterError(f"filter operator object must have one key, got {dict(option)!r}")
    ((operator, argument),) = option.items()
    if operator == "exists":
        return (value is not _MISSING) == bool(argument)
    if value is _MISSING:
        return False
    if operator == "prefix":
        return isinstance(value, str) and value.startswith(str(argument))
    if operator == "suffix":
        return isinstance(value, str) and value.endswith(str(argument))
    if operator == "equals-ignore-case":
        return isinstance(value, str) and value.lower() == str(argument).lower()
    if operator == "anything-but":
        excluded = argument if isinstance(argument, list) else [argument]
        return value not in excluded
    raise FilterError(f"filter operator {operator!r} is not emulated by the local stream mapping")


def passes_filters(filters: Sequence[Mapping[str, Any]], record: Mapping[str, Any]) -> bool:
    """No filters: every record; otherwise any one pattern (Lambda ORs the patterns)."""
    return not filters or any(matches(pattern, record) for pattern in filters)


# -- records as Lambda delivers them ----------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    if isinstance(value, datetime):
        return int(value.timestamp())
    return value


def lambda_record(record: Mapping[str, Any], stream_arn: str) -> dict[str, Any]:
    """A GetRecords record in the shape Lambda hands the function (JSON, with eventSourceARN)."""
    converted: dict[str, Any] = _jsonable(dict(record))
    converted["eventSourceARN"] = stream_arn
    return converted


def _sequence(record: Mapping[str, Any]) -> str:
    return str(record["dynamodb"]["SequenceNumber"])


# -- one mapping ---------------------------------------------------------------------------------


@dataclass
class _Shard:
    shard_id: str
    parent: str | None
    iterator: str | None = None
    last_sequence: str | None = None
    # Event ids of the last page delivered: see _drain.
    last_ids: frozenset[str] = frozenset()
    closed: bool = False


@dataclass
class MappingStats:
    invocations: int = 0
    delivered: int = 0  # records handed to the function at least once and done
    filtered: int = 0
    retries: int = 0
    splits: int = 0
    parked_batches: int = 0
    parked_records: int = 0


@dataclass
class StreamMapping:
    """One template stream event bound to a running stream, a function and a failure queue."""

    source: StreamSource
    streams: Any  # boto3 dynamodbstreams client
    stream_arn: str
    invoke: Invoker
    park: Parker | None = None
    region: str = "us-east-1"
    # Lambda backs off between retries of a stream batch; locally short, tests set 0.
    retry_delay_seconds: float = 0.2
    sleep: Callable[[float], None] = time.sleep
    stats: MappingStats = field(default_factory=MappingStats)
    _shards: dict[str, _Shard] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def poll(self) -> int:
        """Read every shard up to its current end and deliver what passes the filters; returns the
        number of records that were done (delivered or parked) in this call."""
        with self._lock:  # one reader per mapping, like one poller per shard in Lambda
            self._discover()
            done = 0
            for shard in list(self._shards.values()):
                if shard.closed or not self._parent_done(shard):
                    continue
                done += self._drain(shard)
            return done

    def _discover(self) -> None:
        start: str | None = None
        while True:
            kwargs: dict[str, Any] = {"StreamArn": self.stream_arn}
            if start:
                kwargs["ExclusiveStartShardId"] = start
            description = self.streams.describe_stream(**kwargs)["StreamDescription"]
            for shard in description.get("Shards", []):
                if shard["ShardId"] not in self._shards:
                    self._shards[shard["ShardId"]] = _Shard(shard["ShardId"], shard.get("ParentShardId"))
            start = description.get("LastEvaluatedShardId")
            if not start:
                return

    def _parent_done(self, shard: _Shard) -> bool:
        parent = self._shards.get(shard.parent) if shard.parent else None
        return parent is None or parent.closed

    def _iterator(self, shard: _Shard) -> str:
        if shard.iterator is None:
            kwargs: dict[str, Any] = {"StreamArn": self.stream_arn, "ShardId": shard.shard_id}
            if shard.last_sequence is not None:
                kwargs.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=shard.last_sequence)
            else:
                # A child shard is always read from its start; LATEST applies to the first shards.
                position = "TRIM_HORIZON" if shard.parent in self._shards else self.source.starting_position
                kwargs["ShardIteratorType"] = position
            shard.iterator = self.streams.get_shard_iterator(**kwargs)["ShardIterator"]
        return shard.iterator

    def _drain(self, shard: _Shard) -> int:
        done = 0
        while True:
            try:
                page = self.streams.get_records(ShardIterator=self._iterator(shard), Limit=_READ_LIMIT)
            except self.streams.exceptions.ExpiredIteratorException:
                shard.iterator = None  # iterators live 15 min; resume after the last record seen
                continue
            records = [lambda_record(r, self.stream_arn) for r in page.get("Records", [])]
            # moto numbers two concurrent writes alike (it takes the stream's length as the next
            # sequence number), so reading after the last one hands that record back for ever;
            # DynamoDB never repeats a record. One already delivered is not delivered again, and a
            # page of nothing else means the shard is caught up.
            fresh = [r for r in records if r.get("eventID") not in shard.last_ids]
            if records and not fresh:
                shard.iterator = page.get("NextShardIterator")
                return done
            records = fresh
            if records:
                try:
                    done += self._deliver_page(shard.shard_id, records)
                except BaseException:
                    # Read this page again next time (from after the last record done): at least once.
                    shard.iterator = None
                    raise
                shard.last_sequence = _sequence(records[-1])
                shard.last_ids = frozenset(str(r.get("eventID")) for r in records)
            shard.iterator = page.get("NextShardIterator")
            if shard.iterator is None:
                shard.closed = True
                return done
            if not records:
                return done

    def _deliver_page(self, shard_id: str, records: list[dict[str, Any]]) -> int:
        wanted = [r for r in records if passes_filters(self.source.filters, r)]
        self.stats.filtered += len(records) - len(wanted)
        size = max(1, self.source.batch_size)
        for start in range(0, len(wanted), size):
            self.deliver(shard_id, wanted[start : start + size])
        return len(records)

    def deliver(self, shard_id: str, records: list[dict[str, Any]]) -> None:
        """One batch through the function until every record is done or parked (blocking, as a
        shard is blocked in Lambda while its batch is retried)."""
        pending: deque[tuple[list[dict[str, Any]], int]] = deque([(records, 0)])
        while pending:
            batch, retries = pending.popleft()
            failed_at, whole = self._invoke(batch)
            if failed_at is None:
                self.stats.delivered += len(batch)
                continue
            self.stats.delivered += failed_at
            rest = batch[failed_at:]
            if self.source.bisect_batch_on_function_error and len(rest) > 1 and (whole or failed_at == 0):
                half = len(rest) // 2
                self.stats.splits += 1
                pending.appendleft((rest[half:], retries))
                pending.appendleft((rest[:half], retries))
                continue
            limit = self.source.maximum_retry_attempts
            if limit >= 0 and retries >= limit:
                self._park(shard_id, rest, retries + 1)
                continue
            self.stats.retries += 1
            self.sleep(self.retry_delay_seconds)
            pending.appendleft((rest, retries + 1))

    def _invoke(self, batch: list[dict[str, Any]]) -> tuple[int | None, bool]:
        """(index of the first failed record or None, whether the invocation failed as a whole)."""
        self.stats.invocations += 1
        try:
            result = self.invoke({"Records": batch})
        except Exception:  # any function error fails the batch, as in Lambda
            return 0, True
        if not self.source.report_batch_item_failures:
            return None, False
        failures = result.get("batchItemFailures") if isinstance(result, dict) else None
        if not failures:
            return None, False
        positions: dict[str, int] = {}
        for i, record in enumerate(batch):
            # A sequence number moto gave two records points at the first: retried, never skipped.
            positions.setdefault(_sequence(record), i)
        indexes = [positions.get(str((f or {}).get("itemIdentifier"))) for f in failures]
        if any(i is None for i in indexes):
            # Lambda treats an identifier it cannot place as a failure of the whole batch.
            return 0, True
        return min(i for i in indexes if i is not None), False

    def _park(self, shard_id: str, batch: list[dict[str, Any]], attempts: int) -> None:
        self.stats.parked_batches += 1
        self.stats.parked_records += len(batch)
        if self.park is not None:
            self.park(self.failure_message(shard_id, batch, attempts))

    def failure_message(self, shard_id: str, batch: list[dict[str, Any]], attempts: int) -> dict[str, Any]:
        """What Lambda sends to a stream mapping's on-failure destination: where the batch sits in
        the stream (read it again from there while the stream keeps it), not the records."""
        first, last = batch[0]["dynamodb"], batch[-1]["dynamodb"]
        function_arn = f"arn:aws:lambda:{self.region}:{ACCOUNT_ID}:function:{self.source.function}"
        return {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": function_arn,
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": attempts,
            },
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": "Unhandled",
            },
            "version": "1.0",
            "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "DDBStreamBatchInfo": {
                "shardId": shard_id,
                "startSequenceNumber": str(first["SequenceNumber"]),
                "endSequenceNumber": str(last["SequenceNumber"]),
                "approximateArrivalOfFirstRecord": _iso(first.get("ApproximateCreationDateTime")),
                "approximateArrivalOfLastRecord": _iso(last.get("ApproximateCreationDateTime")),
                "batchSize": len(batch),
                "streamArn": self.stream_arn,
            },
        }


def _iso(epoch: Any) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(float(epoch), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _bound(invoke: Callable[[str, dict[str, Any]], Any], function: str) -> Invoker:
    def call(event: dict[str, Any]) -> Any:
        return invoke(function, event)

    return call


def sqs_parker(sqs: Any, queue_url: str) -> Parker:
    def park(message: dict[str, Any]) -> None:
        sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(message))

    return park


def bind_mappings(
    sources: Sequence[StreamSource],
    *,
    table_names: Mapping[str, str],
    dynamodb: Any,
    streams: Any,
    invoke: Callable[[str, dict[str, Any]], Any],
    sqs: Any = None,
    queue_names: Mapping[str, str] | None = None,
    region: str = "us-east-1",
    retry_delay_seconds: float = 0.2,
) -> list[StreamMapping]:
    """A StreamMapping per enabled source: its table's current stream (from DescribeTable), the
    function by logical id, and its failure queue's URL (from the queue's name)."""
    mappings = []
    for source in sources:
        if not source.enabled:
            continue
        table = dynamodb.describe_table(TableName=table_names[source.table])["Table"]
        stream_arn = table.get("LatestStreamArn")
        if not stream_arn:
            raise StreamSetupError(f"table {source.table} has no stream; {source.function} cannot read it")
        park = None
        if source.on_failure is not None and sqs is not None and queue_names is not None:
            url = sqs.get_queue_url(QueueName=queue_names[source.on_failure])["QueueUrl"]
            park = sqs_parker(sqs, url)
        mappings.append(
            StreamMapping(
                source=source,
                streams=streams,
                stream_arn=stream_arn,
                invoke=_bound(invoke, source.function),
                park=park,
                region=region,
                retry_delay_seconds=retry_delay_seconds,
            )
        )
    return mappings


class StreamService(Service):
    """Polls every mapping on one thread, a few times a second (Lambda polls each shard about
    four times a second); a failure to read is reported and retried on the next tick."""

    def __init__(
        self, mappings: list[StreamMapping], *, every_seconds: float = 0.25, notice: Notice = print
    ) -> None:
        self.mappings = mappings
        self._every = every_seconds
        self._notice = notice
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def describe(self) -> list[str]:
        return [
            f"{m.source.function} <- stream of {m.source.table} (batch {m.source.batch_size}, "
            f"retries {m.source.maximum_retry_attempts}, failures to {m.source.on_failure or 'nowhere'})"
            for m in self.mappings
        ]

    def poll_once(self) -> int:
        done = 0
        for mapping in self.mappings:
            try:
                done += mapping.poll()
            except Exception as exc:  # a stream hiccup must not end the loop
                self._notice(f"stream {mapping.source.function}: {type(exc).__name__}: {exc}")
        return done

    def start(self) -> Self:
        if self.mappings and self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="streams", daemon=True)
            self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(self._every):
            self.poll_once()

    def stop(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=10)
