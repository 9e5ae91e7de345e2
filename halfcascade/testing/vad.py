"""Energy-based voice activity detection for the local test servers.

:class:`EnergyVad` is a deterministic, pure-numpy stand-in for a server VAD: feed it PCM16
chunks of any size and it returns speech start/stop events stamped in milliseconds of audio
pushed so far (plus any :meth:`~EnergyVad.skip`-ped while not listening). A frame is *voiced*
when its RMS level reaches ``threshold_dbfs``; speech starts after ``min_speech_ms`` of
consecutive voiced frames and stops after ``silence_duration_ms`` without one, which is how
OpenAI's ``server_vad`` behaves from the outside (``prefix_padding_ms`` moves the reported
start back, the silence window moves the reported end forward).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import numpy.typing as npt

__all__ = [
    "EnergyVad",
    "SpeechStarted",
    "SpeechStopped",
    "VadConfig",
    "VadEvent",
    "rms_dbfs",
]

_FLOOR_DBFS = -120.0


@dataclass(frozen=True, slots=True, kw_only=True)
class VadConfig:
    """Energy VAD settings; a realtime session's ``turn_detection`` overrides some of them.

    Args:
        threshold_dbfs: RMS level (dB full scale) from which a frame counts as voiced.
        frame_ms: analysis frame length.
        min_speech_ms: voiced audio needed, uninterrupted, before speech is reported.
        prefix_padding_ms: audio before the first voiced frame included in the turn.
        silence_duration_ms: silence that ends a turn (``server_vad``'s default is 500).
        semantic_silence_duration_ms: the silence window used for ``semantic_vad`` sessions.
    """

    threshold_dbfs: float = -45.0
    frame_ms: int = 20
    min_speech_ms: int = 60
    prefix_padding_ms: int = 300
    silence_duration_ms: int = 500
    semantic_silence_duration_ms: int = 500

    def __post_init__(self) -> None:
        if not -120.0 < self.threshold_dbfs < 0.0:
            raise ValueError(f"threshold_dbfs must be in (-120, 0), got {self.threshold_dbfs}")
        if not 5 <= self.frame_ms <= 100:
            raise ValueError(f"frame_ms must be in [5, 100], got {self.frame_ms}")
        if self.min_speech_ms < 0 or self.prefix_padding_ms < 0:
            raise ValueError("min_speech_ms and prefix_padding_ms must be >= 0")
        if self.silence_duration_ms <= 0 or self.semantic_silence_duration_ms <= 0:
            raise ValueError("silence windows must be > 0 ms")

    def for_turn_detection(self, turn_detection: dict[str, object]) -> VadConfig:
        """This config adjusted by a session's ``turn_detection`` object.

        ``server_vad`` takes ``silence_duration_ms``, ``prefix_padding_ms`` and ``threshold``
        (a 0 to 1 probability, mapped linearly: 0.5 is ``threshold_dbfs``, each 0.1 adds 4 dB);
        ``semantic_vad`` uses ``semantic_silence_duration_ms`` as its silence window.
        """
        if turn_detection.get("type") == "semantic_vad":
            return replace(self, silence_duration_ms=self.semantic_silence_duration_ms)
        changes: dict[str, object] = {}
        for key in ("silence_duration_ms", "prefix_padding_ms"):
            value = turn_detection.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool):
                changes[key] = int(value)
        threshold = turn_detection.get("threshold")
        if isinstance(threshold, int | float) and not isinstance(threshold, bool):
            shifted = self.threshold_dbfs + (float(threshold) - 0.5) * 40.0
            changes["threshold_dbfs"] = min(-1.0, max(-119.0, shifted))
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class SpeechStarted:
    """Speech began. Times are milliseconds of audio pushed (or skipped) since creation."""

    audio_start_ms: int
    """Start of the turn's audio, prefix padding included."""
    speech_start_ms: int
    """Start of the first voiced frame."""
    type: Literal["speech_started"] = "speech_started"


@dataclass(frozen=True, slots=True)
class SpeechStopped:
    """Speech ended: ``silence_duration_ms`` passed without a voiced frame."""

    audio_start_ms: int
    """Start of the turn's audio, as in the matching :class:`SpeechStarted`."""
    speech_end_ms: int
    """End of the last voiced frame."""
    audio_end_ms: int
    """Where the decision was taken: ``speech_end_ms`` plus the silence window."""
    type: Literal["speech_stopped"] = "speech_stopped"


VadEvent = SpeechStarted | SpeechStopped
"""What :meth:`EnergyVad.push` returns."""


def rms_dbfs(pcm: npt.NDArray[np.int16]) -> float:
    """RMS level of PCM16 samples in dB full scale (-120 for silence or no samples)."""
    if pcm.size == 0:
        return _FLOOR_DBFS
    rms = float(np.sqrt(np.mean(np.square(pcm.astype(np.float64))))) / 32768.0
    return max(_FLOOR_DBFS, 20.0 * math.log10(rms)) if rms > 0 else _FLOOR_DBFS


class EnergyVad:
    """Incremental energy VAD over mono PCM16.

    Args:
        config: thresholds and windows; defaults to :class:`VadConfig`'s.
        sample_rate: rate of the pushed audio.
    """

    def __init__(self, config: VadConfig | None = None, *, sample_rate: int = 24000) -> None:
        if sample_rate <= 0:
            raise ValueError(f"sample_rate must be > 0, got {sample_rate}")
        self._config = config or VadConfig()
        self._rate = sample_rate
        self._rest = np.zeros(0, dtype=np.int16)
        self._origin = 0  # samples counted before frame 0: skipped, or framed at another size
        self._frames = 0
        self._run = 0  # consecutive voiced frames while idle
        self._speaking = False
        self._audio_start_ms = 0
        self._last_voiced_end_ms = 0
        self._silence_ms = 0

    @property
    def config(self) -> VadConfig:
        """The settings in use."""
        return self._config

    @property
    def speaking(self) -> bool:
        """Whether speech has started and not yet stopped."""
        return self._speaking

    @property
    def position_ms(self) -> float:
        """Milliseconds of audio pushed (or skipped) so far."""
        return (self._framed + len(self._rest)) * 1000.0 / self._rate

    @property
    def _framed(self) -> int:
        """Samples before the next frame, on the clock of everything pushed or skipped."""
        return self._origin + self._frames * self._frame_len

    @property
    def _frame_len(self) -> int:
        return max(1, self._rate * self._config.frame_ms // 1000)

    def configure(self, config: VadConfig) -> None:
        """Switch settings; a turn in progress continues under the new ones."""
        if config.frame_ms != self._config.frame_ms:
            self._rebase(0)  # restart framing where the old frames ended
        self._config = config

    def skip(self, samples: int) -> None:
        """Advance the clock over ``samples`` that are not analysed (audio received while
        turn detection was off), so later events stay in the time of all audio received.
        Speech in progress is forgotten."""
        self.reset()
        self._rebase(max(0, samples))

    def _rebase(self, skipped: int) -> None:
        """Restart framing after everything counted so far plus ``skipped`` samples; the
        partial frame is dropped (unanalysed) but stays on the clock."""
        self._origin += self._frames * self._frame_len + len(self._rest) + skipped
        self._frames = 0
        self._rest = np.zeros(0, dtype=np.int16)

    def reset(self) -> None:
        """Forget speech in progress (after a manual commit or a buffer clear)."""
        self._speaking = False
        self._run = 0
        self._silence_ms = 0

    def push(self, pcm: npt.NDArray[np.int16]) -> list[VadEvent]:
        """Feed mono PCM16 samples; return the events they complete, in order."""
        data = np.concatenate([self._rest, np.asarray(pcm, dtype=np.int16).reshape(-1)])
        n = len(data) // self._frame_len
        self._rest = data[n * self._frame_len :]
        if n == 0:
            return []
        frames = data[: n * self._frame_len].reshape(n, self._frame_len).astype(np.float64)
        rms = np.sqrt(np.mean(np.square(frames), axis=1)) / 32768.0
        levels = 20.0 * np.log10(np.maximum(rms, 1e-6))
        events: list[VadEvent] = []
        for level in levels:
            event = self._step(bool(level >= self._config.threshold_dbfs))
            if event is not None:
                events.append(event)
        return events

    def _step(self, voiced: bool) -> VadEvent | None:
        cfg = self._config
        start_ms = self._framed * 1000 // self._rate
        self._frames += 1
        end_ms = self._framed * 1000 // self._rate
        if not self._speaking:
            self._run = self._run + 1 if voiced else 0
            if not voiced or self._run * cfg.frame_ms < max(cfg.min_speech_ms, 1):
                return None
            speech_start = start_ms - (self._run - 1) * cfg.frame_ms
            self._speaking, self._silence_ms = True, 0
            self._last_voiced_end_ms = end_ms
            self._audio_start_ms = max(0, speech_start - cfg.prefix_padding_ms)
            return SpeechStarted(audio_start_ms=self._audio_start_ms, speech_start_ms=speech_start)
        if voiced:
            self._last_voiced_end_ms, self._silence_ms = end_ms, 0
            return None
        self._silence_ms = end_ms - self._last_voiced_end_ms
        if self._silence_ms < cfg.silence_duration_ms:
            return None
        self.reset()
        return SpeechStopped(
            audio_start_ms=self._audio_start_ms,
            speech_end_ms=self._last_voiced_end_ms,
            audio_end_ms=end_ms,
        )
