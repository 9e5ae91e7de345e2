"""One synthesis context of an ElevenLabs websocket: buffer, chunks, paced audio, final.

Text is buffered and cut into *chunks* (handed to synthesis) on ``"flush": true``, on
every message with ``auto_mode=true``, with ``try_trigger_generation`` once 50
characters are buffered, or when the buffer reaches the context's
``chunk_length_schedule`` (120/160/250/290 by default). Each chunk's audio starts
``ttfb`` seconds after it was cut (or when the previous chunk's audio ends).

Closing follows the API reference: ``close_context`` ("if it has already been set to
flush it will continue flushing") and ``close_socket`` ("any context that was previously
set to flush will wait to flush before closing") let every chunk already cut play to its
end, then the final message follows; text still buffered, never flushed, is dropped
("no further audio will be generated"). So an interrupted reply keeps streaming what was
flushed before the interruption, as the real service does; the client ignores it.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from .server import ElevenLabsServer

__all__ = ["DEFAULT_SCHEDULE", "Context", "alignment_ms"]

#: The documented default ``chunk_length_schedule``.
DEFAULT_SCHEDULE = (120, 160, 250, 290)
_TRIGGER_MINIMUM = 50  # characters ``try_trigger_generation`` needs buffered

Send = Callable[[str, dict[str, Any]], Awaitable[None]]


@dataclass(slots=True)
class _Chunk:
    text: str
    cut_at: float
    pcm: asyncio.Task[NDArray[np.int16]]


@dataclass(slots=True)
class Context:
    """A context's live state; its :class:`ContextRecord` is ``server.contexts[index]``."""

    server: ElevenLabsServer
    index: int
    cid: str
    rate: int
    multi: bool  # multi-stream-input (messages carry ``contextId``) or stream-input
    schedule: tuple[float, ...] = DEFAULT_SCHEDULE
    sender: asyncio.Task[None] | None = None
    queue: asyncio.Queue[_Chunk | None] = field(default_factory=asyncio.Queue)
    buffer: str = ""
    audio_ms: float = 0.0
    dead: bool = False  # failed, hung or gone: ignore further input
    closed: bool = False

    # --- input -------------------------------------------------------------------------------

    def add_text(self, text: str, *, flush: bool, trigger: bool, auto_mode: bool) -> None:
        """Buffer ``text``; cut a chunk if a flush, auto mode or the schedule says so."""
        srv, now = self.server, time.perf_counter()
        rec = srv.contexts[self.index]
        changes: dict[str, Any] = {}
        if text.strip() and rec.first_text_at is None:
            changes["first_text_at"] = now
        if flush and rec.first_flush_at is None:
            changes["first_flush_at"] = now
        if flush and not text:
            changes["end_of_input_at"] = now
        srv._update_context(self.index, **changes)
        if self.dead or self.closed:
            return
        # leading blanks (the " " opener) are not speech: a chunk starts at its first word
        self.buffer = self.buffer + text if self.buffer else text.lstrip()
        threshold = self.schedule[min(len(rec.chunks), len(self.schedule) - 1)]
        triggered = trigger and len(self.buffer) >= _TRIGGER_MINIMUM
        if flush or auto_mode or triggered or len(self.buffer) >= threshold:
            self.cut(now)

    def cut(self, now: float) -> None:
        """Hand the buffered text to synthesis as one chunk."""
        text, self.buffer = self.buffer, ""
        if not text.strip():
            return
        srv = self.server
        rec = srv.contexts[self.index]
        srv._update_context(
            self.index, chunks=(*rec.chunks, text), chunk_times=(*rec.chunk_times, now)
        )
        self.queue.put_nowait(_Chunk(text, now, srv._synthesize(text, self.rate)))

    def close(self) -> None:
        """No more input: finish the chunks already cut, drop the unflushed rest."""
        if self.closed:
            return
        self.closed = True
        srv, now = self.server, time.perf_counter()
        rec = srv.contexts[self.index]
        changes: dict[str, Any] = {"closed_at": now}
        if rec.end_of_input_at is None:  # closed before its end of input: an interruption
            changes |= {"cancelled": True, "discarded": self.buffer.strip()}
        self.buffer = ""
        srv._update_context(self.index, **changes)
        self.queue.put_nowait(None)

    def abandon(self) -> None:
        """Stop sending and synthesizing (the connection is gone or the context failed)."""
        self.dead = True
        if self.sender is not None and self.sender is not asyncio.current_task():
            self.sender.cancel()
        while not self.queue.empty():
            if (chunk := self.queue.get_nowait()) is not None:
                chunk.pcm.cancel()

    # --- output ------------------------------------------------------------------------------

    async def speak(self, send: Send) -> None:
        """Stream every chunk's audio as it is cut, then the final message (the sender)."""
        srv = self.server
        while (chunk := await self.queue.get()) is not None:
            write = self._writer(send, chunk.text)
            try:
                pcm = await srv._stream_pcm(chunk.pcm, self.rate, chunk.cut_at, write)
            except Exception as exc:  # a broken voice: tell the client, as the real API would
                self.abandon()
                await self.fail(send, "synthesis_failed", f"synthesis failed: {exc}", 1011)
                return
            self.audio_ms += len(pcm) / self.rate * 1000
        final: dict[str, Any] = {"isFinal": True}
        if self.multi:
            final["contextId"] = self.cid
        await send("multi_final" if self.multi else "stream_final", final)
        srv._update_context(self.index, finished_at=time.perf_counter())
        await srv._notify()

    async def fail(self, send: Send, error: str, message: str, code: int) -> None:
        """Report an error for this context and stop it."""
        self.dead = True
        now = time.perf_counter()
        self.server._update_context(self.index, error=message, finished_at=now)
        payload: dict[str, Any] = {"message": message, "error": error, "code": code}
        if self.multi:
            payload["contextId"] = self.cid
        await send("ws_error", payload)
        await self.server._notify()

    def _writer(
        self, send: Send, text: str
    ) -> Callable[[int, NDArray[np.int16], int], Awaitable[None]]:
        srv, rate = self.server, self.rate
        kind = "multi_audio" if self.multi else "stream_audio"

        async def write(offset: int, part: NDArray[np.int16], total: int) -> None:
            msg: dict[str, Any] = {"audio": base64.b64encode(part.tobytes()).decode()}
            if align := alignment_ms(
                text, (offset, offset + len(part), total), self.audio_ms, rate
            ):
                msg["alignment"] = msg["normalizedAlignment"] = align
            if self.multi:
                msg["contextId"] = self.cid
            await send(kind, msg)
            rec = srv.contexts[self.index]
            changes: dict[str, Any] = {"audio_seconds": rec.audio_seconds + len(part) / rate}
            if rec.first_audio_sent_at is None:
                changes["first_audio_sent_at"] = time.perf_counter()
            srv._update_context(self.index, **changes)

        return write


def alignment_ms(
    text: str, span: tuple[int, int, int], offset_ms: float, rate: int
) -> dict[str, list[Any]] | None:
    """Alignment for the characters of ``text`` that start inside samples ``[start, end)``.

    ``span`` is ``(start, end, total)``. Characters are spread evenly over the chunk's audio;
    times are milliseconds on the context's clock (``offset_ms`` is where this chunk's audio
    starts), which is how the livekit plugin reads them.
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
