"""ADA's augmentation pipeline (Karras et al. 2020, "Training Generative Adversarial Networks
with Limited Data"; NVlabs/stylegan2-ada-pytorch `training/augment.py`): its pixel blitting,
general geometric and colour groups, each transformation applied to a sample with probability
`p` (times its multiplier, 1 here), `p` adjusted during training from the sign of D's output
on real images (a `state` in the spec).

The groups compose as the paper's Appendix B has them:

- geometry is one inverse homogeneous 2-D transform per sample (x-flip, quarter turns,
  integer translation; isotropic scaling, rotation before and after anisotropic scaling,
  fractional translation), executed once: reflect-pad, upsample ×2 with the symlet-6
  low-pass filter, sample bilinearly, filter and downsample back;
- colour is one 4×4 homogeneous transform of RGB per sample (brightness, contrast, luma flip,
  hue rotation about the luma axis, saturation), applied to each pixel; one-channel images
  take the mean of its rows.

Parameters are drawn in the reference's order and shapes from torch's global generator, so a
seeded generator gives the reference's transforms; every tensor passed in gets the same ones.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from gandsl import shard
from gandsl.functions import ADA_OPERATIONS, ADA_PRESETS, ADA_SETTINGS, ada_strengths

# The symlet-6 low-pass wavelet filter: ADA's orthogonal filter for geometric resampling.
SYM6 = (0.015404109327027373, 0.0034907120842174702, -0.11799011114819057, -0.048311742585633,
        0.4910559419267466, 0.787641141030194, 0.3379294217276218, -0.07263752278646252,
        -0.021060292512300564, 0.04472490177066578, 0.0017677118642428036,
        -0.007800708325034148)

# The operations, presets (`--augpipe`) and settings of the reference's AugmentPipe: the
# compiler checks `ada(...)`'s arguments against the same table.
OPERATIONS, PRESETS, SETTINGS = ADA_OPERATIONS, ADA_PRESETS, ADA_SETTINGS
# The sym2 wavelet: the filter bank of image-space filtering (`imgfilter`).
SYM2 = (-0.12940952255092145, 0.22414386804185735, 0.836516303737469, 0.48296291314469025)
EXPECTED_POWER = (10 / 13, 1 / 13, 1 / 13, 1 / 13)  # of the four bands: 1/f


# ---- homogeneous matrices, one per sample --------------------------------------------------

def _matrix(rows: list[list], ref: Tensor) -> Tensor:
    """(B, r, c) from rows whose entries are numbers or (B,) tensors."""
    entries = [e if isinstance(e, Tensor) else torch.full_like(ref, float(e))
               for row in rows for e in row]
    return torch.stack(entries, dim=-1).reshape(ref.shape + (len(rows), len(rows[0])))


def _translate2d(tx, ty, ref: Tensor) -> Tensor:
    return _matrix([[1, 0, tx], [0, 1, ty], [0, 0, 1]], ref)


def _scale2d(sx, sy, ref: Tensor) -> Tensor:
    return _matrix([[sx, 0, 0], [0, sy, 0], [0, 0, 1]], ref)


def _rotate2d(theta: Tensor) -> Tensor:
    c, s = torch.cos(theta), torch.sin(theta)
    return _matrix([[c, -s, 0], [s, c, 0], [0, 0, 1]], theta)


def _translate3d(t: Tensor) -> Tensor:
    return _matrix([[1, 0, 0, t], [0, 1, 0, t], [0, 0, 1, t], [0, 0, 0, 1]], t)


def _scale3d(s: Tensor) -> Tensor:
    return _matrix([[s, 0, 0, 0], [0, s, 0, 0], [0, 0, s, 0], [0, 0, 0, 1]], s)


def _rotate3d(v: Tensor, theta: Tensor) -> Tensor:
    """Rotation by `theta` about the unit axis `v` (Rodrigues)."""
    x, y, z = v[0], v[1], v[2]
    s, c = torch.sin(theta), torch.cos(theta)
    cc = 1 - c
    return _matrix([[x * x * cc + c, x * y * cc - z * s, x * z * cc + y * s, 0],
                    [y * x * cc + z * s, y * y * cc + c, y * z * cc - x * s, 0],
                    [z * x * cc - y * s, z * y * cc + x * s, z * z * cc + c, 0],
                    [0, 0, 0, 1]], theta)


# ---- resampling with the symlet filter -----------------------------------------------------

@functools.lru_cache(maxsize=8)
def _filter(device: torch.device) -> Tensor:
    f = torch.tensor(SYM6, dtype=torch.float32, device=device)
    return f / f.sum()


def _fir(x: Tensor, f: Tensor, up: int, down: int, pad: tuple[int, int], gain: float,
         flip: bool) -> Tensor:
    """Insert up−1 zeros after each pixel, pad (negative: crop) both axes by `pad`, convolve
    with the separable filter `f` (correlate when `flip`), keep every `down`-th pixel."""
    b, c, h, w = x.shape
    if up > 1:
        x = F.pad(x.reshape(b, c, h, 1, w, 1), [0, up - 1, 0, 0, 0, up - 1])
        x = x.reshape(b, c, h * up, w * up)
    p0, p1 = pad
    x = F.pad(x, [max(p0, 0), max(p1, 0), max(p0, 0), max(p1, 0)])
    x = x[:, :, max(-p0, 0):x.shape[2] - max(-p1, 0), max(-p0, 0):x.shape[3] - max(-p1, 0)]
    f = (f * gain ** 0.5).to(x.dtype)
    if not flip:
        f = f.flip(0)
    weight = f.view(1, 1, 1, -1).repeat(c, 1, 1, 1)  # along the width
    x = F.conv2d(x, weight, groups=c)
    x = F.conv2d(x, weight.transpose(2, 3), groups=c)  # along the height
    return x[:, :, ::down, ::down]


def _upsample2(x: Tensor, f: Tensor) -> Tensor:
    n = f.numel()
    return _fir(x, f, up=2, down=1, pad=((n + 1) // 2, (n - 2) // 2), gain=4, flip=False)


def _downsample2(x: Tensor, f: Tensor, crop: int) -> Tensor:
    n = f.numel()
    return _fir(x, f, up=1, down=2, pad=(-crop + (n - 1) // 2, -crop + (n - 2) // 2), gain=1,
                flip=True)


# ---- the pipeline ---------------------------------------------------------------------------

def ada(xs: list[Tensor], p: float | Tensor, preset: str = "bgc", **options) -> list[Tensor]:
    """The images `xs` (one batch shape, alike) through ADA's pipeline at probability `p`:
    the operations of `preset`, each with probability multiplier 1, and `options`: any
    operation's multiplier (`brightness=0.5`, `cutout=1`) and the reference's settings
    (`xint_max`, `noise_std`, `imgfilter_bands`, ...; `SETTINGS` has them with defaults)."""
    m = ada_strengths(preset, options)
    opt = SETTINGS | {k: v for k, v in options.items() if k in SETTINGS}
    x = xs[0]
    b, channels, h, w = x.shape
    dev = x.device
    p = torch.as_tensor(p, dtype=torch.float32, device=dev)

    def rand(*shape: int) -> Tensor:
        return shard.rows(lambda n: torch.rand([n, *shape], device=dev), b)

    def randn(*shape: int) -> Tensor:
        return shard.rows(lambda n: torch.randn([n, *shape], device=dev), b)

    def chance(op: str, *shape: int) -> Tensor:
        return rand(*shape) < m[op] * p

    geometry = None  # the inverse transform: output pixel → input pixel
    ones = torch.ones(b, device=dev)

    def compose(g: Tensor) -> None:
        nonlocal geometry
        geometry = g if geometry is None else geometry @ g

    if m["xflip"] > 0:
        i = torch.floor(rand() * 2)
        i = torch.where(chance("xflip"), i, torch.zeros_like(i))
        compose(_scale2d(1 / (1 - 2 * i), 1, ones))
    if m["rotate90"] > 0:
        i = torch.floor(rand() * 4)
        i = torch.where(chance("rotate90"), i, torch.zeros_like(i))
        compose(_rotate2d(math.pi / 2 * i))
    if m["xint"] > 0:
        t = (rand(2) * 2 - 1) * opt["xint_max"]
        t = torch.where(chance("xint", 1), t, torch.zeros_like(t))
        compose(_translate2d(-torch.round(t[:, 0] * w), -torch.round(t[:, 1] * h), ones))
    if m["scale"] > 0:
        s = torch.exp2(randn() * opt["scale_std"])
        s = torch.where(chance("scale"), s, torch.ones_like(s))
        compose(_scale2d(1 / s, 1 / s, ones))
    # a rotation before and one after the anisotropic scaling: P(either) = rotate · p
    p_rot = 1 - torch.sqrt((1 - m["rotate"] * p).clamp(0, 1))
    if m["rotate"] > 0:
        theta = (rand() * 2 - 1) * math.pi * opt["rotate_max"]
        theta = torch.where(rand() < p_rot, theta, torch.zeros_like(theta))
        compose(_rotate2d(theta))
    if m["aniso"] > 0:
        s = torch.exp2(randn() * opt["aniso_std"])
        s = torch.where(chance("aniso"), s, torch.ones_like(s))
        compose(_scale2d(1 / s, s, ones))
    if m["rotate"] > 0:
        theta = (rand() * 2 - 1) * math.pi * opt["rotate_max"]
        theta = torch.where(rand() < p_rot, theta, torch.zeros_like(theta))
        compose(_rotate2d(theta))
    if m["xfrac"] > 0:
        t = randn(2) * opt["xfrac_std"]
        t = torch.where(chance("xfrac", 1), t, torch.zeros_like(t))
        compose(_translate2d(-t[:, 0] * w, -t[:, 1] * h, ones))
    if geometry is not None:
        xs = [_geometric(x, geometry) for x in xs]

    colors = None  # colour_out = colors @ colour_in
    if m["brightness"] > 0:
        t = randn() * opt["brightness_std"]
        t = torch.where(chance("brightness"), t, torch.zeros_like(t))
        colors = _translate3d(t)
    if m["contrast"] > 0:
        s = torch.exp2(randn() * opt["contrast_std"])
        s = torch.where(chance("contrast"), s, torch.ones_like(s))
        colors = _scale3d(s) if colors is None else _scale3d(s) @ colors
    luma = torch.tensor([1.0, 1.0, 1.0, 0.0], device=dev) / math.sqrt(3)
    eye, outer = torch.eye(4, device=dev), torch.outer(luma, luma)
    if m["lumaflip"] > 0:
        i = torch.floor(rand(1, 1) * 2)
        i = torch.where(chance("lumaflip", 1, 1), i, torch.zeros_like(i))
        colors = (eye - 2 * outer * i) @ (eye if colors is None else colors)
    if m["hue"] > 0 and channels > 1:
        theta = (rand() * 2 - 1) * math.pi * opt["hue_max"]
        theta = torch.where(chance("hue"), theta, torch.zeros_like(theta))
        colors = _rotate3d(luma, theta) @ (eye if colors is None else colors)
    if m["saturation"] > 0 and channels > 1:
        s = torch.exp2(randn(1, 1) * opt["saturation_std"])
        s = torch.where(chance("saturation", 1, 1), s, torch.ones_like(s))
        colors = (outer + (eye - outer) * s) @ (eye if colors is None else colors)
    if colors is not None:
        xs = [_colored(x, colors) for x in xs]

    if m["imgfilter"] > 0:
        gains = torch.ones(b, 4, device=dev)  # of the four frequency bands
        power = torch.tensor(EXPECTED_POWER, device=dev)
        for band, strength in enumerate(opt["imgfilter_bands"]):
            t_i = torch.exp2(randn() * opt["imgfilter_std"])
            t_i = torch.where(rand() < m["imgfilter"] * p * strength, t_i, torch.ones_like(t_i))
            t = torch.ones(b, 4, device=dev)
            t[:, band] = t_i
            gains = gains * t / (power * t.square()).sum(dim=-1, keepdim=True).sqrt()
        xs = [_filtered(x, gains @ _filter_bank(dev)) for x in xs]
    if m["noise"] > 0:
        sigma = randn(1, 1, 1).abs() * opt["noise_std"]
        sigma = torch.where(chance("noise", 1, 1, 1), sigma, torch.zeros_like(sigma))
        noise = randn(channels, h, w) * sigma  # one draw: images moved alike get it alike
        xs = [x + noise.to(x.dtype) for x in xs]
    if m["cutout"] > 0:
        size = torch.full([b, 2, 1, 1, 1], float(opt["cutout_size"]), device=dev)
        size = torch.where(chance("cutout", 1, 1, 1, 1), size, torch.zeros_like(size))
        center = rand(2, 1, 1, 1)
        cols = torch.arange(w, device=dev).reshape(1, 1, 1, -1)
        rows = torch.arange(h, device=dev).reshape(1, 1, -1, 1)
        keep = (((cols + 0.5) / w - center[:, 0]).abs() >= size[:, 0] / 2) | \
            (((rows + 0.5) / h - center[:, 1]).abs() >= size[:, 1] / 2)
        xs = [x * keep.to(x.dtype) for x in xs]
    return xs


@functools.lru_cache(maxsize=8)
def _filter_bank(device: torch.device) -> Tensor:
    """(4, taps): the band-pass filters of the four octaves, built from sym2 as the reference
    builds `Hz_fbank` (each row the next octave: upsample by 2, low-pass, add the high-pass)."""
    lo = np.asarray(SYM2)
    hi = lo * (-1) ** np.arange(lo.size)
    lo2, hi2 = np.convolve(lo, lo[::-1]) / 2, np.convolve(hi, hi[::-1]) / 2
    bank = np.eye(4, 1)
    for i in range(1, 4):
        spread = np.zeros((4, bank.shape[1] * 2 - 1))
        spread[:, ::2] = bank  # zeros between the taps
        bank = np.stack([np.convolve(row, lo2) for row in spread])
        at = (bank.shape[1] - hi2.size) // 2
        bank[i, at:at + hi2.size] += hi2
    return torch.as_tensor(bank, dtype=torch.float32, device=device)


def _filtered(x: Tensor, taps: Tensor) -> Tensor:
    """Each sample's channels through its separable filter (B, taps), reflect-padded."""
    b, c, h, w = x.shape
    pad = taps.shape[1] // 2
    weight = taps.to(x.dtype).repeat_interleave(c, dim=0).view(b * c, 1, 1, -1)
    y = F.pad(x.reshape(1, b * c, h, w), [pad, pad, pad, pad], mode="reflect")
    y = F.conv2d(y, weight, groups=b * c)  # along the width
    y = F.conv2d(y, weight.transpose(2, 3), groups=b * c)  # along the height
    return y.reshape(b, c, h, w)


