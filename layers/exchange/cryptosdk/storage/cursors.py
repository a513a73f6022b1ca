"""Listing cursors: the opaque form of a ByUserKeys page's LastEvaluatedKey, bound to its user."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping

from cryptosdk.domain.order import InvalidCursorError

_CURSOR_MAX_CHARS = 2048

_BY_USER_KEYS = frozenset({"id", "userId", "createdAt"})


def encode_cursor(last_key: Mapping[str, str]) -> str:
    raw = json.dumps(dict(last_key), separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *, user_id: str) -> dict[str, str]:
    """The LastEvaluatedKey inside a ByUser cursor; refuses anything we did not issue to this user."""
    if len(cursor) > _CURSOR_MAX_CHARS:
        raise InvalidCursorError("The cursor is not valid.")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw.decode())
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidCursorError("The cursor is not valid.") from None
    if not isinstance(data, dict) or set(data) != _BY_USER_KEYS:
        raise InvalidCursorError("The cursor is not valid.")
    if not all(isinstance(v, str) and v for v in data.values()):
        raise InvalidCursorError("The cursor is not valid.")
    if data["userId"] != user_id:
        # A cursor from another user's listing must not become a way to read their orders.
        raise InvalidCursorError("The cursor does not belong to this listing.")
    return {str(k): str(v) for k, v in data.items()}
