"""The pre-create pipeline: every check an order must pass before the exchange hears of it.

Cheap local checks run first (catalogue, amount format, address format and memo rule) and all
their reasons are reported together; only a request that passes them costs upstream calls (the
quote with its limits, then the exchange's own validate-address). Field names are paths in the
API request body, so a client can put each reason next to the input it concerns.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING

from cryptosdk.domain.order import AddressVerdict, FieldError, Leg, OrderRequest, Party, ValidationFailedError
from cryptosdk.exchange import errors
from cryptosdk.exchange.models import Instrument, Rate, RateRequest
from cryptosdk.orders.instruments import Catalogue

if TYPE_CHECKING:
    from cryptosdk.exchange.client import ExchangeClient


@dataclass(frozen=True)
class ValidatedOrder:
    request: OrderRequest
    user_id: str
    from_instrument: Instrument
    to_instrument: Instrument
    rate: Rate


def _lookup(catalogue: Catalogue, leg: Leg, client: ExchangeClient) -> Instrument | None:
    """The catalogue lists only active instruments; for anything else ask the exchange, so an
    inactive instrument gets its own reason (this costs a call only for a refused request)."""
    instrument = catalogue.find(leg.currency, leg.network)
    if instrument is not None:
        return instrument
    try:
        return client.get_instrument(leg.currency.strip().upper(), leg.network.strip().upper())
    except errors.NotFoundError:
        return None
    except errors.InvalidRequestError:
        return None


def _leg_instrument(
    catalogue: Catalogue, leg: Leg, field: str, problems: list[FieldError], client: ExchangeClient
) -> Instrument | None:
    instrument = _lookup(catalogue, leg, client)
    name = f"{leg.currency} on {leg.network}"
    if instrument is None:
        problems.append(FieldError(field=field, reason=f"{name} is not an instrument the exchange offers."))
        return None
    if not instrument.is_active:
        problems.append(FieldError(field=field, reason=f"{name} is temporarily disabled; try again later."))
        return None
    if instrument.instrument_type.lower() == "fiat":
        problems.append(
            FieldError(field=field, reason=f"{name} is a fiat currency; orders exchange crypto only.")
        )
        return None
    return instrument


def _decimal_places(amount: Decimal) -> int:
    exponent = amount.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def check_amount(amount: Decimal, instrument: Instrument | None) -> FieldError | None:
    if not amount.is_finite() or amount <= 0:
        return FieldError(field="amount", reason="The amount must be a positive decimal number.")
    precision = instrument.precision_decimals if instrument else None
    if precision is not None and _decimal_places(amount) > precision:
        currency = instrument.currency_title if instrument else ""
        return FieldError(
            field="amount", reason=f"{currency} amounts have at most {precision} decimal places."
        )
    return None


def check_party_format(party: Party, instrument: Instrument, prefix: str) -> list[FieldError]:
    """Our own format, checksum and memo checks for an address on the instrument's network."""
    # Lazy (~6 ms): the orders function loads this module (through the service) but checks no address.
    from cryptosdk.addresses import check_address, check_memo

    problems: list[FieldError] = []
    address = check_address(instrument.network_title, party.address)
    if not address.valid:
        reason = address.reason or f"This is not a valid {instrument.network_title} address."
        problems.append(FieldError(field=f"{prefix}.address", reason=reason))
    memo = check_memo(instrument.network_title, party.memo, instrument.requires_memo)
    if not memo.valid:
        reason = memo.reason or "The memo is not valid for this network."
        problems.append(FieldError(field=f"{prefix}.memo", reason=reason))
    return problems


def _quote(client: ExchangeClient, request: OrderRequest, frm: Instrument, to: Instrument) -> Rate:
    rate_request = RateRequest(
        instrument_from_currency_title=frm.currency_title,
        instrument_from_network_title=frm.network_title,
        instrument_to_currency_title=to.currency_title,
        instrument_to_network_title=to.network_title,
        claimed_deposit_amount=request.amount,
        claimed_deposit_amount_currency=frm.currency_title,
        rate_mode=request.rate_mode.value,
    )
    try:
        rate = client.get_rate(rate_request)
    except errors.AmountOutOfLimitsError as exc:
        raise ValidationFailedError([_limit_reason(exc.bound, exc.limit, frm, exc.message)]) from None
    except errors.UnsupportedRouteError:
        reason = f"Exchanging {frm.currency_title} ({frm.network_title}) to {to.currency_title} "
        reason += f"({to.network_title}) is not supported."
        raise ValidationFailedError([FieldError(field="to", reason=reason)]) from None
    _check_rules(request.amount, rate, frm)
    return rate


