"""Check what :class:`~halfcascade.testing.tavus.TavusServer` sends.

No Tavus SDK is installed, so the shapes are the API reference's (``POST /v2/conversations``,
``/v2/pals``, ``/v2/personas``) and what ``livekit-plugins-tavus`` reads from them, with
no other key. Kinds: ``conversation``, ``pal``, ``persona``, ``error`` (``{"message"}``
for 401, ``{"error"}`` otherwise).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

__all__ = ["KINDS", "validate"]


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class ConversationCreated(_Closed):
    """``POST /v2/conversations`` 200 (the plugin reads ``conversation_id``)."""

    conversation_id: str
    conversation_name: str
    status: Literal["active", "ended"]
    conversation_url: str
    created_at: str
    callback_url: str | None = None
    replica_id: str | None = None
    persona_id: str | None = None
    face_id: str | None = None
    pal_id: str | None = None


class PalCreated(_Closed):
    """``POST /v2/pals`` 200 (the plugin reads ``pal_id``)."""

    pal_id: str
    pal_name: str
    created_at: str


class PersonaCreated(_Closed):
    """``POST /v2/personas`` 200 (the plugin reads ``persona_id``)."""

    persona_id: str
    persona_name: str
    created_at: str


class _AuthError(_Closed):
    message: str


class _Error(_Closed):
    error: str


def _error(payload: Any) -> None:
    if isinstance(payload, dict) and set(payload) == {"message"}:
        _AuthError.model_validate(payload)
    else:
        _Error.model_validate(payload)


#: How each kind is checked.
KINDS: dict[str, Callable[[Any], Any]] = {
    "conversation": ConversationCreated.model_validate,
    "pal": PalCreated.model_validate,
    "persona": PersonaCreated.model_validate,
    "error": _error,
}


def validate(kind: str, payload: Any) -> None:
    """Raise unless ``payload`` is a valid Tavus answer of family ``kind``."""
    check = KINDS.get(kind)
    if check is None:
        raise ValueError(f"unknown Tavus message kind {kind!r}; known: {sorted(KINDS)}")
    check(payload)
