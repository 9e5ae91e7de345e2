"""A local OpenAI TTS: ``POST /v1/audio/speech`` served from an offline voice.

Point the real plugin at it and nothing else changes::

    async with OpenAITTSServer(ttfb=0.25) as server:
        tts = openai.TTS(base_url=server.base_url, api_key="test", response_format="pcm")

The body's ``stream_format`` decides the answer, as on the real endpoint: ``"sse"`` (the
plugin's choice for every model but ``tts-1``/``tts-1-hd``) streams ``text/event-stream``
events ``{"type": "speech.audio.delta", "audio": <base64>}`` then ``speech.audio.done`` with
token ``usage``; ``"audio"`` (or none) streams raw bytes. Audio is 24 kHz mono PCM16, so
only ``response_format="pcm"`` is served. Requests need ``Authorization: Bearer <any key>``.
"""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

from aiohttp import web

from .._tts import _RAW_PCM, FaultKind, RequestRecord, _Body, _TTSServer

__all__ = ["FaultKind", "OpenAITTSServer", "RequestRecord"]

logger = logging.getLogger("halfcascade.testing.openai_tts")

_SAMPLE_RATE = 24000
_AUDIO_ONLY_MODELS = ("tts-1", "tts-1-hd")
_MAX_INPUT = 4096
_WRONG_FORMAT = (
    "the halfcascade OpenAI TTS stand-in only serves response_format='pcm' "
    '(24 kHz mono PCM16), got {fmt!r}: pass response_format="pcm" to openai.TTS'
)


class OpenAITTSServer(_TTSServer):
    """A local OpenAI speech endpoint for the real ``livekit.plugins.openai.TTS`` client."""

    def _add_routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/audio/speech", self._speech)
        # the plugin's prewarm() GETs the base URL just to open a connection
        app.router.add_get("/v1", self._root)
        app.router.add_get("/v1/", self._root)

    async def _root(self, request: web.Request) -> web.StreamResponse:
        return web.json_response({"object": "halfcascade.openai_tts_server"})

    async def _speech(self, request: web.Request) -> web.StreamResponse:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or not auth[7:].strip():
            return _error(401, "missing API key: send 'Authorization: Bearer <key>'")
        body: dict[str, Any] = await request.json()
        text = str(body.get("input", ""))
        params = {k: v for k, v in body.items() if k != "input"}
        fmt = str(body.get("response_format", "mp3"))
        stream_format = str(body.get("stream_format", "audio"))
        if problem := _check(text, fmt, stream_format, str(body.get("model", ""))):
            return _error(400, problem)
        return await self._serve_http(
            request,
            text=text,
            sample_rate=_SAMPLE_RATE,
            params=params,
            error=_error,
            body=_SSE if stream_format == "sse" else _RAW_PCM,
        )


def _check(text: str, fmt: str, stream_format: str, model: str) -> str | None:
    """Why the request is invalid, or None."""
    if not text:
        return "'input' is required"
    if len(text) > _MAX_INPUT:
        return f"'input' is longer than {_MAX_INPUT} characters"
    if fmt != "pcm":
        return _WRONG_FORMAT.format(fmt=fmt)
    if stream_format not in ("sse", "audio"):
        return f"stream_format must be 'sse' or 'audio', got {stream_format!r}"
    if stream_format == "sse" and model in _AUDIO_ONLY_MODELS:
        return f"stream_format 'sse' is not supported for model {model!r}"
    return None


def _sse_delta(pcm: bytes) -> bytes:
    event = {"type": "speech.audio.delta", "audio": base64.b64encode(pcm).decode()}
    return f"data: {json.dumps(event)}\n\n".encode()


def _sse_done(text: str, seconds: float) -> bytes:
    # rough token counts, deterministic: ~4 characters a token, ~10 audio tokens a second
    usage = {"input_tokens": max(1, len(text) // 4), "output_tokens": round(seconds * 10)}
    usage["total_tokens"] = usage["input_tokens"] + usage["output_tokens"]
    return f"data: {json.dumps({'type': 'speech.audio.done', 'usage': usage})}\n\n".encode()


_SSE = _Body(content_type="text/event-stream", encode=_sse_delta, trailer=_sse_done)


def _error(status: int, message: str) -> web.Response:
    kind = "invalid_request_error" if status < 500 else "server_error"
    body = {"error": {"message": message, "type": kind, "param": None, "code": None}}
    return web.json_response(body, status=status)
