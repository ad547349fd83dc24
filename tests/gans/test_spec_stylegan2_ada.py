"""StyleGAN2-ADA (specs/stylegan2_ada.gan): StyleGAN2's networks imported at the paper256
config, every image D sees augmented by ADA's pipeline with probability p, and p a state
moved by the sign heuristic. Trains from the command line at small params; on fixed draws
each loss is the paper's formula, the augmentations, noise and style mixing replayed from
the same torch seed; p moves as training_loop.py moves it."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from conftest import ROOT

import gandsl
import gandsl.runtime as rt
from gandsl.cli import main
from gandsl.train.config import RunConfig
from gandsl.train.trainer import Trainer

SPEC = ROOT / "specs" / "stylegan2_ada.gan"
SMALL = {"S": 16, "cbase": 128, "cmax": 8, "z_dim": 8, "w_dim": 8, "map_layers": 2,
         "mbstd": 4, "batch": 4}
NW = 2 * 4 - 2  # styles at 16×16
SIGNS = 1.5  # the sum of r_t over the interval's earlier iterations


def test_counts_are_the_references_paper256():
    """Measured by building stylegan2-ada-pytorch's Generator and Discriminator with
    `--cfg=paper256` (channel_base 16384, 8 mapping layers, mbstd group 8)."""
    loaded = gandsl.load(SPEC)
    with torch.device("meta"):
        counts = {n: sum(p.numel() for p in c().parameters()) for n, c in loaded.classes.items()}
    assert counts == {"G_mapping": 2_101_248, "G_synthesis": 22_666_210, "D": 24_001_089}


def test_trains_a_few_steps_and_p_is_a_logged_state(tmp_path):
    argv = ["train", str(SPEC), "--steps", "4", "--batch", "4", "--data", "shapes",
            "--out", str(tmp_path / "run"), "--no-progress"]
    for k, v in SMALL.items():
        argv += ["--param", f"{k}={v}"]
    assert main(argv) == 0
    lines = (tmp_path / "run" / "metrics.csv").read_text().splitlines()
    header = lines[0].split(",")
    assert "state/p" in header and "D/r1" in header and "G/pl" in header
    # p starts at 0, never goes below, and moves only after the 4th iteration, by
    # 4 · batch / 500k
    col = header.index("state/p")
    ps = [float(line.split(",")[col]) for line in lines[1:]]
    assert ps[:3] == [0.0, 0.0, 0.0] and ps[3] in (0.0, pytest.approx(16 / 500_000))


def run(step, p, seed):
    """One iteration at `step` with fixed reals and latents; networks in eval mode (the same
    functions at every call), nothing stepped. Returns the terms, networks, draws and states."""
    loaded = gandsl.load(SPEC, **SMALL)
    torch.manual_seed(0)
    nets = {n: c().eval() for n, c in loaded.classes.items()}
    objective = loaded.module.Objective(nets)
    objective.state.update({"p": p, "pl_mean": 0.5, "signs": SIGNS})
    g = torch.Generator().manual_seed(7)
    draws = {"x": torch.rand(4, 3, 16, 16, generator=g) * 2 - 1,
             "z": [torch.randn(4, 8, generator=g), torch.randn(4, 8, generator=g)]}

    class Draw:
        def data(self, name):
            assert name == "ffhq"
            return (draws["x"],)

        def normal(self, n):
            return draws["z"].pop(0)

    terms = {}

    def update(player, loss, values):
        terms[player] = {k: v.detach() for k, v in values.items()}

    torch.manual_seed(seed)
    objective.iteration(step, Draw(), update)
    return terms, nets, g, objective


def replay(nets, step, p, seed):
    """The iteration's draws in its order: style mixing and G's noise, T of G's fakes, the
    path lengths' noise (lazy steps), T of the reals and of the fakes in D's step, then the
    R1 pass's own T of the reals (lazy steps)."""
    g = torch.Generator().manual_seed(7)
    x = torch.rand(4, 3, 16, 16, generator=g) * 2 - 1
    z, z_mix = torch.randn(4, 8, generator=g), torch.randn(4, 8, generator=g)
    Gm, Gs, D = nets["G_mapping"], nets["G_synthesis"], nets["D"]
    T = rt.Augment(rt.ada("bgc"))
    torch.manual_seed(seed)
    out = {}
    ws = rt.mix_styles(Gm(z).detach(), Gm(z_mix).detach(), layers=NW)
    fake = Gs(ws).detach()
    out["g_fake"] = D(T(fake, p=p)).detach()
    if step % 4 == 0:
        rt.path_lengths(Gs, ws, layers=NW, shrink=2)
    out["real"] = D(T(x, p=p)).detach()
    out["fake"] = D(T(fake, p=p)).detach()
    if step % 16 == 0:
        v = x.clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(D(T(v, p=p)).sum(), v)
        out["r1"] = 0.5 * grad.square().sum(dim=[1, 2, 3]).mean()
    return out


