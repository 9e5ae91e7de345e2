"""Pixel statistics for avatar frames."""

from __future__ import annotations

import numpy as np
from livekit import rtc
from numpy.typing import NDArray

from halfcascade.avatar.local import Character, Eye

DARK = 70  # luma below this (and red over blue) is the open mouth's inside, nothing else


def pixels(frame: rtc.VideoFrame) -> NDArray[np.uint8]:
    """An RGBA frame as an ``(h, w, 4)`` array."""
    return np.frombuffer(bytes(frame.data), dtype=np.uint8).reshape(frame.height, frame.width, 4)


def luma(img: NDArray[np.uint8]) -> NDArray[np.float32]:
    rgb = img[..., :3].astype(np.float32)
    out: NDArray[np.float32] = rgb @ np.array([0.299, 0.587, 0.114], np.float32)
    return out


def mouth_dark(img: NDArray[np.uint8], character: Character, *, pad: int = 8) -> float:
    """Fraction of the mouth region that is the dark inside of an open mouth."""
    box = character.mouth.region(pad).clipped(character.height, character.width)
    region = img[box.y0 : box.y1, box.x0 : box.x1]
    inside = (luma(region) < DARK) & (region[..., 0] > region[..., 2])
    return float(inside.mean())


def eye_luma(img: NDArray[np.uint8], eye: Eye, *, pad: int = 6) -> float:
    """Mean luma around an eye (a closed lid is darker than the white of the eye)."""
    y0, y1 = int(eye.cy - eye.ry - pad), int(eye.cy + eye.ry + pad)
    x0, x1 = int(eye.cx - eye.rx - pad), int(eye.cx + eye.rx + pad)
    return float(luma(img[max(0, y0) : y1, max(0, x0) : x1]).mean())
