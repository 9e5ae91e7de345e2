"""A local OpenAI TTS: ``POST /v1/audio/speech`` served from an offline voice.

Point the real livekit plugin (or the official ``openai`` SDK) at it and nothing else
changes::

    async with OpenAITTSServer(ttfb=0.25) as server:
        tts = openai.TTS(base_url=server.base_url, api_key="test", response_format="pcm")
        client = AsyncOpenAI(base_url=server.base_url, api_key="test")

The body is checked as the API reference and ``openai.types.audio.speech_create_params``
define it: ``input`` (1..4096 characters), ``model`` (a ``SpeechModel``), ``voice`` (a
built-in voice), ``response_format``, ``speed`` (0.25..4.0), ``stream_format``
(``sse`` not for ``tts-1``/``tts-1-hd``), ``instructions`` (not for ``tts-1``/``tts-1-hd``),
and no other key. A bad request gets the API's error object
``{"error": {"message", "type", "param", "code"}}`` with 400 (404 for an unknown model,
401 for a missing or wrong key); so does an unknown route (``Invalid URL``).

``stream_format`` decides the answer: ``"sse"`` streams ``text/event-stream`` events
``{"type": "speech.audio.delta", "audio": <base64>}`` then ``speech.audio.done`` with
token ``usage``; ``"audio"`` (or none) streams raw bytes. Audio is 24 kHz mono PCM16, so
only ``response_format="pcm"`` is served.
"""

from __future__ import annotations

import base64
import json
import logging
from typing import Any, get_args

import numpy as np
from aiohttp import web
from numpy.typing import NDArray
from openai.types.audio import SpeechModel

from .._tts import FaultKind, Piece, RequestRecord
from .._tts.server import _RAW_PCM, _Body, _TTSServer
from ..conformance import emit
from ._checks import check_speech, oai_error

__all__ = ["FaultKind", "OpenAITTSServer", "RequestRecord"]

logger = logging.getLogger("halfcascade.testing.openai_tts")

_SAMPLE_RATE = 24000
_NO_KEY = (
    "You didn't provide an API key. You need to provide your API key in an Authorization "
    "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password "
    "field (with blank username) if you're accessing the API from your browser and are "
    "prompted for a username and password. You can obtain an API key from "
    "https://platform.openai.com/account/api-keys."
)
_BAD_JSON = (
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't "
    "using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was "
    "sent was not valid JSON. If you have trouble figuring out how to fix this, please "
    "contact us through our help center at help.openai.com.)"
)
MODELS: tuple[str, ...] = get_args(SpeechModel)


class OpenAITTSServer(_TTSServer):
    """A local OpenAI speech endpoint for the livekit plugin and the official SDK."""

    def _add_routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/audio/speech", self._speech)
        app.router.add_route("*", "/{tail:.*}", self._invalid_url)

    async def _invalid_url(self, request: web.Request) -> web.StreamResponse:
        # the livekit plugin's prewarm() GETs the base URL just to open a connection
        return oai_error(404, f"Invalid URL ({request.method} {request.path})")

    async def _speech(self, request: web.Request) -> web.StreamResponse:
        auth = request.headers.get("Authorization", "")
        key = auth[7:].strip() if auth.startswith("Bearer ") else None
        if (check := self._check_key(key)) != "ok":
            if check == "missing":
                return oai_error(401, _NO_KEY)
            shown = f"{(key or '')[:3]}***"
            message = (
                f"Incorrect API key provided: {shown}. You can find your API key at "
                "https://platform.openai.com/account/api-keys."
            )
            return oai_error(401, message, code="invalid_api_key")
        try:
            body = json.loads(await request.text())
        except ValueError:
            return oai_error(400, _BAD_JSON)
        if (problem := check_speech(body)) is not None:
            return problem
        text = str(body["input"])
        stream_format = body.get("stream_format", "audio")
        return await self._serve_http(
            request,
            text=text,
            sample_rate=_SAMPLE_RATE,
            params={k: v for k, v in body.items() if k != "input"},
            error=_fault_error,
            body=_SSE if stream_format == "sse" else _RAW_PCM,
        )


def _fault_error(status: int, message: str) -> web.Response:
    return oai_error(status, message)


def _sse_delta(piece: Piece) -> bytes:
    event = {"type": "speech.audio.delta", "audio": base64.b64encode(piece.pcm.tobytes()).decode()}
    emit("openai_tts", "sse_event", event)
    return f"data: {json.dumps(event)}\n\n".encode()


def _sse_done(text: str, pcm: NDArray[np.int16], rate: int) -> bytes:
    # rough token counts, deterministic: ~4 characters a token, ~10 audio tokens a second
    usage = {"input_tokens": max(1, len(text) // 4), "output_tokens": round(len(pcm) / rate * 10)}
    usage["total_tokens"] = usage["input_tokens"] + usage["output_tokens"]
    event: dict[str, Any] = {"type": "speech.audio.done", "usage": usage}
    emit("openai_tts", "sse_event", event)
    return f"data: {json.dumps(event)}\n\n".encode()


_SSE = _Body(content_type="text/event-stream", encode=_sse_delta, trailer=_sse_done)
