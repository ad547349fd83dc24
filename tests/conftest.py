"""Shared helpers for the test suite.

Without a GPU, Triton kernels run on the CPU under Triton's interpreter: the variable is set
here, before any kernel module is imported (`triton.jit` reads it then; gandsl imports its
kernel modules lazily, at the first launch).
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")

import gandsl
from gandsl.diagnostics import Diagnostic, GandslError
from gandsl.pipeline import check_source, compile_source

ROOT = Path(__file__).resolve().parents[1]
SPECS = sorted((ROOT / "specs").glob("*.gan"))

# A spec whose generator is a group of two networks (StyleGAN's mapping M and synthesis S):
# lines 1-12, without a train section.
GROUP_SPEC = """\
data imgs: image[1, 8, 8] = digits()
network M(z: latent[8]) -> latent[8] { return z -> linear(8) -> relu }
network S(w: latent[8]) -> image[1, 8, 8] { return w -> linear(64) -> reshape(1, 8, 8) -> tanh }
network D(x: image[1, 8, 8]) -> scalar { return x -> flatten -> linear(8) -> relu -> linear(1) }
objective {
  x ~ imgs
  z ~ normal(8)
  fake = S(M(z))
  G = {M, S}
  D minimizes gan_d(D(x), D(fake))
  G minimizes gan_g(D(fake))
}
"""


def diagnostics(text: str, **params) -> list[Diagnostic]:
    """Every diagnostic (errors and warnings) of a spec given as text, in source order."""
    try:
        return check_source(textwrap.dedent(text), "t.gan", params).warnings
    except GandslError as e:
        return e.diagnostics


def codes_at(text: str, **params) -> list[tuple[str, int, int]]:
    """(code, line, col) of every diagnostic."""
    return [(d.code, d.span.line, d.span.col) for d in diagnostics(text, **params)]


def compile_text(text: str, **params):
    return compile_source(textwrap.dedent(text), "t.gan", params)


@pytest.fixture
def root() -> Path:
    return ROOT


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory):
    """Tests never write to the user's ~/.cache/gandsl."""
    import os

    os.environ["GANDSL_CACHE"] = str(tmp_path_factory.mktemp("gandsl-cache"))


def run_iteration(spec: Path, draws, seed: int = 0, step: int = 0,
                  states: dict | None = None) -> SimpleNamespace:
    """Load `spec`, build its networks from torch seed 0, and run one iteration of its
    Objective on `draws` with torch seeded by `seed`, its states first set to `states`. Each
    player's update is recorded, not stepped: `terms[player]` (its terms, and its whole loss
    as "loss") and `reached[player]` (the networks its loss sends gradients into); also
    `nets`, `objective`, `source`."""
    loaded = gandsl.load(spec)
    torch.manual_seed(0)
    nets = {n: c() for n, c in loaded.classes.items()}
    objective = loaded.module.Objective(nets)
    if states:
        objective.state.update(states)
    terms, reached = {}, {}

    def update(player, loss, values):
        for m in nets.values():
            m.zero_grad(set_to_none=True)
        loss.backward()
        reached[player] = sorted(n for n, m in nets.items() if any(
            p.grad is not None and p.grad.abs().sum() > 0 for p in m.parameters()))
        terms[player] = {k: v.detach() for k, v in values.items()} | {"loss": loss.detach()}

    torch.manual_seed(seed)
    objective.iteration(step, draws, update)
    return SimpleNamespace(terms=terms, reached=reached, nets=nets, objective=objective,
                           source=loaded.source)

