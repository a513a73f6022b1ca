"""What every long-running part of the local stack shares: start(), stop() and `with`."""

from __future__ import annotations

from types import TracebackType
from typing import Self


class Service:
    """A part that is started, used, then stopped; `with part:` guarantees the stop."""

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
