"""GET /instruments and GET /rates: the catalogue (cached) and quotes, no signing needed."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.utilities.typing import LambdaContext

from cryptosdk import snapstart
from cryptosdk.api import build_resolver, error_responses, json_response, resolve
from cryptosdk.api_models import Code, DecimalString, InstrumentOut, InstrumentsOut, LegOut, RateOut
from cryptosdk.observability import logger, metrics

app = build_resolver()


def _ok(model: type[Any], description: str) -> dict[int, Any]:
    return {200: {"description": description, "content": {"application/json": {"model": model}}}}


@app.get(
    "/instruments",
    summary="Instruments (currency + network) the exchange offers",
    responses={**_ok(InstrumentsOut, "The catalogue"), **error_responses()},
)
def list_instruments(
    kind: Annotated[Literal["crypto", "fiat"] | None, Query(description="Only this kind")] = None,
) -> Response[str]:
    from cryptosdk.instruments import get_catalogue

    catalogue = get_catalogue()
    body = InstrumentsOut(instruments=[InstrumentOut.from_instrument(i) for i in catalogue.of_kind(kind)])
    return json_response(200, body.model_dump(mode="json", by_alias=True))


@app.get(
    "/rates",
    summary="A quote with limits for a route and amount",
    responses={**_ok(RateOut, "The quote"), **error_responses()},
)
def get_rate(
    from_: Annotated[Code, Query(alias="from", description="Currency to deposit")],
    from_network: Annotated[Code, Query(alias="fromNetwork")],
    to: Annotated[Code, Query(description="Currency to receive (fiat allowed for valuation)")],
    to_network: Annotated[Code, Query(alias="toNetwork")],
    amount: Annotated[DecimalString | None, Query(description="Deposit amount, a decimal string")] = None,
    rate_mode: Annotated[Literal["FLOATING", "FIXED"], Query(alias="rateMode")] = "FLOATING",
) -> Response[str]:
    from decimal import Decimal

    from cryptosdk.client import get_client
    from cryptosdk.models import RateRequest

    request = RateRequest(
        instrument_from_currency_title=from_,
        instrument_from_network_title=from_network,
        instrument_to_currency_title=to,
        instrument_to_network_title=to_network,
        claimed_deposit_amount=Decimal(amount) if amount is not None else None,
        claimed_deposit_amount_currency=from_ if amount is not None else None,
        rate_mode=rate_mode,
    )
    rate = get_client().get_rate(request)
    body = RateOut.from_rate(
        rate,
        LegOut(currency=from_, network=from_network),
        LegOut(currency=to, network=to_network),
        amount,
        rate_mode,
    )
    return json_response(200, body.model_dump(mode="json", by_alias=True))


# Never log the event, whatever POWERTOOLS_LOGGER_LOG_EVENT says: it carries Authorization headers.
@logger.inject_lambda_context(clear_state=True, log_event=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(app, event, context)


# SnapStart (template parameter SnapStart=true): what the first request needs goes into the snapshot.
snapstart.register(
    snapstart.STORE,
    snapstart.EXCHANGE,
    snapstart.MODELS,
    modules=("cryptosdk.instruments", "cryptosdk.client"),
)
