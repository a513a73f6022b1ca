"""The one error type of the sandbox: an HTTP status plus the contract's error body."""

from __future__ import annotations

from typing import Any


class SandboxError(Exception):
    """Raised anywhere in request handling; the server turns it into the contract's error body."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str,
        data: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.data = data or {}
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {
            "statusCode": self.status,
            "message": self.message,
            "error": {"code": self.code},
            "data": self.data,
        }


def bad_request(message: str, code: str = "BAD_REQUEST", **data: Any) -> SandboxError:
    return SandboxError(400, message, code, data)


def not_found(message: str, code: str = "NOT_FOUND") -> SandboxError:
    return SandboxError(404, message, code)


def unsupported(message: str, code: str = "PAIR_NOT_SUPPORTED") -> SandboxError:
    return SandboxError(422, message, code)


def conflict(message: str, code: str = "CONFLICT") -> SandboxError:
    return SandboxError(409, message, code)
