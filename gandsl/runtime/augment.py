"""Differentiable augmentations of images, applied in the objective (`aug = augment(...)`,
`D(aug(x))`): DiffAugment's policies, random flips and quarter turns, and ADA's pipeline
(`gandsl.runtime.adaptive`).

Every operation draws its random parameters once per call, per sample, from torch's global
generator (which the trainer seeds and checkpoints, so a resumed run draws what the straight
run draws), and applies the same parameters to every tensor it is given: `aug(x, y)` moves
`x` and `y` alike (consistency regularization). The draws are made in the order and shapes
of the reference code, so a seeded generator gives the reference's values:

- DiffAugment (Zhao et al. 2020, mit-han-lab/data-efficient-gans `DiffAugment_pytorch.py`):
  `brightness` adds U(−½, ½); `saturation` scales each pixel's deviation from its channel
  mean by U(0, 2); `contrast` scales each image's deviation from its mean by U(½, 3/2);
  `translation(r)` shifts by whole pixels, up to r·size each way, filling with zeros;
  `cutout(r)` zeroes an r·size square at a random place. `color` is the first three.
- `flip`: each image mirrored left-right with probability ½; `rot90`: turned by a random
  multiple of 90°; `rotate90(x, k)`: turned by k·90° counterclockwise, k given.

In data-parallel training each process draws the parameters of the whole batch and keeps its
rows (`shard.rows`), so the processes together draw what one process would.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from gandsl import shard

Images = list[Tensor]


def _per_sample(x: Tensor, draw: Callable[[int], Tensor]) -> Tensor:
    """This process's rows of a draw for the global batch (`x`'s batch is this shard's)."""
    return shard.rows(draw, x.shape[0])


def _uniform(x: Tensor) -> Tensor:
    """U(0, 1) per sample, shaped to scale images: (B, 1, 1, 1)."""
    return _per_sample(x, lambda n: torch.rand(n, 1, 1, 1, dtype=x.dtype, device=x.device))


def brightness(xs: Images) -> Images:
    shift = _uniform(xs[0]) - 0.5
    return [x + shift for x in xs]


def _scaled(x: Tensor, mean: Tensor, factor: Tensor) -> Tensor:
    return (x - mean) * factor + mean


def saturation(xs: Images) -> Images:
    factor = _uniform(xs[0]) * 2
    return [_scaled(x, x.mean(1, keepdim=True), factor) for x in xs]


def contrast(xs: Images) -> Images:
    factor = _uniform(xs[0]) + 0.5
    return [_scaled(x, x.mean((1, 2, 3), keepdim=True), factor) for x in xs]


def _randint(x: Tensor, low: int, high: int) -> Tensor:
    """An integer in [low, high) per sample, (B, 1, 1) as the reference draws it."""
    return _per_sample(x, lambda n: torch.randint(low, high, size=[n, 1, 1], device=x.device))


def _translation(xs: Images, ratio: float) -> Images:
    """Whole-pixel shifts of up to `round(ratio · size)` each way; what comes in is zero: a
    gather from a copy padded with zeros by the largest shift (no clamping, no mask)."""
    _, _, h, w = xs[0].shape
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    dy = _randint(xs[0], -sh, sh + 1)  # (B, 1, 1): rows
    dx = _randint(xs[0], -sw, sw + 1)  # columns
    rows = torch.arange(sh, h + sh, device=xs[0].device).view(1, h, 1) + dy  # in the padded
    cols = torch.arange(sw, w + sw, device=xs[0].device).view(1, 1, w) + dx  # copy
    index = (rows * (w + 2 * sw) + cols).flatten(1)  # (B, H·W)
    out = []
    for x in xs:
        b, c = x.shape[:2]
        padded = F.pad(x, [sw, sw, sh, sh]).flatten(2)
        out.append(padded.gather(2, index.unsqueeze(1).expand(b, c, -1)).view_as(x))
    return out


def _cutout(xs: Images, ratio: float) -> Images:
    """One `round(ratio · size)` rectangle per image set to zero, centred anywhere (it may
    hang over the edge)."""
    _, _, h, w = xs[0].shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    cy = _randint(xs[0], 0, h + (1 - ch % 2))  # (B, 1, 1): the rectangle's centre row
    cx = _randint(xs[0], 0, w + (1 - cw % 2))
    rows = torch.arange(h, device=xs[0].device).view(1, h, 1) - (cy - ch // 2)
    cols = torch.arange(w, device=xs[0].device).view(1, 1, w) - (cx - cw // 2)
    hole = (rows >= 0) & (rows < ch) & (cols >= 0) & (cols < cw)  # (B, H, W)
    return [x * (~hole).unsqueeze(1).to(x.dtype) for x in xs]


def color(xs: Images) -> Images:
    return contrast(saturation(brightness(xs)))


def flip(xs: Images) -> Images:
    """Each image mirrored left-right with probability ½."""
    mirror = _per_sample(xs[0], lambda n: torch.rand(n, device=xs[0].device)) < 0.5
    where = mirror.view(-1, 1, 1, 1)
    return [torch.where(where, x.flip(3), x) for x in xs]


def rot90(xs: Images) -> Images:
    """Each image turned counterclockwise by a random multiple of 90° (square images)."""
    k = _per_sample(xs[0], lambda n: torch.randint(0, 4, (n,), device=xs[0].device))
    return [rotate90(x, k) for x in xs]


def rotate90(x: Tensor, k: Tensor) -> Tensor:
    """Sample i turned counterclockwise by k[i]·90° (`torch.rot90` per sample); k: (B,)."""
    out = x
    for turns in (1, 2, 3):
        out = torch.where((k == turns).view(-1, 1, 1, 1), torch.rot90(x, turns, (2, 3)), out)
    return out


Op = Callable[[Images], Images]


def translation(ratio: float = 0.125) -> Op:
    """DiffAugment's translation by whole pixels, up to `round(ratio · size)` each way."""
    return functools.partial(_translation, ratio=ratio)


def cutout(ratio: float = 0.5) -> Op:
    """DiffAugment's cutout of a `round(ratio · size)` rectangle."""
    return functools.partial(_cutout, ratio=ratio)


def ada(preset: str = "bgc", **options: float | tuple[float, ...]) -> Op:
    """ADA's pipeline (`gandsl.runtime.adaptive`) of a preset, with the reference's
    multipliers and settings in `options`; it takes `Augment`'s `p`."""
    from gandsl.runtime import adaptive

    unknown = set(options) - set(adaptive.OPERATIONS) - set(adaptive.SETTINGS)
    if unknown:
        raise TypeError(f"ada() has no option {', '.join(sorted(unknown))}")
    op = functools.partial(adaptive.ada, preset=preset, **options)
    op.uses_p = True  # type: ignore[attr-defined]
    return op


class Augment:
    """One augmentation pipeline of the spec (`aug = augment(...)`): `aug(x)` augments a
    batch with a fresh draw; `aug(x, y)` moves several batches alike; `p` is ADA's
    probability (a state's current value)."""

    def __init__(self, *ops: Op) -> None:
        self.ops = ops

    def __call__(self, *images: Tensor, p: float | Tensor = 1.0) -> Tensor | tuple[Tensor, ...]:
        xs = list(images)
        for op in self.ops:
            xs = op(xs, p) if getattr(op, "uses_p", False) else op(xs)
        return xs[0] if len(xs) == 1 else tuple(xs)


__all__ = ["Augment", "ada", "brightness", "color", "contrast", "cutout", "flip", "rot90",
           "rotate90", "saturation", "translation"]
