"""How the objective runs: the code emitted for it, lazy regularization, schedules, EMA,
weight clipping, initialization, and the wider loss library through specs."""

from __future__ import annotations

import math

import pytest
import torch
from conftest import ROOT, TINY

import gandsl
from gandsl.train.config import RunConfig
from gandsl.train.schedule import factor, momentum
from gandsl.train.trainer import Trainer


def tiny(tmp_path, train: str = "", **kw) -> Trainer:
    spec = tmp_path / "tiny.gan"
    spec.write_text(TINY.replace("TRAIN", train))
    cfg = dict(spec=str(spec), data="digits", steps=8, out=tmp_path / "run", progress=False,
               sample_every=1000, checkpoint_every=1000)
    cfg.update(kw)
    return Trainer(RunConfig(**cfg))


def test_generated_iteration_is_the_reference_loop():
    """DCGAN computes G(z) once per iteration, keeps its graph for G's step and hands D a
    detached copy, as pytorch/examples does; StarGAN's D loop computes G under no_grad."""
    dcgan = gandsl.load(ROOT / "specs" / "dcgan.gan").source
    body = dcgan.split("def iteration")[1].split("def samples")[0]
    assert "fake = G(z)  # kept with its graph for a later step" in body
    assert "D_fake = D(fake.detach())" in body and body.count("G(z)") == 1
    assert "D_fake_1 = D(fake)" in body  # D changed after its step: computed again for G
    stargan = gandsl.load(ROOT / "specs" / "stargan.gan").source
    body = stargan.split("def iteration")[1].split("def samples")[0]
    assert "for _ in range(5):  # D steps 5 times" in body
    assert "with torch.no_grad():  # not this player's networks: constants here\n" \
           "                fake = G(x, c_trg)" in body


def test_one_g_forward_per_dcgan_iteration(tmp_path):
    t = Trainer(RunConfig(spec=str(ROOT / "specs" / "dcgan.gan"), data="shapes", batch=4,
                          params={"S": 16, "ngf": 4, "ndf": 4, "nz": 8}, steps=1,
                          out=tmp_path / "r", progress=False))
    calls = []
    t.networks["G"].register_forward_hook(lambda *a: calls.append(1))
    t.objective.iteration(0, t.draw, t.update)
    assert len(calls) == 1


def test_lazy_regularization_runs_every_k_steps_with_weight_times_k(tmp_path):
    t = tiny(tmp_path)
    assert "if step % 4 == 0:  # lazy regularization: weight × 4" in t.loaded.source
    assert "loss = loss + 40 * r1" in t.loaded.source
    seen = []
    update = t.update

    def record(player, loss, terms):
        seen.append((t.step, player, sorted(terms)))
        update(player, loss, terms)

    for step in range(8):
        t.step = step
        t.objective.iteration(step, t.draw, record)
    with_r1 = [s for s, p, terms in seen if "r1" in terms]
    assert with_r1 == [0, 4]


def test_learning_rate_schedules():
    linear = factor("linear_decay", {"start": 2, "end": 6}, 100)
    assert [linear(s) for s in range(8)] == [1, 1, 1, 0.75, 0.5, 0.25, 0, 0]
    step = factor("step_decay", {"every": 2, "gamma": 0.5}, 100)
    assert [step(s) for s in range(6)] == [1, 1, 0.5, 0.5, 0.25, 0.25]
    # R3GAN's cosine from 2e-4 to 5e-5 between steps 2 and 6: lr = m + (b - m)·½(1 + cos πu)
    cos = factor("cosine", {"start": 2, "end": 6, "min_lr": 5e-5}, 100, base=2e-4)
    want = [2e-4, 2e-4, 2e-4, 5e-5 + 1.5e-4 * (1 + math.cos(math.pi / 4)) / 2, 1.25e-4,
            5e-5 + 1.5e-4 * (1 + math.cos(3 * math.pi / 4)) / 2, 5e-5, 5e-5]
    assert [2e-4 * cos(s) for s in range(8)] == pytest.approx(want, rel=1e-12)


