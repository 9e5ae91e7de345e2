"""A connection's input audio buffer with the server VAD and chunk arrival times."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ..transcribe import Transcriber
from ..vad import EnergyVad, SpeechStarted, SpeechStopped, VadConfig
from ._protocol import Event, event

__all__ = ["AudioSegment", "InputAudio", "InputEvent", "TurnEnded", "transcribe_turn"]

logger = logging.getLogger("halfcascade.testing.openai_realtime")

_KEEP_IDLE_MS = 1000  # idle audio kept beyond the prefix padding, for the next turn's start
_MAX_ARRIVALS = 4000  # ~400 s of the plugin's 100 ms chunks


@dataclass(frozen=True, slots=True)
class AudioSegment:
    """Committed user audio; times in ms of audio received on the connection.

    A server-VAD turn starts ``prefix_padding_ms`` before its speech onset; where the
    connection holds no audio that far back (speech from its first sample, or right after
    the previous turn's commit) the segment opens with digital silence, so
    ``audio_start_ms`` can be below the first received sample (even negative).
    """

    pcm: npt.NDArray[np.int16]
    audio_start_ms: int
    audio_end_ms: int


@dataclass(frozen=True, slots=True)
class TurnEnded:
    """The server VAD ended a turn; ``segment`` is the audio it commits."""

    stopped: SpeechStopped
    segment: AudioSegment


InputEvent = SpeechStarted | TurnEnded
"""What :meth:`InputAudio.append` returns."""


class InputAudio:
    """``input_audio_buffer`` semantics plus an energy VAD over everything appended.

    The VAD's clock is the connection's (audio received while turn detection is off is
    skipped, not lost), and a turn's audio is cut from the buffer as soon as the VAD ends
    it, before idle audio is trimmed, so the cut never depends on what was trimmed.
    """

    def __init__(self, config: VadConfig, *, sample_rate: int = 24000) -> None:
        self._base = config
        self._rate = sample_rate
        self._vad = EnergyVad(config, sample_rate=sample_rate)
        self._vad_on = True
        self._chunks: list[npt.NDArray[np.int16]] = []
        self._buf_start = 0  # sample position of the buffer's first sample
        self._pos = 0  # samples received on the connection
        self._turn_start: int | None = None  # onset minus prefix padding, in samples (may be < 0)
        self._arrivals: deque[tuple[int, float]] = deque(maxlen=_MAX_ARRIVALS)

    @property
    def vad_enabled(self) -> bool:
        """Whether the server detects turns (``turn_detection`` is not ``null``)."""
        return self._vad_on

    @property
    def buffered_ms(self) -> float:
        """Milliseconds of audio in the uncommitted buffer."""
        return (self._pos - self._buf_start) * 1000.0 / self._rate

    def configure(self, turn_detection: dict[str, Any] | None) -> None:
        """Apply a session's ``turn_detection`` (``None``: client-side turns)."""
        self._vad_on = turn_detection is not None
        if turn_detection is not None:
            self._vad.configure(self._base.for_turn_detection(turn_detection))
        else:
            self._vad.reset()
            self._turn_start = None

    def append(self, pcm: npt.NDArray[np.int16], arrival: float) -> list[InputEvent]:
        """Buffer a chunk that arrived at ``arrival``; return the VAD events it completes,
        each ended turn with its committed audio."""
        self._chunks.append(pcm)
        self._pos += len(pcm)
        self._arrivals.append((self._pos, arrival))
        if not self._vad_on:
            self._vad.skip(len(pcm))  # keep the VAD's clock on the connection's
            return []
        events: list[InputEvent] = []
        for vad_event in self._vad.push(pcm):
            if isinstance(vad_event, SpeechStarted):
                start_ms = vad_event.speech_start_ms - self._vad.config.prefix_padding_ms
                self._turn_start = start_ms * self._rate // 1000
                events.append(vad_event)
            else:
                events.append(TurnEnded(vad_event, self._cut(vad_event)))
        if not self._vad.speaking:
            cfg = self._vad.config
            keep_ms = cfg.prefix_padding_ms + cfg.min_speech_ms + _KEEP_IDLE_MS
            self._drop_before(self._pos - keep_ms * self._rate // 1000, only_over=2 * keep_ms)
        return events

    def arrival_of(self, audio_ms: int) -> float | None:
        """When the chunk holding audio position ``audio_ms`` arrived."""
        sample = audio_ms * self._rate // 1000
        return next((t for end, t in self._arrivals if end >= sample), None)

    def commit_all(self) -> AudioSegment:
        """Commit the whole buffer (client-side ``input_audio_buffer.commit``)."""
        self._vad.reset()
        self._turn_start = None
        return self._take(self._buf_start, self._pos)

    def clear(self) -> None:
        """Drop the buffer (``input_audio_buffer.clear``)."""
        self._vad.reset()
        self._turn_start = None
        self._drop_before(self._pos)

    def _cut(self, stopped: SpeechStopped) -> AudioSegment:
        """A VAD turn: from its onset minus the prefix padding to the end of its silence."""
        start, self._turn_start = self._turn_start, None
        if start is None:
            start = stopped.audio_start_ms * self._rate // 1000
        return self._take(start, stopped.audio_end_ms * self._rate // 1000)

    def _take(self, start: int, end: int) -> AudioSegment:
        """Commit samples ``[start, end)``; the buffer keeps what follows ``end``. Samples
        before the buffer (never received, or already committed) are silence."""
        end = min(self._pos, max(end, self._buf_start))
        start = min(start, end)
        held = max(start, self._buf_start)
        pcm = self._joined()[held - self._buf_start : end - self._buf_start]
        if held > start:
            pcm = np.concatenate([np.zeros(held - start, dtype=np.int16), pcm])
        else:
            pcm = pcm.copy()
        self._drop_before(end)
        return AudioSegment(pcm, start * 1000 // self._rate, end * 1000 // self._rate)

    def _joined(self) -> npt.NDArray[np.int16]:
        if len(self._chunks) != 1:
            joined = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)
            self._chunks = [joined]
        return self._chunks[0]

    def _drop_before(self, sample: int, *, only_over: int = 0) -> None:
        sample = min(sample, self._pos)
        if sample <= self._buf_start:
            return
        if only_over and (self._pos - self._buf_start) * 1000 < only_over * self._rate:
            return  # trim idle audio in batches, not on every chunk
        whole = self._joined()
        self._chunks = [whole[sample - self._buf_start :]]
        self._buf_start = sample


async def transcribe_turn(
    transcriber: Transcriber, item_id: str, segment: AudioSegment, sample_rate: int
) -> tuple[str, Event]:
    """Transcribe a committed turn in a worker thread (the event loop never waits on it).

    Returns the transcript (empty on failure) and the event announcing it: ``…completed``,
    or ``…failed`` when the transcriber raised.
    """
    try:
        text = await asyncio.to_thread(transcriber.transcribe, segment.pcm, sample_rate)
    except Exception as exc:
        logger.exception("realtime transcriber failed", extra={"item_id": item_id})
        error = {"type": "transcription_error", "code": "transcriber_failed", "message": str(exc)}
        failed = "conversation.item.input_audio_transcription.failed"
        return "", event(failed, item_id=item_id, content_index=0, error=error)
    logger.debug("realtime turn transcribed", extra={"item_id": item_id, "lk.pii.transcript": text})
    seconds = round(len(segment.pcm) / sample_rate, 3)
    completed = event(
        "conversation.item.input_audio_transcription.completed",
        item_id=item_id,
        content_index=0,
        transcript=text,
        usage={"type": "duration", "seconds": seconds},
    )
    return text, completed
