"""What the benchmark watches at each pipeline's audio output, without changing it.

:class:`OutputTap` sits in front of a running session's audio output (installed after
``session.start``, as the outermost wrapper) and, per reply segment, notes

- when its first frame arrived;
- **gap**: seconds of silence the listener hears inside the reply because audio arrived
  after the playout clock had run dry (the seam after a cached opener, or a TTS falling
  behind between phrases);
- **mouth**: with ``avatar=True``, when the local avatar's mouth first moved for it. The
  frames are also handed to a local avatar (``AvatarAudioOutput`` -> ``LocalVideoGenerator``
  -> room-less ``AvatarPlayer``, the path ``LocalAvatar`` uses without a room), and the
  first video frame drawn from the reply's audio with the mouth open by at least
  :data:`MOUTH_OPEN` is the moment a person sees the companion start to speak.

The avatar's own playback reports go nowhere: the session's lifecycle stays the speaker's.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from livekit import rtc
from livekit.agents.voice import io
from livekit.agents.voice.avatar import AudioSegmentEnd, VideoGenerator

from ..avatar.lifecycle import AvatarAudioOutput
from ..avatar.local import AvatarPlayer, LocalVideoGenerator, PlayedVideo

__all__ = ["MOUTH_OPEN", "OutputTap", "TapSegment", "install_tap"]

MOUTH_OPEN = 0.1
"""Mouth opening (0-1) that counts as moving; a closed mouth idles at 0."""
_RATE = 24000


@dataclass(slots=True)
class TapSegment:
    """One reply segment at the output (``time.perf_counter()`` seconds)."""

    first_at: float
    mouth_at: float | None = None
    gap: float = 0.0
    _playout_end: float = 0.0


class _ShapeTap(VideoGenerator):
    """A ``LocalVideoGenerator`` that remembers each video frame's mouth opening."""

    def __init__(self, inner: LocalVideoGenerator) -> None:
        self.inner = inner
        self._open: dict[int, float] = {}

    async def push_audio(self, frame: rtc.AudioFrame | AudioSegmentEnd) -> None:
        await self.inner.push_audio(frame)

    def clear_buffer(self) -> None:
        self.inner.clear_buffer()

    def opening(self, frame: rtc.VideoFrame) -> float:
        return self._open.pop(id(frame), 0.0)

    def __aiter__(self) -> AsyncIterator[rtc.VideoFrame | rtc.AudioFrame | AudioSegmentEnd]:
        return self._stream()

    async def _stream(self) -> AsyncIterator[rtc.VideoFrame | rtc.AudioFrame | AudioSegmentEnd]:
        async for item in self.inner:
            if isinstance(item, rtc.VideoFrame):
                if len(self._open) > 256:  # frames dropped on a barge-in are never shown
                    self._open.clear()
                self._open[id(item)] = self.inner.last_shape.open
            yield item


class OutputTap(io.AudioOutput):
    """Pass-through output that records each reply segment (see the module notes).

    Args:
        inner: the session's current audio output.
        avatar: also drive a local avatar and record the first mouth movement.
    """

    def __init__(self, inner: io.AudioOutput, *, avatar: bool) -> None:
        super().__init__(
            label="halfcascade.bench.OutputTap",
            capabilities=io.AudioOutputCapabilities(pause=inner.can_pause),
            next_in_chain=inner,
            sample_rate=inner.sample_rate,
        )
        self.segments: list[TapSegment] = []
        self._current: TapSegment | None = None
        self._waiting: TapSegment | None = None  # for the avatar's mouth to move
        self._shapes: _ShapeTap | None = None
        self._avatar_out: AvatarAudioOutput | None = None
        self._player: AvatarPlayer | None = None
        if avatar:
            self._shapes = _ShapeTap(LocalVideoGenerator(sample_rate=_RATE))
            self._avatar_out = AvatarAudioOutput(
                sample_rate=_RATE, on_clear=self._shapes.clear_buffer
            )
            self._player = AvatarPlayer(
                audio_recv=self._avatar_out, video_gen=self._shapes, on_video=self._on_video
            )

    async def start(self) -> None:
        """Start the avatar (when there is one)."""
        if self._player is not None:
            await self._player.start()

    async def aclose(self) -> None:
        """Stop the avatar."""
        if self._player is not None:
            await self._player.aclose()
        if self._shapes is not None:
            await self._shapes.inner.aclose()

    def segment_near(self, at: float, *, within: float = 0.05) -> TapSegment | None:
        """The segment whose first frame arrived closest to ``at``, if within ``within`` s."""
        best = min(self.segments, key=lambda s: abs(s.first_at - at), default=None)
        return best if best is not None and abs(best.first_at - at) <= within else None

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        now = time.perf_counter()
        seg = self._current
        if seg is None:
            seg = self._current = TapSegment(first_at=now, _playout_end=now)
            self.segments.append(seg)
            self._waiting = seg
        elif now > seg._playout_end:
            seg.gap += now - seg._playout_end
            seg._playout_end = now
        seg._playout_end += frame.duration
        assert self.next_in_chain is not None
        await self.next_in_chain.capture_frame(frame)
        await super().capture_frame(frame)
        if self._avatar_out is not None:
            await self._avatar_out.capture_frame(frame)

    def flush(self) -> None:
        super().flush()
        self._current = None
        assert self.next_in_chain is not None
        self.next_in_chain.flush()
        if self._avatar_out is not None:
            self._avatar_out.flush()

    def clear_buffer(self) -> None:
        self._current = None
        assert self.next_in_chain is not None
        self.next_in_chain.clear_buffer()
        if self._avatar_out is not None:
            self._avatar_out.clear_buffer()

    def on_playback_finished(
        self,
        *,
        playback_position: float,
        interrupted: bool,
        synchronized_transcript: str | None = None,
    ) -> None:
        if not self._pending_playback_count:
            return  # a segment cancelled before this wrapper counted it
        super().on_playback_finished(
            playback_position=playback_position,
            interrupted=interrupted,
            synchronized_transcript=synchronized_transcript,
        )

    def _on_video(self, video: PlayedVideo) -> None:
        assert self._shapes is not None
        opening = self._shapes.opening(video.frame)
        seg = self._waiting
        if seg is None or not video.speaking or opening < MOUTH_OPEN or video.pts < seg.first_at:
            return
        seg.mouth_at = video.pts
        self._waiting = None


async def install_tap(session_output: io.AgentOutput, *, avatar: bool) -> OutputTap:
    """Wrap the running session's audio output in an :class:`OutputTap` and start it."""
    inner = session_output.audio
    if inner is None:
        raise RuntimeError("the session has no audio output to tap")
    tap = OutputTap(inner, avatar=avatar)
    await tap.start()
    session_output.audio = tap
    return tap
