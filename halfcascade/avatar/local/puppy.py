"""A golden retriever puppy for the local avatar, drawn with numpy (Biscuit, the demo's
companion): floppy ears, a cream muzzle, a dark nose, round eyes that blink, and the
renderer's cartoon mouth under the nose."""

from __future__ import annotations

from .character import MARGIN, Character, Eye, MouthSpec
from .draw import Color, Sketch

__all__ = ["puppy_character"]

_FUR: Color = (226, 168, 88)
_FUR_LIGHT: Color = (240, 196, 128)
_EAR: Color = (178, 112, 52)
_MUZZLE: Color = (250, 230, 196)
_NOSE: Color = (40, 40, 48)
_EYE: Color = (40, 28, 26)
_COLLAR: Color = (204, 62, 72)
_TAG: Color = (244, 200, 64)


def puppy_character(*, width: int = 512, height: int = 512) -> Character:
    """The puppy, built for ``width x height`` (both at least 64 pixels)."""
    m = MARGIN
    sketch = Sketch(width, height, m, (150, 206, 196), (70, 132, 140), what="puppy character")
    canvas, s, cx, top, oval = sketch.canvas, sketch.s, sketch.cx, sketch.top, sketch.oval

    oval(1.04, cx, 0.30, 0.36, _FUR)  # body
    oval(0.98, cx, 0.16, 0.16, _FUR_LIGHT)  # chest
    oval(0.79, cx, 0.035, 0.2, _COLLAR)
    oval(0.835, cx, 0.03, 0.026, _TAG)
    oval(0.45, cx, 0.27, 0.27, _FUR)  # head
    oval(0.31, cx, 0.1, 0.14, _FUR_LIGHT, alpha=0.6)  # forehead
    for side in (-1, 1):
        oval(0.47, cx + side * 0.255 * s, 0.2, 0.08, _EAR)  # floppy ears over the sides
    oval(0.61, cx, 0.13, 0.165, _MUZZLE)
    eyes = []
    for side in (-1, 1):
        ex = cx + side * 0.105 * s
        oval(0.385, ex, 0.014, 0.04, _EAR, alpha=0.8)  # brow
        oval(0.44, ex, 0.042, 0.04, _EYE)
        oval(0.428, ex + 0.012 * s, 0.012, 0.012, (255, 255, 255))
        oval(0.6, cx + side * 0.19 * s, 0.03, 0.045, (240, 150, 140), alpha=0.35)  # cheek
        eyes.append(Eye(cy=top + 0.44 * s - m, cx=ex - m, ry=0.047 * s, rx=0.045 * s))
    oval(0.535, cx, 0.038, 0.058, _NOSE)
    oval(0.524, cx - 0.015 * s, 0.01, 0.018, (120, 104, 100))  # nose shine
    oval(0.6, cx, 0.03, 0.006, (128, 88, 72))  # the line from nose to mouth
    mouth = MouthSpec(cy=top + 0.665 * s - m, cx=cx - m, rx=0.07 * s, max_ry=0.055 * s)
    return Character(
        canvas=canvas,
        width=width,
        height=height,
        margin=m,
        mouth=mouth,
        eyes=tuple(eyes),
        lid_color=_FUR,
    )
