"""Per-frame drawing of a :class:`Character`: mouth, blinks and idle motion.

A frame is one copy of the character's static picture through a window that moves a few
pixels (breathing and a slow sway; a small nod while speaking), then the mouth for this
frame's :class:`MouthShape` and, when a blink is due, the eyelids. Blinks follow a seeded
random schedule on the media clock, so a render is reproducible.
"""

from __future__ import annotations

import math
import random

import numpy as np
from livekit import rtc
from numpy.typing import NDArray

from .character import Character, Eye, MouthSpec
from .draw import Box, Color, blend, ellipse_box, ellipse_coverage
from .features import MouthShape

__all__ = ["AvatarRenderer", "new_frame_buffer", "to_video_frame"]

_LIP: Color = (196, 92, 96)
_LIP_LINE: Color = (150, 66, 72)
_MOUTH_IN: Color = (74, 22, 34)
_TEETH: Color = (250, 248, 240)
_TONGUE: Color = (214, 98, 110)

_BLINK_CLOSE, _BLINK_HOLD, _BLINK_OPEN = 0.06, 0.04, 0.08


def new_frame_buffer(width: int, height: int) -> tuple[bytearray, NDArray[np.uint8]]:
    """A bytearray for one RGBA frame and an ``(h, w, 4)`` numpy view of it."""
    buf = bytearray(width * height * 4)
    return buf, np.frombuffer(buf, dtype=np.uint8).reshape(height, width, 4)


class AvatarRenderer:
    """Draws frames of a character.

    Args:
        character: what to draw.
        seed: seeds the blink schedule.
        motion: idle breathing, sway and speaking nod (off gives a still head).
    """

    def __init__(self, character: Character, *, seed: int = 0, motion: bool = True) -> None:
        self._char = character
        self._rng = random.Random(seed)
        self._motion = motion
        self._next_blink = self._rng.uniform(0.8, 2.5)
        self.offset: tuple[int, int] = (0, 0)
        """The head's displacement ``(dy, dx)`` in the last frame, in pixels."""

    @property
    def character(self) -> Character:
        """The character being drawn."""
        return self._char

    def render(self, shape: MouthShape, t: float) -> NDArray[np.uint8]:
        """A new ``(height, width, 4)`` RGBA frame for media time ``t`` seconds."""
        out = np.empty((self._char.height, self._char.width, 4), dtype=np.uint8)
        self.render_into(out, shape, t)
        return out

    def render_into(self, out: NDArray[np.uint8], shape: MouthShape, t: float) -> None:
        """Draw the frame for media time ``t`` into ``out`` (``(height, width, 4)`` uint8)."""
        c = self._char
        dy, dx = self._offset(shape, t)
        self.offset = (dy, dx)
        y0, x0 = c.margin - dy, c.margin - dx
        out[...] = c.canvas[y0 : y0 + c.height, x0 : x0 + c.width]
        if c.mouth_layer is not None:
            _mouth_layer(out, c.mouth_layer, c.mouth, shape, dy, dx)
        else:
            _cartoon_mouth(out, c.mouth, shape, dy, dx)
        closure = self.blink_closure(t)
        if closure > 0.0:
            for eye in c.eyes:
                _eyelid(out, eye, closure, c.lid_color, dy, dx)

    def blink_closure(self, t: float) -> float:
        """How closed the eyes are at ``t`` (0 open, 1 shut)."""
        total = _BLINK_CLOSE + _BLINK_HOLD + _BLINK_OPEN
        while t >= self._next_blink + total:
            gap = self._rng.uniform(2.0, 5.0)
            if self._rng.random() < 0.15:
                gap = 0.3  # now and then a double blink
            self._next_blink += total + gap
        u = t - self._next_blink
        if u < 0:
            return 0.0
        if u < _BLINK_CLOSE:
            return u / _BLINK_CLOSE
        if u < _BLINK_CLOSE + _BLINK_HOLD:
            return 1.0
        return max(0.0, 1.0 - (u - _BLINK_CLOSE - _BLINK_HOLD) / _BLINK_OPEN)

    def _offset(self, shape: MouthShape, t: float) -> tuple[int, int]:
        if not self._motion:
            return 0, 0
        limit = self._char.margin - 1
        dy = 2.5 * math.sin(2 * math.pi * t / 3.7) + 3.0 * shape.open
        dx = 2.0 * math.sin(2 * math.pi * t / 6.3 + 0.7)
        return (
            max(-limit, min(limit, round(dy))),
            max(-limit, min(limit, round(dx))),
        )


