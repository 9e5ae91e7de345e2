"""Errors raised by halfcascade.

Every error halfcascade raises derives from :class:`HalfcascadeError`; configuration mistakes
are also :class:`ValueError` so callers that already catch ``ValueError`` keep working.
Provider failures (a TTS that refuses a request, a websocket that drops) stay livekit
``APIError``\\ s: halfcascade never re-wraps them.

::

    HalfcascadeError
     ├── ConfigError (ValueError)          bad option, unknown provider/model, bad file
     │    ├── MissingCredentialsError      every environment variable still to set, at once
     │    └── UnsupportedModelError        a model that cannot output text
     └── StoreError                        a memory store that cannot serve a request
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "ConfigError",
    "HalfcascadeError",
    "MissingCredentialsError",
    "StoreError",
    "UnsupportedModelError",
]


class HalfcascadeError(Exception):
    """Root of every error halfcascade raises."""


class ConfigError(HalfcascadeError, ValueError):
    """A configuration value is wrong; the message says which and how to fix it."""


class MissingCredentialsError(ConfigError):
    """Credentials are missing. ``missing`` lists every environment variable still to set."""

    def __init__(self, missing: Sequence[str], *, hint: str = "") -> None:
        self.missing = tuple(missing)
        names = ", ".join(self.missing)
        msg = f"missing credentials: set {names}"
        if hint:
            msg += f" ({hint})"
        super().__init__(msg)


class UnsupportedModelError(ConfigError):
    """The model cannot be used as a half-cascade brain (it cannot output text)."""


class StoreError(HalfcascadeError):
    """A memory store failed to serve a request."""
