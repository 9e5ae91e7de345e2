"""ElevenLabs wire shapes the stand-in speaks: what it accepts and how it says no.

The request models mirror the API reference (``POST /v1/text-to-speech/{voice_id}``,
the ``stream-input`` and ``multi-stream-input`` websockets) with the documented ranges:
``stability``, ``similarity_boost``, ``style`` in 0..1, ``speed`` in 0.7..1.2, chunk
schedule items in 50..500, at most three pronunciation dictionaries. HTTP bodies are
parsed the way the real (FastAPI) service parses them: unknown keys are ignored, a bad
value is a 422 ``{"detail": [{"loc", "msg", "type"}]}``. Websocket messages are parsed
strictly (unknown keys rejected): the docs list every key a message may carry.

Every JSON answer goes through :func:`json_answer` so the conformance recorder sees it.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, get_args

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, ValidationError

from ..conformance import emit

__all__ = [
    "OUTPUT_FORMATS",
    "VOICES",
    "GenerationConfigIn",
    "MultiMessage",
    "SpeechBody",
    "SpeechQuery",
    "StreamMessage",
    "StreamQuery",
    "detail_error",
    "json_answer",
    "parse_message",
    "pcm_rate",
    "validation_details",
    "validation_error",
    "ws_problem",
]

OutputFormat = Literal[
    "mp3_22050_32",
    "mp3_24000_48",
    "mp3_44100_32",
    "mp3_44100_64",
    "mp3_44100_96",
    "mp3_44100_128",
    "mp3_44100_192",
    "pcm_8000",
    "pcm_16000",
    "pcm_22050",
    "pcm_24000",
    "pcm_32000",
    "pcm_44100",
    "pcm_48000",
    "ulaw_8000",
    "alaw_8000",
    "opus_48000_32",
    "opus_48000_64",
    "opus_48000_96",
    "opus_48000_128",
    "opus_48000_192",
]
#: Every output format the API reference lists (the stand-in synthesizes only ``pcm_*``).
OUTPUT_FORMATS: tuple[str, ...] = get_args(OutputFormat)

#: The voices the stand-in knows, in the API's ``Voice`` shape (premade voices).
VOICES: tuple[dict[str, Any], ...] = tuple(
    {
        "voice_id": vid,
        "name": name,
        "category": "premade",
        "description": f"halfcascade stand-in voice ({name})",
        "labels": {"accent": "american", "use_case": "conversational"},
        "preview_url": None,
        "settings": {"stability": 0.5, "similarity_boost": 0.75, "style": 0.0, "speed": 1.0},
    }
    for vid, name in (
        ("hpp4J3VqNfWAUOO0d1Us", "Bella (livekit plugin default)"),
        ("21m00Tcm4TlvDq8ikWAM", "Rachel"),
        ("JBFqnCBsd6RMkjVDRZzb", "George"),
        ("EXAVITQu4vr4xnSDxMaL", "Sarah"),
        ("pNInz6obpgDQGcFmaJgB", "Adam"),
        ("halfcascade-test", "halfcascade test voice"),
    )
)

_Unit = Annotated[float, Field(ge=0.0, le=1.0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


class VoiceSettingsIn(_Lenient):
    """``voice_settings`` of an HTTP request (``elevenlabs.types.VoiceSettings``)."""

    stability: _Unit | None = None
    similarity_boost: _Unit | None = None
    style: _Unit | None = None
    use_speaker_boost: bool | None = None
    speed: Annotated[float, Field(ge=0.7, le=1.2)] | None = None
    clone_strength: _Unit | None = None


class RealtimeVoiceSettingsIn(_Strict):
    """``voice_settings`` of a websocket message (``RealtimeVoiceSettings``)."""

    stability: _Unit | None = None
    similarity_boost: _Unit | None = None
    style: _Unit | None = None
    use_speaker_boost: StrictBool | None = None
    speed: Annotated[float, Field(ge=0.7, le=1.2)] | None = None


class GenerationConfigIn(_Strict):
    """``generation_config``: each chunk schedule item in 50..500 characters."""

    chunk_length_schedule: list[Annotated[float, Field(ge=50, le=500)]] | None = Field(
        default=None, min_length=1
    )


class _Locator(_Strict):
    pronunciation_dictionary_id: StrictStr
    version_id: StrictStr | None = None


class SpeechQuery(_Lenient):
    """Query of the HTTP synthesis endpoints."""

    output_format: OutputFormat = "mp3_44100_128"
    enable_logging: bool = True
    optimize_streaming_latency: Annotated[int, Field(ge=0, le=4)] | None = None


class SpeechBody(_Lenient):
    """Body of ``POST /v1/text-to-speech/{voice_id}`` and its stream/timestamp variants."""

    text: Annotated[str, Field(min_length=1)]
    model_id: str | None = None
    language_code: str | None = None
    voice_settings: VoiceSettingsIn | None = None
    pronunciation_dictionary_locators: list[_Locator] | None = Field(default=None, max_length=3)
    seed: Annotated[int, Field(ge=0, le=4294967295)] | None = None
    previous_text: str | None = None
    next_text: str | None = None
    previous_request_ids: list[str] | None = Field(default=None, max_length=3)
    next_request_ids: list[str] | None = Field(default=None, max_length=3)
    use_pvc_as_ivc: bool | None = None
    apply_text_normalization: Literal["auto", "on", "off"] | None = None
    apply_language_text_normalization: bool | None = None
    audio_effects: dict[str, Any] | None = None


class StreamQuery(_Lenient):
    """Query of both text-to-speech websockets."""

    model_id: str | None = None
    language_code: str | None = None
    enable_logging: bool = True
    enable_ssml_parsing: bool = False
    output_format: OutputFormat = "mp3_44100_128"
    inactivity_timeout: Annotated[int, Field(ge=1, le=180)] = 20
    sync_alignment: bool = False
    auto_mode: bool = False
    apply_text_normalization: Literal["auto", "on", "off"] = "auto"
    seed: Annotated[int, Field(ge=0, le=4294967295)] | None = None
    authorization: str | None = None


class _Opening(_Strict):
    voice_settings: RealtimeVoiceSettingsIn | None = None
    generation_config: GenerationConfigIn | None = None
    pronunciation_dictionary_locators: list[_Locator] | None = Field(default=None, max_length=3)
    xi_api_key: StrictStr | None = None
    authorization: StrictStr | None = None


class MultiMessage(_Opening):
    """Any client message of ``multi-stream-input`` (the union of its documented forms)."""

    text: StrictStr | None = None
    context_id: StrictStr | None = None
    flush: StrictBool | None = None
    close_context: StrictBool | None = None
    close_socket: StrictBool | None = None


class StreamMessage(_Opening):
    """Any client message of ``stream-input`` (``InitializeConnection``/``SendText``/end)."""

    text: StrictStr
    try_trigger_generation: StrictBool | None = None
    flush: StrictBool | None = None
    generator_config: GenerationConfigIn | None = None  # SendText's spelling, documented


def parse_message(model: type[BaseModel], data: Any) -> BaseModel:
    """Validate one websocket message (``xi-api-key`` and ``xi_api_key`` both accepted)."""
    if isinstance(data, dict) and "xi-api-key" in data:
        data = dict(data)
        data.setdefault("xi_api_key", data.pop("xi-api-key"))
    return model.model_validate(data)


def pcm_rate(fmt: str) -> int | None:
    """The sample rate of a ``pcm_*`` format; ``None`` for formats the stand-in cannot make."""
    m = re.fullmatch(r"pcm_(\d+)", fmt)
    return int(m.group(1)) if m else None


# --- answers ------------------------------------------------------------------------------


def json_answer(
    kind: str, body: Any, *, status: int = 200, reason: str | None = None
) -> web.Response:
    """A JSON response, reported to the conformance recorder as ``elevenlabs/<kind>``."""
    emit("elevenlabs", kind, body)
    return web.json_response(body, status=status, reason=reason)


def detail_error(status: int, code: str, message: str) -> web.Response:
    """ElevenLabs' error answer: ``{"detail": {"status": code, "message": ...}}``.

    The reason phrase repeats the message: the livekit plugin surfaces only
    ``ClientResponseError.message`` (the reason) in its ``APIStatusError``.
    """
    reason = message.replace("\n", " ")[:200]
    body = {"detail": {"status": code, "message": message}}
    return json_answer("http_error", body, status=status, reason=reason)


def validation_details(exc: ValidationError, where: str) -> list[dict[str, Any]]:
    """FastAPI's ``detail`` items for a pydantic error in ``where`` (body, query, path)."""
    return [
        {"loc": [where, *err["loc"]], "msg": err["msg"], "type": err["type"]}
        for err in exc.errors()
    ]


def validation_error(details: list[dict[str, Any]]) -> web.Response:
    """A 422 ``{"detail": [...]}`` answer."""
    first = details[0] if details else {"loc": [], "msg": "invalid request"}
    reason = f"{'.'.join(map(str, first['loc']))}: {first['msg']}"[:200]
    return json_answer("validation_error", {"detail": details}, status=422, reason=reason)


def ws_problem(exc: ValidationError) -> tuple[str, str]:
    """``(message, param)`` for the first problem in a websocket message."""
    err = exc.errors()[0]
    param = ".".join(str(p) for p in err["loc"])
    return (f"invalid message: {param or 'message'}: {err['msg']}", param)
