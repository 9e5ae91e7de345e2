"""The local avatar as a livekit ``VideoGenerator``.

:class:`LocalVideoGenerator` takes the agent's audio through ``push_audio`` and yields, per
video frame, the frame and the exact 40 ms of audio it was drawn from, so audio and video
leave together (livekit's ``AVSynchronizer`` or the room-less player keep them in step).

- With audio queued it yields ``video, audio`` pairs as fast as the consumer takes them;
  the consumer's audio queue sets the pace.
- Without audio it yields idle frames (breathing, blinking, mouth closing) on its own
  25 fps clock. A TTS that falls behind mid-sentence only gets idle frames: the segment
  ends on ``AudioSegmentEnd`` and never on a gap.
- ``clear_buffer()`` (barge-in) drops queued audio at once and yields no end marker for
  the dropped segment: the runner reports that interruption itself.
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import AsyncIterator

import numpy as np
from livekit import rtc
from livekit.agents.voice.avatar import AudioSegmentEnd, VideoGenerator
from numpy.typing import NDArray

from ...errors import ConfigError
from .character import Character, default_character
from .features import MouthShape, MouthTracker
from .render import AvatarRenderer, new_frame_buffer, to_video_frame

__all__ = ["LocalVideoGenerator"]

_END = AudioSegmentEnd()
_Item = NDArray[np.int16] | AudioSegmentEnd


class LocalVideoGenerator(VideoGenerator):
    """Animates a character from the audio pushed into it.

    Args:
        character: what to draw (default: :func:`default_character` at the frame size).
        width, height: frame size.
        fps: video frame rate; ``sample_rate / fps`` must be a whole number of samples.
        sample_rate: rate of the audio it yields (input at other rates is resampled).
        seed: blink schedule seed.
        motion: idle head motion.
    """

    def __init__(
        self,
        *,
        character: Character | None = None,
        width: int = 512,
        height: int = 512,
        fps: float = 25.0,
        sample_rate: int = 24000,
        seed: int = 0,
        motion: bool = True,
    ) -> None:
        spf = sample_rate / fps
        if fps <= 0 or spf != int(spf):
            raise ConfigError(f"sample_rate / fps must be whole samples, got {sample_rate}/{fps}")
        character = character or default_character(width=width, height=height)
        if (character.width, character.height) != (width, height):
            raise ConfigError("the character was built for a different frame size")
        self._renderer = AvatarRenderer(character, seed=seed, motion=motion)
        self._tracker = MouthTracker(sample_rate=sample_rate)
        self._w, self._h, self._fps, self._rate = width, height, fps, sample_rate
        self._spf = int(spf)
        self._pending: collections.deque[_Item] = collections.deque()
        self._buf = np.zeros(0, dtype=np.int16)
        self._resampler: rtc.AudioResampler | None = None
        self._wake = asyncio.Event()
        self._closed = False
        self._epoch = 0
        self._segment_audio = False
        self._frames = 0
        self.last_shape = MouthShape()
        """The mouth shape of the last frame yielded."""

    @property
    def renderer(self) -> AvatarRenderer:
        """The renderer drawing the frames."""
        return self._renderer

    @property
    def frame_count(self) -> int:
        """Video frames yielded so far."""
        return self._frames

    async def push_audio(self, frame: rtc.AudioFrame | AudioSegmentEnd) -> None:
        """Queue agent audio (any rate, any channel count) or the end of a segment."""
        if isinstance(frame, AudioSegmentEnd):
            if not self._segment_audio:
                # an end with no audio since the last end or barge-in: DataStreamAudioReceiver
                # sends one for the segment it just cleared; passed on, the runner would
                # take it for the end of the next segment and report that one finished
                return
            self._segment_audio = False
            if self._resampler is not None:
                for out in self._resampler.flush():
                    self._pending.append(_mono(out))
                self._resampler = None
            self._pending.append(_END)
        elif frame.sample_rate != self._rate:
            if self._resampler is None:
                self._resampler = rtc.AudioResampler(
                    input_rate=frame.sample_rate,
                    output_rate=self._rate,
                    num_channels=frame.num_channels,
                )
            for out in self._resampler.push(frame):
                self._pending.append(_mono(out))
        else:
            self._pending.append(_mono(frame))
        if isinstance(frame, rtc.AudioFrame):
            self._segment_audio = True
        self._wake.set()

    def clear_buffer(self) -> None:
        """Drop every queued sample now (barge-in)."""
        self._pending.clear()
        self._buf = np.zeros(0, dtype=np.int16)
        self._resampler = None
        self._segment_audio = False
        self._epoch += 1

    async def aclose(self) -> None:
        """End the frame stream."""
        self._closed = True
        self._wake.set()

    def __aiter__(self) -> AsyncIterator[rtc.VideoFrame | rtc.AudioFrame | AudioSegmentEnd]:
        return self._stream()

    async def _stream(self) -> AsyncIterator[rtc.VideoFrame | rtc.AudioFrame | AudioSegmentEnd]:
        period = 1.0 / self._fps
        next_idle: float | None = None
        while not self._closed:
            item = self._next_chunk()
            if item is None:
                now = time.perf_counter()
                if next_idle is None:
                    next_idle = now
                if now < next_idle:
                    self._wake.clear()
                    try:
                        async with asyncio.timeout(next_idle - now):
                            await self._wake.wait()
                    except TimeoutError:
                        pass
                    continue
                # never burst to catch up after a stall
                next_idle = max(next_idle + period, now - period)
                yield self._video(self._tracker.decay())
                continue
            next_idle = None
            if isinstance(item, AudioSegmentEnd):
                yield item
                continue
            epoch = self._epoch
            yield self._video(self._tracker.update(item))
            if epoch == self._epoch:  # a barge-in while the frame was out drops its audio
                yield rtc.AudioFrame(item.tobytes(), self._rate, 1, self._spf)

    def _next_chunk(self) -> _Item | None:
        spf = self._spf
        parts = [self._buf]
        size = self._buf.size
        while size < spf and self._pending and not isinstance(self._pending[0], AudioSegmentEnd):
            part = self._pending.popleft()
            assert not isinstance(part, AudioSegmentEnd)
            parts.append(part)
            size += part.size
        buf = np.concatenate(parts) if len(parts) > 1 else self._buf
        if buf.size >= spf:
            self._buf = buf[spf:]
            return buf[:spf]
        if self._pending and isinstance(self._pending[0], AudioSegmentEnd):
            self._buf = np.zeros(0, dtype=np.int16)
            if buf.size:
                # the segment's last partial frame, padded with silence
                return np.concatenate([buf, np.zeros(spf - buf.size, dtype=np.int16)])
            return self._pending.popleft()
        self._buf = buf
        return None

    def _video(self, shape: MouthShape) -> rtc.VideoFrame:
        self.last_shape = shape
        buf, arr = new_frame_buffer(self._w, self._h)
        self._renderer.render_into(arr, shape, self._frames / self._fps)
        self._frames += 1
        return to_video_frame(buf, self._w, self._h)


def _mono(frame: rtc.AudioFrame) -> NDArray[np.int16]:
    samples = np.frombuffer(frame.data, dtype=np.int16)
    if frame.num_channels == 1:
        return samples.copy()
    mixed: NDArray[np.int16] = samples.reshape(-1, frame.num_channels).mean(axis=1).astype(np.int16)
    return mixed
