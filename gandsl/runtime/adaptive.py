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

import torch
import torch.nn.functional as F
from torch import Tensor

from gandsl.runtime import shard

# The symlet-6 low-pass wavelet filter: ADA's orthogonal filter for geometric resampling.
SYM6 = (0.015404109327027373, 0.0034907120842174702, -0.11799011114819057, -0.048311742585633,
        0.4910559419267466, 0.787641141030194, 0.3379294217276218, -0.07263752278646252,
        -0.021060292512300564, 0.04472490177066578, 0.0017677118642428036,
        -0.007800708325034148)

BLIT = ("xflip", "rotate90", "xint")
GEOM = ("scale", "rotate", "aniso", "xfrac")
COLOR = ("brightness", "contrast", "lumaflip", "hue", "saturation")
# The reference's `--augpipe` presets this pipeline implements.
PRESETS = {"blit": BLIT, "geom": GEOM, "color": COLOR, "bg": BLIT + GEOM,
           "bgc": BLIT + GEOM + COLOR}

# The reference's defaults: ranges and standard deviations of each transformation.
XINT_MAX = 0.125  # of the image size
SCALE_STD = 0.2  # log2
ROTATE_MAX = 1.0  # of a full turn
ANISO_STD = 0.2  # log2
XFRAC_STD = 0.125  # of the image size
BRIGHTNESS_STD = 0.2
CONTRAST_STD = 0.5  # log2
HUE_MAX = 1.0  # of a full turn
SATURATION_STD = 1.0  # log2


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

def ada(xs: list[Tensor], p: float | Tensor, preset: str = "bgc") -> list[Tensor]:
    """The images `xs` (one batch shape, alike) through ADA's `preset` at probability `p`."""
    ops = PRESETS[preset]
    x = xs[0]
    b, channels, h, w = x.shape
    dev = x.device
    p = torch.as_tensor(p, dtype=torch.float32, device=dev)

    def rand(*shape: int) -> Tensor:
        return shard.rows(lambda n: torch.rand([n, *shape], device=dev), b)

    def randn(*shape: int) -> Tensor:
        return shard.rows(lambda n: torch.randn([n, *shape], device=dev), b)

    def chance(*shape: int) -> Tensor:
        return rand(*shape) < p

    geometry = None  # the inverse transform: output pixel → input pixel
    ones = torch.ones(b, device=dev)

    def compose(m: Tensor) -> None:
        nonlocal geometry
        geometry = m if geometry is None else geometry @ m

    if "xflip" in ops:
        i = torch.floor(rand() * 2)
        i = torch.where(chance(), i, torch.zeros_like(i))
        compose(_scale2d(1 / (1 - 2 * i), 1, ones))
    if "rotate90" in ops:
        i = torch.floor(rand() * 4)
        i = torch.where(chance(), i, torch.zeros_like(i))
        compose(_rotate2d(math.pi / 2 * i))
    if "xint" in ops:
        t = (rand(2) * 2 - 1) * XINT_MAX
        t = torch.where(chance(1), t, torch.zeros_like(t))
        compose(_translate2d(-torch.round(t[:, 0] * w), -torch.round(t[:, 1] * h), ones))
    if "scale" in ops:
        s = torch.exp2(randn() * SCALE_STD)
        s = torch.where(chance(), s, torch.ones_like(s))
        compose(_scale2d(1 / s, 1 / s, ones))
    p_rot = 1 - torch.sqrt((1 - p).clamp(0, 1))  # a rotation before or after: p in all
    if "rotate" in ops:
        theta = (rand() * 2 - 1) * math.pi * ROTATE_MAX
        theta = torch.where(rand() < p_rot, theta, torch.zeros_like(theta))
        compose(_rotate2d(theta))
    if "aniso" in ops:
        s = torch.exp2(randn() * ANISO_STD)
        s = torch.where(chance(), s, torch.ones_like(s))
        compose(_scale2d(1 / s, s, ones))
    if "rotate" in ops:
        theta = (rand() * 2 - 1) * math.pi * ROTATE_MAX
        theta = torch.where(rand() < p_rot, theta, torch.zeros_like(theta))
        compose(_rotate2d(theta))
    if "xfrac" in ops:
        t = randn(2) * XFRAC_STD
        t = torch.where(chance(1), t, torch.zeros_like(t))
        compose(_translate2d(-t[:, 0] * w, -t[:, 1] * h, ones))
    if geometry is not None:
        xs = [_geometric(x, geometry) for x in xs]

    colors = None  # colour_out = colors @ colour_in
    if "brightness" in ops:
        t = randn() * BRIGHTNESS_STD
        t = torch.where(chance(), t, torch.zeros_like(t))
        colors = _translate3d(t)
    if "contrast" in ops:
        s = torch.exp2(randn() * CONTRAST_STD)
        s = torch.where(chance(), s, torch.ones_like(s))
        colors = _scale3d(s) if colors is None else _scale3d(s) @ colors
    luma = torch.tensor([1.0, 1.0, 1.0, 0.0], device=dev) / math.sqrt(3)
    eye, outer = torch.eye(4, device=dev), torch.outer(luma, luma)
    if "lumaflip" in ops:
        i = torch.floor(rand(1, 1) * 2)
        i = torch.where(chance(1, 1), i, torch.zeros_like(i))
        colors = (eye - 2 * outer * i) @ (eye if colors is None else colors)
    if "hue" in ops and channels > 1:
        theta = (rand() * 2 - 1) * math.pi * HUE_MAX
        theta = torch.where(chance(), theta, torch.zeros_like(theta))
        colors = _rotate3d(luma, theta) @ (eye if colors is None else colors)
    if "saturation" in ops and channels > 1:
        s = torch.exp2(randn(1, 1) * SATURATION_STD)
        s = torch.where(chance(1, 1), s, torch.ones_like(s))
        colors = (outer + (eye - outer) * s) @ (eye if colors is None else colors)
    if colors is not None:
        xs = [_colored(x, colors) for x in xs]
    return xs


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
