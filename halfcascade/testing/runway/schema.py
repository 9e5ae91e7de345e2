"""Check what :class:`~halfcascade.testing.runway.RunwayServer` sends.

The ``runwayml`` SDK is not installed, so the shapes are the API reference's (the Runway
OpenAPI document marks its bodies ``additionalProperties: false``) and what
``livekit-plugins-runway`` reads. Kinds: ``session`` (``{"id": <uuid>}``) and ``error``
(``{"error"}``, or a failed body validation ``{"error", "issues", "docUrl"}``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict

__all__ = ["KINDS", "validate"]


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class SessionCreated(_Closed):
    """``POST /v1/realtime_sessions`` 200: the session id (a UUID)."""

    id: str


class Issue(_Closed):
    """One problem in a rejected body (Runway reports Zod issues)."""

    code: str
    path: list[str | int]
    message: str


class _Error(_Closed):
    error: str


class _Invalid(_Closed):
    error: str
    issues: list[Issue]
    docUrl: str


def _session(payload: Any) -> None:
    uuid.UUID(SessionCreated.model_validate(payload).id)


def _error(payload: Any) -> None:
    if isinstance(payload, dict) and "issues" in payload:
        if not _Invalid.model_validate(payload).issues:
            raise ValueError("a failed validation lists at least one issue")
    else:
        _Error.model_validate(payload)


#: How each kind is checked.
KINDS: dict[str, Callable[[Any], None]] = {"session": _session, "error": _error}


def validate(kind: str, payload: Any) -> None:
    """Raise unless ``payload`` is a valid Runway answer of family ``kind``."""
    check = KINDS.get(kind)
    if check is None:
        raise ValueError(f"unknown Runway message kind {kind!r}; known: {sorted(KINDS)}")
    check(payload)
