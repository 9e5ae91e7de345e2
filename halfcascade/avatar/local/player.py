"""Running a ``VideoGenerator`` without a room: for tests, previews and offline renders.

:class:`AvatarPlayer` does what livekit's ``AvatarRunner`` does in a room, on a local
clock instead of published tracks: it feeds an ``AudioReceiver`` (e.g.
:class:`~halfcascade.avatar.lifecycle.AvatarAudioOutput`) into the generator, plays the
generator's audio in real time behind a short queue, stamps each video frame with the time
it is shown, and reports playback start, finish and interruption back to the receiver.

:func:`render_clip` renders a whole clip as fast as the CPU allows, no clock at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from livekit import rtc
from livekit.agents.voice.avatar import AudioReceiver, AudioSegmentEnd, VideoGenerator
from numpy.typing import NDArray

from ..._service import Service
from .character import Character, default_character
from .features import MouthShape, MouthTracker
from .render import AvatarRenderer

__all__ = ["AvatarPlayer", "PlayedAudio", "PlayedVideo", "render_clip"]


@dataclass(frozen=True, slots=True)
class PlayedVideo:
    """A video frame and when it is shown (``time.perf_counter()`` seconds)."""

    index: int
    pts: float
    speaking: bool
    frame: rtc.VideoFrame


@dataclass(frozen=True, slots=True)
class PlayedAudio:
    """A stretch of audio and when it starts playing (``time.perf_counter()`` seconds)."""

    pts: float
    frame: rtc.AudioFrame


class AvatarPlayer(Service):
    """Plays an avatar room-less, reporting playback to its audio receiver.

    Args:
        audio_recv: where the agent's audio comes from.
        video_gen: the avatar.
        on_video: called with each video frame as it is produced.
        on_audio: called with each audio frame as it is queued for playing.
        queue: seconds of audio the player may run ahead of the clock (like a sound card).
        fps: the generator's frame rate (idle frames are shown at most this often).
    """

    def __init__(
        self,
        *,
        audio_recv: AudioReceiver,
        video_gen: VideoGenerator,
        on_video: Callable[[PlayedVideo], None] | None = None,
        on_audio: Callable[[PlayedAudio], None] | None = None,
        queue: float = 0.1,
        fps: float = 25.0,
    ) -> None:
        self._recv, self._gen = audio_recv, video_gen
        self._on_video, self._on_audio = on_video, on_audio
        self._queue = queue
        self._period = 1.0 / fps
        self._last_pts = 0.0
        self._audio_end = 0.0
        self._seg_start: float | None = None
        self._position = 0.0
        self._playing = False  # this segment's audio has started playing
        self._receiving = False  # audio of a segment has come in and not yet ended
        self._finish: asyncio.Task[None] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._video_index = 0
        self._epoch = 0

    async def start(self) -> None:
        """Start reading audio and producing frames."""
        await self._recv.start()
        self._recv.on("clear_buffer", self._on_clear)
        self._tasks = [
            asyncio.create_task(self._read_audio(), name="avatar-player-audio"),
            asyncio.create_task(self._forward(), name="avatar-player-video"),
        ]

    async def aclose(self) -> None:
        """Stop and release everything the player started."""
        self._recv.off("clear_buffer", self._on_clear)
        tasks = [*self._tasks, *([self._finish] if self._finish else [])]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await self._recv.aclose()

    async def _read_audio(self) -> None:
        async for frame in self._recv:
            if isinstance(frame, rtc.AudioFrame):
                self._receiving = True  # from now on a barge-in must be reported
            await self._gen.push_audio(frame)

    async def _forward(self) -> None:
        # a video frame is shown with the audio that follows it, if any: hold it until the
        # next item says whether it was drawn from speech
        held: tuple[rtc.VideoFrame, float] | None = None
        async for item in self._gen:
            if isinstance(item, rtc.AudioFrame):
                start = await self._play(item)
                if held is not None:
                    self._show(*held, start=start)
                    held = None
                continue
            if held is not None:
                self._show(*held, start=None)
                held = None
            if isinstance(item, rtc.VideoFrame):
                held = (item, time.perf_counter())
            elif isinstance(item, AudioSegmentEnd) and self._receiving:
                self._playing = self._receiving = False
                self._finish = asyncio.create_task(self._finish_at(self._audio_end))

    def _show(self, frame: rtc.VideoFrame, arrived: float, *, start: float | None) -> None:
        if start is not None:
            pts = start
        else:
            pts = max(arrived, self._audio_end, self._last_pts + self._period)
        self._last_pts = pts
        if self._on_video is not None:
            self._on_video(PlayedVideo(self._video_index, pts, start is not None, frame))
        self._video_index += 1

    async def _play(self, frame: rtc.AudioFrame) -> float | None:
        now = time.perf_counter()
        ahead = self._audio_end - now - self._queue
        if ahead > 0:
            epoch = self._epoch
            await asyncio.sleep(ahead)
            if epoch != self._epoch:
                return None  # cleared while waiting: this audio is never played
            now = time.perf_counter()
        start = max(now, self._audio_end)
        self._audio_end = start + frame.duration
        if not self._playing:
            await self._settle_finish()
            self._playing = True
            self._seg_start, self._position = start, 0.0
            await _maybe_await(self._recv.notify_playback_started())
        self._position += frame.duration
        if self._on_audio is not None:
            self._on_audio(PlayedAudio(start, frame))
        return start

    async def _finish_at(self, when: float) -> None:
        await asyncio.sleep(max(0.0, when - time.perf_counter()))
        self._seg_start = None
        await _maybe_await(
            self._recv.notify_playback_finished(playback_position=self._position, interrupted=False)
        )

    async def _settle_finish(self) -> None:
        # a new segment starts only after the previous one has been reported
        if self._finish is not None and not self._finish.done():
            await asyncio.shield(self._finish)

    def _on_clear(self) -> None:
        pending = self._finish if self._finish is not None and not self._finish.done() else None
        if pending is not None:
            pending.cancel()
        playing = self._receiving or self._playing or pending is not None
        now = time.perf_counter()
        played = 0.0 if self._seg_start is None else max(0.0, now - self._seg_start)
        played = min(played, self._position)
        self._playing = self._receiving = False
        self._seg_start = None
        self._audio_end = min(self._audio_end, now)  # queued audio is dropped, not played
        self._epoch += 1
        cleared = self._gen.clear_buffer()
        self._finish = asyncio.create_task(self._report_clear(cleared, playing, played))

    async def _report_clear(self, cleared: Any, playing: bool, played: float) -> None:
        await _maybe_await(cleared)
        if playing:
            await _maybe_await(
                self._recv.notify_playback_finished(playback_position=played, interrupted=True)
            )


async def _maybe_await(result: Any) -> None:
    if inspect.isawaitable(result):
        await result


def render_clip(
    pcm: NDArray[np.int16],
    *,
    sample_rate: int = 24000,
    fps: float = 25.0,
    character: Character | None = None,
    seed: int = 0,
) -> list[tuple[NDArray[np.uint8], MouthShape]]:
    """Render mono int16 ``pcm`` offline: one ``(frame, mouth shape)`` per video frame.

    Frame ``i`` shows the audio from ``i / fps`` to ``(i + 1) / fps`` seconds.
    """
    character = character or default_character()
    renderer = AvatarRenderer(character, seed=seed)
    tracker = MouthTracker(sample_rate=sample_rate)
    spf = round(sample_rate / fps)
    frames = []
    for i in range(0, max(1, -(-pcm.size // spf))):
        shape = tracker.update(pcm[i * spf : (i + 1) * spf])
        frames.append((renderer.render(shape, i / fps), shape))
    return frames
