"""Check what :class:`~halfcascade.testing.openai_tts.OpenAITTSServer` sends.

Used by :mod:`halfcascade.testing.conformance`. Kinds:

- ``http_error``: ``{"error": ErrorObject}`` with the ``openai`` package's
  ``openai.types.shared.ErrorObject``; ``message``, ``type``, ``param`` and ``code`` all
  present (the API always sends the four), nothing else.
- ``sse_event``: a speech stream event. The ``openai`` package has no type for these, so
  they are checked against the API reference's ``SpeechAudioDeltaEvent``
  (``{"type": "speech.audio.delta", "audio"}``) and ``SpeechAudioDoneEvent``
  (``{"type": "speech.audio.done", "usage": {input_tokens, output_tokens,
  total_tokens}}``), with no other key.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any, Literal

from openai.types.shared import ErrorObject
from pydantic import BaseModel, ConfigDict, NonNegativeInt

from .._tts.strict import validate_strictly

__all__ = ["KINDS", "validate"]


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class SpeechAudioDeltaEvent(_Closed):
    """One chunk of base64 audio (the API reference's ``SpeechAudioDeltaEvent``)."""

    type: Literal["speech.audio.delta"]
    audio: str


class SpeechUsage(_Closed):
    """Token usage of one speech request."""

    input_tokens: NonNegativeInt
    output_tokens: NonNegativeInt
    total_tokens: NonNegativeInt


class SpeechAudioDoneEvent(_Closed):
    """The end of the audio, with usage (the API reference's ``SpeechAudioDoneEvent``)."""

    type: Literal["speech.audio.done"]
    usage: SpeechUsage


def _sse_event(payload: Any) -> None:
    kind = payload.get("type") if isinstance(payload, dict) else None
    if kind == "speech.audio.delta":
        SpeechAudioDeltaEvent.model_validate(payload)
        base64.b64decode(payload["audio"], validate=True)
    elif kind == "speech.audio.done":
        done = SpeechAudioDoneEvent.model_validate(payload)
        if done.usage.total_tokens != done.usage.input_tokens + done.usage.output_tokens:
            raise ValueError("usage.total_tokens is not input_tokens + output_tokens")
    else:
        raise ValueError(f"not a speech stream event type: {kind!r}")


class _ErrorEnvelope(BaseModel):
    model_config = ConfigDict(extra="forbid")

    error: dict[str, Any]


def _http_error(payload: Any) -> None:
    _ErrorEnvelope.model_validate(payload)
    error = payload["error"]
    missing = {"message", "type", "param", "code"} - set(error)
    if missing:
        raise ValueError(f"the error object lacks {sorted(missing)}")
    validate_strictly(ErrorObject, error)


#: How each kind is checked.
KINDS: dict[str, Callable[[Any], None]] = {"http_error": _http_error, "sse_event": _sse_event}


def validate(kind: str, payload: Any) -> None:
    """Raise unless ``payload`` is a valid OpenAI TTS message of family ``kind``."""
    check = KINDS.get(kind)
    if check is None:
        raise ValueError(f"unknown OpenAI TTS message kind {kind!r}; known: {sorted(KINDS)}")
    check(payload)