def _cartoon_mouth(
    out: NDArray[np.uint8], spec: MouthSpec, shape: MouthShape, dy: int, dx: int
) -> None:
    cy, cx = spec.cy + dy, spec.cx + dx
    if shape.open < 0.05:
        ry, rx = max(1.6, spec.rx * 0.07), spec.rx * 0.8
        box = ellipse_box(cy, cx, ry, rx)
        blend(out, box, ellipse_coverage(box, cy, cx, ry, rx), _LIP_LINE)
        return
    rx = spec.rx * (0.78 + 0.35 * shape.wide) * (1.0 - 0.12 * shape.open)
    ry = 2.0 + shape.open * spec.max_ry
    box = ellipse_box(cy, cx, ry, rx)
    blend(out, box, ellipse_coverage(box, cy, cx, ry, rx), _LIP)
    iry, irx = ry * 0.72, rx * 0.82
    inner = ellipse_coverage(box, cy, cx, iry, irx)
    blend(out, box, inner, _MOUTH_IN)
    if shape.open > 0.2:
        teeth = ellipse_coverage(box, cy - iry * 0.8, cx, iry * 0.42, irx * 0.72)
        blend(out, box, np.minimum(teeth, inner), _TEETH)
    tongue = ellipse_coverage(box, cy + iry * 0.62, cx, iry * 0.5, irx * 0.55)
    blend(out, box, np.minimum(tongue, inner), _TONGUE)


def _mouth_layer(
    out: NDArray[np.uint8],
    layer: NDArray[np.uint8],
    spec: MouthSpec,
    shape: MouthShape,
    dy: int,
    dx: int,
) -> None:
    if shape.open < 0.03:
        return  # the closed mouth painted in the cutout shows
    lh, lw = layer.shape[:2]
    h = max(2, round(lh * (0.08 + 0.92 * shape.open)))
    w = max(2, round(lw * (0.85 + 0.3 * shape.wide)))
    ys = np.minimum(((np.arange(h) + 0.5) * lh / h).astype(np.intp), lh - 1)
    xs = np.minimum(((np.arange(w) + 0.5) * lw / w).astype(np.intp), lw - 1)
    scaled = layer[ys[:, None], xs[None, :]]
    y0 = round(spec.cy + dy - h / 2)
    x0 = round(spec.cx + dx - w / 2)
    box = Box(y0, y0 + h, x0, x0 + w)
    alpha = scaled[..., 3].astype(np.float32) / 255.0
    blend(out, box, alpha, scaled[..., :3].astype(np.float32))


def _eyelid(out: NDArray[np.uint8], eye: Eye, closure: float, lid: Color, dy: int, dx: int) -> None:
    cy, cx = eye.cy + dy, eye.cx + dx
    ry, rx = eye.ry * 1.12, eye.rx * 1.12
    box = ellipse_box(cy, cx, ry, rx)
    cov = ellipse_coverage(box, cy, cx, ry, rx)
    lid_y = (cy - ry) + closure * 2.0 * ry
    rows = np.arange(box.y0, box.y1, dtype=np.float32) + 0.5
    cov *= np.clip(lid_y - rows, 0.0, 1.0)[:, None]
    blend(out, box, cov, lid)
    edge = ellipse_coverage(box, lid_y, cx, 1.3, rx * 0.95) * min(1.0, 1.5 * closure)
    blend(out, box, np.minimum(edge, ellipse_coverage(box, cy, cx, ry, rx)), _darker(lid))


def _darker(color: Color) -> Color:
    r, g, b = color
    return (int(r * 0.55), int(g * 0.45), int(b * 0.45))


def to_video_frame(buf: bytearray, width: int, height: int) -> rtc.VideoFrame:
    """Wrap an RGBA buffer from :func:`new_frame_buffer` as a livekit video frame."""
    return rtc.VideoFrame(width, height, rtc.VideoBufferType.RGBA, buf)
