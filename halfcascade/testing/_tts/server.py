"""What the local TTS servers share: lifecycle, keys, pacing, records and fault injection.

:class:`_TTSServer` owns an aiohttp app on ``host:port`` (port 0 picks a free one), the
tasks it spawns and the websockets it accepts; ``aclose()`` releases all of them. Audio is
produced by a :data:`~halfcascade.testing.voices.Voice` in a worker thread, held back until
``ttfb`` seconds after the request (or flush) arrived, then sent in ``chunk_ms`` pieces,
as fast as possible or at ``realtime_factor`` times real time. Any non-empty API key is
accepted unless ``api_key`` names the one that is.
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
from .records import FAULT_KINDS, FaultKind, RequestRecord

__all__ = ["ErrorResponder", "KeyCheck", "Piece"]

logger = logging.getLogger("halfcascade.testing.tts_servers")

_T = TypeVar("_T")

#: What a request's credentials amount to.
KeyCheck = Literal["ok", "missing", "invalid"]

#: ``error(status, message)``: the provider's JSON error answer for an injected fault.
ErrorResponder = Callable[[int, str], web.Response]


@dataclass(frozen=True, slots=True)
class Piece:
    """One ``chunk_ms`` part of a request's audio, with where it sits in the whole."""

    text: str
    offset: int  # index of the part's first sample in the whole audio
    pcm: NDArray[np.int16]
    total: int  # samples in the whole audio
    rate: int


def _raw(piece: Piece) -> bytes:
    return piece.pcm.tobytes()


@dataclass(frozen=True, slots=True, kw_only=True)
class _Body:
    """How an HTTP answer carries audio: its content type, per-part framing, a last word.

    ``trailer(text, pcm, rate)`` gets the whole audio once it is sent.
    """

    content_type: str
    encode: Callable[[Piece], bytes] = _raw
    trailer: Callable[[str, NDArray[np.int16], int], bytes] | None = None


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
        api_key: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        """Args:
        ttfb: seconds from a request (or a flushed chunk) to its first audio.
        voice: makes the PCM (default: espeak-ng if installed, else a synthetic voice).
        chunk_ms: audio per message or write.
        realtime_factor: pace audio at this multiple of real time (``None``: as fast as made).
        api_key: the only key accepted (``None``: any non-empty key).
        host, port: where to listen (0: a free port).
        """
        _check_ttfb(ttfb)
        if not 5 <= chunk_ms <= 2000:
            raise ConfigError(f"chunk_ms must be between 5 and 2000, got {chunk_ms}")
        if realtime_factor is not None and realtime_factor <= 0:
            raise ConfigError(f"realtime_factor must be positive or None, got {realtime_factor}")
        if api_key is not None and not api_key:
            raise ConfigError("api_key must be a non-empty string, or None to accept any key")
        self._ttfb = ttfb
        self._voice = voice or default_voice()
        self._chunk_ms = chunk_ms
        self._realtime_factor = realtime_factor
        self._api_key = api_key
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
        """``http://HOST:PORT/v1``: pass it as the livekit plugin's ``base_url``."""
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
        if kind not in FAULT_KINDS:
            raise ConfigError(f"kind must be one of {FAULT_KINDS}, got {kind!r}")
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

    def _check_key(self, key: str | None) -> KeyCheck:
        if not key or not key.strip():
            return "missing"
        return "ok" if self._api_key is None or key == self._api_key else "invalid"

    def _pop_fault(self, kinds: Collection[FaultKind] = FAULT_KINDS) -> FaultKind | None:
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
                return await self._http_fault(request, fault, error, idx)
            return await self._http_audio(request, idx, text, sample_rate, body)
        finally:
            self._update(idx, finished_at=time.perf_counter())
            await self._notify()

    async def _http_audio(
        self, request: web.Request, idx: int, text: str, sample_rate: int, body: _Body
    ) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": body.content_type})
        resp.headers["x-request-id"] = f"req_{idx}"

        async def write(offset: int, part: NDArray[np.int16], total: int) -> None:
            if offset == 0:
                await resp.prepare(request)
                self._update(idx, first_byte_at=time.perf_counter())
            if data := body.encode(Piece(text, offset, part, total, sample_rate)):
                await resp.write(data)

        synthesis = self._synthesize(text, sample_rate)
        since = self._requests[idx].arrived_at
        pcm = await self._stream_pcm(synthesis, sample_rate, since, write)
        if not resp.prepared:  # nothing to say: headers only
            await resp.prepare(request)
        if body.trailer is not None:
            await resp.write(body.trailer(text, pcm, sample_rate))
        await resp.write_eof()
        self._update(idx, audio_seconds=len(pcm) / sample_rate)
        return resp

    async def _http_fault(
        self,
        request: web.Request,
        fault: FaultKind,
        error: ErrorResponder,
        idx: int | None = None,
    ) -> web.StreamResponse:
        """Fail one request the way ``fault`` says (``idx``: its record, if it has one)."""
        logger.debug("injecting fault", extra={"fault": fault, "path": request.path})
        if fault == "hang":
            await self._closing.wait()
        elif fault == "close":
            if request.transport is not None:
                request.transport.close()  # the client sees the connection drop
            if idx is not None:
                self._update(idx, status=0)
            return web.Response(status=500)
        status = 500 if fault in ("http500", "hang") else 400
        if idx is not None:
            self._update(idx, status=status)
        return error(status, f"injected {fault} fault (halfcascade test server)")

    def _update(self, idx: int, **changes: Any) -> None:
        self._requests[idx] = dataclasses.replace(self._requests[idx], **changes)


def _check_ttfb(seconds: float) -> None:
    if seconds < 0:
        raise ConfigError(f"ttfb must be >= 0 seconds, got {seconds}")
