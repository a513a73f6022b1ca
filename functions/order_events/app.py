"""OrderEventsFunction: the orders table's stream -> one OrderStatusChanged per status change.

Lambda's event source mapping hands over batches of stream records; Powertools' BatchProcessor
runs `cryptosdk.orders.outbox.publish_record` on each and answers a partial batch response, so the shard
resumes at the first failed record (failed records are retried, then parked in the failure queue).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from cryptosdk import snapstart
from cryptosdk.container import container
from cryptosdk.orders.outbox import publish_record
from cryptosdk.runtime.observability import logger, metrics

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def record_handler(record: DynamoDBRecord) -> str | None:
    return publish_record(record, container().publisher)


# The records carry users' orders: never log the event itself.
@logger.inject_lambda_context(clear_state=True, log_event=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )


snapstart.register(snapstart.PUBLISHER, modules=("cryptosdk.orders.outbox",))
