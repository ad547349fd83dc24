"""specs/r3gan.gan (brownvc/R3GAN, CIFAR-10 preset, class-conditional by default): it trains
from the command line at small params; each player's loss equals RpGAN + R1 + R2 written by
hand with autograd on fixed draws, with D(·, y) differentiated at the class held fixed (and
without a class under `cond=false`); the residual blocks start as R3GAN's fix-up
initialization makes them (first layer N(0, gain²/fan_in) with gain √(2/(1+0.2²))·L^(−1/4),
last layer zero), and so do the class embeddings (G's: gain 1 at fan_in 10; D's: gain 1/√768
at fan_in 10); and the resampling layers are upfirdn2d's [1, 3, 3, 1] FIR filters."""

from __future__ import annotations

import csv
import math

import pytest
import torch
import torch.nn.functional as F
from conftest import ROOT

import gandsl
import gandsl.runtime as rt
from gandsl.emit import classes

SPEC = ROOT / "specs" / "r3gan.gan"
# S 8 (2 resolutions), 8 channels expanded to 16 in 2 groups, 1 block per resolution
SMALL = {"S": 8, "nz": 8, "ch": 8, "groups": 2, "blocks": 1}


def test_trains_from_the_command_line(tmp_path):
    from gandsl.cli import main

    flags = [f for k, v in SMALL.items() for f in ("--param", f"{k}={v}")]
    out = tmp_path / "run"
    assert main(["train", str(SPEC), "--steps", "2", "--batch", "4", "--data", "shapes",
                 "--out", str(out), "--no-progress", *flags]) == 0
    with open(out / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["step"] for r in rows] == ["0", "1"]
    assert all(math.isfinite(float(v)) for r in rows for k, v in r.items() if k != "step")


def cosine_decay_with_warmup(cur_nimg, base_value, total_nimg, final_value):
    """R3GAN's training/training_loop.py schedule, without warm-up or hold (as it is used)."""
    decay = 0.5 * (1 + math.cos(math.pi * cur_nimg / total_nimg))
    value = base_value + (1 - decay) * (final_value - base_value)
    return final_value if cur_nimg > total_nimg else value


STEPS = [0, 1, 19_531, 39_062, 39_063, 60_000]  # to the horizon (20M / 512 = 39,062.5), past it


def test_lr_follows_the_references_cosine(tmp_path):
    """`lr cosine(start=0, end=horizon, min_lr=lr_end)`: 2e-4 → 5e-5 as the reference's
    lr_scheduler, at every image count the steps reach (batch 512)."""
    from gandsl.train.config import RunConfig
    from gandsl.train.trainer import Trainer

    t = Trainer(RunConfig(spec=str(SPEC), params=dict(SMALL), data="shapes", steps=2, batch=4,
                          out=tmp_path / "run", progress=False))
    for player in ("G", "D"):
        got = [t.lr_factor[player](k) * 2e-4 for k in STEPS]
        want = [cosine_decay_with_warmup(k * 512, 2e-4, 20e6, 5e-5) for k in STEPS]
        assert got == pytest.approx(want, rel=1e-12)


class Fixed:
    """The same draws every call: 6 real images, mirror-symmetric so that the spec's random
    left-right flip (`--mirror=1`) leaves them as they are, their classes, and 6 latents."""

    def __init__(self, cond: bool) -> None:
        g = torch.Generator().manual_seed(1)
        x = torch.rand(6, 3, 8, 8, generator=g) * 2 - 1
        self.x = (x + x.flip(3)) / 2
        self.y = torch.tensor([3, 0, 7, 3, 9, 1])
        self.z = torch.randn(6, 8, generator=g)
        self.cond = cond

    def data(self, name):
        return (self.x, self.y) if self.cond else (self.x,)

    def normal(self, n, mean=0.0, std=1.0):
        return self.z


R3GAN_ADA = rt.ada("bgc", brightness=0.5, contrast=0.5, lumaflip=0.5, hue=0.5,
                   saturation=0.5, cutout=1)  # brownvc/R3GAN train.py's augment_kwargs


@pytest.mark.parametrize(("cond", "aug", "step"),
                         [(True, False, 0), (False, False, 0), (True, False, 19_531),
                          (True, False, 60_000), (True, True, 19_531), (False, True, 60_000)],
                         ids=["conditional", "unconditional", "mid-cosine", "past-horizon",
                              "augmented", "augmented-unconditional"])
