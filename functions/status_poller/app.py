"""StatusPollerFunction: on the EventBridge schedule, bring every due order in step with the exchange.

The scheduled event's `detail` is empty; a fan-out producer may name the shards this invocation
owns (`{"shards": ["0", "1"]}`). The work is `cryptosdk.orders.polling.run.poll_due_orders`.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from cryptosdk import snapstart
from cryptosdk.container import container
from cryptosdk.orders.polling.run import poll_due_orders
from cryptosdk.runtime.observability import logger, metrics, traced


class PollDetail(BaseModel):
    model_config = ConfigDict(extra="ignore")

    shards: list[str] | None = Field(default=None, max_length=64)


class PollEvent(EventBridgeModel):
    detail: PollDetail


# The correlation id of a run is the scheduled event's id: every order it writes carries it.
@traced
@logger.inject_lambda_context(clear_state=True, correlation_id_path=correlation_paths.EVENT_BRIDGE)
@metrics.log_metrics
@event_parser(model=PollEvent)
def lambda_handler(event: PollEvent, context: LambdaContext) -> dict[str, Any]:
    c = container()
    summary = poll_due_orders(
        event.detail.shards,
        deps=c.poller_deps,
        options=c.poller_options,
        remaining_ms=context.get_remaining_time_in_millis,
    )
    return summary.as_dict()


# SnapStart (template parameter SnapStart=true): what the first request needs goes into the snapshot.
snapstart.register(
    snapstart.EXCHANGE, snapstart.POLLER, snapstart.MODELS, modules=("cryptosdk.orders.polling.run",)
)
