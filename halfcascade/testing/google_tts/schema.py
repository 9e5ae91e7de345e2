"""Check what :class:`~halfcascade.testing.google_tts.GoogleTTSServer` sends.

Used by :mod:`halfcascade.testing.conformance`. Kinds:

- ``streaming_response`` / ``synthesize_response``: the serialized protobuf of a
  ``StreamingSynthesizeResponse`` / ``SynthesizeSpeechResponse`` (the
  ``google-cloud-texttospeech`` types): it parses, carries no field the type does not
  declare (it re-serializes to the same bytes) and has audio.
- ``status``: a refused call, ``{"code", "message"}``: a ``grpc.StatusCode`` name the
  service uses and a non-empty message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from google.cloud import texttospeech as tts

__all__ = ["KINDS", "validate"]

_CODES = frozenset(
    {
        "INVALID_ARGUMENT",
        "UNAUTHENTICATED",
        "PERMISSION_DENIED",
        "NOT_FOUND",
        "RESOURCE_EXHAUSTED",
        "UNAVAILABLE",
        "INTERNAL",
        "DEADLINE_EXCEEDED",
        "UNIMPLEMENTED",
    }
)


def _message(kind: type[Any]) -> Callable[[Any], None]:
    def check(payload: Any) -> None:
        if not isinstance(payload, bytes):
            raise ValueError(f"a {kind.__name__} payload is its serialized bytes")
        parsed = kind.deserialize(payload)
        if kind.serialize(parsed) != payload:
            raise ValueError(f"{kind.__name__} carries fields its type does not declare")
        if not parsed.audio_content:
            raise ValueError(f"{kind.__name__} without audio_content")

    return check


def _status(payload: Any) -> None:
    if not isinstance(payload, dict) or set(payload) != {"code", "message"}:
        raise ValueError("a status is exactly {'code', 'message'}")
    if payload["code"] not in _CODES or not payload["message"]:
        raise ValueError(f"status {payload['code']!r} is not one the service uses")


#: How each kind is checked.
KINDS: dict[str, Callable[[Any], None]] = {
    "streaming_response": _message(tts.StreamingSynthesizeResponse),
    "synthesize_response": _message(tts.SynthesizeSpeechResponse),
    "status": _status,
}


def validate(kind: str, payload: Any) -> None:
    """Raise unless ``payload`` is a valid Text-to-Speech message of family ``kind``."""
    check = KINDS.get(kind)
    if check is None:
        raise ValueError(f"unknown Google TTS message kind {kind!r}; known: {sorted(KINDS)}")
    check(payload)
