"""A local, protocol-faithful Gemini Live (``BidiGenerateContent``) server for tests.

The real ``livekit.plugins.google.realtime.RealtimeModel`` (through ``google-genai``) talks
to it unchanged, over TLS from a throw-away CA::

    async with GeminiLiveServer(reply=lambda ctx: f"You said: {ctx.transcript}") as server:
        model = google.realtime.RealtimeModel(
            model="gemini-live-2.5-flash-preview", modalities=[Modality.TEXT],
            api_key="test", http_options=server.http_options(),
        )

It shares :class:`~halfcascade.testing.openai_realtime.RealtimeServer`'s knobs and parts:
the ``reply`` callable (:class:`ReplyContext` in, text or :class:`ToolCall` out), ``ttft``
and ``token_interval``, the energy VAD and the offline :class:`Transcriber`, the
:class:`TurnRecord` timeline, and faults (a failed turn, dropped or refused connections),
plus Gemini's own ``goAway`` with session resumption.

It is as strict as the service: every frame is parsed with ``google-genai``'s
``LiveClientMessage``, a bad one closes the socket with the service's code and reason, and
TEXT output is refused by native-audio models (1007 "Cannot extract voices from a
non-audio request."). Every message it sends is reported to
:mod:`halfcascade.testing.conformance` and checked against ``LiveServerMessage``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import ssl
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aiohttp import web

from ..._service import Service
from .. import conformance
from ..openai_realtime._types import ReplyContext, ReplyFn, TurnRecord
from ..transcribe import ScriptedTranscriber, Transcriber
from ..vad import VadConfig
from ..voices import Voice, default_voice
from ._conn import Connection, Shared
from ._tls import LocalCA
from ._wire import AUDIO_ONLY_MODELS, INTERNAL, NO_KEY, TEXT_MODELS, ClientClose, duration

__all__ = ["API_VERSION", "GeminiLiveServer"]

logger = logging.getLogger("halfcascade.testing.gemini_live")

#: The API version the stand-in's :meth:`GeminiLiveServer.http_options` asks for.
API_VERSION = "v1beta"
_PATH = re.compile(
    r"^/ws/google\.ai\.generativelanguage\.(v1alpha|v1beta|v1)\.GenerativeService\."
    r"(BidiGenerateContent|BidiGenerateContentConstrained)$"
)
_STATUS = {
    400: "INVALID_ARGUMENT",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}
_MAX_MESSAGE = 32 * 1024 * 1024
_DROP_WAIT = 2.0


def _http_error(status: int, message: str) -> web.Response:
    body = {"error": {"code": status, "message": message, "status": _STATUS[status]}}
    conformance.emit("gemini_live", "http_error", body)
    return web.json_response(body, status=status)


def _constant(text: str) -> ReplyFn:
    def reply(ctx: ReplyContext) -> str:
        return text

    return reply


class GeminiLiveServer(Service):
    """A local Gemini Live websocket server (TLS) driven by a reply callable.

    Args:
        reply: decides each turn from a :class:`ReplyContext` (text or :class:`ToolCall`).
        ttft: seconds from the user's end of speech (or a client turn) to the first output.
        token_interval: seconds between output tokens.
        transcriber: hears the user's turns; default: an empty :class:`ScriptedTranscriber`.
        voice: speaks replies in AUDIO sessions (24 kHz).
        vad: energy VAD settings (a session's ``automaticActivityDetection`` overrides the
            silence and prefix windows).
        models: Live models served that answer in TEXT or AUDIO.
        audio_only_models: Live models served that only speak: a TEXT setup is refused
            with 1007 "Cannot extract voices from a non-audio request." (native audio).
        host: interface to listen on (the certificate covers ``127.0.0.1`` and
            ``localhost``).
        port: port to listen on; 0 picks a free one.
    """

    def __init__(
        self,
        *,
        reply: ReplyFn | str,
        ttft: float = 0.4,
        token_interval: float = 0.03,
        transcriber: Transcriber | None = None,
        voice: Voice | None = None,
        vad: VadConfig | None = None,
        models: Sequence[str] = TEXT_MODELS,
        audio_only_models: Sequence[str] = AUDIO_ONLY_MODELS,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        if ttft < 0 or token_interval < 0:
            raise ValueError("ttft and token_interval must be >= 0 seconds")
        self._transcriber = transcriber if transcriber is not None else ScriptedTranscriber()
        self._shared = Shared(
            reply_fn=_constant(reply) if isinstance(reply, str) else reply,
            ttft=ttft,
            token_interval=token_interval,
            transcriber=self._transcriber,
            voice=voice or default_voice(),
            vad=vad or VadConfig(),
            models=tuple(models) + tuple(audio_only_models),
            audio_only=tuple(audio_only_models),
            on_turn=self._on_turn,
        )
        self._host, self._port = host, port
        self._ca: LocalCA | None = None
        self._ca_dir: tempfile.TemporaryDirectory[str] | None = None
        self._runner: web.AppRunner | None = None
        self._conns: dict[Connection, asyncio.Event] = {}
        self._accepted = self._reject_next = self._rejected = 0
        self._reject_status = 503
        self._turns: list[TurnRecord] = []
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._tasks: set[asyncio.Task[None]] = set()

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Issue the certificate, bind and start serving."""
        if self._runner is not None:
            raise RuntimeError("GeminiLiveServer already started")
        self._ca = await asyncio.to_thread(LocalCA, self._host, "localhost")
        self._ca_dir = tempfile.TemporaryDirectory(prefix="halfcascade-gemini-ca-")
        self._ca.write_pem(Path(self._ca_dir.name) / "ca.pem")
        app = web.Application()
        app.router.add_get("/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        site = web.TCPSite(runner, self._host, self._port, ssl_context=self._ca.server_context())
        await site.start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])
        logger.info("gemini live test server listening", extra={"port": self._port})

    async def aclose(self) -> None:
        """Close every connection and stop serving."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for conn in list(self._conns):
            await conn.close_with(ClientClose(1001, ""))
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._ca_dir is not None:
            self._ca_dir.cleanup()
            self._ca_dir = None
        for _, fut in self._waiters:
            if not fut.done():
                fut.set_exception(RuntimeError("GeminiLiveServer closed"))

    # -- addresses -----------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The bound port (after :meth:`start`)."""
        return self._port

    @property
    def base_url(self) -> str:
        """``https://HOST:PORT``: the ``HttpOptions.base_url`` (the client makes it wss)."""
        return f"https://{self._host}:{self._port}"

    def ssl_context(self) -> ssl.SSLContext:
        """A client SSL context that trusts this server's throw-away CA."""
        if self._ca is None:
            raise RuntimeError("GeminiLiveServer is not started")
        return self._ca.client_context()

    @property
    def ca_file(self) -> str:
        """The CA certificate as a PEM file (``GoogleBrain(ca_file=...)``, ``SSL_CERT_FILE``);
        removed when the server closes."""
        if self._ca_dir is None:
            raise RuntimeError("GeminiLiveServer is not started")
        return str(Path(self._ca_dir.name) / "ca.pem")

    def http_options(self, *, timeout_ms: int = 10_000) -> Any:
        """``google.genai.types.HttpOptions`` pointing a client at this server."""
        from google.genai import types

        return types.HttpOptions(
            base_url=self.base_url,
            api_version=API_VERSION,
            timeout=timeout_ms,
            async_client_args={"ssl": self.ssl_context()},
        )

    # -- records -------------------------------------------------------------------------

    @property
    def transcriber(self) -> Transcriber:
        """The transcriber in use (push to it when it is a :class:`ScriptedTranscriber`)."""
        return self._transcriber

    @property
    def received(self) -> list[dict[str, Any]]:
        """Every client message so far (canonical JSON, audio elided; a live list)."""
        return self._shared.received

    @property
    def sent(self) -> list[dict[str, Any]]:
        """Every server message so far, in order (a live list)."""
        return self._shared.sent

    @property
    def setups(self) -> list[dict[str, Any]]:
        """The ``setup`` of every accepted connection, in order."""
        return self._shared.setups

    @property
    def closes(self) -> list[tuple[int, str]]:
        """Every close the server initiated, ``(code, reason)``, in order (a live list)."""
        return self._shared.closes

    @property
    def rejected(self) -> int:
        """Handshakes refused by :meth:`reject_connections`."""
        return self._rejected

    @property
    def connections(self) -> int:
        """Websocket handshakes accepted so far."""
        return self._accepted

    @property
    def open_connections(self) -> int:
        """Websockets open now."""
        return len(self._conns)

    @property
    def turns(self) -> Sequence[TurnRecord]:
        """Finished model turns, oldest first (a tool call is a turn of its own)."""
        return tuple(self._turns)

    # a test helper: the bound is part of the call, as in pytest's own waits
    async def wait_for_turns(self, n: int, *, timeout: float = 10.0) -> list[TurnRecord]:  # noqa: ASYNC109
        """Wait until ``n`` turns have finished; return all records so far."""
        if len(self._turns) < n:
            fut = asyncio.get_running_loop().create_future()
            entry = (n, fut)
            self._waiters.append(entry)
            try:
                async with asyncio.timeout(timeout):
                    await fut
            except TimeoutError:
                raise TimeoutError(f"{len(self._turns)} of {n} turns after {timeout}s") from None
            finally:
                self._waiters.remove(entry)
        return list(self._turns)

    # -- latency and faults --------------------------------------------------------------

    def set_latency(
        self, *, ttft: float | None = None, token_interval: float | None = None
    ) -> None:
        """Change the timings for turns that start from now on (``None`` keeps a value)."""
        if (ttft is not None and ttft < 0) or (token_interval is not None and token_interval < 0):
            raise ValueError("ttft and token_interval must be >= 0 seconds")
        if ttft is not None:
            self._shared.ttft = ttft
        if token_interval is not None:
            self._shared.token_interval = token_interval

    def fail_next_response(self, *, code: int = 1011, reason: str = INTERNAL) -> None:
        """Make the next turn fail as the service does: the socket closes with ``code``."""
        self._shared.failures.append(ClientClose(code, reason))

    async def drop_connections(self) -> int:
        """Cut every open websocket (TCP abort); returns how many were dropped."""
        conns = list(self._conns.items())
        for conn, _ in conns:
            await conn.drop()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(_DROP_WAIT):
                await asyncio.gather(*(done.wait() for _, done in conns))
        return len(conns)

    async def send_go_away(self, *, time_left: float = 1.0) -> int:
        """Send ``goAway`` to every open connection and close each after ``time_left``
        seconds unless the client left first; returns how many were told."""
        conns = list(self._conns)
        for conn in conns:
            await conn.send({"goAway": {"timeLeft": duration(time_left)}})
            task = asyncio.create_task(self._close_later(conn, time_left))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return len(conns)

    def reject_connections(self, n: int, *, status: int = 503) -> None:
        """Refuse the next ``n`` handshakes with HTTP ``status`` and Google's error body."""
        if n < 0 or status not in _STATUS:
            raise ValueError(f"n must be >= 0 and status one of {sorted(_STATUS)}")
        self._reject_next, self._reject_status = n, status

    # -- internals -----------------------------------------------------------------------

    async def _close_later(self, conn: Connection, delay: float) -> None:
        await asyncio.sleep(delay)
        await conn.close_with(ClientClose(1000, "Session time limit reached."))

    def _on_turn(self, record: TurnRecord) -> None:
        self._turns.append(record)
        for n, fut in self._waiters:
            if len(self._turns) >= n and not fut.done():
                fut.set_result(None)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        match = _PATH.match(request.path)
        if match is None:
            return _http_error(404, f"Method not found: {request.path}")
        if self._reject_next > 0:
            self._reject_next -= 1
            self._rejected += 1
            return _http_error(self._reject_status, "The service is currently unavailable.")
        ws = web.WebSocketResponse(max_msg_size=_MAX_MESSAGE)
        if not ws.can_prepare(request).ok:
            return _http_error(400, "BidiGenerateContent is served over WebSocket.")
        await ws.prepare(request)
        self._accepted += 1
        conn = Connection(ws, self._shared, version=match.group(1), transport=request.transport)
        done = self._conns[conn] = asyncio.Event()
        try:
            key = request.headers.get("x-goog-api-key") or request.query.get("key")
            auth = request.headers.get("Authorization", "")
            if not key and not auth.startswith(("Bearer ", "Token ")):
                await conn.close_with(ClientClose(1008, NO_KEY))
            else:
                await conn.run()
        finally:
            del self._conns[conn]
            done.set()
        return ws