def _limit_reason(bound: str | None, limit: Decimal | None, frm: Instrument, message: str) -> FieldError:
    currency = frm.currency_title
    if bound == "min" and limit is not None:
        return FieldError(field="amount", reason=f"The amount is below the minimum of {limit} {currency}.")
    if bound == "max" and limit is not None:
        return FieldError(field="amount", reason=f"The amount is above the maximum of {limit} {currency}.")
    return FieldError(field="amount", reason=f"The amount is outside the allowed limits ({message}).")


def _check_rules(amount: Decimal, rate: Rate, frm: Instrument) -> None:
    """The quote answered, but its deposit rules still bind (a "0" maximum means none)."""
    rules = rate.deposit_rules
    if rules is None:
        return
    if rules.min_amount is not None and amount < rules.min_amount:
        raise ValidationFailedError([_limit_reason("min", rules.min_amount, frm, "")])
    if rules.max_amount and amount > rules.max_amount:
        raise ValidationFailedError([_limit_reason("max", rules.max_amount, frm, "")])


def _exchange_check(
    client: ExchangeClient, party: Party, instrument: Instrument, prefix: str
) -> FieldError | None:
    verdict = client.validate_address(
        instrument.currency_title, instrument.network_title, party.address, party.memo
    )
    if verdict.result:
        return None
    reason = verdict.message or f"The exchange refused this {instrument.network_title} address."
    return FieldError(field=f"{prefix}.address", reason=reason)


def validate_order(
    request: OrderRequest,
    *,
    client: ExchangeClient,
    catalogue: Catalogue,
) -> ValidatedOrder:
    """Run the whole pipeline; raise ValidationFailedError with every field-level reason found."""
    problems: list[FieldError] = []
    user_id = (request.user_id or "").strip()
    if not user_id:
        problems.append(FieldError(field="userId", reason="A user id is required."))
    frm = _leg_instrument(catalogue, request.from_leg, "from", problems, client)
    to = _leg_instrument(catalogue, request.to_leg, "to", problems, client)
    amount_problem = check_amount(request.amount, frm)
    if amount_problem:
        problems.append(amount_problem)
    if to is not None:
        problems += check_party_format(request.destination, to, "destination")
    if frm is not None and request.refund is not None:
        problems += check_party_format(request.refund, frm, "refund")
    if problems or frm is None or to is None:
        raise ValidationFailedError(problems)

    exchange = client
    # The quote and the exchange's address checks are independent reads, so the quote (unsigned:
    # no key, no botocore client in the worker thread) runs beside the signed checks; a refused quote still
    # wins, as when they ran one after the other.
    quote = _worker().submit(_quote, exchange, request, frm, to)
    try:
        remote = [_exchange_check(exchange, request.destination, to, "destination")]
        if request.refund is not None:
            remote.append(_exchange_check(exchange, request.refund, frm, "refund"))
    finally:
        rate = quote.result()
    found = [p for p in remote if p is not None]
    if found:
        raise ValidationFailedError(found)
    return ValidatedOrder(request=request, user_id=user_id, from_instrument=frm, to_instrument=to, rate=rate)


@lru_cache(maxsize=1)
def _worker() -> ThreadPoolExecutor:
    """One thread for the quote, kept for the container's life (a pool per request costs more)."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="quote")


def validate_address(
    currency: str,
    network: str,
    address: str,
    memo: str | None = None,
    *,
    client: ExchangeClient,
    catalogue: Catalogue,
) -> AddressVerdict:
    """`POST /addresses/validate`: the same steps as for an order's destination."""
    instrument = _lookup(catalogue, Leg(currency=currency, network=network), client)
    if instrument is None or not instrument.is_active:
        reason = f"{currency} on {network} is not an instrument the exchange offers."
        return AddressVerdict(valid=False, memo_required=False, reason=reason)
    party = Party(address=address, memo=memo)
    problems = check_party_format(party, instrument, "address")
    if problems:
        return AddressVerdict(valid=False, memo_required=instrument.requires_memo, reason=problems[0].reason)
    remote = _exchange_check(client, party, instrument, "address")
    return AddressVerdict(
        valid=remote is None,
        memo_required=instrument.requires_memo,
        reason=remote.reason if remote else None,
    )