def test_losses_equal_rpgan_r1_r2_by_hand(cond, aug, step):
    """γ at `step` is the reference's gamma_scheduler: 0.05 → 0.005 along the cosine. With
    `aug`, D sees A(x) and A(G(z)) (A replayed from the same seed: the reals' mirror, then A of
    the reals, of the fakes, and of each penalty's own pass), the penalties differentiate D∘A
    at the images before A, and A's p is aug_scheduler's: 0 → 0.55 along the cosine."""
    loaded = gandsl.load(SPEC, **SMALL, cond=cond, aug=aug)
    torch.manual_seed(0)
    nets = {n: c() for n, c in loaded.classes.items()}
    with torch.no_grad():  # the last layer of every branch starts at 0: move it, so D is
        for p in nets["D"].parameters():  # not linear in x and the penalties are not trivial
            p.add_(0.05 * torch.randn_like(p))
    objective = loaded.module.Objective(nets)
    terms = {}

    def update(player, loss, values):  # records each player's terms, steps nothing
        for m in nets.values():
            m.zero_grad(set_to_none=True)
        loss.backward()
        terms[player] = {k: v.detach() for k, v in values.items()} | {"loss": loss.detach()}

    draws = Fixed(cond)
    torch.manual_seed(5)
    objective.iteration(step, draws, update)

    G, D = nets["G"], nets["D"]
    y = draws.y
    p_aug = cosine_decay_with_warmup(step * 512, 0.0, 20e6, 0.55)
    A = (lambda v: rt.Augment(R3GAN_ADA)(v, p=p_aug)) if aug else (lambda v: v)

    def critic(x, y):  # D(A(x), y) under cond, D(A(x)) without
        return D(A(x), y) if cond else D(A(x))

    def grad_norm2(x, y):  # ‖∇_x D(A(x), y)‖² per sample, the class held fixed
        x = x.detach().requires_grad_(True)
        (grad,) = torch.autograd.grad(critic(x, y).sum(), x)
        return grad.square().sum([1, 2, 3])

    with torch.no_grad():
        fake = G(draws.z, y) if cond else G(draws.z)  # the fakes take the reals' classes
    torch.manual_seed(5)
    rt.Augment(rt.flip)(draws.x)  # --mirror=1: a draw, and no change to symmetric images
    with torch.no_grad():
        real_logits, fake_logits = critic(draws.x, y), critic(fake, y)
    gamma = cosine_decay_with_warmup(step * 512, 0.05, 20e6, 0.005)
    rp_d = F.softplus(-(real_logits - fake_logits)).mean()
    r1 = gamma / 2 * grad_norm2(draws.x, y).mean()
    r2 = gamma / 2 * grad_norm2(fake, y).mean()
    rp_g = F.softplus(-(fake_logits - real_logits)).mean()

    assert r1 > 1e-6 and r2 > 1e-6
    torch.testing.assert_close(terms["D"]["rp"], rp_d, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(terms["D"]["r1"], r1, rtol=1e-4, atol=1e-7)
    torch.testing.assert_close(terms["D"]["r2"], r2, rtol=1e-4, atol=1e-7)
    torch.testing.assert_close(terms["D"]["loss"], rp_d + r1 + r2, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(terms["G"]["rp"], rp_g, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(terms["G"]["loss"], rp_g, rtol=1e-5, atol=1e-6)
    if aug:  # A really moved the images: without it the logits differ
        with torch.no_grad():
            plain = D(draws.x, y) if cond else D(draws.x)
        assert not torch.allclose(plain, real_logits, rtol=1e-3)
    if cond:  # the class matters: other classes give other logits and other penalties
        other = (y + 1) % 10
        with torch.no_grad():
            assert not torch.allclose(D(draws.x, other), D(draws.x, y), rtol=1e-3)


def test_fixup_initialization_at_the_reference_size():
    """At the CIFAR-10 size (768 channels, 96 groups, L = 8 blocks per network): the first
    two layers of a residual branch are N(0, gain²/fan_in) with R3GAN's gain, the last is 0;
    the layers outside the branches have gain 1; the class embeddings are MSRInitializer's
    nn.Linear(10, ·) without bias: G's with gain 1, D's with gain 1/√768."""
    torch.manual_seed(0)
    loaded = gandsl.load(SPEC)
    G, D = loaded.classes["G"](), loaded.classes["D"]()
    gain = math.sqrt(2 / (1 + 0.2 ** 2)) * 8 ** (-1 / (2 * 3 - 2))
    sources, class_of, _ = classes(loaded.spec)
    paths = {c.name: c.paths for c in sources}  # spec's layer → the module that holds it

    def layer(net: str, module: torch.nn.Module, name: str) -> torch.nn.Module:
        return module.get_submodule(paths[class_of[net]][name])

    for net, i in [("G", 1), ("G", 4), ("D", 8)]:
        module, block = (G, "synthesis_1") if net == "G" else (D, "features_1")
        first, grouped, last = (layer(net, module, f"{block}_res_{i}_conv_{k}").weight
                                for k in (1, 2, 3))
        assert first.shape == (1536, 768, 1, 1) and grouped.shape == (1536, 16, 3, 3)
        assert first.mean().abs() < 1e-4
        assert first.std().item() == pytest.approx(gain / math.sqrt(768), rel=0.01)
        assert grouped.std().item() == pytest.approx(gain / math.sqrt(16 * 9), rel=0.01)
        assert torch.count_nonzero(last) == 0
        assert torch.count_nonzero(layer(net, module, f"{block}_res_{i}_bias_1").bias) == 0
    basis_map = G.synthesis_1.linear.weight    # GenerativeBasis: gain 1, fan_in 64 + 64
    assert basis_map.shape == (768, 128)
    assert basis_map.std().item() == pytest.approx(1 / math.sqrt(128), rel=0.02)
    assert G.synthesis_1.const.const.std().item() == pytest.approx(1.0, rel=0.05)  # N(0, 1)

    g_embed = G.linear_1                         # G's EmbeddingLayer: Linear(10, 64), gain 1
    assert g_embed.weight.shape == (64, 10) and g_embed.bias is None
    assert g_embed.weight.std().item() == pytest.approx(1 / math.sqrt(10), rel=0.1)
    last = D.linear_1.weight                     # DiscriminativeBasis's map to 768, gain 1
    assert last.shape == (768, 768) and D.linear_1.bias is None
    assert last.std().item() == pytest.approx(1 / math.sqrt(768), rel=0.01)
    # D's EmbeddingLayer: Linear(10, 768), gain 1/√768 at fan_in 10, i.e. N(0, 1/7680); the
    # projection holds it transposed, (10, 768)
    d_embed = D.projection_1.embed.weight
    assert d_embed.shape == (10, 768)
    assert d_embed.mean().abs() < 1e-3
    assert d_embed.std().item() == pytest.approx(1 / math.sqrt(768 * 10), rel=0.03)
    assert sum(p.numel() for p in G.parameters()) == 20_781_952
    assert sum(p.numel() for p in D.parameters()) == 21_280_512


def test_the_class_enters_as_the_reference_has_it():
    """G(z, y) is the unconditional synthesis of concat(z, W_g·onehot(y)); D(x, y) is
    (W_d·φ(x)) · E[y], the dot product of the last linear map's 768 features with the class
    embedding: R3GAN's `torch.cat([x, EmbeddingLayer(y)])` and
    `(x * EmbeddingLayer(y)).sum(dim=1)`."""
    loaded = gandsl.load(SPEC, **SMALL)
    torch.manual_seed(0)
    G, D = loaded.classes["G"](), loaded.classes["D"]()
    with torch.no_grad():
        for p in list(G.parameters()) + list(D.parameters()):
            p.copy_(0.2 * torch.randn_like(p))
        z, y = torch.randn(4, 8), torch.tensor([0, 9, 4, 4])
        onehot = F.one_hot(y, 10).float()
        v = torch.cat([z, onehot @ G.linear_1.weight.t()], dim=1)
        torch.testing.assert_close(G(z, y), G.synthesis_1(v))
        x = torch.randn(4, 3, 8, 8)
        h = D.linear_1(D.features_1(x))
        expected = (h * (onehot @ D.projection_1.embed.weight)).sum(dim=1)
        torch.testing.assert_close(D(x, y), expected)


def test_resampling_is_the_fir_filter():
    """G's ×2 upsampling and D's ×½ downsampling equal upfirdn2d with the [1, 3, 3, 1]
    kernel (R3GAN's InterpolativeUpsampler / Downsampler): a transposed conv with stride 2
    and 4·K, a conv with stride 2 and K, K = outer([1, 3, 3, 1]) / 64, padding 1."""
    loaded = gandsl.load(SPEC, **SMALL, cond=False)
    k = torch.tensor([1.0, 3.0, 3.0, 1.0])
    kernel = (torch.outer(k, k) / 64).view(1, 1, 4, 4)
    steps = int(math.log2(SMALL["S"])) - 2  # resamplings between 4×4 and S×S
    torch.manual_seed(0)
    G, D = loaded.classes["G"](), loaded.classes["D"]()
    g, d = G.synthesis_1, D.features_1
    with torch.no_grad():  # identity blocks around the resampling (zero branches) expose it
        for m in (G, D):
            for name, p in m.named_parameters():
                if "res" in name:
                    p.zero_()
        g.linear.weight.copy_(torch.eye(8))  # the 4×4 map is the basis scaled by z
        z = torch.zeros(2, 8)
        z[:, 0], z[:, 3] = 1.0, -2.0
        h = g.const.const * torch.tile(z.view(2, 8, 1, 1), (1, 1, 4, 4))
        for _ in range(steps):
            h = F.conv_transpose2d(h.reshape(-1, 1, *h.shape[2:]), 4 * kernel, stride=2,
                                   padding=1).view(2, 8, 2 * h.shape[2], 2 * h.shape[3])
        expected = F.conv2d(h, g.conv.weight)
        torch.testing.assert_close(G(z), expected, rtol=1e-5, atol=1e-5)

        x = torch.randn(2, 3, 8, 8)
        h = F.conv2d(x, d.conv1.weight)
        for _ in range(steps):
            h = F.conv2d(h.reshape(-1, 1, *h.shape[2:]), kernel, stride=2, padding=1)
            h = h.view(2, 8, *h.shape[2:])
        h = F.conv2d(h, d.conv2.weight, groups=8).flatten(1)
        torch.testing.assert_close(D(x), F.linear(h, D.linear_1.weight).view(2), rtol=1e-5,
                                   atol=1e-5)
