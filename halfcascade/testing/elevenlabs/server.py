"""A local ElevenLabs: both TTS websockets and the HTTP endpoints, served from an offline voice.

Point the real livekit plugin (or the official ``elevenlabs`` SDK) at it and nothing else
changes::

    async with ElevenLabsServer(ttfb=0.25) as server:
        tts = elevenlabs.TTS(base_url=server.base_url, api_key="test", encoding="pcm_24000")
        client = AsyncElevenLabs(base_url=server.sdk_base_url, api_key="test")

What it serves (``/v1`` prefix unless noted):

- ``GET text-to-speech/{voice_id}/multi-stream-input`` and ``.../stream-input``
  (websockets; see :mod:`._ws` for authentication and errors, :mod:`._contexts` for when
  text becomes audio and what ``close_context``/``close_socket`` deliver).
- ``POST text-to-speech/{voice_id}`` and ``.../stream`` (raw ``audio/pcm``),
  ``.../with-timestamps`` (one JSON body) and ``.../stream/with-timestamps`` (JSON lines),
  all with character alignment from the same clock.
- ``GET voices``, ``GET voices/{voice_id}``, ``GET /v2/voices`` (search and pages),
  ``POST single-use-token/{token_type}``.

Only ``pcm_*`` output formats are synthesized (the stand-in has no MP3 encoder); the
voices are the premade ones in :data:`._wire.VOICES` plus any :meth:`add_voice` adds.
Bad input gets the service's own answers: 401 ``needs_authorization``/``invalid_api_key``,
422 ``{"detail": [...]}``, 404 ``voice_not_found``, JSON 404/405 for unknown routes.
"""

from __future__ import annotations

import dataclasses
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from .._tts import ConnectionRecord, ContextRecord, FaultKind, KeyCheck, RequestRecord
from .._tts.server import _TTSServer
from . import _http
from ._wire import VOICES, StreamQuery, detail_error, validation_details, validation_error
from ._ws import Connection

__all__ = ["ConnectionRecord", "ContextRecord", "ElevenLabsServer", "FaultKind", "RequestRecord"]

