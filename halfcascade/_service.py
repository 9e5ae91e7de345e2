"""The one shape every server and runner here has: ``start()``, ``aclose()``, ``async with``."""

from __future__ import annotations

from typing import Self

__all__ = ["Service"]


class Service:
    """Base for things that start, close, and work as async context managers."""

    async def start(self) -> object:
        """Start; subclasses implement it."""
        raise NotImplementedError

    async def aclose(self) -> None:
        """Stop and release everything; subclasses implement it."""
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
