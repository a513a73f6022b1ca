"""The v2 signature: known answers computed independently, and the bytes sent are the bytes signed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from decimal import Decimal
from urllib.parse import urlsplit

import pytest

from cryptosdk.exchange import errors
from cryptosdk.exchange.client import ExchangeClient
from cryptosdk.exchange.models import CreateOrderRequest, InstrumentRef, RateRequest
from cryptosdk.exchange.retry import RetryPolicy
from cryptosdk.exchange.secrets import ApiKeys, StaticKeyProvider
from cryptosdk.exchange.signing import compact_json, sign, signed_headers
from cryptosdk.exchange.transport import HttpRequest, HttpResponse
from cryptosdk.exchange.wire import build_query

PUBLIC = "pk_live_3f9a"
SECRET = "sk_live_7d1c0ffee"


def reference_signature(secret: str, timestamp: str, payload: bytes, public: str) -> str:
    # Written from the contract text, independently of cryptosdk.exchange.signing.
    mac = hmac.new(secret.encode(), timestamp.encode() + payload + public.encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


class TestSign:
    @pytest.mark.parametrize(
        ("timestamp", "payload"),
        [
            ("1700000000000", b'{"currencyTitle":"BTC","networkTitle":"BTC"}'),
            ("1700000000123", b""),
            ("1", b"offset=0&limit=50&order=desc"),
            ("1700000000000", '{"memo":"café ☕"}'.encode()),
        ],
    )
    def test_matches_reference_hmac(self, timestamp: str, payload: bytes) -> None:
        assert sign(SECRET, timestamp, payload, PUBLIC) == reference_signature(
            SECRET, timestamp, payload, PUBLIC
        )

    def test_str_payload_signs_its_utf8_bytes(self) -> None:
        assert sign(SECRET, "5", "a=ü", PUBLIC) == sign(SECRET, "5", "a=ü".encode(), PUBLIC)

    def test_every_input_changes_the_signature(self) -> None:
        base = sign(SECRET, "1", b"x", PUBLIC)
        assert len({base, sign(SECRET + "!", "1", b"x", PUBLIC), sign(SECRET, "2", b"x", PUBLIC)}) == 3
        assert base != sign(SECRET, "1", b"y", PUBLIC)
        assert base != sign(SECRET, "1", b"x", PUBLIC + "!")

    def test_signature_is_standard_base64_of_32_bytes(self) -> None:
        assert len(base64.b64decode(sign(SECRET, "1", b"", PUBLIC), validate=True)) == 32


class TestCompactJson:
    def test_no_whitespace_and_key_order_kept(self) -> None:
        assert compact_json({"b": 1, "a": [1, {"c": None}]}) == b'{"b":1,"a":[1,{"c":null}]}'

    def test_non_ascii_kept_as_utf8_not_escaped(self) -> None:
        assert compact_json({"memo": "Zürich ✓"}) == '{"memo":"Zürich ✓"}'.encode()


class TestSignedHeaders:
    keys = ApiKeys(public_key=PUBLIC, secret_key=SECRET)

    def test_post_headers(self) -> None:
        body = compact_json({"currencyTitle": "USDT", "networkTitle": "TRC20"})
        headers = signed_headers(self.keys, body, 1_700_000_000_123)
        assert headers["X-Api-Public-Key"] == PUBLIC
        assert headers["X-Api-Timestamp"] == "1700000000123"
        assert headers["X-Api-Signature"] == reference_signature(SECRET, "1700000000123", body, PUBLIC)
        assert headers["Accept"] == "application/json"
        assert headers["Content-Type"] == "application/json"

    def test_get_headers_sign_the_query_and_have_no_content_type(self) -> None:
        headers = signed_headers(self.keys, "orderId=7&destinationAddress=abc", 1_700_000_000_000)
        expected = reference_signature(SECRET, "1700000000000", b"orderId=7&destinationAddress=abc", PUBLIC)
        assert headers["X-Api-Signature"] == expected
        assert "Content-Type" not in headers

    def test_timestamp_is_milliseconds(self) -> None:
        headers = signed_headers(self.keys, "", 1_732_700_000_000)
        assert len(headers["X-Api-Timestamp"]) == 13


class CapturingAdapter:
    """A transport that records what the client hands to urllib3 (method, URL, headers, body: what
    goes on the wire) and answers a canned reply."""

    def __init__(self, status: int = 200, body: bytes = b"[]") -> None:
        self.sent: list[HttpRequest] = []
        self.status, self.body = status, body

    def send(self, request: HttpRequest, *, connect_timeout: float, read_timeout: float) -> HttpResponse:
        self.sent.append(request)
        return HttpResponse(self.status, {"Content-Type": "application/json"}, self.body)

    def close(self) -> None:
        pass


def client_with(adapter: CapturingAdapter) -> ExchangeClient:
    return ExchangeClient(
        "http://exchange.invalid",
        StaticKeyProvider(PUBLIC, SECRET),
        transport=adapter,
        retry=RetryPolicy(max_attempts=1),
        clock_ms=lambda: 1_700_000_000_000,
    )


def verify(prepared: HttpRequest, payload: bytes) -> None:
    timestamp = prepared.headers["X-Api-Timestamp"]
    assert prepared.headers["X-Api-Signature"] == reference_signature(SECRET, timestamp, payload, PUBLIC)


class TestWireBytesAreSignedBytes:
    def test_post_body_on_the_wire_is_the_signed_compact_json(self) -> None:
        adapter = CapturingAdapter(body=b'{"result": true}')
        client_with(adapter).validate_address("XLM", "XLM", "GABC", memo="Zürich 42")
        prepared = adapter.sent[0]
        assert isinstance(prepared.body, bytes)
        assert (
            prepared.body
            == '{"currencyTitle":"XLM","networkTitle":"XLM","address":"GABC","memo":"Zürich 42"}'.encode()
        )
        verify(prepared, prepared.body)
        assert prepared.headers["Content-Length"] == str(len(prepared.body))

    def test_create_order_body_has_decimal_strings_and_is_signed(self) -> None:
        order = {
            "orderId": 1,
            "createdAt": "2026-11-27T07:00:00Z",
            "destinationAddress": "rDest",
            "claimedDepositAmount": "0.10000000",
        }
        adapter = CapturingAdapter(body=json.dumps(order).encode())
        request = CreateOrderRequest(
            instrument_from=InstrumentRef(currency_title="BTC", network_title="BTC"),
            instrument_to=InstrumentRef(currency_title="XRP", network_title="XRP"),
            destination_address="rDest",
            destination_address_memo=123456,
            claimed_deposit_amount=Decimal("0.10000000"),
        )
        client_with(adapter).create_order(request)
        prepared = adapter.sent[0]
        assert isinstance(prepared.body, bytes)
        sent = json.loads(prepared.body)
        assert sent["claimedDepositAmount"] == "0.10000000"
        assert sent["destinationAddressMemo"] == "123456"
        assert b" " not in prepared.body
        verify(prepared, prepared.body)

    def test_get_query_on_the_wire_is_the_signed_query(self) -> None:
        order = {"orderId": 9, "createdAt": "2026-11-27T07:00:00Z", "destinationAddress": "a b+c&d=é/?"}
        adapter = CapturingAdapter(body=json.dumps(order).encode())
        client_with(adapter).get_order(9, "a b+c&d=é/?")
        prepared = adapter.sent[0]
        query = urlsplit(prepared.url).query
        assert query == "orderId=9&destinationAddress=a%20b%2Bc%26d%3D%C3%A9%2F%3F"
        verify(prepared, query.encode())
        assert prepared.body is None
        assert "Content-Type" not in prepared.headers

    def test_unsigned_get_carries_no_key_headers(self) -> None:
        adapter = CapturingAdapter(body=b"{}")
        rate = RateRequest(
            instrument_from_currency_title="BTC",
            instrument_from_network_title="BTC",
            instrument_to_currency_title="ETH",
            instrument_to_network_title="ERC20",
            claimed_deposit_amount=Decimal("1E+2"),
        )
        client_with(adapter).get_rate(rate)
        prepared = adapter.sent[0]
        assert "X-Api-Signature" not in prepared.headers
        assert "claimedDepositAmount=100&" in urlsplit(prepared.url).query


class TestBuildQuery:
    def test_skips_none_and_formats_decimals_plainly(self) -> None:
        assert build_query([("a", None), ("b", Decimal("1.50")), ("c", 0)]) == "b=1.50&c=0"

    def test_percent_encodes_everything_outside_unreserved(self) -> None:
        assert build_query([("k", "x y/z~._-")]) == "k=x%20y%2Fz~._-"


def test_error_bodies_echoing_the_signature_or_secret_are_redacted() -> None:
    # An upstream (or proxy) that echoes request headers must not carry our secrets into errors.
    echoed = json.dumps({"message": f"bad signature; secret {SECRET}; got {{sig}}"})
    adapter = CapturingAdapter(status=401, body=b"")
    client = client_with(adapter)
    expected_sig = signed_headers(
        ApiKeys(public_key=PUBLIC, secret_key=SECRET), "offset=0&limit=50&order=desc", 1_700_000_000_000
    )["X-Api-Signature"]
    adapter.body = echoed.replace("{sig}", expected_sig).encode()
    with pytest.raises(errors.AuthError) as caught:
        client.list_orders()
    text = f"{caught.value} {caught.value!r} {caught.value.message}"
    assert SECRET not in text
    assert expected_sig not in text
    assert "[redacted]" in text
    assert len(adapter.sent) == 1  # static keys: re-reading gives the same keys, so no retry
