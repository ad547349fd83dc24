"""Shape scenes: the attributes of one image, drawn from (seed, index) alone, and its pixels.

A scene is a pure function of (seed, index): a hash gives its random numbers, so any sample
can be made in any order, in any worker, with no RNG state to save. Domains a and b of the
same (seed, index) are the same scene with another kind (circle vs square): paired samples.

A scene also has a label map (`label_map`), SPADE's input: background class 0, the shape's
pixels (those it covers at least half) class `shape_class(kind, N)`.

Colors and backgrounds are chosen so that the shape stands out in grey too (luminance
0.40-0.53 on backgrounds near 0.13 or 0.85): 1-channel specs get the same dataset in grey.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass, replace

import numpy as np
import torch

from .shapes_draw import KINDS, compose, coverage

# The fourth color has no attribute of its own, like CelebA's faces with none of the three
# hair colors: the three color attributes are exclusive but not exhaustive.
COLORS: dict[str, tuple[float, float, float]] = {
    "red": (0.90, 0.20, 0.20),
    "green": (0.20, 0.75, 0.25),
    "blue": (0.20, 0.40, 0.95),
    "magenta": (0.85, 0.25, 0.85),
}
SMALL, LARGE = (0.16, 0.20), (0.28, 0.32)  # radius range, a fraction of the shorter side
LIGHT, DARK = (0.80, 0.90), (0.08, 0.18)  # background grey range
_MARGIN = 0.06  # free border between the shape's box and the image edge, same fraction
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


@dataclass(frozen=True)
class Scene:
    kind: str
    color: str
    large: bool
    dark: bool  # dark background
    radius: float  # fraction of the shorter side
    x: float  # position of the center within its free range, 0..1 (left to right)
    y: float  # 0..1, top to bottom
    shade: float  # brightness factor of the color
    background: float  # grey level

    def with_kind(self, kind: str) -> Scene:
        return replace(self, kind=kind)


def _uniforms(seed: int, index: int) -> list[float]:
    digest = hashlib.blake2b(struct.pack("<qQ", seed, index), digest_size=36,
                             person=b"gandsl-shapes").digest()
    return [v / 2**32 for v in struct.unpack("<9I", digest)]


def _pick(u: float, options: tuple) -> object:
    return options[min(int(u * len(options)), len(options) - 1)]


def scene(seed: int, index: int, kinds: tuple[str, ...] = KINDS) -> Scene:
    """The scene of sample `index` of the dataset with this seed, its kind among `kinds`."""
    u = _uniforms(seed, index)
    large, dark = u[2] < 0.5, u[3] < 0.5
    lo, hi = LARGE if large else SMALL
    bg_lo, bg_hi = DARK if dark else LIGHT
    color = _pick(u[1], tuple(COLORS))
    return Scene(kind=_pick(u[0], kinds), color=color,  # type: ignore[arg-type]
                 large=large, dark=dark, radius=lo + (hi - lo) * u[4], x=u[5], y=u[6],
                 shade=0.9 + 0.15 * u[7], background=bg_lo + (bg_hi - bg_lo) * u[8])


def geometry(s: Scene, height: int, width: int) -> tuple[float, float, float]:
    """Center (x, y) and radius in pixels."""
    side = min(height, width)
    r = s.radius * side
    margin = r + _MARGIN * side
    return (margin + s.x * (width - 2 * margin), margin + s.y * (height - 2 * margin), r)


def render(s: Scene, channels: int, height: int, width: int) -> torch.Tensor:
    """The scene as float32 (channels, H, W) in [-1, 1]; 1 channel is the RGB's luminance."""
    cx, cy, r = geometry(s, height, width)
    cov = coverage(s.kind, height, width, cx, cy, r)
    fg = np.minimum(np.asarray(COLORS[s.color], dtype=np.float32) * s.shade, 1.0)
    img = compose(cov, fg, np.full(3, s.background, dtype=np.float32))
    if channels == 1:
        img = np.tensordot(_LUMA, img, axes=1)[None]
    return torch.from_numpy(img).mul_(2.0).sub_(1.0)


def shape_class(kind: str, classes: int) -> int:
    """The class of a shape's pixels in a label map of `classes` classes: 1 + the kind's index
    modulo classes - 1 (class 0 is the background); with one class, everything is class 0."""
    return 0 if classes == 1 else 1 + KINDS.index(kind) % (classes - 1)


def label_map(s: Scene, classes: int, height: int, width: int) -> torch.Tensor:
    """The scene's one-hot label map: float32 (classes, H, W) of 0 and 1, one 1 per pixel.

    A pixel is the shape's when `render` covers at least half of it (its center lies inside
    the shape): a hard edge, as a segmentation has, drawn from the same geometry."""
    cx, cy, r = geometry(s, height, width)
    inside = torch.from_numpy(coverage(s.kind, height, width, cx, cy, r) >= 0.5)
    index = inside.long() * shape_class(s.kind, classes)
    return torch.nn.functional.one_hot(index, classes).permute(2, 0, 1).float().contiguous()
