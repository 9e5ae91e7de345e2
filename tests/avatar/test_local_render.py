"""The local avatar's drawing: mouth from audio features, blinks, idle motion, cutouts."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from _frames import eye_luma, mouth_dark

from halfcascade.avatar import LocalAvatar
from halfcascade.avatar.local import (
    AvatarRenderer,
    Eye,
    MouthShape,
    MouthTracker,
    default_character,
    load_character,
    render_clip,
)
from halfcascade.errors import ConfigError
from halfcascade.testing.voices import synthetic_voice

pytestmark = pytest.mark.unit

RATE = 24000
SPF = RATE // 25


def _tone(seconds: float, hz: float, dbfs: float = -14.0) -> np.ndarray:
    t = np.arange(int(RATE * seconds)) / RATE
    amp = 32767 * 10 ** (dbfs / 20)
    wave = sum(np.sin(2 * np.pi * hz * k * t) / k for k in range(1, 6))
    wave = wave / np.max(np.abs(wave))
    return (amp * wave).astype(np.int16)


def _hiss(seconds: float, dbfs: float = -14.0) -> np.ndarray:
    rng = np.random.default_rng(1)
    x = rng.standard_normal(int(RATE * seconds))
    spec = np.fft.rfft(x)
    spec[: int(len(spec) * 5000 / (RATE / 2))] = 0  # only above 5 kHz, like "s"
    y = np.fft.irfft(spec, n=len(x))
    y = y / np.sqrt(np.mean(y**2)) * 32767 * 10 ** (dbfs / 20)
    return np.clip(y, -32768, 32767).astype(np.int16)


def _frames_of(pcm: np.ndarray) -> list[np.ndarray]:
    return [pcm[i : i + SPF] for i in range(0, len(pcm) - SPF + 1, SPF)]


def test_mouth_stays_shut_in_silence_and_opens_for_voice() -> None:
    tracker = MouthTracker(sample_rate=RATE)
    assert all(tracker.update(np.zeros(SPF, np.int16)).open == 0.0 for _ in range(10))
    quiet = (np.random.default_rng(0).standard_normal(SPF) * 30).astype(np.int16)  # ~-60 dBFS
    assert tracker.update(quiet).open == 0.0
    opens = [tracker.update(f).open for f in _frames_of(_tone(0.4, 150))]
    assert max(opens) > 0.7
    closing = [tracker.update(np.zeros(SPF, np.int16)).open for _ in range(12)]
    assert closing[0] > closing[3] > closing[-1] and closing[-1] < 0.01


def test_unvoiced_hiss_opens_less_than_a_vowel_at_the_same_level() -> None:
    vowel = MouthTracker(sample_rate=RATE)
    hiss = MouthTracker(sample_rate=RATE)
    v = max(vowel.update(f).open for f in _frames_of(_tone(0.3, 180)))
    h = max(hiss.update(f).open for f in _frames_of(_hiss(0.3)))
    assert v > 1.8 * h
    bright = MouthTracker(sample_rate=RATE)
    dark = MouthTracker(sample_rate=RATE)
    wide_bright = [bright.update(f).wide for f in _frames_of(_tone(0.3, 700))][-1]
    wide_dark = [dark.update(f).wide for f in _frames_of(_tone(0.3, 110))][-1]
    assert wide_bright > wide_dark


def test_mouth_region_darkens_with_the_opening() -> None:
    character = default_character()
    renderer = AvatarRenderer(character, motion=False)
    dark = [mouth_dark(renderer.render(MouthShape(open=o), 0.0), character) for o in (0, 0.3, 1)]
    assert dark[0] == 0.0
    assert 0.0 < dark[1] < dark[2]


def test_eyes_blink_every_few_seconds() -> None:
    character = default_character()
    renderer = AvatarRenderer(character, seed=3)
    closures = [renderer.blink_closure(i / 25) for i in range(25 * 12)]
    blinks = sum(1 for a, b in itertools.pairwise(closures) if a == 0 < b)
    assert 2 <= blinks <= 8
    still = AvatarRenderer(character, motion=False, seed=3)
    t_shut = next(i / 25 for i, c in enumerate(closures) if c == 1.0)
    open_eye = eye_luma(still.render(MouthShape(), 0.0), character.eyes[0])
    shut_eye = eye_luma(still.render(MouthShape(), t_shut), character.eyes[0])
    assert abs(open_eye - shut_eye) > 2.0


def test_idle_motion_moves_the_head_within_the_margin() -> None:
    character = default_character()
    renderer = AvatarRenderer(character)
    offsets = set()
    for i in range(100):
        renderer.render(MouthShape(), i / 25)
        offsets.add(renderer.offset)
    assert len(offsets) > 4
    assert all(abs(dy) < character.margin and abs(dx) < character.margin for dy, dx in offsets)
    frame = renderer.render(MouthShape(), 0.0)
    assert frame.shape == (512, 512, 4) and frame.dtype == np.uint8


def _cutout() -> tuple[np.ndarray, np.ndarray]:
    h = w = 256
    yy, xx = np.mgrid[0:h, 0:w]
    body = np.zeros((h, w, 4), np.uint8)
    face = ((yy - 128) / 100) ** 2 + ((xx - 128) / 80) ** 2 <= 1
    body[face] = (240, 200, 170, 255)
    line = (np.abs(yy - 170) <= 1) & (np.abs(xx - 128) <= 20)
    body[line] = (160, 70, 70, 255)
    mh, mw = 30, 44
    my, mx = np.mgrid[0:mh, 0:mw]
    mouth = np.zeros((mh, mw, 4), np.uint8)
    inside = ((my - 15) / 15) ** 2 + ((mx - 22) / 22) ** 2 <= 1
    mouth[inside] = (60, 15, 25, 255)
    return body, mouth


def test_cutout_character_opens_its_mouth_layer(tmp_path: Path) -> None:
    body, mouth = _cutout()
    eyes = [Eye(cy=100, cx=100, ry=8, rx=10), Eye(cy=100, cx=156, ry=8, rx=10)]
    character = load_character(body, mouth, mouth_center=(170, 128), eyes=eyes)
    renderer = AvatarRenderer(character, motion=False)
    assert mouth_dark(renderer.render(MouthShape(open=0.0), 0.0), character) == 0.0
    assert mouth_dark(renderer.render(MouthShape(open=1.0), 0.0), character) > 0.2
    from PIL import Image

    Image.fromarray(body).save(tmp_path / "body.png")
    Image.fromarray(mouth).save(tmp_path / "mouth.png")
    from_files = load_character(
        tmp_path / "body.png", tmp_path / "mouth.png", mouth_center=(170, 128)
    )
    assert np.array_equal(from_files.canvas, character.canvas)


def test_offline_clip_moves_with_speech_and_rests_in_silence() -> None:
    silence = np.zeros(RATE, np.int16)
    speech = synthetic_voice("Hello there, how are you?", RATE)
    frames = render_clip(np.concatenate([silence, speech, silence]))
    character = default_character()
    dark = [mouth_dark(img, character) for img, _ in frames]
    n_sil, n_speech = 25, len(speech) // SPF
    assert all(d == 0.0 for d in dark[:n_sil])
    talking = dark[n_sil : n_sil + n_speech]
    assert sum(d > 0.01 for d in talking) > 0.4 * len(talking)
    assert all(d == 0.0 for d in dark[-10:])


def test_local_avatar_refuses_bad_formats() -> None:
    with pytest.raises(ConfigError):
        LocalAvatar(width=100, height=63)
    with pytest.raises(ConfigError):
        LocalAvatar(fps=7, sample_rate=24000)
    with pytest.raises(ConfigError):
        LocalAvatar(character=default_character(width=256, height=256))
