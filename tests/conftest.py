"""Shared helpers for the test suite.

Without a GPU, Triton kernels run on the CPU under Triton's interpreter: the variable is set
here, before any kernel module is imported (`triton.jit` reads it then; gandsl imports its
kernel modules lazily, at the first launch).
"""

from __future__ import annotations

import gzip
import os
import re
import struct
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import pytest_lsp
import torch
from lsprotocol.types import InitializeParams
from pytest_lsp import ClientServerConfig, LanguageClient

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



# The smallest spec that trains with a lazy regularizer (tests of the objective, the trainer's
# parts, `gandsl bench` and DDP).
TINY = """\
gan tiny
data images: image[1, 8, 8] = digits()
network G(z: latent[4]) -> image[1, 8, 8] {
  return z -> linear(64) -> tanh -> reshape(1, 8, 8)
}
network D(x: image[1, 8, 8]) -> scalar { return x -> flatten -> linear(8) -> relu -> linear(1) }
objective {
  x ~ images
  z ~ normal(4)
  fake = G(z)
  D minimizes gan_d(D(x), D(fake)) + 10 * r1(D, x) every 4
  G minimizes gan_g(D(fake))
}
train {
  batch 4
  adam G (lr=1e-3)
  adam D (lr=1e-3)
  TRAIN
}
"""


# A conditional GAN on the digits at 8×8, the smallest that `eval` and `sample` judge by class.
CONDITIONAL = """\
data digits: image[1, 8, 8], class[10] = digits()
network G(z: latent[8], y: class[10]) -> image[1, 8, 8] {
  return concat(z, y -> one_hot) -> linear(64) -> tanh -> reshape(1, 8, 8)
}
network D(x: image[1, 8, 8], y: class[10]) -> scalar {
  return concat(x -> flatten, y -> one_hot) -> linear(1)
}
objective {
  x, y ~ digits
  z ~ normal(8)
  fake = G(z, y)
  D minimizes gan_d(D(x, y), D(fake, y))
  G minimizes gan_g(D(fake, y))
}
"""

# `gandsl train` params of every spec at the suite's tiny sizes, and the offline data for each
TRAIN_SMALL = {  # tiny versions of every spec, and offline data for each
    "dcgan": ({"S": 16, "ngf": 4, "ndf": 4, "nz": 8}, "shapes"),
    "stargan": ({"S": 16, "g_ch": 4, "d_ch": 4, "g_res": 1, "d_layers": 3}, "shapes"),
    "stargan-both": ({"S": 16, "g_ch": 4, "d_ch": 4, "g_res": 1, "d_layers": 3, "both": True},
                     "shapes"),
    "cyclegan": ({"S": 16, "ngf": 4, "ndf": 4, "blocks": 1, "d_layers": 2}, "shapes"),
    "cgan": ({"S": 12, "nz": 8}, "digits"),
    "wgan_gp": ({"dim": 4, "nz": 8}, "shapes"),
    "wgan": ({"S": 16, "ngf": 4, "ndf": 4, "nz": 8}, "shapes"),
    "lsgan": ({"S": 32, "nz": 16, "gf": 8, "df": 8}, "shapes"),
    "acgan": ({"S": 16, "nz": 8, "ngf": 8, "ndf": 4}, "digits"),
    "sgan": ({"S": 16, "nz": 8, "g_ch": 16, "d_ch": 4}, "digits"),
    "infogan": ({"S": 8, "nz": 8, "ch": 8, "g_fc": 32, "d_fc": 32, "q_fc": 16}, "digits"),
    "ebgan": ({"S": 16, "nz": 8, "ngf": 8, "ndf": 8, "code": 8}, "digits"),
    "pix2pix": ({"S": 64, "ngf": 8, "ndf": 8}, "shapes"),
    "gan": ({"S": 8, "nz": 8, "g_units": 32, "d_units": 8}, "digits"),
    "began": ({"S": 16, "n": 8, "nz": 8}, "shapes"),
    "pggan": ({"S": 16, "nz": 16, "fbase": 64, "fmax": 16, "stage": 1}, "shapes"),
    "stylegan": ({"S": 16, "fbase": 32, "fmax": 8, "z_dim": 8, "w_dim": 8, "map_layers": 2,
                  "stage": 1}, "shapes"),
    "stylegan2": ({"S": 16, "cbase": 128, "cmax": 8, "z_dim": 8, "w_dim": 8, "map_layers": 2},
                  "shapes"),
    "projection": ({"S": 16, "ch": 4, "nz": 16, "classes": 10}, "shapes"),
    "sngan": ({"S": 16, "gch": 8, "dch": 8, "nz": 16, "conditional": True}, "shapes"),
    "sagan": ({"S": 32, "ch": 8, "K": 10, "nz": 16, "attn": 16}, "shapes"),
    "biggan": ({"S": 32, "ch": 8, "K": 10, "nz": 24, "shared_dim": 8, "attn": 16}, "shapes"),
    "srgan": ({"S": 16, "ngf": 8, "blocks": 2, "ndf": 8, "fc": 16, "vgg": 8,
               "vgg_weights": ""}, "shapes"),
    "spade": ({"S": 32, "label_nc": 3, "ngf": 4, "hidden": 8, "ndf": 4, "vgg": 4,
               "vgg_weights": ""}, "shapes"),
}

