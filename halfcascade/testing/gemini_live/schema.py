"""Check what :class:`~halfcascade.testing.gemini_live.GeminiLiveServer` sends.

Used by :mod:`halfcascade.testing.conformance`. Kinds:

- ``server_message``: one websocket message. It must parse as ``google-genai``'s
  ``types.LiveServerMessage`` (unknown fields are refused: the SDK's models forbid them)
  and be canonical protobuf JSON, as the service sends it: every key ``camelCase``, so the
  keys of the message are exactly those of the parsed model dumped by alias.
- ``close``: a close frame, ``{"code", "reason"}``: a code the service uses (1000, 1001,
  1007, 1008, 1011, 1013) and a reason within the websocket's 123-byte limit.
- ``http_error``: the JSON body of a refused handshake, Google's error shape
  ``{"error": {"code", "message", "status"}}`` with a canonical status name.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from google.genai import types

__all__ = ["KINDS", "validate"]

_CLOSE_CODES = frozenset({1000, 1001, 1007, 1008, 1011, 1013})
_STATUSES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def _key_paths(value: Any, path: str = "") -> set[str]:
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            found.add(f"{path}.{key}")
            found |= _key_paths(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found |= _key_paths(item, f"{path}[{i}]")
    return found


def _server_message(payload: Any) -> None:
    if not isinstance(payload, dict) or not payload:
        raise ValueError("a server message is a non-empty JSON object")
    parsed = types.LiveServerMessage.model_validate_json(json.dumps(payload))
    canonical = parsed.model_dump(by_alias=True, exclude_none=True, mode="json")
    sent, expected = _key_paths(payload), _key_paths(canonical)
    if sent != expected:
        raise ValueError(
            f"not canonical protobuf JSON: unexpected keys {sorted(sent - expected)}, "
            f"missing keys {sorted(expected - sent)}"
        )


def _close(payload: Any) -> None:
    if not isinstance(payload, dict) or set(payload) != {"code", "reason"}:
        raise ValueError("a close is exactly {'code', 'reason'}")
    if payload["code"] not in _CLOSE_CODES:
        raise ValueError(f"close code {payload['code']} is not one the Live API uses")
    if len(str(payload["reason"]).encode()) > 123:
        raise ValueError("a close reason is at most 123 bytes")


def _http_error(payload: Any) -> None:
    if not isinstance(payload, dict) or set(payload) != {"error"}:
        raise ValueError("an HTTP error body is exactly {'error': {...}}")
    error = payload["error"]
    if not isinstance(error, dict) or set(error) != {"code", "message", "status"}:
        raise ValueError("the error object has exactly code, message and status")
    if _STATUSES.get(error["code"]) != error["status"] or not isinstance(error["message"], str):
        raise ValueError(f"status {error['status']!r} does not match code {error['code']}")


#: How each kind is checked.
KINDS: dict[str, Callable[[Any], None]] = {
    "server_message": _server_message,
    "close": _close,
    "http_error": _http_error,
}


def validate(kind: str, payload: Any) -> None:
    """Raise unless ``payload`` is a valid Gemini Live message of family ``kind``."""
    check = KINDS.get(kind)
    if check is None:
        raise ValueError(f"unknown Gemini Live message kind {kind!r}; known: {sorted(KINDS)}")
    check(payload)
