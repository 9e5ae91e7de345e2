"""numpy drawing primitives for the local avatar: anti-aliased ellipses and alpha blending.

Everything works on ``(H, W, 4)`` uint8 RGBA canvases and touches only the bounding box of
what it draws, so a frame costs a few small array operations on top of one copy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ...errors import ConfigError

__all__ = ["Box", "Color", "blend", "ellipse_box", "ellipse_coverage", "vertical_gradient"]

Color = tuple[int, int, int]
Canvas = NDArray[np.uint8]
Mask = NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class Box:
    """A pixel rectangle ``[y0, y1) x [x0, x1)``."""

    y0: int
    y1: int
    x0: int
    x1: int

    @property
    def empty(self) -> bool:
        """Whether the box covers no pixel."""
        return self.y1 <= self.y0 or self.x1 <= self.x0

    def shifted(self, dy: int, dx: int) -> Box:
        """The same box moved by ``(dy, dx)``."""
        return Box(self.y0 + dy, self.y1 + dy, self.x0 + dx, self.x1 + dx)

    def clipped(self, height: int, width: int) -> Box:
        """The part of the box inside a ``height x width`` canvas."""
        return Box(max(0, self.y0), min(height, self.y1), max(0, self.x0), min(width, self.x1))


def ellipse_box(cy: float, cx: float, ry: float, rx: float) -> Box:
    """The pixel box that holds an ellipse, with one pixel of anti-aliasing margin."""
    return Box(
        math.floor(cy - ry) - 1,
        math.ceil(cy + ry) + 2,
        math.floor(cx - rx) - 1,
        math.ceil(cx + rx) + 2,
    )


def ellipse_coverage(box: Box, cy: float, cx: float, ry: float, rx: float) -> Mask:
    """Per-pixel coverage (0-1) of an ellipse over ``box``, anti-aliased over ~1 px."""
    if ry <= 0 or rx <= 0 or box.empty:
        return np.zeros((max(0, box.y1 - box.y0), max(0, box.x1 - box.x0)), np.float32)
    ys = (np.arange(box.y0, box.y1, dtype=np.float32) + 0.5 - cy) / ry
    xs = (np.arange(box.x0, box.x1, dtype=np.float32) + 0.5 - cx) / rx
    dist = np.sqrt(ys[:, None] ** 2 + xs[None, :] ** 2)
    # distance from the edge in pixels, measured along the short axis
    cov = (1.0 - dist) * min(ry, rx) + 0.5
    return np.clip(cov, 0.0, 1.0).astype(np.float32)


def blend(canvas: Canvas, box: Box, cov: Mask, color: Color | NDArray[np.float32]) -> None:
    """Paint ``color`` over ``canvas[box]`` with per-pixel opacity ``cov``.

    ``color`` is one RGB triple or an ``(h, w, 3)`` float array matching ``cov``. Parts of
    ``box`` outside the canvas are skipped.
    """
    h, w = canvas.shape[:2]
    inner = box.clipped(h, w)
    if inner.empty:
        return
    cy0, cx0 = inner.y0 - box.y0, inner.x0 - box.x0
    c = cov[cy0 : cy0 + inner.y1 - inner.y0, cx0 : cx0 + inner.x1 - inner.x0, None]
    src: NDArray[np.float32]
    if isinstance(color, tuple):
        src = np.asarray(color, dtype=np.float32)
    else:
        src = color[cy0 : cy0 + inner.y1 - inner.y0, cx0 : cx0 + inner.x1 - inner.x0]
    region = canvas[inner.y0 : inner.y1, inner.x0 : inner.x1, :3]
    mixed = region.astype(np.float32) * (1.0 - c) + src * c
    region[...] = (mixed + 0.5).astype(np.uint8)


def vertical_gradient(height: int, width: int, top: Color, bottom: Color) -> Canvas:
    """An opaque RGBA canvas fading from ``top`` to ``bottom``."""
    t = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    rgb = np.asarray(top, np.float32) * (1 - t) + np.asarray(bottom, np.float32) * t
    canvas = np.empty((height, width, 4), dtype=np.uint8)
    canvas[..., :3] = (rgb[:, None, :] + 0.5).astype(np.uint8)
    canvas[..., 3] = 255
    return canvas


class Sketch:
    """A character's picture being drawn: a gradient canvas of ``width x height`` plus
    ``margin`` on each side, and ovals placed in units of the frame's shorter side ``s``
    (``cy`` from the top of the square it centres, ``x`` in canvas pixels)."""

    def __init__(
        self, width: int, height: int, margin: int, top: Color, bottom: Color, *, what: str
    ) -> None:
        if width < 64 or height < 64:
            raise ConfigError(f"the {what} needs at least 64x64 pixels")
        self.canvas = vertical_gradient(height + 2 * margin, width + 2 * margin, top, bottom)
        self.s = float(min(width, height))
        self.cx = margin + width / 2.0
        self.top = margin + (height - self.s) / 2.0

    def oval(
        self, cy: float, x: float, ry: float, rx: float, color: Color, alpha: float = 1.0
    ) -> None:
        """Paint an ellipse centred at ``(top + cy*s, x)`` with radii ``(ry*s, rx*s)``."""
        y, rr_y, rr_x = self.top + cy * self.s, ry * self.s, rx * self.s
        box = ellipse_box(y, x, rr_y, rr_x)
        blend(self.canvas, box, ellipse_coverage(box, y, x, rr_y, rr_x) * alpha, color)
