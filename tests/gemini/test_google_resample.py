"""The low-delay resampler the Gemini brain uses for the user's audio."""

from __future__ import annotations

import numpy as np
import pytest

from halfcascade.brain.google_resample import LowDelayResampler

pytestmark = pytest.mark.unit


def _tone(freq: float, rate: int, seconds: float = 1.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (10000 * np.sin(2 * np.pi * freq * t)).astype(np.int16)


@pytest.mark.parametrize("src", [24000, 48000])
def test_every_frame_comes_out_whole_and_in_tune(src: int) -> None:
    resampler = LowDelayResampler(src, 16000)
    tone, frame = _tone(440, src), src // 50  # 20 ms frames
    outs = [resampler.push(tone[i : i + frame]) for i in range(0, len(tone), frame)]
    assert {len(o) for o in outs} == {320}  # nothing held back for the next frame
    out = np.concatenate(outs).astype(np.float64)
    expected = _tone(440, 16000).astype(np.float64)
    delay = 24  # 1.5 ms of filter delay
    assert np.abs(out[delay + 100 :] - expected[100 : len(out) - delay]).mean() < 2.0


@pytest.mark.parametrize("src", [24000, 48000])
def test_content_above_the_new_nyquist_does_not_alias(src: int) -> None:
    resampler = LowDelayResampler(src, 16000)
    out = resampler.push(_tone(10000, src))
    assert np.sqrt(np.mean(out[400:].astype(np.float64) ** 2)) < 10  # from 7071 rms


def test_awkward_ratios_are_left_to_livekit() -> None:
    assert not LowDelayResampler.supports(44100, 16000)
    with pytest.raises(ValueError, match="factor"):
        LowDelayResampler(44100, 16000)
