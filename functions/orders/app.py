"""GET /orders/{orderId} and GET /orders: stored orders with their status history."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.utilities.typing import LambdaContext

from cryptosdk import snapstart
from cryptosdk.api import build_resolver, error_responses, json_response, resolve, token_subject
from cryptosdk.api_models import Ident, OrderOut, OrdersPage
from cryptosdk.observability import logger, metrics

app = build_resolver()


@app.get(
    "/orders/<orderId>",
    summary="One order with its status history",
    responses={
        200: {"description": "The order", "content": {"application/json": {"model": OrderOut}}},
        **error_responses(401, 404),
    },
)
def get_order(order_id: Annotated[str, Path(alias="orderId", max_length=64)]) -> Response[str]:
    from cryptosdk.orders import get_order as read

    order = read(order_id, user_id=token_subject(app))
    return json_response(200, OrderOut.from_order(order).model_dump(mode="json", by_alias=True))


@app.get(
    "/orders",
    summary="A user's orders, newest first, paginated with an opaque cursor",
    responses={
        200: {"description": "One page", "content": {"application/json": {"model": OrdersPage}}},
        **error_responses(401, 403),
    },
)
def list_orders(
    user_id: Annotated[
        Ident | None, Query(alias="userId", description="Ignored when a JWT names the user")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> Response[str]:
    from cryptosdk.domain import AccessDeniedError, FieldError, ValidationFailedError
    from cryptosdk.orders import list_orders as read

    subject = token_subject(app)
    if subject is not None and user_id is not None and user_id != subject:
        raise AccessDeniedError("You can only list your own orders.")
    owner = subject or user_id
    if not owner:
        raise ValidationFailedError(
            [FieldError(field="userId", reason="The userId query parameter is required.")]
        )
    orders, next_cursor = read(owner, limit, cursor or None)
    page = OrdersPage(orders=[OrderOut.from_order(o) for o in orders], next_cursor=next_cursor)
    return json_response(200, page.model_dump(mode="json", by_alias=True))


@app.post(
    "/orders/<orderId>/refresh",
    summary="Poll the exchange for this order now (same path as the scheduled poller)",
    responses={
        200: {
            "description": "The order after the refresh",
            "content": {"application/json": {"model": OrderOut}},
        },
        # No body is needed, but one sent still passes the shared body checks (415 if not JSON).
        **error_responses(401, 404, 409, with_body=True),
    },
)
def refresh(order_id: Annotated[str, Path(alias="orderId", max_length=64)]) -> Response[str]:
    from cryptosdk.poller import refresh_order

    order = refresh_order(order_id, user_id=token_subject(app))
    return json_response(200, OrderOut.from_order(order).model_dump(mode="json", by_alias=True))


# Never log the event, whatever POWERTOOLS_LOGGER_LOG_EVENT says: it carries Authorization headers.
@logger.inject_lambda_context(clear_state=True, log_event=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(app, event, context)


# SnapStart (template parameter SnapStart=true): what the first request needs goes into the snapshot.
snapstart.register(
    snapstart.STORE,
    snapstart.EXCHANGE,
    snapstart.POLLER,
    snapstart.MODELS,
    modules=("cryptosdk.orders", "cryptosdk.poller"),
)