def _geometric(x: Tensor, inverse: Tensor) -> Tensor:
    """`x` resampled through the per-sample inverse transforms (B, 3, 3) (pixel units,
    centred): reflect-padded as far as the transformed corners reach, upsampled ×2, sampled
    bilinearly, filtered and downsampled."""
    b, c, h, w = x.shape
    f = _filter(x.device)
    taps = f.numel() // 4  # the filter's reach at the lower resolution: 3
    cx, cy = (w - 1) / 2, (h - 1) / 2
    corners = torch.tensor([[-cx, -cy, 1], [cx, -cy, 1], [cx, cy, 1], [-cx, cy, 1]],
                           device=x.device)
    reach = (inverse @ corners.t())[:, :2, :].permute(1, 0, 2).flatten(1)  # (xy, B·4)
    margin = torch.cat([-reach, reach]).max(dim=1).values  # x0, y0, x1, y1
    margin = margin + torch.tensor([taps * 2 - cx, taps * 2 - cy] * 2, device=x.device)
    margin = margin.clamp(min=0)
    margin = torch.minimum(margin, torch.tensor([w - 1, h - 1] * 2, device=x.device,
                                                dtype=margin.dtype))
    mx0, my0, mx1, my1 = (int(m) for m in margin.ceil())
    x = F.pad(x, [mx0, mx1, my0, my1], mode="reflect")
    one = torch.ones(b, device=x.device)
    g = _translate2d((mx0 - mx1) / 2, (my0 - my1) / 2, one) @ inverse
    x = _upsample2(x, f)
    g = _scale2d(2, 2, one) @ g @ _scale2d(0.5, 0.5, one)
    g = _translate2d(-0.5, -0.5, one) @ g @ _translate2d(0.5, 0.5, one)
    size = [b, c, (h + taps * 2) * 2, (w + taps * 2) * 2]
    g = _scale2d(2 / x.shape[3], 2 / x.shape[2], one) @ g @ \
        _scale2d(size[3] / 2, size[2] / 2, one)
    grid = F.affine_grid(g[:, :2, :].to(x.dtype), size, align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return _downsample2(x, f, crop=taps * 2)


def _colored(x: Tensor, colors: Tensor) -> Tensor:
    """Each pixel's colour through its sample's 4×4 transform (B, 4, 4)."""
    b, c, h, w = x.shape
    flat = x.reshape(b, c, h * w)
    colors = colors.to(x.dtype)
    if c == 3:
        flat = colors[:, :3, :3] @ flat + colors[:, :3, 3:]
    elif c == 1:
        rows = colors[:, :3, :].mean(dim=1, keepdim=True)  # the transform of grey
        flat = flat * rows[:, :, :3].sum(dim=2, keepdim=True) + rows[:, :, 3:]
    else:  # the compiler allows ADA's colour group on 1 or 3 channels only
        raise ValueError(f"ADA's colour transforms take 1 or 3 channels, got {c}")
    return flat.reshape(b, c, h, w)
