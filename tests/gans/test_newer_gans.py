"""GANs a new user wrote from docs/language.md alone (tests/gans/*.gan), each in its paper's
form: BiGAN/ALI, bCR-GAN, DRAGAN, f-GAN, MSGAN, WGAN-div, Fisher GAN and instance noise.
Each checks without warnings and trains from the command line; on recorded draws, each
player's terms equal the paper's formula computed by hand from the same networks."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from conftest import ROOT, run_iteration

import gandsl
from gandsl.cli import main
from gandsl.diagnostics import GandslError
from gandsl.pipeline import check_source, read_spec

GANS = sorted((ROOT / "tests" / "gans").glob("*.gan"))
B = 6


@pytest.mark.parametrize("path", GANS, ids=[p.stem for p in GANS])
def test_checks_clean_and_trains(path, tmp_path):
    assert check_source(read_spec(path), str(path), {}).warnings == []
    out = tmp_path / "run"
    assert main(["train", str(path), "--steps", "2", "--batch", "4", "--out", str(out),
                 "--no-progress"]) == 0
    rows = (out / "metrics.csv").read_text().splitlines()
    assert len(rows) == 3 and "nan" not in rows[-1]


class Recorded:
    """Draws from a fixed generator, each kept in `drawn` in the order the iteration asks."""

    def __init__(self, classes: bool = False) -> None:
        self.g = torch.Generator().manual_seed(7)
        self.x = torch.rand(B, 1, 16, 16, generator=self.g) * 2 - 1
        self.c = torch.randint(0, 10, (B,), generator=self.g)
        self.classes = classes
        self.drawn: list[torch.Tensor] = []

    def _keep(self, t):
        self.drawn.append(t)
        return t

    def data(self, name):
        return (self.x, self.c) if self.classes else (self.x,)

    def normal(self, n, mean=0.0, std=1.0):
        size = n if isinstance(n, tuple) else (n,)
        return self._keep(torch.randn(B, *size, generator=self.g) * std + mean)

    def uniform(self, n, low=0.0, high=1.0):
        size = n if isinstance(n, tuple) else (n,)
        return self._keep(torch.rand(B, *size, generator=self.g) * (high - low) + low)


def iterate(name: str, step: int = 0, classes: bool = False, states=None):
    draws = Recorded(classes)
    path = ROOT / "tests" / "gans" / f"{name}.gan"
    return run_iteration(path, draws, step=step, states=states), draws


def test_fgan_is_the_variational_bound():
    """KL: F = E_P[T] − E_Q[exp(T − 1)]; Pearson χ²: f*(t) = t²/4 + t. V maximizes F (its
    loss is −F), G minimizes it."""
    it, draws = iterate("fgan")
    z = draws.drawn[0]
    V, G = it.nets["V"], it.nets["G"]
    with torch.no_grad():
        t_real, t_fake = V(draws.x), V(G(z))
    bound = t_real.mean() - torch.exp(t_fake - 1).mean()
    torch.testing.assert_close(it.terms["V"]["loss"], -bound)
    torch.testing.assert_close(it.terms["G"]["loss"], bound)
    assert it.reached == {"V": ["V"], "G": ["G", "V"]}


def test_msgan_ratio_of_distances():
    """G's mode-seeking term: mean|z1 − z2| / (mean|G(c, z1) − G(c, z2)| + ε)."""
    it, draws = iterate("msgan", classes=True)
    z1, z2 = draws.drawn
    G = it.nets["G"]
    with torch.no_grad():
        f1, f2 = G(z1, draws.c), G(z2, draws.c)
    want = (z1 - z2).abs().mean() / ((f1 - f2).abs().mean() + 1e-5)
    torch.testing.assert_close(it.terms["G"]["ms"], want)


def test_bigan_d_separates_pairs_and_eg_fools_it():
    it, draws = iterate("bigan")
    z = draws.drawn[0]
    E, G, D = it.nets["E"], it.nets["G"], it.nets["D"]
    with torch.no_grad():
        real, fake = D(draws.x, E(draws.x)), D(G(z), z)
    torch.testing.assert_close(it.terms["D"]["gan_d"],
                               F.softplus(-real).mean() + F.softplus(fake).mean())
    torch.testing.assert_close(it.terms["EG"]["gan_d"],
                               F.softplus(-fake).mean() + F.softplus(real).mean())
    assert it.reached["D"] == ["D"] and set(it.reached["EG"]) >= {"E", "G"}


