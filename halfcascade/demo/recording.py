"""The demo's MP4: the avatar's video and the whole conversation's audio on one clock.

Every input carries a ``time.perf_counter()`` reading: the avatar player stamps each video
frame with the time it is shown and each stretch of agent audio with the time it starts
playing; the microphone reports when the user's words were delivered. The recorder maps
those readings onto the file's timeline (one section per session, back to back), so audio
and video are in sync by construction: a speaking frame and the audio it was drawn from
share a timestamp.

Video frames are encoded on a worker thread as they arrive (H.264 through PyAV), so a
minute of 512x512 frames never sits in memory; audio is small and is mixed and encoded
when the file is closed.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray

__all__ = ["AvRecorder", "Interval"]

_STOP = object()


@dataclass(frozen=True, slots=True)
class Interval:
    """A stretch of the file's timeline (seconds from its start)."""

    start: float
    end: float


@dataclass(slots=True)
class _Section:
    t0: float  # perf_counter reading shown at the section's first file second
    offset: float  # file seconds at which the section starts
    end: float = 0.0  # the latest perf_counter reading seen in it


@dataclass(slots=True)
class _Audio:
    chunks: list[tuple[float, NDArray[np.int16]]] = field(default_factory=list)


class AvRecorder:
    """Writes an MP4 of video frames and audio stamped on ``time.perf_counter()``.

    Args:
        path: the MP4 to write.
        width, height, fps: the video format (the avatar's).
        sample_rate: the audio rate (mono).
    """

    def __init__(
        self, path: Path, *, width: int, height: int, fps: int = 25, sample_rate: int = 24000
    ) -> None:
        import av  # PyAV: the demo's one optional dependency for writing video

        self.path = path
        self.fps = fps
        self.sample_rate = sample_rate
        self._container: Any = av.open(str(path), mode="w")
        self._video: Any = self._container.add_stream("libx264", rate=fps)
        self._video.width, self._video.height = width, height
        self._video.pix_fmt = "yuv420p"
        self._video.options = {"preset": "veryfast", "crf": "23"}
        self._audio_stream: Any = self._container.add_stream("aac", rate=sample_rate)
        self._audio_stream.layout = "mono"
        self._sections: list[_Section] = []
        self._audio = _Audio()
        self._frames: queue.Queue[object] = queue.Queue(maxsize=50)
        self._thread = threading.Thread(target=self._encode_video, name="demo-video", daemon=True)
        self._thread.start()
        self._next_slot = 0
        self.agent_speech: list[Interval] = []
        """Where the agent's audio plays in the file."""
        self.user_speech: list[Interval] = []
        """Where the user's words play in the file."""

    # -- sections ----------------------------------------------------------------------

    def begin_section(self, t0: float) -> None:
        """Start a new stretch of the file at ``t0`` (a perf_counter reading), right after
        the previous one (a session restarting leaves no gap in the file)."""
        offset = self._next_slot / self.fps
        self._sections.append(_Section(t0=t0, offset=offset, end=t0))

    def file_time(self, t: float) -> float:
        """Where perf_counter reading ``t`` falls in the file (current section)."""
        s = self._sections[-1]
        return s.offset + (t - s.t0)

    # -- inputs ------------------------------------------------------------------------

    def add_video(self, pts: float, rgba: NDArray[np.uint8]) -> None:
        """A frame shown at ``pts``; it holds until the next frame's slot."""
        slot = round(self.file_time(pts) * self.fps)
        if slot < self._next_slot:
            return  # two frames in one slot: the first one shows
        self._sections[-1].end = max(self._sections[-1].end, pts)
        self._frames.put((slot, rgba.copy()))
        self._next_slot = slot + 1

    def add_agent_audio(self, pts: float, pcm: NDArray[np.int16]) -> None:
        """Agent audio that starts playing at ``pts``."""
        at = self.file_time(pts)
        self._audio.chunks.append((at, pcm.copy()))
        self._note(self.agent_speech, at, at + pcm.size / self.sample_rate)

    def add_user_audio(self, ended_at: float, pcm: NDArray[np.int16]) -> None:
        """The user's words, whose last sample was delivered at ``ended_at``."""
        end = self.file_time(ended_at)
        start = end - pcm.size / self.sample_rate
        self._audio.chunks.append((start, pcm.copy()))
        self.user_speech.append(Interval(start, end))

    @staticmethod
    def _note(spans: list[Interval], start: float, end: float) -> None:
        if spans and start - spans[-1].end < 0.12:  # contiguous frames form one stretch
            spans[-1] = Interval(spans[-1].start, max(end, spans[-1].end))
        else:
            spans.append(Interval(start, end))

    # -- output ------------------------------------------------------------------------

    @property
    def duration(self) -> float:
        """Seconds of video recorded so far."""
        return self._next_slot / self.fps

    def close(self) -> float:
        """Finish the video, mix and encode the audio, write the file; returns its length."""
        self._frames.put(_STOP)
        self._thread.join()
        duration = self.duration
        self._write_audio(duration)
        self._container.close()
        return duration

    def _encode_video(self) -> None:
        import av

        written = 0
        last: NDArray[np.uint8] | None = None
        while (item := self._frames.get()) is not _STOP:
            slot, rgba = cast(tuple[int, NDArray[np.uint8]], item)
            while last is not None and written < slot:  # hold the previous frame
                self._mux_video(av, last, written)
                written += 1
            last = rgba
        if last is not None:
            self._mux_video(av, last, written)
        for packet in self._video.encode(None):
            self._container.mux(packet)

    def _mux_video(self, av: Any, rgba: NDArray[np.uint8], index: int) -> None:
        frame = av.VideoFrame.from_ndarray(rgba, format="rgba")
        frame.pts = index
        frame.time_base = Fraction(1, self.fps)
        for packet in self._video.encode(frame):
            self._container.mux(packet)

    def _write_audio(self, duration: float) -> None:
        import av

        total = np.zeros(round(duration * self.sample_rate), dtype=np.int32)
        for at, pcm in self._audio.chunks:
            i = max(0, round(at * self.sample_rate))
            n = max(0, min(pcm.size, total.size - i))
            total[i : i + n] += pcm[:n]
        mono = np.clip(total, -32768, 32767).astype(np.int16)
        step = 1024 * 8
        for i in range(0, mono.size, step):
            frame = av.AudioFrame.from_ndarray(
                mono[None, i : i + step], format="s16", layout="mono"
            )
            frame.sample_rate = self.sample_rate
            frame.pts = i
            frame.time_base = Fraction(1, self.sample_rate)
            for packet in self._audio_stream.encode(frame):
                self._container.mux(packet)
        for packet in self._audio_stream.encode(None):
            self._container.mux(packet)
