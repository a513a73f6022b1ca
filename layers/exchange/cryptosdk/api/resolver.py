"""The HTTP plumbing every API function shares: resolver, error answers, caller identity."""

from __future__ import annotations

import json
from re import Match
from typing import Any
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from cryptosdk.api.body import precheck_body
from cryptosdk.api.error_mapping import ErrorAnswer, answer_for, validation_answer
from cryptosdk.api.examples import ERROR_EXAMPLE_FOR_STATUS, ERRORS, example
from cryptosdk.api.models import PATTERN_REASONS, ErrorResponse, GatewayRefusal
from cryptosdk.domain.order import UnauthenticatedError
from cryptosdk.runtime.observability import logger

JSON = "application/json"

# What each route documents besides its success answer (all in the ErrorResponse shape).
ERROR_RESPONSES: dict[int, str] = {
    400: "Malformed request (body not JSON or not UTF-8, a key repeated in one object, bad cursor)",
    415: "Content-Type is not application/json",
    422: "Invalid fields, with a reason per field",
    424: "The exchange's liquidity provider failed",
    429: "The exchange's rate limit persists (see Retry-After)",
    502: "The exchange answered badly or refused our credentials",
    503: "The exchange is unavailable (see Retry-After)",
    504: "The exchange timed out",
}


# API Gateway's own refusals of a credential, before any function runs: every route can give the
# one its AuthMode uses, with API Gateway's body {"message": ...} rather than ours.
AUTH_REFUSALS: dict[int, tuple[str, str]] = {
    401: (
        "gateway_unauthorized",
        "AuthMode=JWT: API Gateway refused the bearer token (missing, expired, wrong audience)",
    ),
    403: ("gateway_forbidden", "AuthMode=IAM: API Gateway refused the SigV4 signature or the IAM policy"),
}


def error_responses(
    *extra: int, with_body: bool = False, examples: dict[int, str] | None = None
) -> dict[int, Any]:
    """OpenAPI `responses` for a route: every error status it can give, each with a real answer
    as its example (`examples` picks another error code's for a status). Statuses in `extra` are
    answered by our code (ErrorResponse); 401/403 also by API Gateway's auth (GatewayRefusal).
    `with_body` for every POST: the shared body checks run on any body sent, needed or not."""
    codes = sorted(set(ERROR_RESPONSES) | set(extra) | set(AUTH_REFUSALS))
    if not with_body:
        # 400 and 415 judge a body (encoding, JSON, Content-Type); a bodiless route gives a 400
        # only for what it names in `extra` (a bad cursor).
        codes = [c for c in codes if c not in (400, 415) or c in extra]
    descriptions = {
        401: "Not authenticated",
        403: "Not allowed",
        404: "No such order",
        409: "Conflict (a request with this Idempotency-Key is in progress)",
        **ERROR_RESPONSES,
    }
    chosen = {**ERROR_EXAMPLE_FOR_STATUS, **(examples or {})}
    responses: dict[int, Any] = {}
    for code in codes:
        ours = code not in AUTH_REFUSALS or code in extra
        shown = {chosen[code]: example(descriptions[code], ERRORS[chosen[code]])} if ours else {}
        if code in AUTH_REFUSALS:
            name, summary = AUTH_REFUSALS[code]
            shown[name] = example(summary, ERRORS[name])
        description = descriptions[code] if ours else AUTH_REFUSALS[code][1]
        if ours and code in AUTH_REFUSALS:
            description = f"{descriptions[code]}, or {AUTH_REFUSALS[code][1]}"
        responses[code] = {
            "description": description,
            "content": {JSON: {"model": _error_model(ours, code in AUTH_REFUSALS), "examples": shown}},
        }
    return responses


def _error_model(ours: bool, gateway: bool) -> Any:
    if ours and gateway:
        return ErrorResponse | GatewayRefusal
    return ErrorResponse if ours else GatewayRefusal


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response[str]:
    return Response(
        status_code=status,
        content_type=JSON,
        body=json.dumps(body, separators=(",", ":"), ensure_ascii=False),
        headers=headers or {},
    )


def _request_id(app: APIGatewayHttpResolver) -> str | None:
    try:
        return app.current_event.request_context.request_id
    except (AttributeError, KeyError):
        return None


def error_response(answer: ErrorAnswer, request_id: str | None) -> Response[str]:
    headers = {k: v for k, v in answer.response_headers().items() if k != "Content-Type"}
    return json_response(answer.status, answer.body(request_id), headers)


class _Resolver(APIGatewayHttpResolver):
    """Path parameters percent-decoded, as API Gateway's own pathParameters are.

    Powertools matches routes against rawPath, which API Gateway leaves percent-encoded, so
    `/orders/ord%5F1` reached the handler as `ord%5F1`: a 404 for an order that exists, and
    the length limit the OpenAPI document states counted the escapes instead of the characters.
    This is the one private Powertools method we override: its request validation reads the route
    arguments before any middleware runs (v3.37.0), so no public hook sees them in time.
    """

    def _convert_matches_into_route_keys(self, match: Match[str]) -> dict[str, str]:
        return {name: unquote(value) for name, value in match.groupdict().items()}


def build_resolver() -> APIGatewayHttpResolver:
    """A resolver with validation on and every error answered in our shape."""
    app = _Resolver(enable_validation=True)

    @app.exception_handler(RequestValidationError)  # type: ignore[untyped-decorator]
    def _invalid(exc: RequestValidationError) -> Response[str]:
        return error_response(validation_answer(list(exc.errors()), PATTERN_REASONS), _request_id(app))

    @app.exception_handler(Exception)  # type: ignore[untyped-decorator]
    def _any(exc: Exception) -> Response[str]:
        answer = answer_for(exc)
        log = logger.exception if answer.status >= 500 else logger.info
        # str(exc) of our errors is safe to log (no keys, no signatures); the class says what.
        log("request failed", status=answer.status, code=answer.code, error_type=type(exc).__name__)
        return error_response(answer, _request_id(app))

    @app.not_found
    def _not_found(_: Exception) -> Response[str]:
        return error_response(ErrorAnswer(404, "not_found", "No such route."), _request_id(app))

    return app


def resolve(app: APIGatewayHttpResolver, event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Body checks first, then the routes.

    Not a Powertools middleware (`app.use`): Powertools runs its request validation, which parses
    the body, before every user middleware (v3.37.0), so a middleware sees the body too late. Tried
    with the same checks as a middleware: a base64 body that is not UTF-8 became a 500 (ours:
    400), an accepted `+json` Content-Type a 415, and `Infinity` a 422 (ours: 400).
    """
    try:
        event = precheck_body(event)
    except Exception as exc:  # a rejection, or an event too odd to read: answered, never raised
        request_id = (event.get("requestContext") or {}).get("requestId")
        answer = answer_for(exc)
        return {
            "statusCode": answer.status,
            "headers": answer.response_headers(),
            "body": json.dumps(answer.body(request_id), separators=(",", ":"), ensure_ascii=False),
            "isBase64Encoded": False,
        }
    return app.resolve(event, context)


# -- caller identity --------------------------------------------------------------------------


def token_subject(app: APIGatewayHttpResolver, auth_mode: str) -> str | None:
    """The caller's user id when API Gateway checked a JWT (`auth_mode` JWT: AUTH_MODE), else None."""
    if auth_mode != "JWT":
        return None
    subject = app.current_event.request_context.authorizer.jwt_claim.get("sub")
    if not subject:
        raise UnauthenticatedError("The token carries no subject.")
    return str(subject)
