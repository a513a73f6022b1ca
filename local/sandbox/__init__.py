"""A faithful local sandbox of the exchange API (see /work/shared/upstream-api.md and README)."""

from local.sandbox.server import DEFAULT_PUBLIC_KEY, DEFAULT_SECRET_KEY, SandboxServer

__all__ = ["DEFAULT_PUBLIC_KEY", "DEFAULT_SECRET_KEY", "SandboxServer"]
