"""OpenAI Realtime (GA) wire shapes: ids, sessions, responses, errors. Pure functions."""

from __future__ import annotations

import copy
import secrets
import string
import time
from typing import Any

__all__ = [
    "Event",
    "default_session",
    "elide_audio",
    "error_event",
    "event",
    "http_error_body",
    "merge_session",
    "new_id",
    "rate_limits_event",
    "response_object",
    "tool_names",
    "turn_detection_of",
    "usage",
]

Event = dict[str, Any]

_ALPHABET = string.ascii_letters + string.digits
# replaced wholesale by a session.update instead of merged key by key
_REPLACED_KEYS = frozenset({"turn_detection", "tools", "transcription", "format", "tracing"})
# what the service fills in for a turn_detection given with only some fields
_TURN_DEFAULTS: dict[str, dict[str, Any]] = {
    "server_vad": {
        "threshold": 0.5,
        "prefix_padding_ms": 300,
        "silence_duration_ms": 500,
        "idle_timeout_ms": None,
        "create_response": True,
        "interrupt_response": True,
    },
    "semantic_vad": {"eagerness": "auto", "create_response": True, "interrupt_response": True},
}
_SESSION_TTL = 3600  # seconds a GA session lasts; session.created shows its expiry
_RATE_LIMITS = {"requests": 5000, "tokens": 400000}


def new_id(prefix: str) -> str:
    """An id shaped like the service's (``item_…``, ``resp_…``, ``call_…``)."""
    return f"{prefix}_" + "".join(secrets.choice(_ALPHABET) for _ in range(20))


def event(type_: str, **fields: Any) -> Event:
    """A server event with a fresh ``event_id``."""
    return {"type": type_, "event_id": new_id("event"), **fields}


def error_event(
    code: str,
    message: str,
    *,
    error_type: str = "invalid_request_error",
    event_id: str | None = None,
    param: str | None = None,
) -> Event:
    """An ``error`` event; ``event_id`` names the client event it answers."""
    body = {"type": error_type, "code": code, "message": message, "param": param}
    return event("error", error={**body, "event_id": event_id})


def http_error_body(message: str, *, status: int, code: str | None = None) -> dict[str, Any]:
    """The JSON body of an HTTP error (a refused websocket handshake)."""
    kind = "server_error" if status >= 500 else "invalid_request_error"
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def rate_limits_event(tokens_used: int) -> Event:
    """``rate_limits.updated`` with the connection's (generous, fixed) limits."""
    limits = [
        {
            "name": "requests",
            "limit": _RATE_LIMITS["requests"],
            "remaining": _RATE_LIMITS["requests"] - 1,
            "reset_seconds": 0.012,
        },
        {
            "name": "tokens",
            "limit": _RATE_LIMITS["tokens"],
            "remaining": max(0, _RATE_LIMITS["tokens"] - tokens_used),
            "reset_seconds": round(60.0 * tokens_used / _RATE_LIMITS["tokens"], 3),
        },
    ]
    return event("rate_limits.updated", rate_limits=limits)


def default_session(model: str) -> dict[str, Any]:
    """The session a fresh connection starts with (server VAD on, as the service does)."""
    pcm = {"type": "audio/pcm", "rate": 24000}
    return {
        "type": "realtime",
        "object": "realtime.session",
        "id": new_id("sess"),
        "model": model,
        "output_modalities": ["audio"],
        "instructions": "",
        "tools": [],
        "tool_choice": "auto",
        "max_output_tokens": "inf",
        "tracing": None,
        "prompt": None,
        "expires_at": int(time.time()) + _SESSION_TTL,
        "include": None,
        "audio": {
            "input": {
                "format": pcm,
                "transcription": None,
                "noise_reduction": None,
                "turn_detection": {
                    "type": "server_vad",
                    "threshold": 0.5,
                    "prefix_padding_ms": 300,
                    "silence_duration_ms": 500,
                    "idle_timeout_ms": None,
                    "create_response": True,
                    "interrupt_response": True,
                },
            },
            "output": {"format": dict(pcm), "voice": "marin", "speed": 1.0},
        },
    }


def merge_session(session: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """``session`` with a ``session.update`` applied: nested objects merge, a few replace."""
    merged = copy.deepcopy(session)
    for key, value in update.items():
        current = merged.get(key)
        if key not in _REPLACED_KEYS and isinstance(current, dict) and isinstance(value, dict):
            merged[key] = merge_session(current, value)
        elif key == "turn_detection" and isinstance(value, dict):
            merged[key] = {"type": value["type"], **_TURN_DEFAULTS[value["type"]], **value}
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def turn_detection_of(session: dict[str, Any]) -> dict[str, Any] | None:
    """The session's turn detection; ``None`` means client-side turns."""
    audio_input = (session.get("audio") or {}).get("input") or {}
    td = audio_input["turn_detection"] if "turn_detection" in audio_input else None
    return td if isinstance(td, dict) else None


def tool_names(tools: Any) -> tuple[str, ...]:
    """Names of the function tools in a ``tools`` list."""
    if not isinstance(tools, list):
        return ()
    return tuple(t["name"] for t in tools if isinstance(t, dict) and isinstance(t.get("name"), str))


def usage(
    input_tokens: int, *, text_tokens: int, audio_tokens: int = 0, input_audio_tokens: int = 0
) -> dict[str, Any]:
    """A ``response.done`` usage object; ``input_tokens`` counts text and audio input."""
    output_tokens = text_tokens + audio_tokens
    return {
        "total_tokens": input_tokens + output_tokens,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "input_token_details": {
            "text_tokens": input_tokens - input_audio_tokens,
            "audio_tokens": input_audio_tokens,
            "image_tokens": 0,
            "cached_tokens": 0,
            "cached_tokens_details": {"text_tokens": 0, "audio_tokens": 0, "image_tokens": 0},
        },
        "output_token_details": {"text_tokens": text_tokens, "audio_tokens": audio_tokens},
    }


def response_object(
    response_id: str,
    *,
    status: str,
    modality: str,
    voice: str,
    max_output_tokens: int | str,
    conversation_id: str | None,
    metadata: Any = None,
    output: list[dict[str, Any]] | None = None,
    status_details: dict[str, Any] | None = None,
    usage_: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``response`` object of ``response.created`` / ``response.done``.

    ``conversation_id`` is ``None`` for an out-of-band (``conversation: "none"``) response.
    """
    return {
        "object": "realtime.response",
        "id": response_id,
        "status": status,
        "status_details": status_details,
        "output": output or [],
        "conversation_id": conversation_id,
        "output_modalities": [modality],
        "max_output_tokens": max_output_tokens,
        "audio": {"output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": voice}},
        "usage": usage_,
        "metadata": metadata,
    }


def elide_audio(value: Any) -> Any:
    """A copy of a client event with base64 audio replaced by ``"<N bytes>"``."""
    if isinstance(value, dict):
        return {
            k: f"<{len(v) * 3 // 4} bytes>"
            if k == "audio" and isinstance(v, str)
            else elide_audio(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [elide_audio(v) for v in value]
    return value
