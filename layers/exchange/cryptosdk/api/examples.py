"""Examples for the OpenAPI document: real answers of the sandbox-backed handlers, with ids and
times tidied. tests/integration/api/test_openapi_examples.py replays each scenario and fails when
an example no longer fits its schema or the shape (and error code) of today's real answer."""

from __future__ import annotations

from typing import Any

REQUEST_ID = "JLYf7hSwoAMEV8w="
ORDER_ID = "ord_54da9382fde6c327ad2a714e98212850"
BTC_ADDRESS = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
ETH_ADDRESS = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
CURSOR = "eyJ1c2VySWQiOiJ1c2VyLTEifQ.c2lnbmF0dXJl"


def example(summary: str, value: Any) -> dict[str, Any]:
    return {"summary": summary, "value": value}


def _error(code: str, message: str, fields: list[dict[str, str]] | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if fields:
        error["fields"] = fields
    error["requestId"] = REQUEST_ID
    return {"error": error}


# One example per error code; ERROR_EXAMPLE_FOR_STATUS says which one a status shows by default.
ERRORS: dict[str, dict[str, Any]] = {
    "malformed_json": _error("malformed_json", "The body is not valid JSON."),
    "invalid_cursor": _error(
        "invalid_cursor",
        "The cursor is not valid.",
        [{"field": "cursor", "reason": "The cursor is not valid."}],
    ),
    "unauthenticated": _error("unauthenticated", "The token carries no subject."),
    "forbidden": _error("forbidden", "You can only list your own orders."),
    "order_not_found": _error("order_not_found", "No such order."),
    "request_in_progress": _error(
        "request_in_progress", "A request with this Idempotency-Key is in progress."
    ),
    "conflict": _error("conflict", "The order changed meanwhile; read it again."),
    "unsupported_media_type": _error(
        "unsupported_media_type", "Send the body as application/json (got text/plain)."
    ),
    "validation_failed": _error(
        "validation_failed",
        "The request has invalid fields.",
        [{"field": "amount", "reason": "The amount is below the minimum of 0.0001031 BTC."}],
    ),
    "dependency_failed": _error(
        "dependency_failed", "The exchange's liquidity provider failed; try again shortly."
    ),
    "rate_limited": _error("rate_limited", "The exchange is rate limiting us; try again later."),
    "upstream_unreachable": _error("upstream_unreachable", "The exchange could not be reached; try again."),
    "upstream_unavailable": _error("upstream_unavailable", "The exchange is unavailable; try again shortly."),
    "upstream_timeout": _error("upstream_timeout", "The exchange did not answer in time; try again."),
    # API Gateway's refusals (AuthMode JWT and IAM), not ours: its own body shape.
    "gateway_unauthorized": {"message": "Unauthorized"},
    "gateway_forbidden": {"message": "Forbidden"},
}

ERROR_EXAMPLE_FOR_STATUS: dict[int, str] = {
    400: "malformed_json",
    401: "unauthenticated",
    403: "forbidden",
    404: "order_not_found",
    409: "request_in_progress",
    415: "unsupported_media_type",
    422: "validation_failed",
    424: "dependency_failed",
    429: "rate_limited",
    502: "upstream_unreachable",
    503: "upstream_unavailable",
    504: "upstream_timeout",
}


def param(summary: str, value: Any) -> dict[str, Any]:
    """`openapi_examples` for one query, path or header parameter."""
    return {"example": example(summary, value)}


# -- requests -------------------------------------------------------------------------------------

CREATE_ORDER_REQUEST = {
    "btcToEth": example(
        "Swap 0.05 BTC to ETH at the floating rate",
        {
            "from": {"currency": "BTC", "network": "BTC"},
            "to": {"currency": "ETH", "network": "ERC20"},
            "amount": "0.05",
            "rateMode": "FLOATING",
            "destination": {"address": ETH_ADDRESS},
            "refund": {"address": BTC_ADDRESS},
            "userId": "user-1",
            "sessionId": "session-1",
            "externalRef": "cart-1",
        },
    )
}

VALIDATE_ADDRESS_REQUEST = {
    "xrpWithoutTag": example(
        "An XRP address without its destination tag",
        {"currency": "XRP", "network": "XRP", "address": "rHb9CJAWyB4rj91VRWn96DkukG4bwdtyTh"},
    )
}

# -- responses ------------------------------------------------------------------------------------

INSTRUMENTS = {
    "catalogue": example(
        "The first entries of the catalogue",
        {
            "instruments": [
                {
                    "currency": "BTC",
                    "network": "BTC",
                    "name": "Bitcoin",
                    "kind": "crypto",
                    "requiresMemo": False,
                    "precision": 8,
                    "slug": "btc-btc",
                },
                {
                    "currency": "ETH",
                    "network": "ERC20",
                    "name": "Ethereum",
                    "kind": "crypto",
                    "requiresMemo": False,
                    "precision": 18,
                    "slug": "eth-erc20",
                },
            ]
        },
    )
}

RATE = {
    "floating": example(
        "A floating quote for 0.05 BTC to ETH",
        {
            "from": {"currency": "BTC", "network": "BTC"},
            "to": {"currency": "ETH", "network": "ERC20"},
            "amount": "0.05",
            "amountToReceive": "1.418455882352941176",
            "rate": "28.386764705882352941",
            "networkFee": "0.000882352941176471",
            "min": "0.0001031",
            "max": "2.57731958",
            "rateMode": "FLOATING",
            "expiresAt": None,
        },
    )
}

ADDRESS_VERDICT = {
    "memoMissing": example(
        "The address needs a memo (destination tag)",
        {"valid": False, "memoRequired": True, "reason": "an XRP destination tag is required"},
    )
}

_ORDER: dict[str, Any] = {
    "id": ORDER_ID,
    "exchangeOrderId": 100001,
    "status": "awaiting_deposit",
    "deposit": {
        "address": "bc1qmukjzsv738h3h59hggetvt908jpq26ruaymhmr",
        "memo": None,
        "amount": "0.05",
        "currency": "BTC",
        "network": "BTC",
    },
    "amountToReceive": "1.418455882352941176",
    "rateMode": "FLOATING",
    "from": {"currency": "BTC", "network": "BTC"},
    "to": {"currency": "ETH", "network": "ERC20"},
    "destination": {"address": ETH_ADDRESS, "memo": None},
    "refund": {"address": BTC_ADDRESS, "memo": None},
    "userId": "user-1",
    "sessionId": "session-1",
    "externalRef": "cart-1",
    "createdAt": "2026-03-01T12:00:00.120000Z",
    "updatedAt": "2026-03-01T12:00:00.480000Z",
    "statusHistory": [
        {
            "status": "pending_create",
            "at": "2026-03-01T12:00:00.120000Z",
            "cause": "request",
            "reason": "intent recorded",
        },
        {
            "status": "awaiting_deposit",
            "at": "2026-03-01T12:00:00.480000Z",
            "cause": "exchange",
            "reason": "created upstream",
        },
    ],
    "deposits": [],
    "withdrawals": [],
}

ORDER = {"awaitingDeposit": example("Created upstream; waiting for the deposit", _ORDER)}

PENDING_ORDER = {
    "pendingCreate": example(
        "The exchange's answer is not known yet: no deposit address until it is",
        {
            **_ORDER,
            "exchangeOrderId": None,
            "status": "pending_create",
            "deposit": {**_ORDER["deposit"], "address": None},
            "amountToReceive": "1.418455882352941176",
            "updatedAt": "2026-03-01T12:00:00.120000Z",
            "statusHistory": [_ORDER["statusHistory"][0]],
        },
    )
}

ORDERS_PAGE = {
    "onePage": example(
        "One order per page; pass nextCursor back as ?cursor= for the next",
        {"orders": [_ORDER], "nextCursor": CURSOR},
    )
}
