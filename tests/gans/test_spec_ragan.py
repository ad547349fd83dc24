"""specs/ragan.gan (AlexiaJM/RelativisticGAN, `--arch 1` at the paper's CIFAR-10 setting): it
trains from the command line at small params, and each player's loss equals the reference's
formula on fixed draws, for every value of `loss` (RaSGAN, RaLSGAN, RSGAN, RaHingeGAN), with
G's step on its own draw of real images and noise as the reference's loop makes it."""

from __future__ import annotations

import csv
import math

import pytest
import torch
import torch.nn.functional as F
from conftest import ROOT

import gandsl

SPEC = ROOT / "specs" / "ragan.gan"
# 4 base channels (G 32 → 16 → 8 → 4, D 4 … 32), 8 latents, batch norm in D (no spectral
# norm, so that recomputing D after the iteration gives the iteration's values exactly)
SMALL = {"ch": 4, "nz": 8, "sn": False}


def test_trains_from_the_command_line(tmp_path):
    from gandsl.cli import main

    out = tmp_path / "run"
    assert main(["train", str(SPEC), "--steps", "2", "--batch", "4", "--data", "shapes",
                 "--out", str(out), "--no-progress", "--param", "ch=4", "--param", "nz=8",
                 "--param", "loss=ralsgan"]) == 0
    with open(out / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["step"] for r in rows] == ["0", "1"]
    assert {"D/real", "D/fake", "G/real", "G/fake"} <= set(rows[0])
    assert all(math.isfinite(float(v)) for r in rows for k, v in r.items() if k != "step")


class Fixed:
    """Two fixed batches of real images and two of latents, handed out in turn: the spec draws
    `x` then `x_g` from the data and `z` then `z_g` from the normal distribution."""

    def __init__(self) -> None:
        g = torch.Generator().manual_seed(1)
        self.x = [torch.rand(6, 3, 32, 32, generator=g) * 2 - 1 for _ in range(2)]
        self.z = [torch.randn(6, 8, generator=g) for _ in range(2)]
        self.calls = {"data": 0, "normal": 0}

    def data(self, name):
        assert name == "cifar"
        i = self.calls["data"]
        self.calls["data"] += 1
        return (self.x[i],)

    def normal(self, n, mean=0.0, std=1.0):
        assert (n, mean, std) == (8, 0.0, 1.0)
        i = self.calls["normal"]
        self.calls["normal"] += 1
        return self.z[i]


def run(loss: str):
    """Each player's terms after one iteration whose `update` steps nothing, the networks,
    and the draws."""
    loaded = gandsl.load(SPEC, **SMALL, loss=loss)
    torch.manual_seed(0)
    nets = {n: c() for n, c in loaded.classes.items()}
    objective = loaded.module.Objective(nets)
    terms = {}

    def update(player, loss, values):
        for m in nets.values():
            m.zero_grad(set_to_none=True)
        loss.backward()
        terms[player] = {k: v.detach() for k, v in values.items()} | {"loss": loss.detach()}

    draws = Fixed()
    objective.iteration(0, draws, update)
    assert draws.calls == {"data": 2, "normal": 2}
    return terms, nets, draws


def bce(logits, target: float):
    """The reference's BCE_stable = nn.BCEWithLogitsLoss() against a constant label."""
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


# The reference's errD and errG (GAN_losses_iter.py, loss_D 5 to 8), with y_pred = C(x) and
# y_pred_fake = C(G(z)); D's step uses the first draws, G's step the second.
REFERENCE = {
    "rasgan": (lambda r, f: (bce(r - f.mean(), 1) + bce(f - r.mean(), 0)) / 2,
               lambda r, f: (bce(r - f.mean(), 0) + bce(f - r.mean(), 1)) / 2),
    "ralsgan": (lambda r, f: (((r - f.mean() - 1) ** 2).mean()
                              + ((f - r.mean() + 1) ** 2).mean()) / 2,
                lambda r, f: (((r - f.mean() + 1) ** 2).mean()
                              + ((f - r.mean() - 1) ** 2).mean()) / 2),
    "rsgan": (lambda r, f: bce(r - f, 1), lambda r, f: bce(f - r, 1)),
    "rahinge": (lambda r, f: (F.relu(1 - (r - f.mean())).mean()
                              + F.relu(1 + (f - r.mean())).mean()) / 2,
                lambda r, f: (F.relu(1 + (r - f.mean())).mean()
                              + F.relu(1 - (f - r.mean())).mean()) / 2),
}


@pytest.mark.parametrize("loss", list(REFERENCE))
def test_losses_equal_the_reference_formulas(loss):
    terms, nets, draws = run(loss)
    G, D = nets["G"], nets["D"]
    with torch.no_grad():  # train mode, as in the iteration: the same batch statistics
        real_d, fake_d = D(draws.x[0]), D(G(draws.z[0]))
        real_g, fake_g = D(draws.x[1]), D(G(draws.z[1]))
    d_loss, g_loss = REFERENCE[loss]
    torch.testing.assert_close(terms["D"]["loss"], d_loss(real_d, fake_d), rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(terms["G"]["loss"], g_loss(real_g, fake_g), rtol=1e-5, atol=1e-6)
    # G's step did not reuse D's draws: its loss on them is another number
    assert not torch.isclose(terms["G"]["loss"], g_loss(real_d, fake_d))


def test_relativistic_terms_are_the_papers():
    """RaSGAN's and RaLSGAN's two terms, each half the loss: the real term on
    C(x) − E C(G(z)), the fake term on C(G(z)) − E C(x)."""
    for loss in ("rasgan", "ralsgan"):
        terms, nets, draws = run(loss)
        with torch.no_grad():
            r = nets["D"](draws.x[0])
            f = nets["D"](nets["G"](draws.z[0]))
        real_rel, fake_rel = r - f.mean(), f - r.mean()
        if loss == "rasgan":  # −log σ(real_rel), −log(1 − σ(fake_rel))
            real = -torch.log(torch.sigmoid(real_rel))
            fake = -torch.log(1 - torch.sigmoid(fake_rel))
        else:
            real, fake = (real_rel - 1) ** 2, (fake_rel + 1) ** 2
        torch.testing.assert_close(terms["D"]["real"], real.mean(), rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(terms["D"]["fake"], fake.mean(), rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(terms["D"]["loss"], (real.mean() + fake.mean()) / 2,
                                   rtol=1e-5, atol=1e-6)


def test_parameter_counts_of_both_setups():
    """The stable setup (spectral norm, no batch norm in D) and --spectral False."""
    counts = {}
    for sn in (True, False):
        loaded = gandsl.load(SPEC, sn=sn)
        with torch.device("meta"):
            counts[sn] = {n: sum(p.numel() for p in c().parameters())
                          for n, c in loaded.classes.items()}
    assert counts == {True: {"G": 3_812_355, "D": 2_935_873},
                      False: {"G": 3_812_355, "D": 2_937_665}}
