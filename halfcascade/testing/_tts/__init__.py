"""What the local TTS servers share: lifecycle, pacing, records and fault injection.

:class:`_TTSServer` owns an aiohttp app on ``host:port`` (port 0 picks a free one), the
tasks it spawns and the websockets it accepts; ``aclose()`` releases all of them. Audio is
produced by a :data:`~halfcascade.testing.voices.Voice` in a worker thread, held back until
``ttfb`` seconds after the request (or flush) arrived, then sent in ``chunk_ms`` pieces,
as fast as possible or at ``realtime_factor`` times real time.

Times in records are ``time.perf_counter()`` readings, comparable with
:mod:`halfcascade.testing.audio_io`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import socket
import time
from collections import deque
from collections.abc import Awaitable, Callable, Collection, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Self, TypeVar

import numpy as np
from aiohttp import web
from numpy.typing import NDArray

from ..._service import Service
from ...errors import ConfigError
from ..voices import Voice, default_voice

__all__ = ["ConnectionRecord", "ContextRecord", "FaultKind", "RequestRecord"]

logger = logging.getLogger("halfcascade.testing.tts_servers")

#: How an injected fault makes the next request fail:
#: ``"error"`` the provider reports an error (websocket error event, HTTP 400);
#: ``"http500"`` HTTP 500 (also refuses a websocket handshake);
#: ``"close"`` the connection drops; ``"hang"`` nothing is ever answered (client timeout).
FaultKind = Literal["error", "close", "http500", "hang"]
_FAULT_KINDS: tuple[FaultKind, ...] = ("error", "close", "http500", "hang")

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestRecord:
    """One HTTP synthesis request as the server saw it (``perf_counter`` times).

    ``status`` is the HTTP status answered, 0 when the connection was dropped on purpose.
    """

    request_id: int
    path: str
    text: str
    params: Mapping[str, Any]
    arrived_at: float
    first_byte_at: float | None = None
    finished_at: float | None = None
    audio_seconds: float = 0.0
    status: int = 200
    fault: FaultKind | None = None

    @property
    def ttfb(self) -> float | None:
        """Seconds from the request's arrival to the first audio byte written."""
        return None if self.first_byte_at is None else self.first_byte_at - self.arrived_at


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionRecord:
    """One websocket connection (``perf_counter`` times)."""

    connection_id: int
    voice_id: str
    params: Mapping[str, str]
    opened_at: float
    closed_at: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ContextRecord:
    """One multi-stream context as the server saw it (``perf_counter`` times).

    ``wire`` holds the client's messages for this context exactly as received, opener and
    ``close_context`` included; ``chunks`` are the pieces the text was cut into for
    synthesis, each cut at the matching ``chunk_times`` entry.
    """

    context_id: str
    connection_id: int
    opened_at: float
    wire: tuple[Mapping[str, Any], ...] = ()
    chunks: tuple[str, ...] = ()
    chunk_times: tuple[float, ...] = ()
    first_text_at: float | None = None
    first_flush_at: float | None = None
    first_audio_sent_at: float | None = None
    end_of_input_at: float | None = None
    closed_at: float | None = None
    finished_at: float | None = None
    audio_seconds: float = 0.0
    cancelled: bool = False
    fault: FaultKind | None = None
    error: str | None = None

    @property
    def messages(self) -> tuple[str, ...]:
        """The ``text`` field of every message that had one, in order."""
        return tuple(str(m["text"]) for m in self.wire if "text" in m)

    @property
    def text(self) -> str:
        """All text received, joined and stripped."""
        return "".join(self.messages).strip()

    @property
    def ttfb(self) -> float | None:
        """Seconds from the first chunk being cut to the first audio sent."""
        if self.first_audio_sent_at is None or not self.chunk_times:
            return None
        return self.first_audio_sent_at - self.chunk_times[0]


ErrorResponder = Callable[[int, str], web.Response]


@dataclass(frozen=True, slots=True, kw_only=True)
class _Body:
    """How an HTTP answer carries audio: its content type, per-part framing, a last word."""

    content_type: str
    encode: Callable[[bytes], bytes] = bytes
    trailer: Callable[[str, float], bytes] | None = None  # (text, audio seconds) -> bytes


_RAW_PCM = _Body(content_type="audio/pcm")
_PartWriter = Callable[[int, NDArray[np.int16], int], Awaitable[None]]


