"""One logger, tracer and metrics object for the whole layer (Powertools conventions)."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

# Service name and level come from POWERTOOLS_SERVICE_NAME / LOG_LEVEL (template Globals).
logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace="CryptoSDK")
