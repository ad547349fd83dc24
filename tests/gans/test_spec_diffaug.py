"""DiffAugment and LeCam on BigGAN's CIFAR-10 networks (specs/biggan_diffaug.gan,
specs/lecam.gan): both train from the command line at small params, and each player's loss is
the paper's formula on fixed draws, the augmentations replayed from the same torch seed; the
LeCam anchors are states whose next values are the EMA of D's scores, with the reference's
start iteration."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from conftest import ROOT

import gandsl
import gandsl.runtime as rt
from gandsl.cli import main

SMALL = {"S": 16, "ch": 4, "nz": 16}
DIFFAUG = ROOT / "specs" / "biggan_diffaug.gan"
LECAM = ROOT / "specs" / "lecam.gan"


@pytest.mark.parametrize(("spec", "params"), [(DIFFAUG, {"color": "true"}), (LECAM, {})],
                         ids=["diffaug-color", "lecam"])
def test_trains_a_few_steps(tmp_path, spec, params):
    flags = [f"{k}={v}" for k, v in {**SMALL, **params}.items()]
    argv = ["train", str(spec), "--steps", "2", "--batch", "4", "--data", "shapes",
            "--out", str(tmp_path / "run"), "--no-progress"]
    for flag in flags:
        argv += ["--param", flag]
    assert main(argv) == 0
    header = (tmp_path / "run" / "metrics.csv").read_text().splitlines()[0]
    if spec == LECAM:
        assert "state/ema_real" in header and "state/itr" in header


class Fixed:
    """The same reals, classes, z and fake classes at every draw."""

    def __init__(self) -> None:
        g = torch.Generator().manual_seed(1)
        self.x = torch.rand(4, 3, 16, 16, generator=g) * 2 - 1
        self.y = torch.tensor([0, 3, 7, 9])
        self.z = torch.randn(4, 16, generator=g)
        self.yf = torch.tensor([1, 1, 5, 2])

    def data(self, name):
        return self.x, self.y

    def normal(self, n, mean=0.0, std=1.0):
        return self.z

    def categorical(self, n):
        return self.yf


def run(spec, states=None, seed=0, **params):
    """One iteration with fixed draws. The networks are in eval mode, so that they are the
    same functions at every call (no power iteration, running batch-norm statistics); nothing
    is stepped. Returns the terms each player's last update saw."""
    loaded = gandsl.load(spec, **SMALL, **params)
    torch.manual_seed(0)
    nets = {n: c().eval() for n, c in loaded.classes.items()}
    objective = loaded.module.Objective(nets)
    if states:
        objective.state.update(states)
    terms, calls = {}, {"D": 0, "G": 0}

    def update(player, loss, values):
        calls[player] += 1
        terms[player] = {k: v.detach() for k, v in values.items()}
        assert torch.allclose(loss, sum(values.values()))

    draws = Fixed()
    torch.manual_seed(seed)
    objective.iteration(0, draws, update)
    assert calls == {"D": 4, "G": 1}
    return terms, nets, draws, objective


def replay(nets, draws, seed, policy):
    """D's scores in its 4th step and G's, the augmentations drawn as the iteration draws them:
    per D step the mirror of the reals, T of the mirrored reals, T of the fakes; then T of G's
    fakes."""
    G, D = nets["G"], nets["D"]
    mirror, T = rt.Augment(rt.flip), rt.Augment(*policy)
    torch.manual_seed(seed)
    with torch.no_grad():
        fake = G(draws.z, draws.yf)
        steps = [(D(T(mirror(draws.x)), draws.y), D(T(fake), draws.yf)) for _ in range(4)]
        g_score = D(T(fake), draws.yf)
    return *steps[-1], g_score, steps


TC = [rt.translation(0.125), rt.cutout(0.5)]


@pytest.mark.parametrize(("params", "policy"), [({}, TC), ({"color": True}, [rt.color, *TC])],
                         ids=["translation-cutout", "color-translation-cutout"])
