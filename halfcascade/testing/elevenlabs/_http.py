"""The ElevenLabs HTTP endpoints: speech (raw, streamed, with timestamps) and voices.

Checks run in the real service's order: credentials (401), then request validation (422),
then the voice (404), then what the stand-in can make (400 for non-``pcm_*`` formats).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
from aiohttp import web
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .._tts import Piece
from .._tts.server import _RAW_PCM, _Body
from ..conformance import emit
from ._wire import (
    SpeechBody,
    SpeechQuery,
    detail_error,
    json_answer,
    pcm_rate,
    validation_details,
    validation_error,
)

if TYPE_CHECKING:
    from .server import ElevenLabsServer

__all__ = [
    "SpeechMode",
    "not_found",
    "single_use_token",
    "speech",
    "voice",
    "voices_v1",
    "voices_v2",
]

#: Which synthesis endpoint answers: raw audio (``convert``/``stream``) or timestamps.
SpeechMode = Literal["audio", "timestamps", "stream_timestamps"]

_WRONG_FORMAT = (
    "the halfcascade ElevenLabs stand-in only serves pcm_* output formats, got {fmt!r}: "
    'pass encoding="pcm_24000" to elevenlabs.TTS (or output_format="pcm_24000")'
)
_NO_KEY = "Neither authorization header nor xi-api-key received, please provide one."


def refuse(server: ElevenLabsServer, request: web.Request) -> web.Response | None:
    """The 401 answer for missing or wrong credentials, or ``None`` when they are good."""
    check = server._check_key(request.headers.get("xi-api-key"))
    if check == "missing":
        return detail_error(401, "needs_authorization", _NO_KEY)
    if check == "invalid":
        return detail_error(401, "invalid_api_key", "Invalid API key")
    return None


def voice_missing(voice_id: str) -> web.Response:
    """The 404 answer for a voice the account does not have."""
    msg = f"A voice with the voice_id {voice_id} was not found."
    return detail_error(404, "voice_not_found", msg)


async def speech(
    server: ElevenLabsServer, request: web.Request, mode: SpeechMode
) -> web.StreamResponse:
    """``POST /v1/text-to-speech/{voice_id}[/stream][/with-timestamps]``."""
    if (refused := refuse(server, request)) is not None:
        return refused
    try:
        query = SpeechQuery.model_validate(dict(request.query))
    except ValidationError as exc:
        return validation_error(validation_details(exc, "query"))
    raw = await request.text()
    try:
        data = json.loads(raw)
    except ValueError as exc:
        pos = getattr(exc, "pos", 0)
        return validation_error(
            [{"loc": ["body", pos], "msg": "JSON decode error", "type": "json_invalid"}]
        )
    try:
        body = SpeechBody.model_validate(data)
    except ValidationError as exc:
        return validation_error(validation_details(exc, "body"))
    voice_id = request.match_info["voice_id"]
    if not server.knows_voice(voice_id):
        return voice_missing(voice_id)
    if (rate := pcm_rate(query.output_format)) is None:
        message = _WRONG_FORMAT.format(fmt=query.output_format)
        return detail_error(400, "unsupported_output_format", message)
    params = {"voice_id": voice_id, "output_format": query.output_format}
    params |= {k: v for k, v in data.items() if k != "text"}
    return await server._serve_http(
        request,
        text=body.text,
        sample_rate=rate,
        params=params,
        error=_fault_error,
        body=_BODIES[mode],
    )


def _fault_error(status: int, message: str) -> web.Response:
    return detail_error(status, "injected_fault" if status < 500 else "internal_error", message)


# --- timestamps ---------------------------------------------------------------------------


def _alignment_s(text: str, first: int, stop: int, per_char: float, rate: int) -> dict[str, Any]:
    return {
        "characters": list(text[first:stop]),
        "character_start_times_seconds": [
            round(j * per_char / rate, 3) for j in range(first, stop)
        ],
        "character_end_times_seconds": [
            round((j + 1) * per_char / rate, 3) for j in range(first, stop)
        ],
    }


def _chunk_line(piece: Piece) -> bytes:
    text, end = piece.text, piece.offset + len(piece.pcm)
    per_char = piece.total / len(text) if text else 1.0
    first = min(len(text), int(np.ceil(piece.offset / per_char)))
    stop = len(text) if end >= piece.total else min(len(text), int(np.ceil(end / per_char)))
    msg: dict[str, Any] = {"audio_base64": base64.b64encode(piece.pcm.tobytes()).decode()}
    if first < stop:
        msg["alignment"] = msg["normalized_alignment"] = _alignment_s(
            text, first, stop, per_char, piece.rate
        )
    emit("elevenlabs", "audio_chunk_with_timestamps", msg)
    return (json.dumps(msg) + "\n").encode()


def _whole(text: str, pcm: NDArray[np.int16], rate: int) -> bytes:
    per_char = len(pcm) / len(text) if text else 1.0
    align = _alignment_s(text, 0, len(text), per_char, rate)
    msg = {
        "audio_base64": base64.b64encode(pcm.tobytes()).decode(),
        "alignment": align,
        "normalized_alignment": align,
    }
    emit("elevenlabs", "audio_with_timestamps", msg)
    return json.dumps(msg).encode()


def _nothing(piece: Piece) -> bytes:
    return b""


_BODIES: dict[SpeechMode, _Body] = {
    "audio": _RAW_PCM,
    "stream_timestamps": _Body(content_type="application/json", encode=_chunk_line),
    "timestamps": _Body(content_type="application/json", encode=_nothing, trailer=_whole),
}


# --- voices -------------------------------------------------------------------------------


class _SearchQuery(BaseModel):
    """``GET /v2/voices`` query (``voices.search`` in the SDK)."""

    model_config = ConfigDict(extra="ignore")

    next_page_token: str | None = None
    page_size: Annotated[int, Field(ge=1, le=100)] = 10
    search: str | None = None
    sort: Literal["created_at_unix", "name"] | None = None
    sort_direction: Literal["asc", "desc"] | None = None
    voice_type: (
        Literal["personal", "community", "default", "workspace", "non-default", "saved"] | None
    ) = None
    category: Literal["premade", "cloned", "generated", "professional"] | None = None
    include_total_count: bool = True


async def _guarded(
    server: ElevenLabsServer, request: web.Request, answer: Callable[[], web.Response]
) -> web.StreamResponse:
    if (refused := refuse(server, request)) is not None:
        return refused
    if (fault := server._pop_fault()) is not None:
        return await server._http_fault(request, fault, _fault_error)
    return answer()


async def voices_v1(server: ElevenLabsServer, request: web.Request) -> web.StreamResponse:
    """``GET /v1/voices``: every voice (``voices.get_all``)."""
    return await _guarded(server, request, lambda: json_answer("voices", {"voices": server.voices}))


async def voice(server: ElevenLabsServer, request: web.Request) -> web.StreamResponse:
    """``GET /v1/voices/{voice_id}``."""

    def answer() -> web.Response:
        voice_id = request.match_info["voice_id"]
        found = [v for v in server.voices if v["voice_id"] == voice_id]
        return json_answer("voice", found[0]) if found else voice_missing(voice_id)

    return await _guarded(server, request, answer)


async def voices_v2(server: ElevenLabsServer, request: web.Request) -> web.StreamResponse:
    """``GET /v2/voices``: search, filter and page (``voices.search``)."""

    def answer() -> web.Response:
        try:
            q = _SearchQuery.model_validate(dict(request.query))
            start = int(q.next_page_token or 0)
        except (ValidationError, ValueError) as exc:
            if isinstance(exc, ValidationError):
                return validation_error(validation_details(exc, "query"))
            bad = {
                "loc": ["query", "next_page_token"],
                "msg": "invalid page token",
                "type": "value_error",
            }
            return validation_error([bad])
        found = _matching(server.voices, q)
        page = found[start : start + q.page_size]
        more = start + q.page_size < len(found)
        body: dict[str, Any] = {"voices": page, "has_more": more, "total_count": len(found)}
        body["next_page_token"] = str(start + q.page_size) if more else None
        return json_answer("voices_v2", body)

    return await _guarded(server, request, answer)


def _matching(voices: list[dict[str, Any]], q: _SearchQuery) -> list[dict[str, Any]]:
    if q.voice_type not in (None, "default") or q.category not in (None, "premade"):
        return []  # the stand-in has premade voices only
    needle = (q.search or "").lower()
    found = [v for v in voices if needle in f"{v['name']} {v.get('description', '')}".lower()]
    if q.sort == "name":
        found.sort(key=lambda v: str(v["name"]), reverse=q.sort_direction == "desc")
    return found


# --- single-use tokens --------------------------------------------------------------------

_TOKEN_TYPES = ("realtime_scribe", "tts_websocket")


async def single_use_token(server: ElevenLabsServer, request: web.Request) -> web.StreamResponse:
    """``POST /v1/single-use-token/{token_type}`` (``tokens.single_use.create``)."""
    if (refused := refuse(server, request)) is not None:
        return refused
    token_type = request.match_info["token_type"]
    if token_type not in _TOKEN_TYPES:
        bad = {
            "loc": ["path", "token_type"],
            "msg": "Input should be 'realtime_scribe' or 'tts_websocket'",
            "type": "enum",
        }
        return validation_error([bad])
    return json_answer("single_use_token", {"token": server._issue_token(token_type)})


def not_found(detail: str) -> web.Response:
    """FastAPI's answer for a route or method that does not exist."""
    return json_answer(
        "not_found", {"detail": detail}, status=404 if detail == "Not Found" else 405
    )
