"""Which networks each player's step reaches, and when: shared values, groups, k-step players
and lazy terms. Each test runs the generated `iteration` with an `update` that records every
network a plain `loss.backward()` reaches (the trainer itself restricts the backward to the
player's parameters), so a misplaced detach or a stale value shows up as a wrong set."""

from __future__ import annotations

import pytest
import torch
from conftest import GROUP_SPEC

import gandsl

HEAD = """\
gan steps
data imgs: image[1, 8, 8] = digits()
network G(z: latent[8], c: class[4]) -> image[1, 8, 8] {
  return concat(z, c -> one_hot) -> linear(64) -> reshape(1, 8, 8) -> tanh }
network D(x: image[1, 8, 8]) -> (src: scalar, feat: vector[8]) {
  h = x -> flatten -> linear(8) -> leaky_relu(0.2)
  return h -> linear(1), h }
network Q(f: vector[8]) -> logits[4] { return f -> linear(4) }
"""


class Batch:
    """A draw of fixed size 4 from the spec's own random sources."""

    def data(self, name):
        return (torch.randn(4, 1, 8, 8).clamp(-1, 1),)

    def normal(self, n, mean=0.0, std=1.0):
        return torch.randn(4, n) * std + mean

    def categorical(self, n):
        return torch.randint(0, n, (4,))


def run(tmp_path, objective: str, iterations: int = 1, networks: str = HEAD, train: str = ""):
    """[(iteration, player, networks the gradient reached, terms)] over `iterations`."""
    spec = tmp_path / "steps.gan"
    spec.write_text(networks + objective + train)
    loaded = gandsl.load(spec)
    torch.manual_seed(0)
    nets = {n: c() for n, c in loaded.classes.items()}
    objective = loaded.module.Objective(nets)
    optimizers = objective.optimizers()
    seen = []
    it = 0

    def update(player, loss, terms):
        for m in nets.values():
            m.zero_grad(set_to_none=True)
        loss.backward()
        reached = sorted(n for n, m in nets.items()
                         if any(p.grad is not None and p.grad.abs().sum() > 0
                                for p in m.parameters()))
        seen.append((it, player, reached, {k: v.item() for k, v in terms.items()}))
        optimizers[player].step()

    for it in range(iterations):
        objective.iteration(it, Batch(), update)
    return seen, loaded.source


def test_a_value_shared_by_three_players_reaches_each_players_own_networks(tmp_path):
    """`info` is computed for Q first; G's and D's steps must still reach G and D through it
    (a value kept from Q's step, built from detached inputs, would reach only Q)."""
    seen, _ = run(tmp_path, """objective {
  x ~ imgs
  z ~ normal(8)
  c ~ categorical(4)
  fake = G(z, c)
  out = D(fake)
  info = info_categorical(Q(out.feat), c)
  Q minimizes info: info
  G minimizes gan_g(out.src) + info
  D minimizes gan_d(D(x).src, out.src) + 0.5 * info
}
""")
    # G's gradient passes through D and Q to reach G; D's does not reach G (fake detached)
    assert [(p, r) for _, p, r, _ in seen] == [("Q", ["Q"]), ("G", ["D", "G", "Q"]),
                                               ("D", ["D", "Q"])]
    assert [sorted(t) for *_, t in seen] == [["info"], ["gan_g", "info"], ["gan_d", "info"]]


def test_a_group_player_reaches_every_member(tmp_path):
    seen, _ = run(tmp_path, "", networks="gan steps\n" + GROUP_SPEC)
    assert [(p, r) for _, p, r, _ in seen] == [("D", ["D"]), ("G", ["D", "M", "S"])]


def test_lazy_terms_count_each_players_own_steps(tmp_path):
    """D steps twice per iteration, so `every 4` is every second iteration for D, and G's
    `every 3` counts G's steps. The weight is multiplied by k (StyleGAN2's lazy R1)."""
    networks = HEAD.replace("-> (src: scalar, feat: vector[8])", "-> scalar").replace(
        "return h -> linear(1), h", "return h -> linear(1)").split("network Q")[0]
    seen, source = run(tmp_path, """objective {
  x ~ imgs
  z ~ normal(8)
  c ~ categorical(4)
  fake = G(z, c)
  D minimizes gan_d(D(x), D(fake)) + r1: 5 * r1(D, x) every 4
  G minimizes gan_g(D(fake)) + pl: 0.5 * mean(D(fake)) every 3
}
train {
  D steps 2 per G step
  adam G (lr=1e-3)
  adam D (lr=1e-3)
}
""", iterations=7, networks=networks)
    assert "if (step * 2 + i) % 4 == 0:  # lazy regularization: weight × 4" in source
    assert "loss = loss + 20 * r1" in source and "loss = loss + 1.5 * pl" in source
    d_steps = [t for _, p, _, t in seen if p == "D"]
    g_steps = [(it, t) for it, p, _, t in seen if p == "G"]
    assert [i for i, t in enumerate(d_steps) if "r1" in t] == [0, 4, 8, 12]
    assert [it for it, t in g_steps if "pl" in t] == [0, 3, 6]
    first = d_steps[0]
    assert len(seen) == 21
    assert all(r == {"D": ["D"], "G": ["D", "G"]}[p] for _, p, r, _ in seen)
    assert first["r1"] > 0 and first["gan_d"] > 0


