"""A local ElevenLabs: the multi-stream websocket and HTTP stream, served from an offline voice.

Point the real plugin at it and nothing else changes::

    async with ElevenLabsServer(ttfb=0.25) as server:
        tts = elevenlabs.TTS(base_url=server.base_url, api_key="test", encoding="pcm_24000")

What it serves (``/v1`` prefix):

- ``GET text-to-speech/{voice_id}/multi-stream-input`` (websocket): many contexts on one
  connection. Text is buffered per context and cut into *chunks* on ``"flush": true``, on
  every text message with ``auto_mode=true``, or when the buffer reaches the context's
  ``chunk_length_schedule`` (default 120/160/250/290 characters) otherwise. A chunk's audio
  starts ``ttfb`` seconds after it was cut (or when the previous chunk's audio ends) and
  streams as ``{"audio", "contextId", "alignment", "normalizedAlignment"}`` messages of
  ``chunk_ms`` each; after ``close_context`` the rest is sent and ``{"isFinal": true}``
  follows. A context closed before its end-of-input flush (``{"text": "", "flush": true}``)
  is *cancelled*: its audio stops and ``isFinal`` is sent at once.
- ``POST text-to-speech/{voice_id}/stream`` (and without ``/stream``): raw PCM, ``audio/pcm``.
- ``GET voices``.

Only ``pcm_*`` output formats are served (the stand-in has no MP3 encoder). Every request
needs an ``xi-api-key`` header (any value).
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from aiohttp import WSMsgType, web
from numpy.typing import NDArray

from .._tts import (
    ConnectionRecord,
    ContextRecord,
    FaultKind,
    RequestRecord,
    _PartWriter,
    _TTSServer,
)

__all__ = ["ConnectionRecord", "ContextRecord", "ElevenLabsServer", "FaultKind", "RequestRecord"]

logger = logging.getLogger("halfcascade.testing.elevenlabs")

_PCM_RATES = (8000, 16000, 22050, 24000, 44100, 48000)
_DEFAULT_SCHEDULE = (120, 160, 250, 290)
_HANDSHAKE_FAULTS: tuple[FaultKind, ...] = ("http500",)  # the rest hit a context
_WRONG_FORMAT = (
    "the halfcascade ElevenLabs stand-in only serves pcm_* output formats, got {fmt!r}: "
    'pass encoding="pcm_24000" to elevenlabs.TTS'
)
_VOICES = [
    {
        "voice_id": "hpp4J3VqNfWAUOO0d1Us",
        "name": "Stand-in (plugin default)",
        "category": "premade",
    },
    {"voice_id": "halfcascade-test", "name": "halfcascade test voice", "category": "premade"},
]


@dataclass(slots=True)
class _Chunk:
    text: str
    cut_at: float
    pcm: asyncio.Task[NDArray[np.int16]]


@dataclass(slots=True)
class _Context:
    index: int
    schedule: tuple[int, ...]
    sender: asyncio.Task[None] | None = None
    queue: asyncio.Queue[_Chunk | None] = field(default_factory=asyncio.Queue)
    buffer: str = ""
    audio_ms: float = 0.0
    dead: bool = False  # failed, hung or cancelled: ignore further input

    def cancel(self) -> None:
        """Stop sending and synthesizing."""
        self.dead = True
        if self.sender is not None:
            self.sender.cancel()
        while not self.queue.empty():
            if (chunk := self.queue.get_nowait()) is not None:
                chunk.pcm.cancel()


class ElevenLabsServer(_TTSServer):
    """A local ElevenLabs TTS for the real ``livekit.plugins.elevenlabs.TTS`` client."""

    def _init_records(self) -> None:
        self._contexts: list[ContextRecord] = []
        self._connections: list[ConnectionRecord] = []

    @property
    def contexts(self) -> list[ContextRecord]:
        """Every websocket context so far, oldest first."""
        return list(self._contexts)

    @property
    def connections(self) -> list[ConnectionRecord]:
        """Every websocket connection so far, oldest first."""
        return list(self._connections)

    async def wait_for_contexts(
        self,
        n: int,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - a bound on the wait, part of the API
    ) -> list[ContextRecord]:
        """Wait until ``n`` contexts have finished (final sent, failed or cancelled).

        Returns every context record; raises ``TimeoutError`` after ``timeout`` seconds.
        """
        await self._wait_until(
            lambda: sum(c.finished_at is not None for c in self._contexts) >= n, timeout
        )
        return self.contexts

    async def wait_for_connections(
        self,
        n: int,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - a bound on the wait, part of the API
    ) -> list[ConnectionRecord]:
        """Wait until ``n`` websocket connections have been opened; ``TimeoutError`` if not."""
        await self._wait_until(lambda: len(self._connections) >= n, timeout)
        return self.connections

    def _add_routes(self, app: web.Application) -> None:
        base = "/v1/text-to-speech/{voice_id}"
        app.router.add_get(base + "/multi-stream-input", self._websocket)
        app.router.add_post(base + "/stream", self._http)
        app.router.add_post(base, self._http)
        app.router.add_get("/v1/voices", self._voices)

    # --- HTTP --------------------------------------------------------------------------------

    async def _voices(self, request: web.Request) -> web.StreamResponse:
        if not request.headers.get("xi-api-key"):
            return _error(401, "missing xi-api-key header")
        return web.json_response({"voices": _VOICES})

    async def _http(self, request: web.Request) -> web.StreamResponse:
        if not request.headers.get("xi-api-key"):
            return _error(401, "missing xi-api-key header")
        fmt = _output_format(request.query)
        if (rate := _pcm_rate(fmt)) is None:
            return _error(400, _WRONG_FORMAT.format(fmt=fmt))
        body = await request.json()
        params = {"voice_id": request.match_info["voice_id"], "output_format": fmt}
        params |= {k: v for k, v in body.items() if k != "text"}
        return await self._serve_http(
            request,
            text=str(body.get("text", "")),
            sample_rate=rate,
            params=params,
            error=_error,
        )

    # --- websocket ---------------------------------------------------------------------------

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        if not request.headers.get("xi-api-key"):
            return _error(401, "missing xi-api-key header")
        if self._pop_fault(_HANDSHAKE_FAULTS) is not None:
            return _error(500, "injected http500 fault (halfcascade test server)")
        ws = web.WebSocketResponse(compress=False)
        await ws.prepare(request)
        conn_id = len(self._connections)
        self._connections.append(
            ConnectionRecord(
                connection_id=conn_id,
                voice_id=request.match_info["voice_id"],
                params=dict(request.query),
                opened_at=time.perf_counter(),
            )
        )
        await self._notify()
        self._sockets.add(ws)
        session = _Session(self, ws, conn_id, request.query)
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    await session.on_message(json.loads(msg.data))
        finally:
            self._sockets.discard(ws)
            await session.aclose()
            rec = self._connections[conn_id]
            self._connections[conn_id] = dataclasses.replace(rec, closed_at=time.perf_counter())
            await self._notify()
        return ws

    def _update_context(self, index: int, **changes: Any) -> ContextRecord:
        rec = dataclasses.replace(self._contexts[index], **changes)
        self._contexts[index] = rec
        return rec


class _Session:
    """One websocket connection: routes messages to contexts and streams their audio."""

    def __init__(
        self, server: ElevenLabsServer, ws: web.WebSocketResponse, conn_id: int, query: Any
    ) -> None:
        self._server = server
        self._ws = ws
        self._conn_id = conn_id
        self._format = _output_format(query)
        self._rate = _pcm_rate(self._format) or 0  # 0: a format the stand-in cannot serve
        self._auto_mode = query.get("auto_mode", "false").lower() == "true"
        self._contexts: dict[str, _Context] = {}
        self._send_lock = asyncio.Lock()

    async def on_message(self, data: dict[str, Any]) -> None:
        cid = str(data.get("context_id") or data.get("contextId") or "default")
        if data.get("close_socket"):
            await self._ws.close()
            return
        ctx = self._contexts.get(cid)
        if ctx is None:
            if data.get("close_context"):
                return
            ctx = await self._open(cid, data)
        rec = self._server._contexts[ctx.index]
        self._server._update_context(ctx.index, wire=(*rec.wire, data))
        now = time.perf_counter()
        if (text := data.get("text")) is not None:
            self._on_text(ctx, str(text), bool(data.get("flush")), now)
        elif data.get("flush"):
            self._on_text(ctx, "", True, now)
        if data.get("close_context"):
            await self._close_context(cid, ctx, now)

    async def _open(self, cid: str, data: dict[str, Any]) -> _Context:
        srv = self._server
        schedule = (data.get("generation_config") or {}).get("chunk_length_schedule")
        ctx = _Context(index=len(srv._contexts), schedule=tuple(schedule or _DEFAULT_SCHEDULE))
        self._contexts[cid] = ctx
        srv._contexts.append(
            ContextRecord(
                context_id=cid, connection_id=self._conn_id, opened_at=time.perf_counter()
            )
        )
        if not self._rate:
            await self._fail(cid, ctx, None, _WRONG_FORMAT.format(fmt=self._format))
        elif (fault := srv._pop_fault()) == "close":
            srv._update_context(ctx.index, fault=fault, finished_at=time.perf_counter())
            ctx.dead = True
            await self._ws.close(code=1011, message=b"injected close fault")
        elif fault == "hang":
            srv._update_context(ctx.index, fault=fault)
            ctx.dead = True
        elif fault is not None:
            await self._fail(cid, ctx, fault, f"injected {fault} fault (halfcascade test server)")
        else:
            ctx.sender = srv._spawn(self._send_audio(cid, ctx))
        await srv._notify()
        return ctx

    def _on_text(self, ctx: _Context, text: str, flush: bool, now: float) -> None:
        srv = self._server
        rec = srv._contexts[ctx.index]
        changes: dict[str, Any] = {}
        if text.strip() and rec.first_text_at is None:
            changes["first_text_at"] = now
        if flush and rec.first_flush_at is None:
            changes["first_flush_at"] = now
        if flush and not text:
            changes["end_of_input_at"] = now
        srv._update_context(ctx.index, **changes)
        if ctx.dead:
            return
        # leading blanks (the " " opener) are not speech: a chunk starts at its first word
        ctx.buffer = ctx.buffer + text if ctx.buffer else text.lstrip()
        threshold = ctx.schedule[min(len(rec.chunks), len(ctx.schedule) - 1)]
        if flush or self._auto_mode or len(ctx.buffer) >= threshold:
            self._cut(ctx, now)

    def _cut(self, ctx: _Context, now: float) -> None:
        """Hand the buffered text to synthesis as one chunk."""
        text, ctx.buffer = ctx.buffer, ""
        if not text.strip():
            return
        srv = self._server
        rec = srv._contexts[ctx.index]
        srv._update_context(
            ctx.index, chunks=(*rec.chunks, text), chunk_times=(*rec.chunk_times, now)
        )
        ctx.queue.put_nowait(_Chunk(text, now, srv._synthesize(text, self._rate)))

    async def _close_context(self, cid: str, ctx: _Context, now: float) -> None:
        srv = self._server
        rec = srv._update_context(ctx.index, closed_at=now)
        if ctx.dead:
            return
        if rec.end_of_input_at is not None:
            ctx.queue.put_nowait(None)  # the sender finishes what was flushed, then isFinal
            return
        # closed before the end-of-input flush: the client gave up on it (an interruption)
        ctx.cancel()
        srv._update_context(ctx.index, cancelled=True, finished_at=time.perf_counter())
        await self._send({"isFinal": True, "contextId": cid})
        await srv._notify()

    async def _send_audio(self, cid: str, ctx: _Context) -> None:
        srv = self._server
        while (chunk := await ctx.queue.get()) is not None:
            write = self._writer(cid, ctx, chunk.text)
            try:
                pcm = await srv._stream_pcm(chunk.pcm, self._rate, chunk.cut_at, write)
            except Exception as exc:  # a broken voice: tell the client, as the real API would
                ctx.sender = None  # this task: do not cancel it, it still sends the error
                ctx.cancel()
                await self._fail(cid, ctx, None, f"synthesis failed: {exc}")
                return
            ctx.audio_ms += len(pcm) / self._rate * 1000
        await self._send({"isFinal": True, "contextId": cid})
        srv._update_context(ctx.index, finished_at=time.perf_counter())
        await srv._notify()

    def _writer(self, cid: str, ctx: _Context, text: str) -> _PartWriter:
        """Send one chunk's audio parts as messages, with the alignment of their characters."""
        srv, rate = self._server, self._rate

        async def write(offset: int, part: NDArray[np.int16], total: int) -> None:
            msg: dict[str, Any] = {"audio": base64.b64encode(part.tobytes()).decode()}
            msg["contextId"] = cid
            span = (offset, offset + len(part), total)
            if align := _alignment(text, span, ctx.audio_ms, rate):
                msg["alignment"] = msg["normalizedAlignment"] = align
            await self._send(msg)
            rec = srv._contexts[ctx.index]
            changes: dict[str, Any] = {"audio_seconds": rec.audio_seconds + len(part) / rate}
            if rec.first_audio_sent_at is None:
                changes["first_audio_sent_at"] = time.perf_counter()
            srv._update_context(ctx.index, **changes)

        return write

    async def _fail(self, cid: str, ctx: _Context, fault: FaultKind | None, message: str) -> None:
        ctx.dead = True
        now = time.perf_counter()
        self._server._update_context(ctx.index, fault=fault, error=message, finished_at=now)
        logger.debug("failing context", extra={"context_id": cid, "error": message})
        await self._send({"error": message, "message": message, "contextId": cid})

    async def _send(self, msg: dict[str, Any]) -> None:
        if self._ws.closed:
            return
        async with self._send_lock:
            await self._ws.send_str(json.dumps(msg))

    async def aclose(self) -> None:
        """Cancel every context's pending work (the connection is gone)."""
        now = time.perf_counter()
        for ctx in self._contexts.values():
            ctx.cancel()
            if self._server._contexts[ctx.index].finished_at is None:
                self._server._update_context(ctx.index, cancelled=True, finished_at=now)
        senders = [c.sender for c in self._contexts.values() if c.sender is not None]
        await asyncio.gather(*senders, return_exceptions=True)


