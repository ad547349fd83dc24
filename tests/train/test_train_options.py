"""Train options that name one network of a group player, and frozen networks: what moves,
what is averaged, what stays fixed, in training and in sample grids."""

from __future__ import annotations

import torch
from conftest import GROUP_SPEC

from gandsl.train.config import RunConfig
from gandsl.train.trainer import Trainer

GROUP = GROUP_SPEC + """\
train {
  adam G (lr=1e-2)
  adam D (lr=1e-2)
  OPTIONS
}
"""


def trainer(tmp_path, text: str, **kw) -> Trainer:
    spec = tmp_path / "spec.gan"
    spec.write_text(text)
    cfg = dict(spec=str(spec), data="digits", steps=3, batch=4, out=tmp_path / "run",
               progress=False, sample_every=1000, checkpoint_every=1000)
    cfg.update(kw)
    return Trainer(RunConfig(**cfg))


def test_ema_of_one_network_of_a_group_follows_the_groups_steps(tmp_path):
    t = trainer(tmp_path, GROUP.replace("OPTIONS", "ema S (decay=0.5)"))
    assert set(t.ema["S"].averaged) == {"S"}
    expected = [p.detach().clone() for p in t.networks["S"].parameters()]
    for step in range(3):
        t.step = step
        t.objective.iteration(step, t.draw, t.update)
        with torch.no_grad():
            for e, p in zip(expected, t.networks["S"].parameters(), strict=True):
                e.mul_(0.5).add_(p, alpha=0.5)
    for e, a in zip(expected, t.ema["S"].averaged["S"].parameters(), strict=True):
        torch.testing.assert_close(a, e, rtol=0, atol=1e-7)
    assert "S" in t.sample_networks() and t.sample_networks()["M"] is t.networks["M"]


def test_clipping_one_network_of_a_group_leaves_the_other(tmp_path):
    t = trainer(tmp_path, GROUP.replace("OPTIONS", "clip S (0.001)"))
    t.objective.iteration(0, t.draw, t.update)
    bound = torch.tensor(0.001).item()  # 0.001 in float32
    assert max(p.abs().max().item() for p in t.networks["S"].parameters()) == bound
    assert max(p.abs().max().item() for p in t.networks["M"].parameters()) > 0.01
    assert max(p.abs().max().item() for p in t.networks["D"].parameters()) > 0.01


FROZEN = """\
gan features
data imgs: image[1, 8, 8] = digits()
network G(z: latent[8]) -> image[1, 8, 8] { return z -> linear(64) -> reshape(1, 8, 8) -> tanh }
network D(x: image[1, 8, 8]) -> scalar { return x -> flatten -> linear(1) }
frozen network F(x: image[1, 8, 8]) -> vector[8] {
  return x -> conv(2, 3, pad=1) -> batch_norm -> flatten -> linear(8) }
objective {
  x ~ imgs
  z ~ normal(8)
  fake = G(z)
  D minimizes gan_d(D(x), D(fake))
  G minimizes gan_g(D(fake)) + l1(F(fake), F(x))
}
train {
  adam G (lr=1e-2)
  adam D (lr=1e-2)
}
"""


def test_a_frozen_network_never_changes_and_runs_in_eval_mode(tmp_path):
    """Its weights and its batch-norm statistics stay as they were, in training and while
    sample grids are drawn; gradients still flow through it to G."""
    t = trainer(tmp_path, FROZEN, sample_every=1)
    f = t.networks["F"]
    assert not f.training and not any(p.requires_grad for p in f.parameters())
    before = {k: v.clone() for k, v in f.state_dict().items()}
    g_before = [p.detach().clone() for p in t.networks["G"].parameters()]
    seen_modes = []
    f.register_forward_pre_hook(lambda m, _: seen_modes.append(m.training))
    t.run()
    assert all(torch.equal(before[k], v) for k, v in f.state_dict().items())
    assert not any(seen_modes) and len(seen_modes) >= 6
    assert t.metrics.last["G/l1"] > 0
    assert any(not torch.equal(a, b) for a, b in
               zip(g_before, t.networks["G"].parameters(), strict=True))
