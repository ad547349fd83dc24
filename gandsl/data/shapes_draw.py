"""Drawing one shape at any resolution: signed distances, one-pixel antialiasing, two colors.

Shapes are signed distance functions of the pixel centers, so an edge's coverage is
`clip(0.5 - d, 0, 1)`: clean edges at 32×32 with no supersampling, the same drawing at every
resolution, and a few vectorized numpy operations per image (fast enough for training on the
fly). Every shape fits in the square of half-size `r` around its center.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

KINDS = ("circle", "square", "triangle", "diamond", "cross")

_SQUARE = float(np.sqrt(np.pi) / 2)  # half-side: the area of the circle, for paired domains
_TRI_SLOPE = 1.8  # the triangle's sides run from the apex (0, -r) to the base corners (±r, 0.8r)
_TRI_NORM = float(np.hypot(_TRI_SLOPE, 1.0))


@lru_cache(maxsize=16)
def _grid(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-center coordinates: a (H, 1) column of y and a (1, W) row of x."""
    ys = (np.arange(height, dtype=np.float32) + 0.5)[:, None]
    xs = (np.arange(width, dtype=np.float32) + 0.5)[None, :]
    return ys, xs


def _box(dx: np.ndarray, dy: np.ndarray, hx: float, hy: float) -> np.ndarray:
    """Exact signed distance to an axis-aligned box of half-sizes (hx, hy)."""
    qx, qy = np.abs(dx) - hx, np.abs(dy) - hy
    outside = np.hypot(np.maximum(qx, 0.0), np.maximum(qy, 0.0))
    return outside + np.minimum(np.maximum(qx, qy), 0.0)


def distance(kind: str, dx: np.ndarray, dy: np.ndarray, r: float) -> np.ndarray:
    """Signed distance in pixels (negative inside) from offsets (dx, dy) to the shape."""
    if kind == "circle":
        return np.hypot(dx, dy) - r
    if kind == "square":
        return _box(dx, dy, _SQUARE * r, _SQUARE * r)
    if kind == "diamond":
        return (np.abs(dx) + np.abs(dy) - r) * np.float32(1 / np.sqrt(2))
    if kind == "triangle":  # apex up; max of half-planes, exact along the edges
        sides = (_TRI_SLOPE * np.abs(dx) - dy - r) / _TRI_NORM
        return np.maximum(sides, dy - 0.8 * r)
    if kind == "cross":
        return np.minimum(_box(dx, dy, r, 0.32 * r), _box(dx, dy, 0.32 * r, r))
    raise ValueError(f"unknown shape kind {kind!r}")


def coverage(kind: str, height: int, width: int, cx: float, cy: float, r: float) -> np.ndarray:
    """(H, W) float32 in [0, 1]: how much of each pixel the shape covers."""
    ys, xs = _grid(height, width)
    d = distance(kind, xs - np.float32(cx), ys - np.float32(cy), r)
    return np.clip(0.5 - d, 0.0, 1.0).astype(np.float32, copy=False)


def compose(cov: np.ndarray, fg: np.ndarray, bg: np.ndarray) -> np.ndarray:
    """(C, H, W) float32 in [0, 1]: `fg` where covered, `bg` elsewhere, blended at edges."""
    fg = fg.astype(np.float32)[:, None, None]
    bg = bg.astype(np.float32)[:, None, None]
    return bg + (fg - bg) * cov[None]
