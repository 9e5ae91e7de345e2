"""Characters for the local avatar: the one halfcascade ships, or your own cutout.

A :class:`Character` is a static picture (drawn once, with a margin so the head can move)
plus where its mouth and eyes are. The renderer only copies that picture and draws the
moving parts on top.

Your own character is two images: the cutout with the mouth *closed* (RGBA, transparent
around the figure) and a layer showing the mouth fully *open*. The renderer squashes the
open-mouth layer to the current opening and lays it over the closed mouth::

    character = load_character("fox.png", "fox_mouth.png", mouth_center=(300, 256),
                               eyes=[Eye(cy=210, cx=210, ry=14, rx=18),
                                     Eye(cy=210, cx=302, ry=14, rx=18)])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ...errors import ConfigError
from .draw import Box, Color, Sketch, ellipse_box, vertical_gradient

__all__ = ["Character", "Eye", "MouthSpec", "default_character", "load_character"]

ImageLike = str | Path | NDArray[np.uint8] | Any  # Any: a PIL image

#: pixels the picture extends past the frame on each side, room for idle head motion
MARGIN = 12


@dataclass(frozen=True, slots=True, kw_only=True)
class Eye:
    """An eye as an ellipse in frame pixels: centre ``(cy, cx)``, radii ``(ry, rx)``."""

    cy: float
    cx: float
    ry: float
    rx: float


@dataclass(frozen=True, slots=True, kw_only=True)
class MouthSpec:
    """Where the mouth is (frame pixels) and how big it gets fully open."""

    cy: float
    cx: float
    rx: float
    max_ry: float

    def region(self, pad: int = 0) -> Box:
        """The box the mouth can ever occupy, grown by ``pad`` pixels."""
        return ellipse_box(self.cy, self.cx, self.max_ry * 1.4 + pad, self.rx * 1.3 + pad)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Character:
    """A character ready to animate.

    Attributes:
        canvas: the static picture, RGBA, ``(height + 2*margin, width + 2*margin, 4)``.
        width, height: the frame size it was built for.
        margin: extra pixels on each side of ``canvas``.
        mouth: where the mouth is.
        mouth_layer: the fully open mouth as RGBA (``None``: draw a cartoon mouth).
        eyes: eyes that blink (may be empty).
        lid_color: eyelid colour.
    """

    canvas: NDArray[np.uint8]
    width: int
    height: int
    margin: int
    mouth: MouthSpec
    mouth_layer: NDArray[np.uint8] | None = None
    eyes: tuple[Eye, ...] = field(default_factory=tuple)
    lid_color: Color = (236, 188, 152)

    def __post_init__(self) -> None:
        want = (self.height + 2 * self.margin, self.width + 2 * self.margin, 4)
        if self.canvas.shape != want or self.canvas.dtype != np.uint8:
            raise ConfigError(f"Character canvas must be uint8 {want}, got {self.canvas.shape}")


_SKIN: Color = (246, 203, 168)
_SKIN_SHADE: Color = (226, 176, 140)
_HAIR: Color = (92, 58, 40)
_SHIRT: Color = (222, 108, 84)
_EYE_DARK: Color = (44, 34, 36)


def default_character(*, width: int = 512, height: int = 512) -> Character:
    """The friendly cartoon face halfcascade ships, drawn with numpy for ``width x height``."""
    m = MARGIN
    sketch = Sketch(width, height, m, (78, 122, 170), (30, 52, 84), what="default character")
    canvas, s, cx, top, oval = sketch.canvas, sketch.s, sketch.cx, sketch.top, sketch.oval

    oval(1.02, cx, 0.30, 0.44, _SHIRT)
    oval(0.74, cx, 0.11, 0.095, _SKIN_SHADE)
    for side in (-1, 1):
        oval(0.47, cx + side * 0.228 * s, 0.05, 0.036, _SKIN_SHADE)
    oval(0.45, cx, 0.27, 0.232, _SKIN)
    oval(0.27, cx, 0.15, 0.242, _HAIR)
    oval(0.42, cx, 0.17, 0.205, _SKIN)
    eyes = []
    for side in (-1, 1):
        ex = cx + side * 0.088 * s
        oval(0.375, ex, 0.008, 0.042, _HAIR)
        oval(0.44, ex, 0.046, 0.038, (252, 252, 250))
        oval(0.447, ex, 0.024, 0.022, _EYE_DARK)
        oval(0.437, ex + 0.008 * s, 0.007, 0.007, (255, 255, 255))
        oval(0.565, cx + side * 0.135 * s, 0.03, 0.042, (240, 140, 140), alpha=0.35)
        eyes.append(Eye(cy=top + 0.44 * s - m, cx=ex - m, ry=0.05 * s, rx=0.043 * s))
    oval(0.525, cx, 0.02, 0.017, _SKIN_SHADE)
    mouth = MouthSpec(cy=top + 0.615 * s - m, cx=cx - m, rx=0.075 * s, max_ry=0.055 * s)
    return Character(
        canvas=canvas,
        width=width,
        height=height,
        margin=m,
        mouth=mouth,
        eyes=tuple(eyes),
        lid_color=_SKIN,
    )


def load_character(
    body: ImageLike,
    mouth: ImageLike,
    *,
    mouth_center: tuple[float, float],
    eyes: Sequence[Eye] = (),
    lid_color: Color | None = None,
    background: Color | NDArray[np.uint8] | None = None,
    width: int = 512,
    height: int = 512,
) -> Character:
    """A character from your cutout (mouth closed) and an open-mouth layer.

    Args:
        body: RGBA cutout (path, PIL image or ``(h, w, 4)`` uint8 array); scaled to the frame.
        mouth: the mouth fully open, RGBA, at the same pixel scale as ``body``.
        mouth_center: ``(y, x)`` of the mouth centre in ``body`` pixels.
        eyes: eyes that blink, in ``body`` pixels.
        lid_color: eyelid colour; default: the skin just above the first eye.
        background: a colour or an ``(height, width, 3|4)`` image behind the cutout.
        width, height: frame size.
    """
    img = _as_rgba(body)
    layer = _as_rgba(mouth)
    sy, sx = height / img.shape[0], width / img.shape[1]
    layer = _resize_nearest(
        layer, max(2, round(layer.shape[0] * sy)), max(2, round(layer.shape[1] * sx))
    )
    canvas = _composite(_resize_nearest(img, height, width), background)
    scaled = tuple(Eye(cy=e.cy * sy, cx=e.cx * sx, ry=e.ry * sy, rx=e.rx * sx) for e in eyes)
    spec = MouthSpec(
        cy=mouth_center[0] * sy,
        cx=mouth_center[1] * sx,
        rx=layer.shape[1] / 2.0,
        max_ry=layer.shape[0] / 2.0,
    )
    return Character(
        canvas=canvas,
        width=width,
        height=height,
        margin=MARGIN,
        mouth=spec,
        mouth_layer=layer,
        eyes=scaled,
        lid_color=lid_color or _skin_above(canvas, scaled),
    )


def _composite(
    img: NDArray[np.uint8], background: Color | NDArray[np.uint8] | None
) -> NDArray[np.uint8]:
    """The cutout over the background, padded by the motion margin."""
    height, width = img.shape[:2]
    m = MARGIN
    canvas = np.pad(_background(background, height, width), ((m, m), (m, m), (0, 0)), "edge")
    alpha = img[..., 3:4].astype(np.float32) / 255.0
    region = canvas[m : m + height, m : m + width, :3]
    region[...] = (region * (1 - alpha) + img[..., :3] * alpha + 0.5).astype(np.uint8)
    return canvas


def _skin_above(canvas: NDArray[np.uint8], eyes: tuple[Eye, ...]) -> Color:
    """The colour just above the first eye (the eyelid), or the default skin."""
    if not eyes:
        return _SKIN
    e, m = eyes[0], MARGIN
    y = int(np.clip(e.cy - e.ry * 1.3, 0, canvas.shape[0] - 2 * m - 1))
    r, g, b = (int(v) for v in canvas[m + y, m + int(e.cx), :3])
    return (r, g, b)


def _as_rgba(image: ImageLike) -> NDArray[np.uint8]:
    if isinstance(image, np.ndarray):
        arr = image
    else:
        try:
            from PIL import Image
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise ConfigError(
                "loading character images needs Pillow: pip install 'halfcascade[avatar]', "
                "or pass numpy arrays"
            ) from e
        img = image if isinstance(image, Image.Image) else Image.open(image)
        arr = np.asarray(img.convert("RGBA"))
    if arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[2] not in (3, 4):
        raise ConfigError(f"character images must be uint8 RGB(A), got {arr.dtype} {arr.shape}")
    if arr.shape[2] == 3:
        arr = np.concatenate([arr, np.full((*arr.shape[:2], 1), 255, np.uint8)], axis=2)
    return np.ascontiguousarray(arr)


def _resize_nearest(img: NDArray[np.uint8], height: int, width: int) -> NDArray[np.uint8]:
    if img.shape[:2] == (height, width):
        return img
    ys = np.minimum((np.arange(height) + 0.5) * img.shape[0] / height, img.shape[0] - 1)
    xs = np.minimum((np.arange(width) + 0.5) * img.shape[1] / width, img.shape[1] - 1)
    out: NDArray[np.uint8] = img[ys.astype(np.intp)[:, None], xs.astype(np.intp)[None, :]]
    return out


def _background(
    background: Color | NDArray[np.uint8] | None, height: int, width: int
) -> NDArray[np.uint8]:
    if background is None:
        return vertical_gradient(height, width, (78, 122, 170), (30, 52, 84))
    if isinstance(background, tuple):
        return vertical_gradient(height, width, background, background)
    return _resize_nearest(_as_rgba(background), height, width).copy()
