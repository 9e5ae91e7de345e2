"""Room-less audio I/O for an ``AgentSession``: a paced microphone and a recording speaker.

:class:`MicrophoneInput` plays PCM into ``session.input.audio`` at real-time pace and
sends silence in between, as a real microphone does (a server VAD needs the silence to end
a turn). :class:`SpeakerOutput` is ``session.output.audio``: it keeps every frame it is
given, plays segments out on a real-time clock and reports playback start and finish to
the session the way livekit's room output does, including on barge-in.

Times are ``time.perf_counter()`` readings, comparable with the test servers' records.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field

import numpy as np
from livekit import rtc
from livekit.agents.voice import io

__all__ = ["MicrophoneInput", "PlayedSegment", "SpeakerOutput"]

_FRAME_MS = 20


class MicrophoneInput(io.AudioInput):
    """A microphone that says what it is told, in real time, and is silent otherwise.

    ``await mic.say(pcm)`` returns once the last speech frame has been delivered; its
    delivery time is ``mic.speech_ended_at``.
    """

    def __init__(self, *, sample_rate: int = 24000) -> None:
        super().__init__(label="halfcascade.testing.MicrophoneInput")
        self._rate = sample_rate
        self._spf = sample_rate * _FRAME_MS // 1000
        self._pending = np.zeros(0, dtype=np.int16)
        self._done: asyncio.Future[float] | None = None
        self._next_at: float | None = None
        self.speech_ended_at: float | None = None

    async def say(self, pcm: np.ndarray) -> float:
        """Speak ``pcm`` (int16 mono at the input's rate); return when it has been heard."""
        if self._done is not None and not self._done.done():
            raise RuntimeError("MicrophoneInput.say() called while already speaking")
        self._pending = np.asarray(pcm, dtype=np.int16)
        self._done = asyncio.get_running_loop().create_future()
        return await self._done

    async def __anext__(self) -> rtc.AudioFrame:
        now = time.perf_counter()
        if self._next_at is None or self._next_at < now - 0.2:
            self._next_at = now  # first frame, or the consumer stalled: do not burst
        await asyncio.sleep(max(0.0, self._next_at - now))
        self._next_at += _FRAME_MS / 1000
        chunk, self._pending = self._pending[: self._spf], self._pending[self._spf :]
        if len(chunk) < self._spf:
            chunk = np.concatenate([chunk, np.zeros(self._spf - len(chunk), dtype=np.int16)])
            if self._done is not None and not self._done.done():
                self.speech_ended_at = time.perf_counter()
                self._done.set_result(self.speech_ended_at)
        return rtc.AudioFrame(chunk.tobytes(), self._rate, 1, self._spf)


@dataclass(slots=True)
class PlayedSegment:
    """One flushed (or cleared) stretch of agent audio as the speaker received it."""

    first_frame_at: float
    frames: list[rtc.AudioFrame] = field(default_factory=list)
    finished_at: float | None = None
    interrupted: bool = False
    played: float = 0.0
    received: float = 0.0
    """Seconds of audio received (kept even when the speaker does not keep the frames)."""

    @property
    def duration(self) -> float:
        """Seconds of audio received."""
        return self.received

    def pcm(self) -> np.ndarray:
        """The received audio as one int16 array."""
        if not self.frames:
            return np.zeros(0, dtype=np.int16)
        return np.concatenate([np.frombuffer(f.data, dtype=np.int16) for f in self.frames])


class SpeakerOutput(io.AudioOutput):
    """A speaker that plays out on a real-time clock and keeps what it played.

    Playback is reported the way livekit's room output (``_ParticipantAudioOutput``) does:
    ``flush()`` starts a playout task, and that task reports ``playback_finished`` when the
    segment has played out or when ``clear_buffer()`` interrupted it, never synchronously
    inside ``clear_buffer()``. A sink that reports synchronously there finishes a segment
    before livekit's forwarding tasks have ended its text and audio input, which the room
    never does (and which makes livekit's transcript synchronizer warn).
    """

    def __init__(self, *, sample_rate: int | None = None, keep_audio: bool = True) -> None:
        """``keep_audio=False`` keeps each segment's timings but not its frames (long runs)."""
        super().__init__(
            label="halfcascade.testing.SpeakerOutput",
            capabilities=io.AudioOutputCapabilities(pause=False),
            sample_rate=sample_rate,
        )
        self.segments: list[PlayedSegment] = []
        self._keep_audio = keep_audio
        self._current: PlayedSegment | None = None
        self._finish_task: asyncio.Task[None] | None = None
        self._interrupted = asyncio.Event()
        self._changed = asyncio.Event()

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        if self._finish_task is not None and not self._finish_task.done():
            await asyncio.shield(self._finish_task)  # as the room output: one segment at a time
        await super().capture_frame(frame)
        if self._current is None:
            self._current = PlayedSegment(first_frame_at=time.perf_counter())
            self.segments.append(self._current)
            self.on_playback_started(created_at=time.time())
            self._notify()
        self._current.received += frame.duration
        if self._keep_audio:
            self._current.frames.append(frame)

    def flush(self) -> None:
        super().flush()
        seg, self._current = self._current, None
        if seg is None:
            return
        self._finish_task = asyncio.create_task(self._wait_for_playout(seg))

    def clear_buffer(self) -> None:
        pending = self._finish_task is not None and not self._finish_task.done()
        if self._current is None and not pending:
            return
        # reported by the playout task (now, or at the next flush), as the room output does
        self._interrupted.set()

    async def _wait_for_playout(self, seg: PlayedSegment) -> None:
        remaining = seg.first_frame_at + seg.duration - time.perf_counter()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(0.0, remaining)):
                await self._interrupted.wait()
        interrupted = self._interrupted.is_set()
        self._interrupted.clear()
        played = seg.duration
        if interrupted:
            played = min(seg.duration, time.perf_counter() - seg.first_frame_at)
        self._finish(seg, played, interrupted=interrupted)

    def _finish(self, seg: PlayedSegment, played: float, *, interrupted: bool) -> None:
        seg.finished_at = time.perf_counter()
        seg.interrupted = interrupted
        seg.played = played
        self.on_playback_finished(playback_position=played, interrupted=interrupted)
        self._notify()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_for_segment(self, index: int, *, finished: bool = False) -> PlayedSegment:
        """Wait until segment ``index`` has started (or finished) and return it."""
        while True:
            if len(self.segments) > index:
                seg = self.segments[index]
                if not finished or seg.finished_at is not None:
                    return seg
            await self._changed.wait()

    async def aclose(self) -> None:
        """Cancel a pending playout report."""
        if self._finish_task is not None:
            self._finish_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._finish_task
