"""specs/bicyclegan.gan (junyanz/BicycleGAN, facades defaults): it trains, samples and
evaluates from the command line at small params on aligned pairs; the image `sample` and
`eval` use is G's cLR-GAN sample G(a, z), not the encoder's or a discriminator's output; and
each of the four players' losses equals the reference's formula (bicycle_gan_model.py:
MSE without ½ summed over D's two scales, L1, the summed KL, the latent L1) on fixed draws."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import torch
from conftest import ROOT
from PIL import Image

import gandsl
from gandsl.cli import main

SPEC = ROOT / "specs" / "bicyclegan.gan"
# 64×64 is the smallest size D's second scale (S/16 − 2 patches) allows; thin networks
SMALL = {"S": 64, "ngf": 4, "ndf": 4, "nef": 4}


def write_pairs(folder, n: int = 4) -> None:
    """Aligned files as the facades archive holds them: B (photo) left, A (labels) right."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for k in range(n):
        Image.fromarray(rng.integers(0, 256, (16, 32, 3), dtype=np.uint8)).save(
            folder / f"{k}.png")


def test_trains_samples_and_evaluates_from_the_command_line(tmp_path, monkeypatch):
    write_pairs(tmp_path / "pairs")
    flags = [f for k, v in SMALL.items() for f in ("--param", f"{k}={v}")]
    run = tmp_path / "run"
    assert main(["train", str(SPEC), "--steps", "2", "--batch", "2", "--data",
                 str(tmp_path / "pairs"), "--out", str(run), "--no-progress", *flags]) == 0
    with open(run / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["step"] for r in rows] == ["0", "1"]
    assert {"E/kl", "G/z", "G/gan2", "D/d_s1", "D2/d2"} <= set(rows[0])
    assert all(math.isfinite(float(v)) for r in rows for k, v in r.items() if k != "step")
    assert sorted(p.name for p in (run / "samples").glob("*.png")) == ["step_0000002.png"]

    out = tmp_path / "s.npz"
    assert main(["sample", str(run), "-n", "3", "-o", str(out)]) == 0
    images = np.load(out)["images"]
    assert images.shape == (3, 3, 64, 64) and np.abs(images).max() <= 1

    # A run on an image folder has no offline classifier; `--data shapes` gives one. Training
    # it takes minutes on 2 cores, so an untrained one of the same architecture stands in:
    # what is checked is that eval samples the run and writes its figures.
    from gandsl.eval import run as eval_run
    from gandsl.eval.classifier import FeatureNet, Judge, heads

    def untrained(source, channels, size, log=print):
        torch.manual_seed(0)
        return Judge(source, FeatureNet(channels, heads(source)).eval(),
                     {k: 0.0 for k in heads(source)})

    monkeypatch.setattr(eval_run, "judge", untrained)
    assert main(["eval", str(run), "--n", "10", "--data", "shapes", "--metrics", "fd"]) == 0
    saved = json.loads((run / "eval.json").read_text())
    assert saved["samples"] == 10 and saved["step"] == 2
    assert math.isfinite(saved["metrics"]["fd"])


def test_the_sampled_image_is_g_of_a_random_code(tmp_path):
    """GENERATED[0], what `sample` writes and `eval` scores, is G(a, z) for a fresh z: the
    cLR-GAN sample, made through no other network (not E's code, nor D's score)."""
    loaded = gandsl.load(SPEC, **SMALL)
    module = loaded.module
    assert module.GENERATED == ["fake_random", "fake_encoded"]
    torch.manual_seed(0)
    nets = {n: c().eval() for n, c in loaded.classes.items()}  # dropout off, as in grids

    class Draw:
        def __init__(self):
            g = torch.Generator().manual_seed(2)
            self.b, self.a = (torch.rand(2, 3, 64, 64, generator=g) * 2 - 1 for _ in range(2))
            self.noise = [torch.randn(2, 8, generator=g) for _ in range(2)]  # eps, z_random

        def data(self, name):
            return self.b, self.a  # direction BtoA: the left half is B

        def normal(self, n):
            return self.noise.pop(0)

    draw = Draw()
    eps, z_random = draw.noise
    rows = module.Objective(nets).samples(draw)
    with torch.no_grad():
        assert torch.equal(rows[module.GENERATED[0]], nets["G"](draw.a, z_random))
        code = nets["E"](draw.b)
        encoded = nets["G"](draw.a, code.mu + (0.5 * code.logvar).exp() * eps)
        assert torch.allclose(rows["fake_encoded"], encoded)
    assert list(rows) == ["a", "b", "fake_random", "fake_encoded"]  # the train section's grid


class Fixed:
    """The same draws every iteration: two batches of (B, A) pairs, then ε and z_random."""

    def __init__(self) -> None:
        g = torch.Generator().manual_seed(1)
        image = lambda: torch.rand(2, 3, 64, 64, generator=g) * 2 - 1  # noqa: E731
        self.pairs = [(image(), image()), (image(), image())]
        self.noise = [torch.randn(2, 8, generator=g) for _ in range(2)]
        self.calls = {"data": 0, "normal": 0}

    def data(self, name):
        self.calls["data"] += 1
        return self.pairs[self.calls["data"] - 1]

    def normal(self, n, mean=0.0, std=1.0):
        self.calls["normal"] += 1
        return self.noise[self.calls["normal"] - 1]


def test_each_players_loss_is_the_references():
    loaded = gandsl.load(SPEC, **SMALL, dropout=False)  # no dropout: G is deterministic
    torch.manual_seed(0)
    nets = {n: c() for n, c in loaded.classes.items()}
    terms = {}

    def update(player, loss, values):  # records each player's terms, steps nothing
        terms[player] = {k: v.detach() for k, v in values.items()} | {"loss": loss.detach()}

    draws = Fixed()
    loaded.module.Objective(nets).iteration(0, draws, update)
    assert list(terms) == ["E", "G", "D", "D2"]  # E and G first, then the discriminators

    G, D, D2, E = nets["G"], nets["D"], nets["D2"], nets["E"]
    (b, a), (b2, _) = draws.pairs
    eps, z_random = draws.noise

    def mse(scores, target):  # the reference's GANLoss(lsgan) over D_NLayersMulti's scales
        return sum(((s - target) ** 2).mean() for s in scores)

    with torch.no_grad():
        mu, logvar = E(b)
        fake_encoded = G(a, mu + torch.exp(0.5 * logvar) * eps)
        fake_random = G(a, z_random)
        kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
        gan = mse(D(fake_encoded), 1.0)
        gan2 = mse(D2(fake_random), 1.0)
        l1 = (fake_encoded - b).abs().mean()
        latent = (E(fake_random).mu - z_random).abs().mean()
        want = {
            "E": gan + 10 * l1 + 0.01 * kl,            # the terms that reach E
            "G": gan + gan2 + 10 * l1 + 0.5 * latent,  # every term but the KL
            "D": mse(D(b), 1.0) + mse(D(fake_encoded), 0.0),
            "D2": mse(D2(b2), 1.0) + mse(D2(fake_random), 0.0),
        }
    assert kl > 1e-3 and latent > 1e-3
    torch.testing.assert_close(terms["E"]["kl"], kl, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(terms["G"]["z"], latent, rtol=1e-5, atol=1e-6)
    for player, loss in want.items():
        torch.testing.assert_close(terms[player]["loss"], loss, rtol=1e-5, atol=1e-6)