def test_schedule_applied_to_each_player(tmp_path):
    t = tiny(tmp_path, "lr G linear_decay(start=0, end=4)\n  lr step_decay(every=1, gamma=0.5, "
                       "min_lr=1e-4)")
    lrs = []
    for s in range(4):
        t.step = s
        t._set_lr()
        lrs.append((t.optimizers["G"].param_groups[0]["lr"],
                    t.optimizers["D"].param_groups[0]["lr"]))
    assert [round(g, 10) for g, _ in lrs] == [1e-3, 7.5e-4, 5e-4, 2.5e-4]
    assert [round(d, 10) for _, d in lrs] == [1e-3, 5e-4, 2.5e-4, 1.25e-4]


def test_momentum_ramp_moves_sgd_momentum_and_exp_decay_floors(tmp_path):
    """The vanilla GAN's schedules: momentum 0.5 → 0.7 between `start` and `end`, and the
    learning rate divided by a factor every step down to `min_lr`."""
    assert [round(momentum({"to": 0.7, "start": 2, "end": 6}, 0.5)(s), 10)
            for s in range(8)] == [0.5, 0.5, 0.5, 0.55, 0.6, 0.65, 0.7, 0.7]
    spec = tmp_path / "tiny.gan"
    spec.write_text(TINY.replace("adam G (lr=1e-3)", "sgd G (lr=1e-3, momentum=0.5)").replace(
        "TRAIN", "momentum G ramp(to=0.7, end=4)\n  lr G step_decay(every=1, gamma=0.5, "
        "min_lr=2e-4)"))
    t = Trainer(RunConfig(spec=str(spec), data="digits", steps=8, out=tmp_path / "run",
                          progress=False, sample_every=1000, checkpoint_every=1000))
    seen = []
    for s in range(6):
        t.step = s
        t._set_lr()
        g = t.optimizers["G"].param_groups[0]
        seen.append((round(g["momentum"], 10), round(g["lr"], 10)))
    assert seen == [(0.5, 1e-3), (0.55, 5e-4), (0.6, 2.5e-4), (0.65, 2e-4), (0.7, 2e-4),
                    (0.7, 2e-4)]
    assert "momentum" not in t.optimizers["D"].param_groups[0]  # D's adam: untouched


def test_ema_follows_its_formula(tmp_path):
    t = tiny(tmp_path, "ema G (decay=0.9)")
    ema = t.ema["G"].averaged["G"]
    start = [p.detach().clone() for p in t.networks["G"].parameters()]
    expected = [p.clone() for p in start]
    for step in range(3):
        t.step = step
        t.objective.iteration(step, t.draw, t.update)
        with torch.no_grad():
            for e, p in zip(expected, t.networks["G"].parameters(), strict=True):
                e.mul_(0.9).add_(p, alpha=0.1)
    for e, a in zip(expected, ema.parameters(), strict=True):
        torch.testing.assert_close(a, e)


def test_weight_clipping(tmp_path):
    t = tiny(tmp_path, "clip D (0.01)")
    t.objective.iteration(0, t.draw, t.update)
    assert max(p.abs().max().item() for p in t.networks["D"].parameters()) <= 0.01
    assert max(p.abs().max().item() for p in t.networks["G"].parameters()) > 0.01


def test_init_normal_as_dcgan_does(tmp_path):
    t = Trainer(RunConfig(spec=str(ROOT / "specs" / "dcgan.gan"), data="shapes",
                          params={"ngf": 32, "ndf": 32}, steps=1, out=tmp_path / "r",
                          progress=False))
    conv = t.networks["G"].main[3].weight  # PyTorch's DCGAN example: G.main, the second convT
    bn = t.networks["G"].main[4]
    assert abs(conv.std().item() - 0.02) < 0.002 and abs(conv.mean().item()) < 0.002
    assert abs(bn.weight.mean().item() - 1) < 0.01 and bn.bias.abs().max() == 0


def test_integer_betas_become_floats_for_torch(tmp_path):
    """torch's Adam rejects betas=(0, 0.9) (an int and a float); SNGAN's β1 = 0 is common."""
    spec = tmp_path / "tiny.gan"
    spec.write_text(TINY.replace("adam G (lr=1e-3)", "adam G (lr=1e-3, betas=(0, 0.9))")
                    .replace("TRAIN", ""))
    t = Trainer(RunConfig(spec=str(spec), data="digits", steps=1, out=tmp_path / "run",
                          progress=False, sample_every=1000, checkpoint_every=1000))
    assert "betas=(0.0, 0.9)" in t.loaded.source
    assert t.optimizers["G"].param_groups[0]["betas"] == (0.0, 0.9)