# Every spec of specs/ at a tiny size: the ones `test_every_spec_trains` covers, and the rest
EVERY_SPEC_SMALL = {
    **TRAIN_SMALL,
    "bicyclegan": ({"S": 64, "ngf": 4, "ndf": 4, "nef": 4}, "shapes"),
    "biggan_diffaug": ({"S": 16, "ch": 4, "nz": 16}, "shapes"),
    "lecam": ({"S": 16, "ch": 4, "nz": 16}, "shapes"),
    "ragan": ({"ch": 4, "nz": 8, "sn": False}, "shapes"),
    "ssgan": ({"gch": 8, "dch": 8, "nz": 8}, "shapes"),
    "r3gan": ({"S": 8, "nz": 8, "ch": 8, "groups": 2, "blocks": 1}, "shapes"),
    "stylegan2_ada": ({"S": 16, "cbase": 128, "cmax": 8, "z_dim": 8, "w_dim": 8,
                       "map_layers": 2}, "shapes"),
}

# ---- docs/language.md's examples (tests/test_docs.py compiles them, tests/fmt formats them) ----

LANGUAGE = ROOT / "docs" / "language.md"
FENCE = re.compile(r"^```(\w*)\s*$")


def fenced_blocks(text: str) -> list[tuple[str, int, str]]:
    """(tag, line of the block's first line, code) of every fenced block, in order."""
    blocks: list[tuple[str, int, str]] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if opening is None:
            i += 1
            continue
        start = i + 1
        end = start
        while end < len(lines) and lines[end].rstrip() != "```":
            end += 1
        assert end < len(lines), f"the block opened at line {i + 1} is never closed"
        blocks.append((opening.group(1), start + 1, "\n".join(lines[start:end]) + "\n"))
        i = end + 1
    return blocks


LANGUAGE_TEXT = LANGUAGE.read_text(encoding="utf-8")
GAN_BLOCKS = [(line, code) for tag, line, code in fenced_blocks(LANGUAGE_TEXT) if tag == "gan"]


# ---- IDX files (MNIST's format), written by the tests that read them --------------------

IDX_N, IDX_SIZE = 40, (6, 5)


def idx_bytes(array: np.ndarray) -> bytes:
    """An IDX file of unsigned bytes: magic 0x0000080D (D dimensions), sizes, values."""
    head = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return head + array.astype(np.uint8).tobytes()


def write_idx(folder: Path, split: str = "train", n: int = IDX_N, gz: bool = True,
              seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, *IDX_SIZE), dtype=np.uint8)
    labels = (np.arange(n) % 10).astype(np.uint8)
    rng.shuffle(labels)
    folder.mkdir(parents=True, exist_ok=True)
    prefix = {"train": "train", "test": "t10k"}[split]
    for part, array in (("images-idx3", images), ("labels-idx1", labels)):
        path = folder / f"{prefix}-{part}-ubyte{'.gz' if gz else ''}"
        data = idx_bytes(array)
        path.write_bytes(gzip.compress(data) if gz else data)
    return images, labels


# ---- tests/lsp's client: `gandsl lsp` as a subprocess, one per test module, over stdio -----

@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "gandsl",
                                                              "lsp"]),
                    loop_scope="module", scope="module")
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(InitializeParams(
        capabilities=pytest_lsp.client_capabilities("visual-studio-code")))
    yield
    await lsp_client.shutdown_session()
