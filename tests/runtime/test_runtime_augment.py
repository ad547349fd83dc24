"""The augmentations against their definitions, on fixed random draws.

Each test seeds torch's generator, runs the operation, seeds again and draws the same numbers
in the reference's order and shapes, and computes the expected images from the paper's
definitions written out here (pixel loops for the index arithmetic, closed forms for colour),
independently of the runtime's own vectorised code.
"""

from __future__ import annotations

import math

import pytest
import torch

from gandsl.runtime import adaptive as A
from gandsl.runtime import augment as aug


def images(b=3, c=3, h=8, w=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(b, c, h, w, generator=g) * 2 - 1


def test_brightness_saturation_contrast_are_diffaugments_color():
    x = images()
    torch.manual_seed(5)
    out = aug.Augment(aug.color)(x)
    torch.manual_seed(5)
    b = torch.rand(3, 1, 1, 1) - 0.5
    s = torch.rand(3, 1, 1, 1) * 2
    c = torch.rand(3, 1, 1, 1) + 0.5
    want = x + b
    want = (want - want.mean(1, keepdim=True)) * s + want.mean(1, keepdim=True)
    want = (want - want.mean((1, 2, 3), keepdim=True)) * c + want.mean((1, 2, 3), keepdim=True)
    assert torch.allclose(out, want, atol=1e-6)


@pytest.mark.parametrize("h, w, ratio", [(8, 8, 0.125), (12, 16, 0.25), (5, 7, 0.5)])
def test_translation_shifts_whole_pixels_and_fills_zeros(h, w, ratio):
    x = images(h=h, w=w)
    torch.manual_seed(3)
    out = aug.Augment(aug.translation(ratio))(x)
    torch.manual_seed(3)
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    dy = torch.randint(-sh, sh + 1, size=[3, 1, 1])
    dx = torch.randint(-sw, sw + 1, size=[3, 1, 1])
    want = torch.zeros_like(x)
    for b in range(3):
        for i in range(h):
            for j in range(w):
                si, sj = i + int(dy[b]), j + int(dx[b])
                if 0 <= si < h and 0 <= sj < w:
                    want[b, :, i, j] = x[b, :, si, sj]
    assert torch.equal(out, want)


@pytest.mark.parametrize("h, w, ratio", [(8, 8, 0.5), (9, 6, 0.5), (8, 8, 0.25)])
def test_cutout_zeroes_one_rectangle(h, w, ratio):
    x = images(h=h, w=w)
    torch.manual_seed(7)
    out = aug.Augment(aug.cutout(ratio))(x)
    torch.manual_seed(7)
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    cy = torch.randint(0, h + (1 - ch % 2), size=[3, 1, 1])
    cx = torch.randint(0, w + (1 - cw % 2), size=[3, 1, 1])
    want = x.clone()
    for b in range(3):
        top, left = int(cy[b]) - ch // 2, int(cx[b]) - cw // 2
        for i in range(max(top, 0), min(top + ch, h)):
            for j in range(max(left, 0), min(left + cw, w)):
                want[b, :, i, j] = 0
    assert torch.equal(out, want)


def test_one_draw_moves_several_tensors_alike():
    """`aug(x, y)`: the same shift, hole and colour change for both (consistency
    regularization compares the two)."""
    x = images()
    torch.manual_seed(11)
    pipe = aug.Augment(aug.translation(0.25), aug.cutout(0.5), aug.color)
    a, b = pipe(x, x.clone())
    assert torch.equal(a, b)
    torch.manual_seed(11)
    assert torch.equal(pipe(x), a)


def test_flips_and_quarter_turns():
    x = images(b=8)
    torch.manual_seed(2)
    out = aug.Augment(aug.flip)(x)
    torch.manual_seed(2)
    mirror = torch.rand(8) < 0.5
    flipped = [xi.flip(2) if m else xi for xi, m in zip(x, mirror, strict=True)]
    assert torch.equal(out, torch.stack(flipped))
    k = torch.tensor([0, 1, 2, 3, 3, 2, 1, 0])
    turned = aug.rotate90(x, k)
    assert torch.equal(turned, torch.stack([torch.rot90(xi, int(ki), (1, 2))
                                            for xi, ki in zip(x, k, strict=True)]))
    torch.manual_seed(4)
    out = aug.Augment(aug.rot90)(x)
    torch.manual_seed(4)
    assert torch.equal(out, aug.rotate90(x, torch.randint(0, 4, (8,))))


def test_augmentations_are_differentiable():
    x = images().requires_grad_(True)
    y = aug.Augment(aug.translation(), aug.cutout(), aug.color, aug.flip, aug.ada())(x, p=0.5)
    y.square().sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


# ---- ADA -----------------------------------------------------------------------------------

def smooth(b: int, h: int) -> torch.Tensor:
    """Images of slow waves: what a resampling filter passes almost unchanged."""
    i = torch.arange(h, dtype=torch.float32)
    phase = torch.arange(b, dtype=torch.float32).view(b, 1, 1, 1)
    return torch.sin(i / 5 + phase) * torch.cos(i / 7 - phase).transpose(2, 3)  # (B, 1, H, H)


def test_ada_blit_is_pixel_motion():
    """x-flip, quarter turns and integer translation, drawn as the reference draws them,
    move pixels as the exact operations do: a translation alone exactly (reflecting at the
    borders: the symlet filter is orthogonal, so upsampling then downsampling is the
    identity), a mirror or a turn up to the filter's slight asymmetry."""
    b, h = 12, 24
    x = smooth(b, h).expand(b, 3, h, h).contiguous()
    torch.manual_seed(9)
    out = A.ada([x], 1.0, "blit")[0]
    torch.manual_seed(9)
    flip = torch.floor(torch.rand(b) * 2)
    torch.rand(b)
    k = torch.floor(torch.rand(b) * 4)
    torch.rand(b)
    t = (torch.rand(b, 2) * 2 - 1) * A.SETTINGS["xint_max"]
    tx, ty = torch.round(t[:, 0] * h), torch.round(t[:, 1] * h)
    c = (h - 1) / 2

    def reflect(n: int) -> int:
        return -n if n < 0 else (2 * (h - 1) - n if n >= h else n)

    for s in range(b):  # output pixel → input pixel: the inverse translation, turn, flip
        want = torch.empty_like(x[s])
        a = math.pi / 2 * float(k[s])
        for i in range(h):
            for j in range(h):
                u, v = j - c - float(tx[s]), i - c - float(ty[s])  # column, row, centred
                u, v = math.cos(a) * u - math.sin(a) * v, math.sin(a) * u + math.cos(a) * v
                u = -u if flip[s] else u
                want[:, i, j] = x[s, :, reflect(round(v + c)), reflect(round(u + c))]
        exact = flip[s] == 0 and k[s] == 0
        assert torch.allclose(out[s], want, atol=1e-4 if exact else 0.05), (s, exact)
    assert any(flip[s] == 0 and k[s] == 0 for s in range(b))


def _upfirdn_numpy(x, f, up, pad, down):
    """upfirdn2d's documented steps along one axis with numpy: insert up−1 zeros after each
    sample, pad (negative: crop), convolve keeping the fully overlapping outputs, keep every
    down-th."""
    import numpy as np

    u = np.zeros(len(x) * up)
    u[::up] = x
    u = np.pad(u, (max(pad[0], 0), max(pad[1], 0)))
    u = u[max(-pad[0], 0):len(u) - max(-pad[1], 0)]
    return np.convolve(u, f, mode="valid")[::down]


def test_ada_resampling_follows_upfirdn2d():
    """The ×2 up- and downsampling with the symlet filter equal the upfirdn2d definition
    computed independently, axis by axis with numpy's convolution (the filter is separable:
    an outer product of rows stays one)."""
    import numpy as np

    f = A._filter(torch.device("cpu"))
    a, b = torch.rand(10, dtype=torch.float64), torch.rand(9, dtype=torch.float64)
    x = torch.outer(a, b).view(1, 1, 10, 9)
    fn = f.double().numpy()
    up = A._upsample2(x, f.double())[0, 0].numpy()
    # gain 4 over two axes is 2 per axis; convolution, padded (6, 5) after the zeros
    want = np.outer(2 * _upfirdn_numpy(a.numpy(), fn, 2, (6, 5), 1),
                    2 * _upfirdn_numpy(b.numpy(), fn, 2, (6, 5), 1))
    assert up.shape == (20, 18) and np.allclose(up, want, atol=1e-12)
    down = A._downsample2(x, f.double(), crop=1)[0, 0].numpy()
    # correlation (the filter reversed), padded 5 − 1 on each side, every second sample
    want = np.outer(_upfirdn_numpy(a.numpy(), fn[::-1], 1, (4, 4), 2),
                    _upfirdn_numpy(b.numpy(), fn[::-1], 1, (4, 4), 2))
    assert np.allclose(down, want, atol=1e-12)


def test_ada_colour_is_the_papers_transforms():
    x = images(b=5)
    p = 0.7
    torch.manual_seed(13)
    out = A.ada([x], p, "color")[0]
    torch.manual_seed(13)
    bright = torch.randn(5) * A.SETTINGS["brightness_std"]
    bright = torch.where(torch.rand(5) < p, bright, torch.zeros(5))
    con = torch.exp2(torch.randn(5) * A.SETTINGS["contrast_std"])
    con = torch.where(torch.rand(5) < p, con, torch.ones(5))
    flip = torch.floor(torch.rand(5, 1, 1) * 2)
    flip = torch.where(torch.rand(5, 1, 1) < p, flip, torch.zeros(5, 1, 1)).view(5)
    hue = (torch.rand(5) * 2 - 1) * math.pi
    hue = torch.where(torch.rand(5) < p, hue, torch.zeros(5))
    sat = torch.exp2(torch.randn(5, 1, 1)).view(5)
    sat = torch.where(torch.rand(5, 1, 1).view(5) < p, sat, torch.ones(5))
    v = torch.ones(3) / math.sqrt(3)  # the luma axis
    for s in range(5):
        rgb = x[s].reshape(3, -1)
        rgb = (rgb + bright[s]) * con[s]
        rgb = rgb - 2 * flip[s] * torch.outer(v, v) @ rgb  # mirror across the luma plane
        # Rodrigues: rotate about v by the hue angle
        kmat = torch.tensor([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])
        rot = torch.eye(3) + math.sin(hue[s]) * kmat + (1 - math.cos(hue[s])) * kmat @ kmat
        rgb = rot @ rgb
        gray = torch.outer(v, v) @ rgb
        rgb = gray + (rgb - gray) * sat[s]
        assert torch.allclose(out[s], rgb.reshape(3, 8, 8), atol=1e-5), s


def test_ada_at_p_0_changes_almost_nothing_and_geometry_is_differentiable():
    """At p = 0 nothing is drawn to happen; the geometric group still resamples (as the
    reference does), which the symlet filter keeps close to the identity away from edges."""
    x = images(b=2, h=16, w=16).requires_grad_(True)
    out = A.ada([x], 0.0, "bgc")[0]
    assert (out - x)[:, :, 3:-3, 3:-3].abs().max() < 0.05
    out.square().sum().backward()
    assert x.grad.abs().sum() > 0


def test_ada_one_channel_colour():
    x = images(b=2, c=1)
    torch.manual_seed(1)
    out = A.ada([x], 1.0, "color")[0]
    assert out.shape == x.shape and torch.isfinite(out).all()
