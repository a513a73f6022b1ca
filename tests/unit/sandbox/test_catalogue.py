"""The catalogue data file: counts, networks, memo rules and real precisions."""

from __future__ import annotations

from local.sandbox.catalogue import load_catalogue

PREAMBLE_NETWORKS = frozenset(
    [
        "BTC",
        "LTC",
        "DOGE",
        "BCH",
        "DASH",
        "ZEC",
        "ERC20",
        "BEP20",
        "POLYGON",
        "ARBITRUM",
        "OPTIMISM",
        "BASE",
        "AVAXC",
        "ETC",
        "TRC20",
        "SOL",
        "XRP",
        "XLM",
        "TON",
        "ATOM",
        "EOS",
        "ADA",
        "DOT",
        "ALGO",
        "NEAR",
        "XTZ",
        "XMR",
    ]
)
MEMO_NETWORKS = {"XRP", "XLM", "TON", "ATOM", "EOS"}
CATALOGUE = load_catalogue()


def test_at_least_160_cryptocurrencies_and_40_fiat_currencies() -> None:
    active = CATALOGUE.active()
    assert len({i.currency for i in active if i.instrument_type == "crypto"}) >= 160
    assert len({i.currency for i in active if i.instrument_type == "fiat"}) >= 40


def test_crypto_instruments_use_only_the_agreed_network_titles() -> None:
    networks = {i.network for i in CATALOGUE.instruments if not i.is_fiat}
    assert networks == PREAMBLE_NETWORKS


def test_requires_memo_exactly_on_memo_networks() -> None:
    for instrument in CATALOGUE.instruments:
        assert instrument.requires_memo is (instrument.network in MEMO_NETWORKS), instrument


def test_real_precisions() -> None:
    expected = {
        ("BTC", "BTC"): 8,
        ("ETH", "ERC20"): 18,
        ("USDT", "TRC20"): 6,
        ("USDT", "BEP20"): 18,
        ("XRP", "XRP"): 6,
        ("XLM", "XLM"): 7,
        ("SOL", "SOL"): 9,
        ("JPY", "JPY"): 0,
        ("KWD", "KWD"): 3,
    }
    for (currency, network), precision in expected.items():
        assert CATALOGUE.get(currency, network).precision == precision


def test_every_instrument_has_a_price_and_a_few_are_inactive() -> None:
    assert all(instrument.currency in CATALOGUE.usd_prices for instrument in CATALOGUE.instruments)
    assert 0 < sum(not instrument.is_active for instrument in CATALOGUE.instruments) < 10
