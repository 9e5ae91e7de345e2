"""Credentials from arguments or the environment, checked all at once."""

from __future__ import annotations

import os
from collections.abc import Iterable

from .errors import MissingCredentialsError

__all__ = ["env_value", "require_all"]


def env_value(explicit: str | None, *names: str) -> str | None:
    """``explicit`` if given, else the first non-empty environment variable of ``names``."""
    if explicit:
        return explicit
    for name in names:
        if value := os.environ.get(name):
            return value
    return None


def require_all(missing: Iterable[str], *, hint: str = "") -> None:
    """Raise one :class:`MissingCredentialsError` naming every missing variable."""
    names = list(dict.fromkeys(missing))
    if names:
        raise MissingCredentialsError(names, hint=hint)
