"""Check what :class:`~halfcascade.testing.elevenlabs.ElevenLabsServer` sends against the
``elevenlabs`` SDK's own types (``elevenlabs>=2``), unknown keys included.

Used by :mod:`halfcascade.testing.conformance`; ``validate(kind, payload)`` raises on a
message the SDK (or, for the few shapes it leaves untyped, the API reference) rejects.
The kinds:

============================= ==================================================
``multi_audio``               ``AudioOutputMulti`` with its ``contextId``
``multi_final``               ``FinalOutputMulti`` with its ``contextId``
``stream_audio``              ``AudioOutput`` (``stream-input``)
``stream_final``              ``FinalOutput`` with ``isFinal: true``
``ws_error``                  ``{"message", "error", "code"[, "param"][, "contextId"]}``
``http_error``                ``{"detail": {"status", "message"}}``
``validation_error``          ``HttpValidationError`` (422) with at least one item
``not_found``                 FastAPI's ``{"detail": "Not Found"}`` (or 405)
``voices`` / ``voices_v2``    ``GetVoicesResponse`` / ``GetVoicesV2Response``
``voice``                     ``Voice``
``audio_with_timestamps``     ``AudioWithTimestampsResponse``
``audio_chunk_with_timestamps`` ``StreamingAudioChunkWithTimestampsResponse``
``single_use_token``          ``SingleUseTokenResponseModel``
============================= ==================================================
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from elevenlabs.types import (
    AudioOutput,
    AudioOutputMulti,
    AudioWithTimestampsResponse,
    FinalOutput,
    FinalOutputMulti,
    GetVoicesResponse,
    GetVoicesV2Response,
    HttpValidationError,
    SingleUseTokenResponseModel,
    StreamingAudioChunkWithTimestampsResponse,
    TextToDialogueWebsocketError,
    Voice,
)
from pydantic import BaseModel, ConfigDict

from .._tts.strict import validate_strictly

__all__ = ["KINDS", "validate"]


class _Detail(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    status: str
    message: str


class _DetailError(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    detail: _Detail


def _with_context(model: type[BaseModel]) -> Callable[[Any], None]:
    def check(payload: Any) -> None:
        if not isinstance(payload, dict) or not isinstance(payload.get("contextId"), str):
            raise ValueError("a multi-stream message must carry its contextId (a string)")
        validate_strictly(model, payload)
        _check_alignment(payload)

    return check


def _model(model: type[BaseModel]) -> Callable[[Any], None]:
    def check(payload: Any) -> None:
        validate_strictly(model, payload)
        _check_alignment(payload)

    return check


def _final(model: type[BaseModel]) -> Callable[[Any], None]:
    def check(payload: Any) -> None:
        validate_strictly(model, payload)
        if payload.get("isFinal") is not True:
            raise ValueError("a final message has isFinal: true")

    return check


def _ws_error(payload: Any) -> None:
    if not isinstance(payload, dict):
        raise ValueError("an error message is a JSON object")
    rest = dict(payload)
    if "contextId" in rest and not isinstance(rest.pop("contextId"), str):
        raise ValueError("contextId must be a string")
    validate_strictly(TextToDialogueWebsocketError, rest)
    if not 1000 <= payload["code"] <= 4999:
        raise ValueError(f"code must be a websocket close code, got {payload['code']}")


def _validation(payload: Any) -> None:
    validate_strictly(HttpValidationError, payload)
    if not payload.get("detail"):
        raise ValueError("a 422 answer lists at least one problem in detail")


def _not_found(payload: Any) -> None:
    if payload not in ({"detail": "Not Found"}, {"detail": "Method Not Allowed"}):
        raise ValueError("an unknown route answers FastAPI's {'detail': 'Not Found'}")


def _check_alignment(payload: dict[str, Any]) -> None:
    """Every alignment's lists have one entry per character."""
    for key in ("alignment", "normalizedAlignment", "normalized_alignment"):
        align = payload.get(key)
        if not isinstance(align, dict):
            continue
        lists = [v for v in align.values() if isinstance(v, list)]
        if len({len(v) for v in lists}) > 1:
            raise ValueError(f"{key}: its lists differ in length")


#: How each kind is checked.
KINDS: dict[str, Callable[[Any], None]] = {
    "multi_audio": _with_context(AudioOutputMulti),
    "multi_final": _with_context(FinalOutputMulti),
    "stream_audio": _model(AudioOutput),
    "stream_final": _final(FinalOutput),
    "ws_error": _ws_error,
    "http_error": _model(_DetailError),
    "validation_error": _validation,
    "not_found": _not_found,
    "voices": _model(GetVoicesResponse),
    "voices_v2": _model(GetVoicesV2Response),
    "voice": _model(Voice),
    "audio_with_timestamps": _model(AudioWithTimestampsResponse),
    "audio_chunk_with_timestamps": _model(StreamingAudioChunkWithTimestampsResponse),
    "single_use_token": _model(SingleUseTokenResponseModel),
}


def validate(kind: str, payload: Any) -> None:
    """Raise unless ``payload`` is a valid ElevenLabs message of family ``kind``."""
    check = KINDS.get(kind)
    if check is None:
        raise ValueError(f"unknown ElevenLabs message kind {kind!r}; known: {sorted(KINDS)}")
    check(payload)
