"""One ElevenLabs text-to-speech websocket: ``stream-input`` or ``multi-stream-input``.

Authentication, as documented: an ``xi-api-key`` header, or ``xi_api_key`` (also spelled
``xi-api-key``) in the first message, or an ``authorization`` bearer token (a single-use
``tts_websocket`` token) in the query, header or first message. The voice must exist.

Errors are sent the way the service sends them, ``{"message", "error", "code"}`` with
``code`` the close code: a malformed frame, a message the API reference does not allow
(unknown keys, out-of-range ``voice_settings``...), bad credentials, an unknown voice and
a sixth simultaneous context (``max_active_conversations``) close the socket with 1008.
An error that concerns one context of ``multi-stream-input`` (an injected fault, an
output format the stand-in cannot make, a broken voice) carries its ``contextId`` and
leaves the socket and the other contexts alone. Where the docs are silent (the ``error``
identifiers other than ``max_active_conversations``, closing on a malformed frame), the
stand-in takes the stricter reading.

``stream-input`` ends with ``{"text": ""}``: the rest is flushed and spoken, then
``{"isFinal": true}`` and a normal close (1000), which the SDK's ``convert_realtime``
waits for.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import TYPE_CHECKING, Any, NoReturn

from aiohttp import WSMsgType, web
from pydantic import BaseModel, ValidationError

from ..conformance import emit
from ._contexts import DEFAULT_SCHEDULE, Context
from ._wire import MultiMessage, StreamMessage, StreamQuery, parse_message, pcm_rate, ws_problem

if TYPE_CHECKING:
    from .._tts import KeyCheck
    from .server import ElevenLabsServer

__all__ = ["Connection"]

logger = logging.getLogger("halfcascade.testing.elevenlabs")

_MAX_CONTEXTS = 5  # per connection, as documented
_WRONG_FORMAT = (
    "the halfcascade ElevenLabs stand-in only serves pcm_* output formats, got {fmt!r}: "
    'pass encoding="pcm_24000" to elevenlabs.TTS'
)
_NO_KEY = "Neither authorization header nor xi-api-key received, please provide one."


class _Closed(Exception):
    """The connection was closed with an error; stop reading."""


class Connection:
    """Route one websocket's messages to its contexts and stream their audio back."""

    def __init__(
        self,
        server: ElevenLabsServer,
        ws: web.WebSocketResponse,
        *,
        conn_id: int,
        voice_id: str,
        query: StreamQuery,
        auth: KeyCheck | None,
        multi: bool,
    ) -> None:
        self._server = server
        self._ws = ws
        self._conn_id = conn_id
        self._voice_id = voice_id
        self._query = query
        self._auth = auth  # None: not offered yet, the first message may carry it
        self._multi = multi
        self._rate = pcm_rate(query.output_format) or 0  # 0: a format the stand-in cannot make
        self._contexts: dict[str, Context] = {}  # open ones, by id
        self._live: list[Context] = []  # open or still flushing after close
        self._single: Context | None = None  # the stream-input context
        self._ended = False  # stream-input: end of input received
        self._lock = asyncio.Lock()

    async def run(self) -> None:
        """Serve until the client leaves or the connection is closed on an error."""
        try:
            if self._auth is not None:
                await self._admit()
            async for msg in self._ws:
                if msg.type == WSMsgType.TEXT:
                    await self._on_frame(msg.data)
                elif msg.type == WSMsgType.BINARY:
                    await self._fatal("invalid_request", "binary frames are not accepted")
        except _Closed:
            pass
        finally:
            await self._abandon_all()

    # --- frames ------------------------------------------------------------------------------

    async def _on_frame(self, raw: str) -> None:
        try:
            data = json.loads(raw)
        except ValueError as exc:
            await self._fatal("invalid_request", f"message is not valid JSON: {exc}")
        model: type[BaseModel] = MultiMessage if self._multi else StreamMessage
        try:
            msg = parse_message(model, data)
        except ValidationError as exc:
            message, param = ws_problem(exc)
            await self._fatal("invalid_request", message, param=param)
        if self._auth != "ok":
            key = getattr(msg, "xi_api_key", None)
            self._auth = self._server._check_credentials(key, getattr(msg, "authorization", None))
            await self._admit()
        if isinstance(msg, MultiMessage):
            await self._on_multi(msg, data)
        else:
            assert isinstance(msg, StreamMessage)
            await self._on_stream(msg, data)

    async def _admit(self) -> None:
        """Refuse the connection unless its credentials and voice are good."""
        if self._auth == "missing":
            await self._fatal("authentication_required", _NO_KEY)
        if self._auth == "invalid":
            await self._fatal("invalid_api_key", "Invalid API key")
        if not self._server.knows_voice(self._voice_id):
            msg = f"A voice with the voice_id {self._voice_id} was not found."
            await self._fatal("voice_not_found", msg)

    # --- multi-stream-input ------------------------------------------------------------------

    async def _on_multi(self, msg: MultiMessage, data: dict[str, Any]) -> None:
        if msg.close_socket:
            await self._close_socket()
        cid = msg.context_id or "default"
        ctx = self._contexts.get(cid)
        if msg.close_context:
            if ctx is not None:
                self._record(ctx, data)
                self._close(ctx)
            return
        if ctx is None:
            ctx = await self._open(cid, msg.generation_config)
        self._record(ctx, data)
        if msg.text is not None and (msg.text or msg.flush):
            ctx.add_text(msg.text, flush=bool(msg.flush), trigger=False, auto_mode=self._auto)
        elif msg.flush:
            ctx.add_text("", flush=True, trigger=False, auto_mode=self._auto)
        # {"text": ""} alone keeps the context alive: nothing to do

    def _close(self, ctx: Context) -> None:
        self._contexts.pop(ctx.cid, None)  # the id may be reused for a new context
        ctx.close()
        if ctx.dead:
            self._forget(ctx)

    async def _close_socket(self) -> None:
        for ctx in list(self._contexts.values()):
            self._close(ctx)
        senders = [c.sender for c in self._live if c.sender is not None]
        await asyncio.gather(*senders, return_exceptions=True)
        await self._ws.close(code=1000)
        raise _Closed

    # --- stream-input ------------------------------------------------------------------------

    async def _on_stream(self, msg: StreamMessage, data: dict[str, Any]) -> None:
        if self._ended:
            return  # after the end of input nothing more is read
        ctx = self._single
        if ctx is None:
            if msg.text != " ":
                await self._fatal(
                    "invalid_request",
                    'the first message must initialize the stream with {"text": " "}',
                    param="text",
                )
            ctx = self._single = await self._open("", msg.generation_config)
            self._record(ctx, data)
            return
        self._record(ctx, data)
        if msg.text == "":
            self._ended = True
            ctx.add_text("", flush=True, trigger=False, auto_mode=self._auto)
            ctx.close()
            return
        trigger = bool(msg.try_trigger_generation)
        ctx.add_text(msg.text, flush=bool(msg.flush), trigger=trigger, auto_mode=self._auto)

    # --- contexts ----------------------------------------------------------------------------

    @property
    def _auto(self) -> bool:
        return self._query.auto_mode

    async def _open(self, cid: str, config: Any) -> Context:
        srv = self._server
        if len(self._live) >= _MAX_CONTEXTS:
            await self._fatal(
                "max_active_conversations",
                f"Maximum simultaneous contexts per WebSocket connection exceeded "
                f"({_MAX_CONTEXTS}). Please close an existing context before opening a new one.",
            )
        schedule = tuple(config.chunk_length_schedule or ()) if config else ()
        index = srv._open_context_record(cid, self._conn_id)
        ctx = Context(srv, index, cid, self._rate, self._multi, schedule or DEFAULT_SCHEDULE)
        if cid:
            self._contexts[cid] = ctx
        self._live.append(ctx)
        fault = srv._pop_fault()
        if not self._rate:
            fmt = self._query.output_format
            problem = _WRONG_FORMAT.format(fmt=fmt)
            await self._context_error(ctx, "unsupported_output_format", problem, 1008)
        elif fault == "close":
            srv._update_context(index, fault=fault, finished_at=time.perf_counter())
            ctx.dead = True
            await self._ws.close(code=1011, message=b"injected close fault")
            raise _Closed
        elif fault == "hang":
            srv._update_context(index, fault=fault)
            ctx.dead = True
        elif fault is not None:
            srv._update_context(index, fault=fault)
            message = f"injected {fault} fault (halfcascade test server)"
            await self._context_error(ctx, "injected_fault", message, 1011)
        else:
            ctx.sender = srv._spawn(self._speak(ctx))
        await srv._notify()
        return ctx

    async def _speak(self, ctx: Context) -> None:
        try:
            await ctx.speak(self._send)
        finally:
            self._forget(ctx)
        if not self._multi:  # stream-input: the stream is done (or broken)
            await self._ws.close(code=1011 if ctx.dead else 1000)

    def _forget(self, ctx: Context) -> None:
        if ctx in self._live:
            self._live.remove(ctx)

    async def _context_error(self, ctx: Context, error: str, message: str, code: int) -> None:
        # the failed context keeps its id until closed: later input for it is ignored
        self._forget(ctx)
        await ctx.fail(self._send, error, message, code)
        if not self._multi:  # the stream is the connection
            await self._ws.close(code=code, message=message.encode()[:120])
            raise _Closed

    def _record(self, ctx: Context, data: dict[str, Any]) -> None:
        rec = self._server.contexts[ctx.index]
        self._server._update_context(ctx.index, wire=(*rec.wire, data))

    # --- sending -----------------------------------------------------------------------------

    async def _send(self, kind: str, msg: dict[str, Any]) -> None:
        if self._ws.closed:
            return
        async with self._lock:
            emit("elevenlabs", kind, msg)
            with contextlib.suppress(ConnectionResetError):
                await self._ws.send_str(json.dumps(msg))

    async def _fatal(self, error: str, message: str, *, param: str | None = None) -> NoReturn:
        """Send the error, close with 1008 (policy violation) and stop reading."""
        logger.debug("closing elevenlabs websocket", extra={"error": error, "reason": message})
        payload: dict[str, Any] = {"message": message, "error": error, "code": 1008}
        if param:
            payload["param"] = param
        await self._send("ws_error", payload)
        await self._ws.close(code=1008, message=message.encode()[:120])
        raise _Closed

    async def _abandon_all(self) -> None:
        now = time.perf_counter()
        for ctx in list(self._live):
            ctx.abandon()
            if self._server.contexts[ctx.index].finished_at is None:
                self._server._update_context(ctx.index, cancelled=True, finished_at=now)
        senders = [c.sender for c in self._live if c.sender is not None]
        await asyncio.gather(*senders, return_exceptions=True)
        await self._server._notify()
