"""GET /instruments and GET /rates: the catalogue (cached) and quotes, no signing needed."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from cryptosdk import snapstart
from cryptosdk.api import examples as api_examples
from cryptosdk.api.models import Code, DecimalString, InstrumentOut, InstrumentsOut, LegOut, RateOut
from cryptosdk.api.resolver import build_resolver, error_responses, json_response, resolve
from cryptosdk.container import container
from cryptosdk.exchange.models import RateRequest
from cryptosdk.runtime.observability import logger, metrics, traced

app = build_resolver()


def _ok(model: type[Any], description: str, examples: dict[str, Any]) -> dict[int, Any]:
    return {
        200: {
            "description": description,
            "content": {"application/json": {"model": model, "examples": examples}},
        }
    }


@app.get(
    "/instruments",
    summary="Instruments (currency + network) the exchange offers",
    operation_id="listInstruments",
    tags=["catalogue"],
    responses={**_ok(InstrumentsOut, "The catalogue", api_examples.INSTRUMENTS), **error_responses()},
)
def list_instruments(
    kind: Annotated[
        Literal["crypto", "fiat"] | None,
        Query(description="Only this kind", openapi_examples=api_examples.param("Crypto only", "crypto")),
    ] = None,
) -> Response[str]:
    catalogue = container().instruments.catalogue()
    body = InstrumentsOut(instruments=[InstrumentOut.from_instrument(i) for i in catalogue.of_kind(kind)])
    return json_response(200, body.model_dump(mode="json", by_alias=True))


@app.get(
    "/rates",
    summary="A quote with limits for a route and amount",
    operation_id="getRate",
    tags=["catalogue"],
    responses={**_ok(RateOut, "The quote", api_examples.RATE), **error_responses()},
)
def get_rate(
    from_: Annotated[
        Code,
        Query(
            alias="from",
            description="Currency to deposit",
            openapi_examples=api_examples.param("Bitcoin", "BTC"),
        ),
    ],
    from_network: Annotated[
        Code, Query(alias="fromNetwork", openapi_examples=api_examples.param("Bitcoin's own chain", "BTC"))
    ],
    to: Annotated[
        Code,
        Query(
            description="Currency to receive (fiat allowed for valuation)",
            openapi_examples=api_examples.param("Ether", "ETH"),
        ),
    ],
    to_network: Annotated[
        Code, Query(alias="toNetwork", openapi_examples=api_examples.param("Ethereum mainnet", "ERC20"))
    ],
    amount: Annotated[
        DecimalString | None,
        Query(
            description="Deposit amount, a decimal string",
            openapi_examples=api_examples.param("0.05 BTC", "0.05"),
        ),
    ] = None,
    rate_mode: Annotated[
        Literal["FLOATING", "FIXED"],
        Query(alias="rateMode", openapi_examples=api_examples.param("Floating rate", "FLOATING")),
    ] = "FLOATING",
) -> Response[str]:
    request = RateRequest(
        instrument_from_currency_title=from_,
        instrument_from_network_title=from_network,
        instrument_to_currency_title=to,
        instrument_to_network_title=to_network,
        claimed_deposit_amount=Decimal(amount) if amount is not None else None,
        claimed_deposit_amount_currency=from_ if amount is not None else None,
        rate_mode=rate_mode,
    )
    rate = container().exchange.get_rate(request)
    body = RateOut.from_rate(
        rate,
        LegOut(currency=from_, network=from_network),
        LegOut(currency=to, network=to_network),
        amount,
        rate_mode,
    )
    return json_response(200, body.model_dump(mode="json", by_alias=True))


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
    snapstart.MODELS,
    modules=("cryptosdk.orders.instruments", "cryptosdk.exchange.client"),
)
