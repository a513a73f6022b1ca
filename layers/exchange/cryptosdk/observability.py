"""One logger and metrics object for the whole layer (Powertools conventions).

No Powertools Tracer: the template's `Tracing: Active` already gives every invocation an X-Ray
segment, while the Tracer's X-Ray SDK costs about 0.5 s of cold start and a second botocore in
the layer. Add it back here only if per-call subsegments become worth that price.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics

from cryptosdk.sdk import require_botocore

# Every handler imports this module at init: an old runtime SDK fails there, with a clear message.
require_botocore()

# Service name and level come from POWERTOOLS_SERVICE_NAME / LOG_LEVEL (template Globals).
logger = Logger()
metrics = Metrics(namespace="CryptoSDK")
