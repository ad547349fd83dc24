"""specs/ssgan.gan (google/compare_gan SSGAN, ResNet CIFAR-10): it trains from the command line
at small params; each player's loss equals the reference's on fixed draws, the rotation terms
included (ssgan.py's cross-entropy of D's four rotation logits, weighted β = 1 for D on real
images and α = 0.2 for G on its fakes); `rotate90` turns images as compare_gan's
`rotate_images` does; and G's up-convolutions are unpool followed by a 3×3 conv."""

from __future__ import annotations

import csv
import math

import pytest
import torch
import torch.nn.functional as F
from conftest import ROOT

import gandsl
import gandsl.runtime as rt

SPEC = ROOT / "specs" / "ssgan.gan"
SMALL = {"gch": 8, "dch": 8, "nz": 8}


def test_trains_from_the_command_line(tmp_path):
    from gandsl.cli import main

    out = tmp_path / "run"
    assert main(["train", str(SPEC), "--steps", "2", "--batch", "4", "--data", "shapes",
                 "--out", str(out), "--no-progress", "--param", "gch=8", "--param", "dch=8",
                 "--param", "nz=8", "--param", "n_dis=2"]) == 0
    with open(out / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["step"] for r in rows] == ["0", "1"]
    assert {"D/gan_d", "D/rotation", "G/gan_g", "G/rotation"} <= set(rows[0])
    assert all(math.isfinite(float(v)) for r in rows for k, v in r.items() if k != "step")


class Fixed:
    """The same draws every call: 8 real images, 8 latents in [−1, 1], and the rotation of
    each sample, every quarter turn twice."""

    def __init__(self) -> None:
        g = torch.Generator().manual_seed(1)
        self.x = torch.rand(8, 3, 32, 32, generator=g) * 2 - 1
        self.z = torch.rand(8, 8, generator=g) * 2 - 1
        self.k = torch.tensor([0, 1, 2, 3, 3, 2, 1, 0])

    def data(self, name):
        return (self.x,)

    def uniform(self, n, low=0.0, high=1.0):
        assert (n, low, high) == (8, -1, 1)
        return self.z

    def categorical(self, n):
        assert n == 4
        return self.k


def tf_rotate(x, k: int):
    """compare_gan's gans/utils.py rotate_images, one angle, on NCHW images: 90° is
    flip_up_down(transpose_image(x)), 180° flip_left_right(flip_up_down(x)), 270°
    transpose_image(flip_up_down(x))."""
    transpose = lambda t: t.transpose(-2, -1)  # noqa: E731
    up_down, left_right = (lambda t: t.flip(-2)), (lambda t: t.flip(-1))
    return [x, up_down(transpose(x)), left_right(up_down(x)), transpose(up_down(x))][k]


def rotation_loss(logits, k):
    """ssgan.py: −mean(Σ onehot(k) · log(softmax(logits) + 1e-10))."""
    onehot = F.one_hot(k, 4).float()
    return -(onehot * torch.log(torch.softmax(logits, -1) + 1e-10)).sum(1).mean()


def bce(logits, target: float):
    """tf.nn.sigmoid_cross_entropy_with_logits against a constant label, averaged."""
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


