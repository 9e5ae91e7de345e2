"""A local, protocol-faithful OpenAI Realtime (GA) server for tests.

The real ``livekit.plugins.openai.realtime.RealtimeModel`` talks to it unchanged::

    async with RealtimeServer(reply=lambda ctx: f"You said: {ctx.transcript}") as server:
        model = openai.realtime.RealtimeModel(
            modalities=["text"], base_url=server.base_url, api_key="test"
        )

It hears the audio it is sent: an energy VAD (:mod:`halfcascade.testing.vad`) ends turns
by the session's ``turn_detection``, a :class:`~halfcascade.testing.transcribe.Transcriber`
writes the user's words, and the ``reply`` callable answers in text or with a
:class:`ToolCall`. The official ``openai`` SDK works too::

    client = openai.AsyncOpenAI(base_url=server.base_url, api_key="test")
    async with client.realtime.connect(model="gpt-realtime") as conn: ...

A session answers in its ``output_modalities``: ``["text"]`` streams text deltas;
``["audio"]`` (the default until a ``session.update`` says otherwise) speaks the reply
with ``voice`` and streams base64 PCM16 with its transcript. The first delta leaves
exactly ``ttft`` seconds after the last voiced audio arrived (or after ``response.create``
was received), then one token (with its share of the audio) every ``token_interval``. It
can only be later: when the VAD's silence window is longer than ``ttft`` (it then leaves
at the VAD's decision), or when the transcriber, the reply callable or the voice has not
finished by then (whisper ``tiny.en`` takes ~0.5-0.9 s per turn on a small CPU;
:class:`~halfcascade.testing.transcribe.ScriptedTranscriber` is instant).

It is as strict as the service: every client event is checked against the ``openai``
package's own types and the API's rules, and a bad one is answered with the documented
``error`` event (its ``event_id`` echoed), the socket left open. Every server event it
sends is reported to :mod:`halfcascade.testing.conformance` (``schema.py`` checks them).

Each response is recorded as a :class:`TurnRecord` with ``time.perf_counter()`` timestamps
(comparable with :mod:`halfcascade.testing.audio_io`'s); faults (failed responses, dropped
or refused connections) can be injected mid-test.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
from collections.abc import Sequence
from typing import Any

from aiohttp import web

from ..._service import Service
from .. import conformance
from ..transcribe import ScriptedTranscriber, Transcriber
from ..vad import VadConfig
from ..voices import Voice, default_voice
from ._conn import Connection, Shared
from ._handlers import HANDLERS
from ._protocol import Event, http_error_body
from ._response import Failure
from ._types import (
    Reply,
    ReplyContext,
    ReplyFn,
    ToolCall,
    TurnRecord,
    TurnSource,
    split_tokens,
)

__all__ = [
    "RealtimeServer",
    "Reply",
    "ReplyContext",
    "ReplyFn",
    "ToolCall",
    "TurnRecord",
    "TurnSource",
    "split_tokens",
]

logger = logging.getLogger("halfcascade.testing.openai_realtime")

_MAX_MESSAGE = 32 * 1024 * 1024  # a conversation.item.create may carry a whole turn of audio
_DROP_WAIT = 2.0  # seconds drop_connections waits for the dropped handlers to finish
_DEFAULT_FAILURE = "The server had an error while processing your request. Please retry."


_NO_KEY = (
    "You didn't provide an API key. You need to provide your API key in an Authorization "
    "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field "
    "(with blank username) if you're accessing the API from your browser and are prompted for "
    "a username. You can obtain an API key from https://platform.openai.com/account/api-keys."
)


def _http_error(message: str, *, status: int, code: str | None = None) -> web.Response:
    body = http_error_body(message, status=status, code=code)
    conformance.emit("openai_realtime", "http_error", body)
    return web.json_response(body, status=status)


def _constant(text: str) -> ReplyFn:
    def reply(ctx: ReplyContext) -> Reply:
        return text

    return reply


class RealtimeServer(Service):
    """A local OpenAI Realtime websocket server driven by a reply callable.

    Args:
        reply: decides each response from a :class:`ReplyContext`: returns text, a
            :class:`ToolCall`, or an awaitable of either. A plain string always answers that.
        ttft: seconds from the end of the user's speech (or from ``response.create``) to the
            first output delta (text, or audio in an audio-modality response).
        token_interval: seconds between tokens (an audio reply sends each token's share of
            the audio with its transcript delta).
        transcriber: writes the user's words; default: an empty :class:`ScriptedTranscriber`.
        voice: speaks replies in audio-modality sessions (24 kHz); default:
            :func:`~halfcascade.testing.voices.default_voice` (espeak-ng, else synthetic).
        vad: energy VAD settings; the session's ``turn_detection`` overrides the windows.
        host: interface to listen on.
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
            on_turn=self._on_turn,
        )
        self._host, self._port = host, port
        self._runner: web.AppRunner | None = None
        self._conns: dict[Connection, asyncio.Event] = {}
        self._latest: Connection | None = None
        self._accepted = self._rejected = self._reject_next = 0
        self._reject_status = 503
        self._turns: list[TurnRecord] = []
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind and start serving."""
        if self._runner is not None:
            raise RuntimeError("RealtimeServer already started")
        app = web.Application()
        app.router.add_get("/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        await web.TCPSite(runner, self._host, self._port).start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])
        logger.info("realtime test server listening", extra={"port": self._port})

    async def aclose(self) -> None:
        """Close every connection and stop serving."""
        for conn in list(self._conns):
            await conn.drop(abort=False)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        for _, fut in self._waiters:
            if not fut.done():
                fut.set_exception(RuntimeError("RealtimeServer closed"))

    # -- addresses and records ---------------------------------------------------------------

    @property
    def port(self) -> int:
        """The bound port (after :meth:`start`)."""
        return self._port

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT/v1``: pass as ``RealtimeModel(base_url=...)``."""
        return f"http://{self._host}:{self._port}/v1"

    @property
    def ws_url(self) -> str:
        """The websocket URL the livekit plugin derives from :attr:`base_url`."""
        return f"ws://{self._host}:{self._port}/v1/realtime"

    @property
    def transcriber(self) -> Transcriber:
        """The transcriber in use (push to it when it is a :class:`ScriptedTranscriber`)."""
        return self._transcriber

    @property
    def received(self) -> list[Event]:
        """Every client event so far, in order, audio payloads elided (a live list)."""
        return self._shared.received

    @property
    def sent(self) -> list[Event]:
        """Every server event so far, in order (a live list)."""
        return self._shared.sent

    @property
    def connections(self) -> int:
        """Websocket handshakes accepted so far."""
        return self._accepted

    @property
    def open_connections(self) -> int:
        """Websockets open now."""
        return len(self._conns)

    @property
    def rejected(self) -> int:
        """Handshakes refused by :meth:`reject_connections`."""
        return self._rejected

    @property
    def session(self) -> dict[str, Any] | None:
        """The latest connection's session configuration (a copy), merged from updates."""
        return copy.deepcopy(self._latest.session) if self._latest is not None else None

    @property
    def turns(self) -> Sequence[TurnRecord]:
        """Finished responses, oldest first."""
        return tuple(self._turns)

    # a test helper: the bound is part of the call, as in pytest's own waits
    async def wait_for_turns(self, n: int, *, timeout: float = 10.0) -> list[TurnRecord]:  # noqa: ASYNC109
        """Wait until ``n`` responses have finished; return all records so far.

        Raises:
            TimeoutError: fewer than ``n`` finished within ``timeout`` seconds.
        """
        if len(self._turns) < n:
            fut = asyncio.get_running_loop().create_future()
            entry = (n, fut)
            self._waiters.append(entry)
            try:
                async with asyncio.timeout(timeout):
                    await fut
            except TimeoutError:
                got = len(self._turns)
                raise TimeoutError(f"{got} of {n} realtime turns after {timeout}s") from None
            finally:
                self._waiters.remove(entry)
        return list(self._turns)

    # -- latency and fault injection ---------------------------------------------------------

    @property
    def ttft(self) -> float:
        """Seconds from end of speech (or ``response.create``) to the first output delta."""
        return self._shared.ttft

    @property
    def token_interval(self) -> float:
        """Seconds between output tokens."""
        return self._shared.token_interval

    def set_latency(
        self, *, ttft: float | None = None, token_interval: float | None = None
    ) -> None:
        """Change the timings for responses that start from now on (``None`` keeps a value)."""
        if (ttft is not None and ttft < 0) or (token_interval is not None and token_interval < 0):
            raise ValueError("ttft and token_interval must be >= 0 seconds")
        if ttft is not None:
            self._shared.ttft = ttft
        if token_interval is not None:
            self._shared.token_interval = token_interval

    def fail_next_response(
        self,
        *,
        code: str = "server_error",
        message: str = _DEFAULT_FAILURE,
        error_type: str = "server_error",
        as_error_event: bool = False,
    ) -> None:
        """Make the next response fail (calls queue up, one failure per response).

        By default the response is created and ends with ``response.done`` status
        ``failed`` (``status_details.error`` carries ``error_type`` and ``code``). With
        ``as_error_event`` no response is created: an ``error`` event answers instead,
        naming the ``response.create`` it rejects.
        """
        failure = Failure(
            code=code, message=message, error_type=error_type, as_error_event=as_error_event
        )
        self._shared.failures.append(failure)

    async def drop_connections(self, *, abort: bool = True) -> int:
        """Cut every open websocket (TCP abort, or a close frame with ``abort=False``).

        Returns how many were dropped, once their handlers have finished.
        """
        conns = list(self._conns.items())
        for conn, _ in conns:
            await conn.drop(abort=abort)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(_DROP_WAIT):
                await asyncio.gather(*(done.wait() for _, done in conns))
        return len(conns)

    def reject_connections(self, n: int, *, status: int = 503) -> None:
        """Refuse the next ``n`` websocket handshakes with HTTP ``status``."""
        if n < 0 or not 400 <= status <= 599:
            raise ValueError("n must be >= 0 and status an HTTP error code")
        self._reject_next, self._reject_status = n, status

    # -- internals ---------------------------------------------------------------------------

    def _on_turn(self, record: TurnRecord) -> None:
        self._turns.append(record)
        logger.debug("realtime turn finished", extra={"status": record.status})
        for n, fut in self._waiters:
            if len(self._turns) >= n and not fut.done():
                fut.set_result(None)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if not request.path.rstrip("/").endswith("/realtime"):
            return _http_error(f"Invalid URL (GET {request.path})", status=404)
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or not auth[len("Bearer ") :].strip():
            return _http_error(_NO_KEY, status=401)
        if self._reject_next > 0:
            self._reject_next -= 1
            self._rejected += 1
            status = self._reject_status
            return _http_error("Injected handshake failure (reject_connections).", status=status)
        ws = web.WebSocketResponse(max_msg_size=_MAX_MESSAGE)
        if not ws.can_prepare(request).ok:
            message = "The Realtime API is served over WebSocket: send an Upgrade request."
            return _http_error(message, status=400)
        await ws.prepare(request)
        self._accepted += 1
        model = request.query.get("model", "gpt-realtime")
        conn = Connection(
            ws, self._shared, model=model, transport=request.transport, handlers=HANDLERS
        )
        done = self._conns[conn] = asyncio.Event()
        self._latest = conn
        try:
            await conn.run()
        finally:
            del self._conns[conn]
            done.set()
        return ws
