"""Check a ``POST /v1/audio/speech`` body the way the OpenAI API does, and say no in its words.

The accepted keys and values come from the ``openai`` package
(``openai.types.audio.speech_create_params``, ``SpeechModel``) and the API reference;
the messages and codes follow the API's own (``missing_required_parameter``,
``invalid_type``, ``invalid_value``, ``decimal_below_min_value``,
``string_above_max_length``, ``model_not_found``...). The SDK retries 5xx answers, so a
bad request must be a 4xx or a user sees slow retries instead of the real error.
"""

from __future__ import annotations

from typing import Any, get_args, get_type_hints

from aiohttp import web
from openai.types.audio import SpeechModel, speech_create_params

from ..conformance import emit

__all__ = ["check_speech", "oai_error"]

_MODELS: tuple[str, ...] = get_args(SpeechModel)
_VOICES: tuple[str, ...] = next(
    get_args(a) for a in get_args(speech_create_params.Voice) if get_args(a)
)
_HINTS = get_type_hints(speech_create_params.SpeechCreateParams)
_FORMATS: tuple[str, ...] = get_args(_HINTS["response_format"])
_STREAM_FORMATS: tuple[str, ...] = get_args(_HINTS["stream_format"])
_KEYS = frozenset(_HINTS)
_AUDIO_ONLY_MODELS = ("tts-1", "tts-1-hd")
_MAX_INPUT = 4096
_WRONG_FORMAT = (
    "the halfcascade OpenAI TTS stand-in only serves response_format='pcm' "
    '(24 kHz mono PCM16), got {fmt!r}: pass response_format="pcm" to openai.TTS'
)
_TYPE_NAMES = {str: "a string", float: "a decimal", dict: "an object", bool: "a boolean"}


def oai_error(
    status: int, message: str, *, param: str | None = None, code: str | None = None
) -> web.Response:
    """The API's error answer, reported as ``openai_tts/http_error``."""
    kind = "invalid_request_error" if status < 500 else "server_error"
    body = {"error": {"message": message, "type": kind, "param": param, "code": code}}
    emit("openai_tts", "http_error", body)
    return web.json_response(body, status=status)


def check_speech(body: Any) -> web.Response | None:
    """The error answer for a bad speech request, or ``None`` when it is good."""
    if not isinstance(body, dict):
        return oai_error(400, "Invalid request body: expected a JSON object.")
    for key in body:
        if key not in _KEYS:
            return oai_error(400, f"Unrecognized request argument supplied: {key}")
    for key in ("model", "input", "voice"):
        if key not in body:
            return oai_error(
                400,
                f"Missing required parameter: '{key}'.",
                param=key,
                code="missing_required_parameter",
            )
    return _check_values(body)


def _check_values(body: dict[str, Any]) -> web.Response | None:
    for key, expected in (("model", str), ("input", str), ("instructions", str)):
        if key in body and not isinstance(body[key], expected):
            return _wrong_type(key, expected, body[key])
    model, text = body["model"], body["input"]
    if model not in _MODELS:
        message = f"The model `{model}` does not exist or you do not have access to it."
        return oai_error(404, message, code="model_not_found")
    if not text:
        return _length(
            "input", "string too short", "minimum length 1, but got an empty string", "below_min"
        )
    if len(text) > _MAX_INPUT:
        detail = f"maximum length {_MAX_INPUT}, but got a string with length {len(text)}"
        return _length("input", "string too long", detail, "above_max")
    if (problem := _check_voice(body["voice"])) is not None:
        return problem
    if (problem := _check_speed(body.get("speed", 1.0))) is not None:
        return problem
    return _check_formats(body, model)


def _check_voice(voice: Any) -> web.Response | None:
    if isinstance(voice, str) and voice in _VOICES:
        return None
    if isinstance(voice, dict):
        shown = voice.get("id")  # a custom voice: the stand-in has none
    elif isinstance(voice, str):
        shown = voice
    else:
        return _wrong_type("voice", str, voice)
    return _invalid_value("voice", shown, _VOICES)


def _check_speed(speed: Any) -> web.Response | None:
    if isinstance(speed, bool) or not isinstance(speed, int | float):
        return _wrong_type("speed", float, speed)
    for bound, below in ((0.25, True), (4.0, False)):
        if (speed < bound) if below else (speed > bound):
            side, sign = ("below minimum", ">=") if below else ("above maximum", "<=")
            message = (
                f"Invalid 'speed': decimal {side} value. Expected a value {sign} {bound:g}, "
                f"but got {speed:g} instead."
            )
            code = "decimal_below_min_value" if below else "decimal_above_max_value"
            return oai_error(400, message, param="speed", code=code)
    return None


def _check_formats(body: dict[str, Any], model: str) -> web.Response | None:
    fmt = body.get("response_format", "mp3")
    if fmt not in _FORMATS:
        return _invalid_value("response_format", fmt, _FORMATS)
    stream_format = body.get("stream_format", "audio")
    if stream_format not in _STREAM_FORMATS:
        return _invalid_value("stream_format", stream_format, _STREAM_FORMATS)
    if model in _AUDIO_ONLY_MODELS:
        if stream_format == "sse":
            message = f"stream_format 'sse' is not supported for model '{model}'."
            return oai_error(400, message, param="stream_format", code="unsupported_value")
        if "instructions" in body:
            message = f"instructions are not supported for model '{model}'."
            return oai_error(400, message, param="instructions", code="unsupported_parameter")
    if fmt != "pcm":
        return oai_error(400, _WRONG_FORMAT.format(fmt=fmt), param="response_format")
    return None


def _wrong_type(key: str, expected: type, value: Any) -> web.Response:
    got = type(value).__name__
    message = f"Invalid type for '{key}': expected {_TYPE_NAMES[expected]}, but got {got} instead."
    return oai_error(400, message, param=key, code="invalid_type")


def _invalid_value(key: str, value: Any, allowed: tuple[str, ...]) -> web.Response:
    listed = ", ".join(f"'{v}'" for v in allowed)
    message = f"Invalid value: '{value}'. Supported values are: {listed}."
    return oai_error(400, message, param=key, code="invalid_value")


def _length(key: str, what: str, detail: str, side: str) -> web.Response:
    message = f"Invalid '{key}': {what}. Expected a string with {detail} instead."
    return oai_error(400, message, param=key, code=f"string_{side}_length")
