"""One logger and metrics object for the whole layer (Powertools conventions), the correlation id
every log line and every write of an invocation carries, the exchange call counters behind the
429-rate alarm, and the optional Tracer.

Tracing is off by default (template parameter `Tracing`): the Powertools Tracer imports the X-Ray
SDK and patches botocore and http.client (the exchange client's urllib3), which adds cold start
(measured in the README, Operations).
With `POWERTOOLS_TRACE_DISABLED=false` (Tracing=Active) `traced` wraps the handler; otherwise it
returns the handler untouched and nothing of the X-Ray SDK is imported.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any, TypeVar, cast

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from cryptosdk.runtime.aws_sdk import require_botocore

# Every handler imports this module at init: an old runtime SDK fails there, with a clear message.
require_botocore()

# Service name and level come from POWERTOOLS_SERVICE_NAME / LOG_LEVEL (template Globals).
# Fields go in as keyword arguments (`logger.info("order event published", event_id=...)`), which
# Powertools writes as top-level keys; not `extra={...}`, the stdlib spelling of the same thing.
logger = Logger()
metrics = Metrics(namespace="CryptoSDK")

# Metric names the template's alarms and dashboard read (template.yaml, Exchange429RateAlarm).
EXCHANGE_CALLS_METRIC = "ExchangeCalls"
EXCHANGE_RATE_LIMITED_METRIC = "ExchangeRateLimited"

Handler = TypeVar("Handler", bound=Callable[..., Any])

# The poller counts calls from its worker threads; Powertools' metric set is a plain dict.
_metrics_lock = threading.Lock()


def correlation_id() -> str | None:
    """The id on every log line of this invocation, or None outside one.

    API functions: the API Gateway request id (the same value the client gets as error.requestId
    and the access log's requestId); the poller: the scheduled event's id."""
    return logger.get_correlation_id()


def count_exchange_attempt(status: int | None) -> None:
    """One HTTP attempt at the exchange (status None: no answer), for the 429-rate alarm."""
    with _metrics_lock:
        metrics.add_metric(name=EXCHANGE_CALLS_METRIC, unit=MetricUnit.Count, value=1)
        if status == 429:
            metrics.add_metric(name=EXCHANGE_RATE_LIMITED_METRIC, unit=MetricUnit.Count, value=1)


def tracing_enabled() -> bool:
    return os.environ.get("POWERTOOLS_TRACE_DISABLED", "true").strip().lower() == "false"


def traced(handler: Handler) -> Handler:
    """The handler under the Powertools Tracer when tracing is on, else the handler itself."""
    if not tracing_enabled():
        return handler
    from aws_lambda_powertools import Tracer

    # Only what we call: patching every supported library would import them all at cold start.
    # httplib covers the exchange client's urllib3 calls; X-Ray's patch leaves botocore's own
    # connections to the botocore patch, so no call is traced twice.
    tracer = Tracer(patch_modules=("botocore", "httplib"))
    # Responses carry orders (personal data): never recorded in a trace.
    return cast(Handler, tracer.capture_lambda_handler(handler, capture_response=False))
