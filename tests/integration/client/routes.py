"""Addresses and requests that the sandbox accepts, shared by the client's integration tests."""

from __future__ import annotations

from decimal import Decimal

from cryptosdk.exchange.models import CreateOrderRequest, InstrumentRef, RateRequest

BTC = InstrumentRef(currency_title="BTC", network_title="BTC")
ETH = InstrumentRef(currency_title="ETH", network_title="ERC20")
XRP = InstrumentRef(currency_title="XRP", network_title="XRP")
USD = InstrumentRef(currency_title="USD", network_title="USD")

# Public test vectors: BIP-173 (P2WPKH) and EIP-55 (mixed-case checksum); the XRP Ledger docs' example.
BTC_ADDRESS = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
BTC_ADDRESS_BAD_CHECKSUM = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5"
ETH_ADDRESS = "0x52908400098527886E0F7030069857D2E4169EE7"
XRP_ADDRESS = "rPEPPER7kfTD9w2To4CQk6UCfuHM9c6GDY"


def btc_to_eth(amount: str = "0.1", destination: str = ETH_ADDRESS, **extra: object) -> CreateOrderRequest:
    return CreateOrderRequest.model_validate(
        {
            "instrument_from": BTC,
            "instrument_to": ETH,
            "destination_address": destination,
            "refund_address": BTC_ADDRESS,
            "claimed_deposit_amount": Decimal(amount),
            **extra,
        }
    )


def rate(
    source: InstrumentRef, target: InstrumentRef, amount: str | None, mode: str = "FLOATING"
) -> RateRequest:
    return RateRequest.model_validate(
        {
            "instrument_from_currency_title": source.currency_title,
            "instrument_from_network_title": source.network_title,
            "instrument_to_currency_title": target.currency_title,
            "instrument_to_network_title": target.network_title,
            "claimed_deposit_amount": amount,
            "rate_mode": mode,
        }
    )