def test_init_keeps_class_conditional_norms_at_identity_and_draws_uniform():
    """`init` draws weights, not the per-class gain and bias tables of a categorical
    conditional batch norm (they start at 1 and 0, as SNGAN's CBN does); BigGAN's vector
    mode maps are linear layers and are drawn. `uniform(range=r)` stays in [−r, r]."""
    from torch import nn

    from gandsl.runtime.norms import ConditionalBatchNorm
    from gandsl.train.init import initialize

    net = nn.Sequential(nn.Linear(16, 32), ConditionalBatchNorm(32, num_classes=10),
                        ConditionalBatchNorm(32, cond_dim=6))
    for method, kwargs in (("xavier", {}), ("orthogonal", {}), ("uniform", {"range": 0.05})):
        initialize(net, method, kwargs)
        assert torch.equal(net[1].gain.weight, torch.ones(10, 32))
        assert torch.equal(net[1].bias.weight, torch.zeros(10, 32))
        assert net[2].gain.weight.std() > 0.01  # drawn, not left at its construction
    w = net[0].weight
    assert w.abs().max() <= 0.05 and w.std() > 0.02 and net[0].bias.abs().max() == 0


WIDE = """\
gan wide
data digits: image[1, 8, 8], class[10] = digits()
network G(z: latent[8]) -> image[1, 8, 8] { return z -> linear(64) -> tanh -> reshape(1, 8, 8) }
network D(x: image[1, 8, 8]) -> (recon: image[1, 8, 8], code: vector[8]) {
  code = x -> flatten -> linear(8)
  return code -> linear(64) -> reshape(1, 8, 8), code
}
network Q(x: image[1, 8, 8]) -> logits[11] { return x -> flatten -> linear(11) }
objective {
  x, y ~ digits
  z ~ normal(8)
  c ~ categorical(11)
  fake = G(z)
  D minimizes ebgan_d(ae_energy(x, D(x).recon), ae_energy(fake, D(fake).recon), margin=1)
  G minimizes ebgan_g(ae_energy(fake, D(fake).recon)) + 0.1 * pulling_away(D(fake).code)
            + info_categorical(Q(fake), c) + 1e-4 * ortho_reg(G)
            + feature_matching(D(x).code, D(fake).code) + sgan_g(Q(fake))
  Q minimizes sgan_d_real(Q(x), y) + sgan_d_fake(Q(fake))
}
"""


def test_the_wider_loss_library_runs_from_a_spec(tmp_path):
    spec = tmp_path / "wide.gan"
    spec.write_text(WIDE)
    loaded = gandsl.load(spec)
    # D changed after its step: G's step sees D(x) afresh, as a constant
    assert "with torch.no_grad():  # not this player's networks: constants here\n" \
           "            D_x_1 = D(x)" in loaded.source
    assert "feature_matching(D_x_1.code, D_fake_1.code)" in loaded.source
    t = Trainer(RunConfig(spec=str(spec), data="digits", steps=2, batch=4,
                          out=tmp_path / "r", progress=False))
    t.run()
    last = t.metrics.last
    assert set(last) == {"D/loss", "D/ebgan_d", "G/loss", "G/ebgan_g", "G/pulling_away",
                         "G/info_categorical", "G/ortho_reg", "G/feature_matching", "G/sgan_g",
                         "Q/loss", "Q/sgan_d_real", "Q/sgan_d_fake"}
    assert all(math.isfinite(v) for v in last.values())


@pytest.mark.parametrize("name", ["dcgan", "stargan", "cyclegan", "cgan", "wgan_gp"])
def test_optimizers_are_the_specs(name):
    loaded = gandsl.load(ROOT / "specs" / f"{name}.gan")
    nets = {n: c() for n, c in loaded.classes.items()}
    opts = loaded.module.Objective(nets).optimizers()
    for o in loaded.spec.train.optimizers:
        group = opts[o.player].param_groups[0]
        for k, v in o.kwargs.items():
            assert group[k] == pytest.approx(v), (o.player, k)
        owned = {id(p) for n in loaded.module.PLAYERS[o.player] for p in nets[n].parameters()}
        assert {id(p) for p in group["params"]} == owned