@pytest.mark.parametrize("params", [{}, {"alpha": 0.5, "beta": 2.0, "n_dis": 1}])
def test_losses_equal_the_reference_with_rotation_terms(params):
    loaded = gandsl.load(SPEC, **SMALL, **params)
    torch.manual_seed(0)
    nets = {n: c() for n, c in loaded.classes.items()}
    nets["D"].eval()  # no batch norm in D; eval keeps spectral norm's vector u fixed, so D
    objective = loaded.module.Objective(nets)  # is the same function at every call
    terms = {}

    def update(player, loss, values):  # records each player's terms, steps nothing
        for m in nets.values():
            m.zero_grad(set_to_none=True)
        loss.backward()
        terms[player] = {k: v.detach() for k, v in values.items()} | {"loss": loss.detach()}

    draws = Fixed()
    objective.iteration(0, draws, update)

    G, D = nets["G"], nets["D"]
    alpha, beta = params.get("alpha", 0.2), params.get("beta", 1.0)
    x, k = draws.x, draws.k
    with torch.no_grad():
        fake = G(draws.z)  # G in train mode, as in the iteration: the same batch statistics
        x_rot = torch.stack([tf_rotate(xi, int(ki)) for xi, ki in zip(x, k, strict=True)])
        fake_rot = torch.stack([tf_rotate(fi, int(ki)) for fi, ki in zip(fake, k, strict=True)])
        d_real, d_fake = D(x).src, D(fake).src
        c_real, c_fake = D(x_rot).rot, D(fake_rot).rot
    d_gan = bce(d_real, 1) + bce(d_fake, 0)  # loss_lib.non_saturating
    g_gan = bce(d_fake, 1)
    c_real_loss, c_fake_loss = rotation_loss(c_real, k), rotation_loss(c_fake, k)

    close = dict(rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(terms["D"]["gan_d"], d_gan, **close)
    torch.testing.assert_close(terms["D"]["rotation"], c_real_loss, **close)
    torch.testing.assert_close(terms["D"]["loss"], d_gan + beta * c_real_loss, **close)
    torch.testing.assert_close(terms["G"]["gan_g"], g_gan, **close)
    torch.testing.assert_close(terms["G"]["rotation"], c_fake_loss, **close)
    torch.testing.assert_close(terms["G"]["loss"], g_gan + alpha * c_fake_loss, **close)
    assert c_real_loss > 0.5 and c_fake_loss > 0.5  # not trivially 0: D does not know k


def test_rotate90_turns_images_as_the_reference():
    x = torch.arange(2 * 3 * 4 * 4, dtype=torch.float32).reshape(2, 3, 4, 4)
    for turn in range(4):
        k = torch.full((2,), turn)
        torch.testing.assert_close(rt.rotate90(x, k), tf_rotate(x, turn))


def test_up_convolution_is_unpool_then_conv():
    """resnet_ops.unpool puts each value at (2i, 2j) with zeros between; a 3×3 "same" conv of
    that equals the transposed conv of G's blocks (stride 2, padding 1, output padding 1) with
    its kernel flipped and its channel axes swapped."""
    torch.manual_seed(0)
    g = gandsl.load(SPEC, **SMALL).classes["G"]()
    up = g.main[0].main[2]  # the first G block (in G.main): BN, ReLU, then this conv_t
    assert (up.kernel_size, up.stride, up.padding, up.output_padding) == (
        (3, 3), (2, 2), (1, 1), (1, 1))
    x = torch.randn(2, 8, 4, 4)
    unpooled = torch.zeros(2, 8, 8, 8)
    unpooled[:, :, ::2, ::2] = x
    weight = up.weight.flip(-2, -1).transpose(0, 1)  # (out, in, 3, 3) for conv2d
    with torch.no_grad():
        torch.testing.assert_close(up(x), F.conv2d(unpooled, weight, up.bias, padding=1))


def test_parameter_counts_by_layer():
    """The trainable variables of compare_gan's resnet_cifar networks, by hand."""
    conv = lambda cin, cout: 3 * 3 * cin * cout + cout  # noqa: E731  every conv has a bias
    g_block = 3 * conv(256, 256) + 2 * (2 * 256)  # shortcut, conv1, conv2; bn1, bn2 (γ, β)
    g = (128 * 4096 + 4096) + 3 * g_block + 2 * 256 + conv(256, 3)
    d_first = conv(3, 128) + conv(3, 128) + conv(128, 128)
    d = d_first + 3 * (3 * conv(128, 128)) + (128 + 1) + (128 * 4 + 4)
    loaded = gandsl.load(SPEC)
    with torch.device("meta"):
        counts = {n: sum(p.numel() for p in c().parameters()) for n, c in loaded.classes.items()}
    assert (g, d) == (5_849_603, 1_483_653)
    assert counts == {"G": g, "D": d}