_HANDSHAKE_FAULTS: tuple[FaultKind, ...] = ("http500",)  # the rest hit a context
_TOKEN_LIFETIME = 15 * 60.0  # seconds a single-use token stays valid, as documented
_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ElevenLabsServer(_TTSServer):
    """A local ElevenLabs TTS for the livekit plugin and the official SDK."""

    def _init_records(self) -> None:
        self._contexts: list[ContextRecord] = []
        self._connections: list[ConnectionRecord] = []
        self._voices: list[dict[str, Any]] = [dict(v) for v in VOICES]
        self._tokens: dict[str, tuple[str, float]] = {}  # token -> (type, expires at)

    # --- records and knobs -------------------------------------------------------------------

    @property
    def sdk_base_url(self) -> str:
        """``http://HOST:PORT``: the official SDK's ``base_url`` (it adds ``/v1`` itself)."""
        return f"http://{self._host}:{self.port}"

    @property
    def contexts(self) -> list[ContextRecord]:
        """Every websocket context so far, oldest first."""
        return list(self._contexts)

    @property
    def connections(self) -> list[ConnectionRecord]:
        """Every websocket connection so far, oldest first."""
        return list(self._connections)

    @property
    def voices(self) -> list[dict[str, Any]]:
        """The voices the account has, in the API's ``Voice`` shape."""
        return [dict(v) for v in self._voices]

    def add_voice(self, voice_id: str, name: str | None = None) -> None:
        """Accept ``voice_id`` as an existing (premade) voice from now on."""
        if not self.knows_voice(voice_id):
            entry = dict(VOICES[-1], voice_id=voice_id, name=name or voice_id)
            self._voices.append(entry)

    def knows_voice(self, voice_id: str) -> bool:
        """Whether ``voice_id`` is one of :attr:`voices`."""
        return any(v["voice_id"] == voice_id for v in self._voices)

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

    # --- routes ------------------------------------------------------------------------------

    def _add_routes(self, app: web.Application) -> None:
        base = "/v1/text-to-speech/{voice_id}"
        add = app.router.add_route
        add("GET", base + "/multi-stream-input", self._multi_stream_input)
        add("GET", base + "/stream-input", self._stream_input)
        add("POST", base + "/stream/with-timestamps", self._speech("stream_timestamps"))
        add("POST", base + "/with-timestamps", self._speech("timestamps"))
        add("POST", base + "/stream", self._speech("audio"))
        add("POST", base, self._speech("audio"))
        add("GET", "/v1/voices", self._route(_http.voices_v1))
        add("GET", "/v1/voices/{voice_id}", self._route(_http.voice))
        add("GET", "/v2/voices", self._route(_http.voices_v2))
        add("POST", "/v1/single-use-token/{token_type}", self._route(_http.single_use_token))
        app.middlewares.append(_json_not_found)

    def _speech(self, mode: _http.SpeechMode) -> _Handler:
        async def handler(request: web.Request) -> web.StreamResponse:
            return await _http.speech(self, request, mode)

        return handler

    def _route(
        self, fn: Callable[[ElevenLabsServer, web.Request], Awaitable[web.StreamResponse]]
    ) -> _Handler:
        async def handler(request: web.Request) -> web.StreamResponse:
            return await fn(self, request)

        return handler

    async def _multi_stream_input(self, request: web.Request) -> web.StreamResponse:
        return await self._websocket(request, multi=True)

    async def _stream_input(self, request: web.Request) -> web.StreamResponse:
        return await self._websocket(request, multi=False)

    async def _websocket(self, request: web.Request, multi: bool) -> web.StreamResponse:
        ws = web.WebSocketResponse(compress=False)
        if not ws.can_prepare(request).ok:  # a plain HTTP request to a websocket route
            return _http.not_found("Not Found")
        if self._pop_fault(_HANDSHAKE_FAULTS) is not None:
            message = "injected http500 fault (halfcascade test server)"
            return detail_error(500, "internal_error", message)
        try:
            query = StreamQuery.model_validate(dict(request.query))
        except ValidationError as exc:
            return validation_error(validation_details(exc, "query"))
        key = request.headers.get("xi-api-key")
        bearer = request.headers.get("Authorization") or query.authorization
        auth = self._check_credentials(key, bearer) if key is not None or bearer else None
        await ws.prepare(request)
        conn_id = len(self._connections)
        voice_id = request.match_info["voice_id"]
        self._connections.append(
            ConnectionRecord(
                connection_id=conn_id,
                voice_id=voice_id,
                params=dict(request.query),
                opened_at=time.perf_counter(),
            )
        )
        await self._notify()
        self._sockets.add(ws)
        conn = Connection(
            self, ws, conn_id=conn_id, voice_id=voice_id, query=query, auth=auth, multi=multi
        )
        try:
            await conn.run()
        finally:
            self._sockets.discard(ws)
            rec = self._connections[conn_id]
            self._connections[conn_id] = dataclasses.replace(rec, closed_at=time.perf_counter())
            await self._notify()
        return ws

    # --- helpers for the connection ----------------------------------------------------------

    def _check_credentials(self, key: str | None, bearer: str | None) -> KeyCheck:
        """An API key if one was given, else a single-use ``tts_websocket`` token."""
        if key is not None:
            return self._check_key(key)
        if not bearer:
            return "missing"
        token = bearer.removeprefix("Bearer ").strip()
        kind, expires = self._tokens.pop(token, ("", 0.0))  # consumed on use
        return "ok" if kind == "tts_websocket" and time.monotonic() < expires else "invalid"

    def _issue_token(self, token_type: str) -> str:
        token = f"sutkn_{secrets.token_hex(16)}"
        self._tokens[token] = (token_type, time.monotonic() + _TOKEN_LIFETIME)
        return token

    def _open_context_record(self, cid: str, conn_id: int) -> int:
        self._contexts.append(
            ContextRecord(context_id=cid, connection_id=conn_id, opened_at=time.perf_counter())
        )
        return len(self._contexts) - 1

    def _update_context(self, index: int, **changes: Any) -> ContextRecord:
        rec = dataclasses.replace(self._contexts[index], **changes)
        self._contexts[index] = rec
        return rec


@web.middleware
async def _json_not_found(request: web.Request, handler: _Handler) -> web.StreamResponse:
    """Unknown routes and methods answer in JSON, as the real (FastAPI) service does."""
    try:
        return await handler(request)
    except web.HTTPMethodNotAllowed:
        return _http.not_found("Method Not Allowed")
    except web.HTTPNotFound:
        return _http.not_found("Not Found")