def _alignment(
    text: str, span: tuple[int, int, int], offset_ms: float, rate: int
) -> dict[str, list[Any]] | None:
    """Alignment for the characters of ``text`` that start inside samples ``[start, end)``.

    ``span`` is ``(start, end, total)``. Characters are spread evenly over the chunk's audio;
    times are milliseconds on the context's clock (``offset_ms`` is where this chunk's audio
    starts), which is how the plugin reads them.
    """
    start, end, total = span
    per_char = total / len(text)  # samples per character
    first = min(len(text), int(np.ceil(start / per_char)))
    stop = len(text) if end >= total else min(len(text), int(np.ceil(end / per_char)))
    if first >= stop:
        return None
    ms = 1000 / rate
    return {
        "chars": list(text[first:stop]),
        "charStartTimesMs": [round(offset_ms + j * per_char * ms) for j in range(first, stop)],
        "charDurationsMs": [round(per_char * ms)] * (stop - first),
    }


def _output_format(query: Any) -> str:
    return str(query.get("output_format") or query.get("encoding") or "mp3_44100_128")


def _pcm_rate(fmt: str) -> int | None:
    m = re.fullmatch(r"pcm_(\d+)", fmt)
    return int(m.group(1)) if m and int(m.group(1)) in _PCM_RATES else None


def _error(status: int, message: str) -> web.Response:
    # ElevenLabs' error body; the reason phrase carries the message too, because the plugin
    # only surfaces `ClientResponseError.message` (the reason) in its APIStatusError
    reason = message.replace("\n", " ")[:200]
    body = {"detail": {"status": "error", "message": message}}
    return web.json_response(body, status=status, reason=reason)