def test_a_player_with_only_lazy_terms_steps_only_when_they_run(tmp_path):
    seen, _ = run(tmp_path, """objective {
  x ~ imgs
  z ~ normal(8)
  c ~ categorical(4)
  fake = G(z, c)
  out = D(fake)
  info = info_categorical(Q(out.feat), c)
  D maximizes -gan_d(D(x).src, out.src)
  G minimizes gan_g(out.src) + info
  Q minimizes info every 2
}
""", iterations=4)
    assert [(it, p) for it, p, _, _ in seen if p == "Q"] == [(0, "Q"), (2, "Q")]
    assert {p: r for _, p, r, _ in seen} == {"D": ["D"], "G": ["D", "G", "Q"], "Q": ["Q"]}


@pytest.mark.parametrize("weight, shown", [("1234567", "1234567 * l2"),
                                           ("1 / 3", "0.3333333333333333 * l2"),
                                           ("2.5e-4", "0.00025 * l2")])
def test_weights_are_emitted_exactly(tmp_path, weight, shown):
    _, source = run(tmp_path, f"""objective {{
  x ~ imgs
  z ~ normal(8)
  c ~ categorical(4)
  fake = G(z, c)
  D minimizes gan_d(D(x).src, D(fake).src)
  G minimizes gan_g(D(fake).src) + {weight} * l2(fake, x)
}}
""")
    assert f"loss = gan_g + {shown}" in source


def test_a_conditional_count_of_steps(tmp_path):
    """WGAN's critic warm-up: `D steps 4 per G step if step < 2 or step % 5 == 0`, otherwise
    2; each critic step on a fresh draw, G once per iteration."""
    networks = HEAD.replace("-> (src: scalar, feat: vector[8])", "-> scalar").replace(
        "return h -> linear(1), h", "return h -> linear(1)").split("network Q")[0]
    seen, source = run(tmp_path, """objective {
  x ~ imgs
  z ~ normal(8)
  c ~ categorical(4)
  fake = G(z, c)
  D minimizes wgan_d(D(x), D(fake))
  G minimizes wgan_g(D(fake))
}
train {
  D steps 2 per G step
  D steps 4 per G step if step < 2 or step % 5 == 0
  rmsprop G (lr=5e-5)
  rmsprop D (lr=5e-5)
}
""", iterations=7, networks=networks)
    assert "for _ in range(4 if step < 2 or step % 5 == 0 else 2):" in source
    d_steps = [sum(1 for it, p, _, _ in seen if it == i and p == "D") for i in range(7)]
    assert d_steps == [4, 4, 2, 2, 2, 4, 2]
    assert [it for it, p, _, _ in seen if p == "G"] == list(range(7))


def test_d_trains_on_the_fakes_of_gs_step(tmp_path):
    """G first, then D (the PyTorch-GAN and CycleGAN loops): D's step reuses the fakes G made
    before its update, detached; G runs once per iteration."""
    spec = tmp_path / "gfirst.gan"
    spec.write_text(HEAD + """objective {
  x ~ imgs
  z ~ normal(8)
  c ~ categorical(4)
  fake = G(z, c)
  G minimizes gan_g(D(fake).src)
  D minimizes gan_d(D(x).src, D(fake).src)
}
""")
    loaded = gandsl.load(spec)
    assert "D_fake_1 = D(fake.detach())" in loaded.source
    nets = {n: c() for n, c in loaded.classes.items()}
    calls = []
    nets["G"].register_forward_hook(lambda *a: calls.append("G"))
    objective = loaded.module.Objective(nets)
    optimizers = objective.optimizers()

    def update(player, loss, terms):
        optimizers[player].zero_grad()
        loss.backward()
        optimizers[player].step()

    objective.iteration(0, Batch(), update)
    assert calls == ["G"]


def test_a_step_condition_is_ir_that_the_emitter_prints_as_python():
    """Lowering folds what does not involve `step` and keeps the rest as a tree (no Python
    text in the IR); the emitter writes the language's power `^` as `**` and parenthesizes
    nested operations."""
    from gandsl.emit.schedule import step_python
    from gandsl.pipeline import check_source

    spec = HEAD.split("network Q")[0] + """objective {
  x ~ imgs
  z ~ normal(8)
  c ~ categorical(4)
  D minimizes gan_d(D(x).src, D(G(z, c)).src)
  G minimizes gan_g(D(G(z, c)).src)
}
param warm = 3
train {
  D steps 2 per G step
  D steps 4 per G step if not (step^2 < warm * 10 or (step + 1) % 2^2 == 0)
}
"""
    ratio = next(r for r in check_source(spec, "c.gan").spec.train.ratios if r.condition)
    assert ratio.condition.kind == "not" and ratio.condition.items[0].kind == "bool"
    assert ratio.condition.text() == "not (step ^ 2 < 30 or (step + 1) % 4 == 0)"
    text = step_python(ratio.condition)
    assert text == "not (step ** 2 < 30 or (step + 1) % 4 == 0)"
    assert [eval(text, {"step": s}) for s in range(8)] == [
        not (s ** 2 < 30 or (s + 1) % 4 == 0) for s in range(8)]
