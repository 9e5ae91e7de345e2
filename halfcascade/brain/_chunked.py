"""livekit's OpenAI RealtimeModel, sending user audio in smaller chunks.

Imported only when an OpenAI brain is built, so the ``openai`` extra stays optional.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np
from livekit import rtc
from livekit.agents import utils
from livekit.plugins.openai import realtime

from ._liveness import SocketWatchdog

__all__ = ["ChunkedRealtimeModel"]

_RATE = 24000
logger = logging.getLogger("halfcascade.brain")


class ChunkedRealtimeModel(realtime.RealtimeModel):
    """A ``RealtimeModel`` whose sessions send ``input_chunk_ms`` of audio per message."""

    def __init__(
        self,
        *,
        input_chunk_ms: int,
        stall_timeout: float | None = None,
        server_turns: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._input_samples = _RATE * input_chunk_ms // 1000
        self._stall_timeout = stall_timeout
        self._server_turns = server_turns
        self._ready_callbacks: list[Callable[[float], None]] = []
        self._speech_end_callbacks: list[Callable[[float], None]] = []

    def on_ready(self, callback: Callable[[float], None]) -> None:
        """Call ``callback(time.time())`` when a session's first ``session.updated`` arrives."""
        self._ready_callbacks.append(callback)

    def on_speech_end(self, callback: Callable[[float], None]) -> None:
        """Call ``callback(at)`` for every server ``speech_stopped``, ``at`` being when the
        last voiced audio before it was sent: the user's real end of speech, not the end of
        the server's silence window (which ``audio_end_ms`` includes)."""
        self._speech_end_callbacks.append(callback)

    def session(self, *, turn_detection_disabled: bool = False) -> Any:
        """A realtime session with the smaller input chunk size."""
        sess = super().session(turn_detection_disabled=turn_detection_disabled)
        clock = _InputClock(chunk_samples=self._input_samples)
        # livekit buffers input audio into 100 ms chunks in this byte stream; each chunk it
        # yields is sent at once, so the stream also stamps when (and how loud) it went out
        sess._bstream = _ClockedByteStream(clock, _RATE, 1, samples_per_channel=self._input_samples)
        ready = False

        def on_event(event: dict[str, Any]) -> None:
            nonlocal ready
            kind = event.get("type")
            if kind == "session.created":
                clock.reset()  # a new connection: the server's audio clock restarts
            elif kind == "session.updated" and not ready:
                ready = True
                for callback in self._ready_callbacks:
                    callback(time.time())
            elif kind == "input_audio_buffer.speech_stopped":
                at = clock.sent_at(int(event.get("audio_end_ms", 0)))
                for callback in self._speech_end_callbacks:
                    callback(at if at is not None else time.time())

        sess.on("openai_server_event_received", on_event)
        sess.on("generation_created", lambda _ev: _observe_outcome(sess))
        if self._stall_timeout is not None:
            dog = SocketWatchdog(
                sess,
                stall_timeout=self._stall_timeout,
                server_turns=self._server_turns and not turn_detection_disabled,
            )
            clock.listener = dog.sent
            close = sess.aclose

            async def aclose() -> None:
                await dog.aclose()
                await close()

            sess.aclose = aclose  # type: ignore[method-assign]
        return sess


def _observe_outcome(sess: Any) -> None:
    """Retrieve the outcome of the response just created.

    livekit sets a failed response's ``_done_fut`` to a ``RealtimeError`` that only a
    reconnect ever awaits; otherwise asyncio logs ``Future exception was never retrieved``
    at ERROR, with a traceback, whenever the future is collected, for a failure the session
    already handled (the turn ends, the next one is answered). The failure stays visible at
    DEBUG here and through livekit's own error event.
    """
    generation = getattr(sess, "_current_generation", None)
    done = getattr(generation, "_done_fut", None)
    if isinstance(done, asyncio.Future):
        done.add_done_callback(_log_failure)


def _log_failure(fut: asyncio.Future[None]) -> None:
    if not fut.cancelled() and (exc := fut.exception()) is not None:
        logger.debug("realtime response ended: %s", exc)


class _ClockedByteStream(utils.audio.AudioByteStream):
    """livekit's input byte stream, telling the clock about every chunk it yields (no
    listener on every client event, no base64 decode of what was just encoded)."""

    def __init__(self, clock: _InputClock, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clock = clock

    def write(self, data: bytes | memoryview) -> list[rtc.AudioFrame]:
        frames = super().write(data)
        for frame in frames:
            self._clock.sent(np.frombuffer(frame.data, np.int16))
        return frames

    def flush(self) -> list[rtc.AudioFrame]:
        frames = super().flush()
        for frame in frames:
            self._clock.sent(np.frombuffer(frame.data, np.int16))
        return frames


class _InputClock:
    """When each chunk of input audio was sent, and how loud it was, on the server's
    per-connection audio clock."""

    _VOICED_BELOW_PEAK_DB = 25.0
    _LOOKBACK_MS = 10_000

    def __init__(self, *, chunk_samples: int) -> None:
        self._samples = 0
        # only the look-back window is ever read: keep that, plus a margin
        chunks = self._LOOKBACK_MS * _RATE // 1000 // max(1, chunk_samples)
        self._sent: deque[tuple[int, float, float]] = deque(maxlen=chunks + 50)
        self.listener: Callable[[float], None] | None = None

    def reset(self) -> None:
        self._samples = 0
        self._sent.clear()

    def sent(self, pcm: np.ndarray) -> None:
        self._samples += len(pcm)
        x = pcm.astype(np.float32)
        rms = float(np.sqrt(np.dot(x, x) / len(x))) if len(x) else 0.0
        db = 20.0 * float(np.log10(max(rms, 1.0) / 32768.0))
        self._sent.append((self._samples, time.time(), db))
        if self.listener is not None:
            self.listener(db)

    def sent_at(self, audio_ms: int) -> float | None:
        """When the last voiced chunk at or before ``audio_ms`` was sent."""
        end = audio_ms * _RATE // 1000
        start = end - self._LOOKBACK_MS * _RATE // 1000
        window = [(at, db) for last, at, db in self._sent if start < last <= end + _RATE // 50]
        if not window:
            return None
        floor = max(db for _, db in window) - self._VOICED_BELOW_PEAK_DB
        voiced = [at for at, db in window if db >= floor]
        return voiced[-1] if voiced else None