def test_dragan_and_wgan_div_penalties():
    """DRAGAN: 10·mean((‖∇D(x̂)‖ − 1)²) at x̂ = x + a·(x_p − x), x_p = x + ½·std(x)·u;
    WGAN-div: 2·mean(‖∇D(x̂)‖⁶) at x̂ = x + a·(G(z) − x)."""
    def norms(D, at):
        v = at.clone().requires_grad_(True)
        (g,) = torch.autograd.grad(D(v).sum(), v)
        return g.flatten(1).norm(dim=1)

    it, draws = iterate("dragan")
    z, u, a = draws.drawn
    x = draws.x
    std = (x - x.mean()).square().mean().sqrt()
    x_hat = x + a[:, :, None, None] * (0.5 * std * u)
    want = (norms(it.nets["D"], x_hat) - 1).square().mean()
    torch.testing.assert_close(it.terms["D"]["dragan"], want)

    it, draws = iterate("wgan_div")
    z, a = draws.drawn
    with torch.no_grad():
        x_hat = x + a[:, :, None, None] * (it.nets["G"](z) - x)
    torch.testing.assert_close(it.terms["D"]["div"], norms(it.nets["D"], x_hat).pow(6).mean())


@pytest.mark.parametrize("step", [0, 500, 1000, 2000])
def test_instance_noise_anneals_to_nothing(step):
    it, draws = iterate("instance_noise", step=step)
    z, n_real, n_fake = draws.drawn
    sigma = 0.1 * min(max(1 - step / 1000, 0), 1)
    D, G = it.nets["D"], it.nets["G"]
    with torch.no_grad():
        fake = G(z)
        real_s, fake_s = D(draws.x + sigma * n_real), D(fake + sigma * n_fake)
    torch.testing.assert_close(it.terms["D"]["gan_d"],
                               F.softplus(-real_s).mean() + F.softplus(fake_s).mean())
    torch.testing.assert_close(it.terms["G"]["gan_g"], F.softplus(-fake_s).mean())


def test_fisher_multiplier_moves_against_the_constraint():
    it, draws = iterate("fisher", states={"lam": 0.25})
    nets, terms, objective = it.nets, it.terms, it.objective
    z = draws.drawn[0]
    D, G = nets["D"], nets["G"]
    with torch.no_grad():
        fr, ff = D(draws.x), D(G(z))
    ipm = fr.mean() - ff.mean()
    constraint = 1 - (0.5 * fr.square().mean() + 0.5 * ff.square().mean())
    # logged without their weights; D maximizes, so its loss is the negated sum
    torch.testing.assert_close(terms["D"]["ipm"], ipm)
    torch.testing.assert_close(terms["D"]["lagrange"], 0.25 * constraint)
    torch.testing.assert_close(terms["D"]["penalty"], constraint ** 2)
    torch.testing.assert_close(terms["D"]["loss"],
                               -(ipm + 0.25 * constraint - 1e-6 / 2 * constraint ** 2))
    assert math.isclose(float(objective.state["lam"]), 0.25 - 1e-6 * float(constraint),
                        rel_tol=1e-6)


def test_fisher_multiplier_moves_after_each_critic_step(tmp_path):
    """`state(..., after=D)` with `D steps 2 per G step`: λ moves after each D step, from that
    step's constraint, as the reference's `Lambda.data += rho * Lambda.grad` after every
    critic update; D's second step reads the λ its first step left."""
    spec = tmp_path / "fisher.gan"
    spec.write_text((ROOT / "tests" / "gans" / "fisher.gan").read_text()
                    + "train {\n  D steps 2 per G step\n}\n")
    loaded = gandsl.load(spec)
    torch.manual_seed(0)
    nets = {n: c() for n, c in loaded.classes.items()}
    objective = loaded.module.Objective(nets)
    objective.state["lam"] = 0.25
    seen = []
    draws = Recorded()
    objective.iteration(0, draws, lambda p, loss, v: seen.append(
        (p, {k: t.detach() for k, t in v.items()})))
    assert [p for p, _ in seen] == ["D", "D", "G"]
    D, G = nets["D"], nets["G"]
    lam = 0.25
    for (_, terms), z in zip(seen[:2], draws.drawn, strict=True):
        with torch.no_grad():
            fr, ff = D(draws.x), D(G(z))
        c = 1 - (0.5 * fr.square().mean() + 0.5 * ff.square().mean())
        torch.testing.assert_close(terms["lagrange"], lam * c)
        lam = lam - 1e-6 * float(c)
    assert math.isclose(float(objective.state["lam"]), lam, rel_tol=1e-6)
    assert "self.state[\"lam\"] = self.state[\"lam\"] - 1e-06 * constraint" in loaded.source


def test_after_names_a_player():
    text = (ROOT / "tests" / "gans" / "fisher.gan").read_text()
    for after, code in [("after=Q", "E304"), ("after=1", "E203")]:
        bad = text.replace("after=D", after)
        try:
            check_source(bad, "f.gan", {})
        except GandslError as e:
            assert [d.code for d in e.diagnostics] == [code]
        else:
            raise AssertionError("no error")
