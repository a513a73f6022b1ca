"""GET /orders/{orderId} and GET /orders: stored orders with their status history."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from cryptosdk import snapstart
from cryptosdk.api import examples as api_examples
from cryptosdk.api.models import Ident, OrderOut, OrdersPage
from cryptosdk.api.resolver import build_resolver, error_responses, json_response, resolve, token_subject
from cryptosdk.container import container
from cryptosdk.domain.order import AccessDeniedError, FieldError, ValidationFailedError
from cryptosdk.orders import service
from cryptosdk.runtime.observability import logger, metrics, traced

app = build_resolver()


@app.get(
    "/orders/<orderId>",
    summary="One order with its status history",
    operation_id="getOrder",
    tags=["orders"],
    responses={
        200: {
            "description": "The order",
            "content": {"application/json": {"model": OrderOut, "examples": api_examples.ORDER}},
        },
        **error_responses(401, 404),
    },
)
def get_order(
    order_id: Annotated[
        str,
        Path(
            alias="orderId",
            max_length=64,
            openapi_examples=api_examples.param("An order id", api_examples.ORDER_ID),
        ),
    ],
) -> Response[str]:
    c = container()
    order = service.get_order(order_id, c.orders, user_id=token_subject(app, c.settings.auth_mode))
    return json_response(200, OrderOut.from_order(order).model_dump(mode="json", by_alias=True))


@app.get(
    "/orders",
    summary="A user's orders, newest first, paginated with an opaque cursor",
    operation_id="listOrders",
    tags=["orders"],
    responses={
        200: {
            "description": "One page",
            "content": {"application/json": {"model": OrdersPage, "examples": api_examples.ORDERS_PAGE}},
        },
        **error_responses(400, 401, 403, examples={400: "invalid_cursor"}),
    },
)
def list_orders(
    user_id: Annotated[
        Ident | None,
        Query(
            alias="userId",
            description="Ignored when a JWT names the user",
            openapi_examples=api_examples.param("A user", "user-1"),
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100, openapi_examples=api_examples.param("One per page", 1))] = 20,
    cursor: Annotated[
        str | None,
        Query(
            max_length=2048,
            openapi_examples=api_examples.param("The previous page's nextCursor", api_examples.CURSOR),
        ),
    ] = None,
) -> Response[str]:
    c = container()
    subject = token_subject(app, c.settings.auth_mode)
    if subject is not None and user_id is not None and user_id != subject:
        raise AccessDeniedError("You can only list your own orders.")
    owner = subject or user_id
    if not owner:
        raise ValidationFailedError(
            [FieldError(field="userId", reason="The userId query parameter is required.")]
        )
    orders, next_cursor = service.list_orders(owner, c.orders, limit, cursor or None)
    page = OrdersPage(orders=[OrderOut.from_order(o) for o in orders], next_cursor=next_cursor)
    return json_response(200, page.model_dump(mode="json", by_alias=True))


@app.post(
    "/orders/<orderId>/refresh",
    summary="Poll the exchange for this order now (same path as the scheduled poller)",
    operation_id="refreshOrder",
    tags=["orders"],
    responses={
        200: {
            "description": "The order after the refresh",
            "content": {"application/json": {"model": OrderOut, "examples": api_examples.ORDER}},
        },
        # No body is needed, but one sent still passes the shared body checks (415 if not JSON).
        **error_responses(401, 404, 409, with_body=True, examples={409: "conflict"}),
    },
)
def refresh(
    order_id: Annotated[
        str,
        Path(
            alias="orderId",
            max_length=64,
            openapi_examples=api_examples.param("An order id", api_examples.ORDER_ID),
        ),
    ],
) -> Response[str]:
    # Lazy: the poll flow and the exchange client (~115 ms) serve this route only, not the GETs.
    from cryptosdk.orders.refresh import refresh_order

    c = container()
    order = refresh_order(
        order_id,
        deps=c.poller_deps,
        options=c.poller_options,
        user_id=token_subject(app, c.settings.auth_mode),
    )
    return json_response(200, OrderOut.from_order(order).model_dump(mode="json", by_alias=True))


# Never log the event, whatever POWERTOOLS_LOGGER_LOG_EVENT says: it carries Authorization headers.
# The correlation id is the API Gateway request id: the client's error.requestId, the access log's.
@traced
@logger.inject_lambda_context(
    clear_state=True, log_event=False, correlation_id_path=correlation_paths.API_GATEWAY_HTTP
)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(app, event, context)


# SnapStart (template parameter SnapStart=true): what the first request needs goes into the snapshot.
snapstart.register(
    snapstart.STORE,
    snapstart.EXCHANGE,
    snapstart.POLLER,
    snapstart.MODELS,
    modules=("cryptosdk.orders.service", "cryptosdk.orders.refresh"),
)
