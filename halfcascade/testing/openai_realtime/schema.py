"""Check what :class:`~halfcascade.testing.openai_realtime.RealtimeServer` sends.

Used by :mod:`halfcascade.testing.conformance`. Kinds:

- ``server_event``: a websocket event. It must parse as the ``openai`` package's
  ``openai.types.realtime.RealtimeServerEvent``, discriminated by ``type`` (pydantic strict
  mode: no ``"0"`` for an integer), and no model in the parsed tree may hold a key its
  type does not declare: the SDK's models accept unknown keys (``extra="allow"``), so
  ``model_extra`` is walked recursively. One exception, from the API reference itself:
  the SDK types the session of ``session.created``/``session.updated`` as the *request*
  model, while the service's session object also carries ``id``, ``object`` and
  ``expires_at``; those three are allowed there and checked against
  ``RealtimeSessionCreateResponse``.
- ``http_error``: the JSON body of a refused handshake, ``{"error": ErrorObject}`` with
  the ``openai`` package's ``openai.types.shared.ErrorObject``; ``message``, ``type``,
  ``param`` and ``code`` all present (the API always sends the four), nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, get_args

from openai.types.realtime import RealtimeServerEvent
from openai.types.realtime.realtime_session_create_response import (
    RealtimeSessionCreateResponse,
)
from openai.types.shared import ErrorObject
from pydantic import BaseModel, TypeAdapter

__all__ = ["KINDS", "extra_keys", "validate"]

# RealtimeServerEvent is Annotated[Union[...], PropertyInfo(discriminator="type")], a tag
# pydantic does not read: discriminate by "type" here, so an error names one model's fields
_EVENTS: dict[str, TypeAdapter[Any]] = {
    get_args(model.model_fields["type"].annotation)[0]: TypeAdapter(model)
    for model in get_args(get_args(RealtimeServerEvent)[0])
}
_SESSION_EVENTS = frozenset({"session.created", "session.updated"})
_SESSION_ONLY_KEYS = frozenset({"id", "object", "expires_at"})


def extra_keys(value: Any, path: str = "") -> list[str]:
    """Paths of every key a parsed model in ``value`` holds without declaring it."""
    found: list[str] = []
    if isinstance(value, BaseModel):
        found += [f"{path}.{key}".lstrip(".") for key in value.model_extra or {}]
        for name in type(value).model_fields:
            found += extra_keys(getattr(value, name), f"{path}.{name}")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            found += extra_keys(item, f"{path}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            found += extra_keys(item, f"{path}.{key}")
    return found


def _server_event(payload: Any) -> None:
    if not isinstance(payload, dict):
        raise ValueError(f"a server event is a JSON object, got {type(payload).__name__}")
    adapter = _EVENTS.get(payload.get("type"))  # type: ignore[arg-type]
    if adapter is None:
        raise ValueError(f"not a RealtimeServerEvent type: {payload.get('type')!r}")
    parsed = adapter.validate_python(payload, strict=True)
    extra = extra_keys(parsed)
    if payload.get("type") in _SESSION_EVENTS:
        extra = [key for key in extra if key.removeprefix("session.") not in _SESSION_ONLY_KEYS]
        session = payload["session"]
        known = {k: session[k] for k in _SESSION_ONLY_KEYS if k in session}
        RealtimeSessionCreateResponse.model_validate({"type": "realtime", **known}, strict=True)
    if extra:
        raise ValueError(f"{payload.get('type')}: keys its SDK type does not declare: {extra}")


def _http_error(payload: Any) -> None:
    if not isinstance(payload, dict) or set(payload) != {"error"}:
        raise ValueError("an HTTP error body is exactly {'error': {...}}")
    error = payload["error"]
    if not isinstance(error, dict) or set(error) != {"message", "type", "param", "code"}:
        raise ValueError("the error object has exactly message, type, param and code")
    ErrorObject.model_validate(error, strict=True)


#: How each kind is checked.
KINDS: dict[str, Callable[[Any], None]] = {
    "server_event": _server_event,
    "http_error": _http_error,
}


def validate(kind: str, payload: Any) -> None:
    """Raise unless ``payload`` is a valid OpenAI Realtime message of family ``kind``."""
    check = KINDS.get(kind)
    if check is None:
        raise ValueError(f"unknown OpenAI Realtime message kind {kind!r}; known: {sorted(KINDS)}")
    check(payload)