@pytest.mark.parametrize(("step", "p"), [(16, 0.5), (3, 1.0), (7, 0.0), (5, 0.0)])
def test_losses_are_the_papers_on_augmented_scores(step, p):
    terms, nets, _, objective = run(step, p, seed=11)
    want = replay(nets, step, p, seed=11)
    torch.testing.assert_close(terms["G"]["gan_g"], F.softplus(-want["g_fake"]).mean())
    torch.testing.assert_close(
        terms["D"]["gan_d"],
        F.softplus(want["fake"]).mean() + F.softplus(-want["real"]).mean())
    if step % 16 == 0:
        torch.testing.assert_close(terms["D"]["r1"], want["r1"])
        assert "pl" in terms["G"]
    else:
        assert "r1" not in terms["D"] and "pl" not in terms["G"]
    # training_loop.py, after iterations 4, 8, ... (step 3, 7, ...): r_t the mean of the
    # interval's signs, p ← max(p + sign(r_t − 0.6) · 4 · batch / 500k, 0); else p stays and
    # the signs add up
    r = float(torch.sign(want["real"]).mean())
    last = step % 4 == 3
    r_t = (SIGNS + r) / 4
    sign = (r_t > 0.6) - (r_t < 0.6)
    moved = max(p + sign * 4 * 4 / 500_000, 0.0) if last else p
    # p is float32, as the reference's
    assert abs(float(objective.state["p"]) - moved) < 1e-7
    assert float(objective.state["signs"]) == pytest.approx(0.0 if last else SIGNS + r)


def test_augmentation_is_on_only_with_p():
    """At p = 0 T is the identity (up to the symlet filter's rounding), so D's scores are the
    plain StyleGAN2 ones; at p = 1 they differ."""
    _, nets, _, _ = run(5, 0.0, seed=4)
    g = torch.Generator().manual_seed(7)
    x = torch.rand(4, 3, 16, 16, generator=g) * 2 - 1
    plain = nets["D"](x).detach()
    for p, same in [(0.0, True), (1.0, False)]:
        augmented = replay(nets, 5, p, seed=4)["real"]
        assert torch.allclose(augmented, plain, atol=1e-4) == same


def test_resume_is_exact_with_the_augmentations_and_p(tmp_path):
    """8 iterations straight, and 4 + resume 4, give the same metrics (losses, r1 and pl on
    their lazy steps, p) and bit-identical weights: the augmentations' draws and p are in the
    checkpoint. p starts at ½ so that every transformation is in play."""
    def trainer(out, steps, resume=None):
        t = Trainer(RunConfig(spec=str(SPEC), params=dict(SMALL), data="shapes",
                                 steps=steps, batch=4, out=tmp_path / out, resume=resume,
                                 progress=False, sample_every=1000, checkpoint_every=1000,
                                 log_every=1))
        if resume is None:
            t.objective.state["p"] = 0.5
        return t
    straight = trainer("a", 8)
    straight.run()
    trainer("b", 4).run()
    resumed = trainer("b", 8, resume=tmp_path / "b")
    resumed.run()
    assert (tmp_path / "a" / "metrics.csv").read_text() == \
        (tmp_path / "b" / "metrics.csv").read_text()
    for name, net in straight.networks.items():
        for (k, a), b in zip(net.state_dict().items(),
                             resumed.networks[name].state_dict().values(), strict=True):
            assert torch.equal(a, b), f"{name}.{k}"
    p = float(straight.objective.state["p"])
    assert p == float(resumed.objective.state["p"])
    assert abs(p - 0.5) in (0, pytest.approx(2 * 16 / 500_000, abs=1e-7))  # at steps 3 and 7