class _TTSServer(Service):
    """Base of the local TTS servers; subclasses add their routes in ``_add_routes``."""

    def __init__(
        self,
        *,
        ttfb: float = 0.25,
        voice: Voice | None = None,
        chunk_ms: int = 50,
        realtime_factor: float | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        """Args:
        ttfb: seconds from a request (or a flushed chunk) to its first audio.
        voice: makes the PCM (default: espeak-ng if installed, else a synthetic voice).
        chunk_ms: audio per message or write.
        realtime_factor: pace audio at this multiple of real time (``None``: as fast as made).
        host, port: where to listen (0: a free port).
        """
        _check_ttfb(ttfb)
        if not 5 <= chunk_ms <= 2000:
            raise ConfigError(f"chunk_ms must be between 5 and 2000, got {chunk_ms}")
        if realtime_factor is not None and realtime_factor <= 0:
            raise ConfigError(f"realtime_factor must be positive or None, got {realtime_factor}")
        self._ttfb = ttfb
        self._voice = voice or default_voice()
        self._chunk_ms = chunk_ms
        self._realtime_factor = realtime_factor
        self._host = host
        self._requested_port = port
        self._port: int | None = None
        self._runner: web.AppRunner | None = None
        self._faults: deque[FaultKind] = deque()
        self._requests: list[RequestRecord] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._sockets: set[web.WebSocketResponse] = set()
        self._changed = asyncio.Condition()
        self._closing = asyncio.Event()
        self._init_records()

    def _init_records(self) -> None:
        """Subclasses create their own records here (called by ``__init__``)."""

    # --- lifecycle ---------------------------------------------------------------------------

    def _add_routes(self, app: web.Application) -> None:
        raise NotImplementedError

    async def start(self) -> Self:
        """Start listening; returns ``self``. ``async with`` does this for you."""
        if self._runner is not None:
            raise RuntimeError("server already started")
        app = web.Application()
        self._add_routes(app)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self._host, self._requested_port))
        self._port = sock.getsockname()[1]
        await web.SockSite(runner, sock).start()
        self._runner = runner
        logger.debug("tts server listening", extra={"url": self.base_url})
        return self

    async def aclose(self) -> None:
        """Drop every connection, cancel pending work and stop listening. Idempotent."""
        self._closing.set()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for ws in list(self._sockets):
            with contextlib.suppress(Exception):
                await ws.close(code=1001, message=b"server shutting down")
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    # --- public knobs ------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The port the server listens on (after :meth:`start`)."""
        if self._port is None:
            raise RuntimeError("server not started: use `async with` or await start()")
        return self._port

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT/v1``: pass it as the plugin's ``base_url``."""
        return f"http://{self._host}:{self.port}/v1"

    @property
    def ttfb(self) -> float:
        """Seconds between a request (or flush) arriving and its first audio being sent."""
        return self._ttfb

    def set_ttfb(self, seconds: float) -> None:
        """Change the time to first byte for requests that arrive from now on."""
        _check_ttfb(seconds)
        self._ttfb = seconds

    def fail_next(self, n: int = 1, *, kind: FaultKind = "error") -> None:
        """Make the next ``n`` requests fail the way ``kind`` says (see :data:`FaultKind`)."""
        if n < 1:
            raise ConfigError(f"n must be at least 1, got {n}")
        if kind not in _FAULT_KINDS:
            raise ConfigError(f"kind must be one of {_FAULT_KINDS}, got {kind!r}")
        self._faults.extend([kind] * n)

    @property
    def pending_faults(self) -> int:
        """Injected faults not yet consumed by a request."""
        return len(self._faults)

    @property
    def requests(self) -> list[RequestRecord]:
        """Every HTTP synthesis request so far, oldest first."""
        return list(self._requests)

    async def wait_for_requests(
        self,
        n: int,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - a bound on the wait, part of the API
    ) -> list[RequestRecord]:
        """Wait until ``n`` HTTP requests have finished; return all records.

        Raises ``TimeoutError`` after ``timeout`` seconds.
        """
        await self._wait_until(
            lambda: sum(r.finished_at is not None for r in self._requests) >= n, timeout
        )
        return self.requests

    # --- helpers for subclasses --------------------------------------------------------------

    def _pop_fault(self, kinds: Collection[FaultKind] = _FAULT_KINDS) -> FaultKind | None:
        if self._faults and self._faults[0] in kinds:
            return self._faults.popleft()
        return None

    def _spawn(self, coro: Coroutine[Any, Any, _T]) -> asyncio.Task[_T]:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _wait_until(self, predicate: Callable[[], bool], limit: float) -> None:
        async with asyncio.timeout(limit), self._changed:
            await self._changed.wait_for(predicate)

    def _synthesize(self, text: str, sample_rate: int) -> asyncio.Task[NDArray[np.int16]]:
        """Start synthesis in a worker thread now; await the result later."""
        return self._spawn(asyncio.to_thread(self._voice, text, sample_rate))

    async def _stream_pcm(
        self,
        synthesis: asyncio.Task[NDArray[np.int16]],
        sample_rate: int,
        since: float,
        write: _PartWriter,
    ) -> NDArray[np.int16]:
        """Wait for the audio and for ``ttfb`` after ``since``, then write it in paced parts.

        ``write(offset, part, total)`` gets each ``chunk_ms`` part with its first sample's
        index and the total sample count. Returns the whole audio.
        """
        pcm = await synthesis
        await asyncio.sleep(max(0.0, since + self._ttfb - time.perf_counter()))
        n = max(1, sample_rate * self._chunk_ms // 1000)
        started = time.perf_counter()
        for i, offset in enumerate(range(0, len(pcm), n)):
            if self._realtime_factor is None:
                await asyncio.sleep(0)  # a burst, but other contexts and readers get a turn
            else:
                due = started + i * self._chunk_ms / 1000 / self._realtime_factor
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
            await write(offset, pcm[offset : offset + n], len(pcm))
        return pcm

    async def _serve_http(
        self,
        request: web.Request,
        *,
        text: str,
        sample_rate: int,
        params: Mapping[str, Any],
        error: ErrorResponder,
        body: _Body = _RAW_PCM,
    ) -> web.StreamResponse:
        """Answer one HTTP synthesis request: faults, ttfb, paced body, record."""
        arrived = time.perf_counter()
        idx = len(self._requests)
        self._requests.append(
            RequestRecord(
                request_id=idx, path=request.path, text=text, params=params, arrived_at=arrived
            )
        )
        logger.debug("tts request", extra={"path": request.path, "text": text})
        try:
            if (fault := self._pop_fault()) is not None:
                self._update(idx, fault=fault)
                return await self._http_fault(request, idx, fault, error)
            return await self._http_audio(request, idx, text, sample_rate, body)
        finally:
            self._update(idx, finished_at=time.perf_counter())
            await self._notify()

    async def _http_audio(
        self, request: web.Request, idx: int, text: str, sample_rate: int, body: _Body
    ) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": body.content_type})
        resp.headers["x-request-id"] = f"req_{idx}"

        async def write(offset: int, part: NDArray[np.int16], _total: int) -> None:
            if offset == 0:
                await resp.prepare(request)
                self._update(idx, first_byte_at=time.perf_counter())
            await resp.write(body.encode(part.tobytes()))

        synthesis = self._synthesize(text, sample_rate)
        since = self._requests[idx].arrived_at
        pcm = await self._stream_pcm(synthesis, sample_rate, since, write)
        if not resp.prepared:  # nothing to say: headers only
            await resp.prepare(request)
        seconds = len(pcm) / sample_rate
        if body.trailer is not None:
            await resp.write(body.trailer(text, seconds))
        await resp.write_eof()
        self._update(idx, audio_seconds=seconds)
        return resp

    async def _http_fault(
        self, request: web.Request, idx: int, fault: FaultKind, error: ErrorResponder
    ) -> web.StreamResponse:
        logger.debug("injecting fault", extra={"fault": fault, "path": request.path})
        if fault == "hang":
            await self._closing.wait()
        elif fault == "close":
            if request.transport is not None:
                request.transport.close()  # the client sees the connection drop
            self._update(idx, status=0)
            return web.Response(status=500)
        status = 500 if fault in ("http500", "hang") else 400
        self._update(idx, status=status)
        return error(status, f"injected {fault} fault (halfcascade test server)")

    def _update(self, idx: int, **changes: Any) -> None:
        self._requests[idx] = dataclasses.replace(self._requests[idx], **changes)


def _check_ttfb(seconds: float) -> None:
    if seconds < 0:
        raise ConfigError(f"ttfb must be >= 0 seconds, got {seconds}")
