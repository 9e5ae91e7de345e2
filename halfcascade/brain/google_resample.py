"""A low-delay resampler for the user's audio on its way to Gemini (16 kHz).

livekit's resampler (soxr, medium quality) holds ~10 ms back and returns uneven frame
sizes; the Google plugin then cuts its input into fixed chunks, so the last words of a
turn reach the service 20 to 40 ms after they were spoken. For the small ratios a call
uses (48 or 24 kHz to 16 kHz) a polyphase FIR gives every frame's samples back at once,
exactly ``len * dst / src`` of them, with about 1 ms of filter delay.
"""

from __future__ import annotations

from math import gcd

import numpy as np
import numpy.typing as npt

__all__ = ["LowDelayResampler"]

_MAX_FACTOR = 6  # beyond this (44.1 kHz...) livekit's own resampler is used


class LowDelayResampler:
    """Streaming ``src`` → ``dst`` resampling of mono PCM16 by a small rational ratio.

    Raises:
        ValueError: the reduced ratio needs an up- or down-sampling factor over 6.
    """

    def __init__(self, src: int, dst: int, *, taps_per_phase: int = 24) -> None:
        g = gcd(src, dst)
        self.src = src
        self.up, self.down = dst // g, src // g
        if max(self.up, self.down) > _MAX_FACTOR:
            raise ValueError(f"{src} Hz to {dst} Hz needs a factor over {_MAX_FACTOR}")
        n = 2 * taps_per_phase * max(self.up, self.down) + 1
        cutoff = 0.45 * dst / (src * self.up)  # cycles per upsampled sample, under dst/2
        m = np.arange(n) - n // 2
        taps = 2 * cutoff * np.sinc(2 * cutoff * m) * np.kaiser(n, 8.0)
        self._taps = taps / taps.sum() * self.up  # unity gain through the zero stuffing
        self._history = np.zeros(n - 1)
        self._pos = 0  # upsampled samples produced so far

    @staticmethod
    def supports(src: int, dst: int) -> bool:
        """Whether the ratio is small enough for this resampler."""
        g = gcd(src, dst)
        return max(dst // g, src // g) <= _MAX_FACTOR

    def push(self, pcm: npt.NDArray[np.int16]) -> npt.NDArray[np.int16]:
        """Resample the next chunk; returns every output sample it completes."""
        up = np.zeros(len(pcm) * self.up)
        up[:: self.up] = pcm
        buf = np.concatenate([self._history, up])
        filtered = np.convolve(buf, self._taps, mode="valid")
        first = (-self._pos) % self.down
        self._pos += len(filtered)
        self._history = buf[len(buf) - len(self._history) :]
        out = np.clip(np.round(filtered[first :: self.down]), -32768, 32767)
        return out.astype(np.int16)
