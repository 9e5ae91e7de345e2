"""Per-video-frame audio features that drive the mouth.

One video frame at 25 fps covers 40 ms of audio. :class:`MouthTracker` turns those samples
into a :class:`MouthShape`: how far the mouth opens (from the frame's level in dBFS, scaled
down for unvoiced sounds such as "s" and "f") and how wide it is (from the spectral
centroid: bright vowels spread the lips, dark ones round them). Attack is fast and release
slower, so the mouth snaps open on a syllable and closes softly between them, as a face does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ...errors import ConfigError

__all__ = ["MouthShape", "MouthTracker", "frame_level_db"]

_EPS = 1e-9
# voiced speech keeps most energy below 2.5 kHz; fricatives sit above it
_VOICED_HZ = (80.0, 2500.0)
_BRIGHT_HZ = (1000.0, 4000.0)


@dataclass(frozen=True, slots=True)
class MouthShape:
    """How the mouth looks in one frame.

    Attributes:
        open: 0 (closed) to 1 (fully open).
        wide: 0 (rounded, "oo") to 1 (spread, "ee").
        level_db: the frame's RMS level in dBFS (``-inf`` is clamped to -120).
    """

    open: float = 0.0
    wide: float = 0.5
    level_db: float = -120.0


def frame_level_db(samples: NDArray[np.int16]) -> float:
    """RMS level of int16 samples in dBFS (-120 for silence)."""
    if samples.size == 0:
        return -120.0
    x = samples.astype(np.float32) / 32768.0
    rms = float(np.sqrt(np.mean(x * x)))
    return max(-120.0, 20.0 * math.log10(rms + _EPS))


class MouthTracker:
    """Turns consecutive frames of int16 mono audio into smoothed mouth shapes.

    Args:
        sample_rate: the audio's sample rate.
        floor_db: level at or below which the mouth stays shut (room noise, breaths).
        full_db: level at which the mouth is fully open.
        attack: fraction of the way to a wider opening covered per frame (0-1].
        release: fraction of the way to a smaller opening covered per frame (0-1].
    """

    def __init__(
        self,
        *,
        sample_rate: int,
        floor_db: float = -48.0,
        full_db: float = -14.0,
        attack: float = 0.75,
        release: float = 0.4,
    ) -> None:
        if sample_rate <= 0:
            raise ConfigError(f"sample_rate must be positive, got {sample_rate}")
        if floor_db >= full_db:
            raise ConfigError("MouthTracker needs floor_db < full_db")
        if not (0 < attack <= 1 and 0 < release <= 1):
            raise ConfigError("MouthTracker attack and release must be in (0, 1]")
        self._rate = sample_rate
        self._floor, self._full = floor_db, full_db
        self._attack, self._release = attack, release
        self._open = 0.0
        self._wide = 0.5
        self._window: NDArray[np.float32] | None = None
        self._bins: NDArray[np.float64] | None = None

    def reset(self) -> None:
        """Forget the smoothing state (after a barge-in the mouth starts from closed)."""
        self._open, self._wide = 0.0, 0.5

    def update(self, samples: NDArray[np.int16]) -> MouthShape:
        """The mouth shape for the next frame's samples (any length; empty means silence)."""
        level = frame_level_db(samples)
        target_open, target_wide = 0.0, self._wide
        if level > self._floor and samples.size >= 32:
            voiced, bright = self._spectrum(samples)
            loudness = min(1.0, (level - self._floor) / (self._full - self._floor))
            target_open = loudness * (0.3 + 0.7 * voiced)
            target_wide = bright
        rate = self._attack if target_open > self._open else self._release
        self._open += rate * (target_open - self._open)
        self._wide += 0.5 * (target_wide - self._wide)
        if self._open < 1e-3:
            self._open = 0.0
        return MouthShape(open=self._open, wide=self._wide, level_db=level)

    def decay(self) -> MouthShape:
        """The shape for a frame with no audio at all (the mouth closes)."""
        return self.update(np.zeros(0, dtype=np.int16))

    def _spectrum(self, samples: NDArray[np.int16]) -> tuple[float, float]:
        n = samples.size
        if self._window is None or self._window.size != n:
            self._window = np.hanning(n).astype(np.float32)
            self._bins = np.fft.rfftfreq(n, 1.0 / self._rate).astype(np.float64)
        assert self._bins is not None
        spec = np.abs(np.fft.rfft(samples.astype(np.float32) * self._window)) ** 2
        total = float(spec.sum()) + _EPS
        bins = self._bins
        voiced = float(spec[(bins >= _VOICED_HZ[0]) & (bins < _VOICED_HZ[1])].sum()) / total
        band = (bins >= _BRIGHT_HZ[0]) & (bins < _BRIGHT_HZ[1])
        low = (bins >= _VOICED_HZ[0]) & (bins < _BRIGHT_HZ[0])
        bright_e = float(spec[band].sum())
        bright = bright_e / (bright_e + float(spec[low].sum()) + _EPS)
        return voiced, min(1.0, 2.0 * bright)