def test_diffaug_hinge_losses_on_augmented_scores(params, policy):
    terms, nets, draws, _ = run(DIFFAUG, seed=3, **params)
    real, fake, g, _ = replay(nets, draws, 3, policy)
    want_d = F.relu(1 - real).mean() + F.relu(1 + fake).mean()
    assert torch.allclose(terms["D"]["hinge_d"], want_d, atol=1e-6)
    assert torch.allclose(terms["G"]["hinge_g"], -g.mean(), atol=1e-6)
    # G's step augments anew: its score is not D's step's
    assert not torch.allclose(g, fake)


def lecam(real, fake, ema_real, ema_fake):
    return F.relu(real - ema_fake).pow(2).mean() + F.relu(ema_real - fake).pow(2).mean()


@pytest.mark.parametrize("itr", [500, 1000, 1001])
def test_lecam_term_and_anchors(itr):
    """λ·R_LC with the anchors the states hold, once itr > 1000 (train_fns.py); the anchors
    move after each of the 4 D steps by the EMA of that step's scores (`after=D`), with decay
    0 before iteration 1000 (utils.ema_losses(start_itr=1000)), 0.9 from it; D's 4th step
    reads them as its first three steps left them."""
    ema_real, ema_fake = 0.3, -0.2
    terms, nets, draws, objective = run(
        LECAM, {"itr": float(itr), "ema_real": ema_real, "ema_fake": ema_fake}, seed=5)
    real, fake, g, steps = replay(nets, draws, 5, TC)
    on = 1.0 if itr > 1000 else 0.0
    d = 0.9 if itr >= 1000 else 0.0
    anchors = []
    for r, f in steps:
        anchors.append((ema_real, ema_fake))
        ema_real = d * ema_real + (1 - d) * float(r.mean())
        ema_fake = d * ema_fake + (1 - d) * float(f.mean())
    assert torch.allclose(terms["D"]["hinge_d"],
                          F.relu(1 - real).mean() + F.relu(1 + fake).mean(), atol=1e-6)
    assert torch.allclose(terms["D"]["lecam"], 0.3 * on * lecam(real, fake, *anchors[3]),
                          atol=1e-6)
    assert torch.allclose(terms["G"]["hinge_g"], -g.mean(), atol=1e-6)
    if itr > 1000:
        assert terms["D"]["lecam"] > 0
    state = objective.state
    assert float(state["itr"]) == itr + 1
    assert abs(float(state["ema_real"]) - ema_real) < 1e-6
    assert abs(float(state["ema_fake"]) - ema_fake) < 1e-6


def test_lecam_without_diffaug():
    """lc-biggan-cifar10.sh: the same term on un-augmented scores (the reals still mirrored,
    a draw per D step); the anchors move after each D step from that step's scores."""
    ema_real, ema_fake = -0.1, 0.4
    terms, nets, draws, objective = run(
        LECAM, {"itr": 3000.0, "ema_real": ema_real, "ema_fake": ema_fake}, seed=2,
        diffaug=False)
    G, D = nets["G"], nets["D"]
    torch.manual_seed(2)
    anchors = []
    with torch.no_grad():
        fake_img = G(draws.z, draws.yf)
        fake = D(fake_img, draws.yf)
        for _ in range(4):
            real = D(rt.Augment(rt.flip)(draws.x), draws.y)
            anchors.append((ema_real, ema_fake))
            ema_real = 0.9 * ema_real + 0.1 * float(real.mean())
            ema_fake = 0.9 * ema_fake + 0.1 * float(fake.mean())
    assert torch.allclose(terms["D"]["lecam"], 0.3 * lecam(real, fake, *anchors[3]),
                          atol=1e-6)
    assert torch.allclose(terms["G"]["hinge_g"], -fake.mean(), atol=1e-6)
    assert abs(float(objective.state["ema_fake"]) - ema_fake) < 1e-6
    assert abs(float(objective.state["ema_real"]) - ema_real) < 1e-6
