"""POST /addresses/validate and POST /orders: the validation pipeline and idempotent create."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Header
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from cryptosdk import snapstart
from cryptosdk.api import examples as api_examples
from cryptosdk.api.models import (
    HEADER_TEXT,
    AddressValidateBody,
    AddressVerdictOut,
    CreateOrderBody,
    OrderOut,
)
from cryptosdk.api.resolver import build_resolver, error_responses, json_response, resolve, token_subject
from cryptosdk.container import container
from cryptosdk.orders import service, validation
from cryptosdk.runtime.observability import logger, metrics, traced

app = build_resolver()


@app.post(
    "/addresses/validate",
    summary="Check an address (and memo) for a currency and network",
    operation_id="validateAddress",
    tags=["addresses"],
    responses={
        200: {
            "description": "The verdict",
            "content": {
                "application/json": {"model": AddressVerdictOut, "examples": api_examples.ADDRESS_VERDICT}
            },
        },
        **error_responses(with_body=True),
    },
)
def validate_address(
    body: Annotated[AddressValidateBody, Body(openapi_examples=api_examples.VALIDATE_ADDRESS_REQUEST)],
) -> Response[str]:
    c = container()
    verdict = validation.validate_address(
        body.currency,
        body.network,
        body.address,
        body.memo or None,
        client=c.exchange,
        catalogue=c.instruments.catalogue(),
    )
    return json_response(200, AddressVerdictOut.from_verdict(verdict).model_dump(mode="json", by_alias=True))


@app.post(
    "/orders",
    summary="Create an order (idempotent on the Idempotency-Key header)",
    operation_id="createOrder",
    tags=["orders"],
    responses={
        201: {
            "description": "Created",
            "content": {"application/json": {"model": OrderOut, "examples": api_examples.ORDER}},
        },
        202: {
            "description": "Accepted: the exchange's answer is pending; poll GET /orders/{orderId}",
            "content": {"application/json": {"model": OrderOut, "examples": api_examples.PENDING_ORDER}},
        },
        **error_responses(401, 409, with_body=True),
    },
)
def create_order(
    body: Annotated[CreateOrderBody, Body(openapi_examples=api_examples.CREATE_ORDER_REQUEST)],
    idempotency_key: Annotated[
        str,
        Header(
            min_length=1,
            max_length=128,
            pattern=HEADER_TEXT,
            description="One key per intended order (no control characters)",
            openapi_examples=api_examples.param("A UUID per order", "3b2f6c1e-8d4a-4f0e-9c55-2a7d1e9b0c41"),
        ),
    ],
) -> Response[str]:
    c = container()
    subject = token_subject(app, c.settings.auth_mode)
    request = body.to_domain(user_id=subject or body.user_id)
    placement = service.place_order(request, idempotency_key, c.order_deps)
    # A replay (or a pending outcome) reads the stored order; a fresh placement already holds it.
    order = placement.order or service.get_order(placement.order_id, c.orders)
    metrics.add_metric(
        name="OrdersPlaced" if placement.created else "OrdersPending", unit=MetricUnit.Count, value=1
    )
    status = 201 if placement.created else 202
    payload = OrderOut.from_order(order).model_dump(mode="json", by_alias=True)
    return json_response(status, payload, {"Location": f"/orders/{order.id}"})


# Never log the event, whatever POWERTOOLS_LOGGER_LOG_EVENT says: it carries Authorization headers.
# The correlation id is the API Gateway request id: the client's error.requestId, the access log's.
@traced
@logger.inject_lambda_context(
    clear_state=True, log_event=False, correlation_id_path=correlation_paths.API_GATEWAY_HTTP
)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    service.register_lambda_context(context, container().order_deps)
    return resolve(app, event, context)


# SnapStart (template parameter SnapStart=true): what the first request needs goes into the snapshot.
snapstart.register(
    snapstart.STORE,
    snapstart.EXCHANGE,
    snapstart.IDEMPOTENCY,
    snapstart.MODELS,
    modules=("cryptosdk.orders.service", "cryptosdk.orders.validation", "cryptosdk.addresses"),
)
