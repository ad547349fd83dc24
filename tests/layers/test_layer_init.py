"""A layer's own initialization (`conv(64, 3, init=msr(gain=0.5))`): the generated constructor
draws the weight by the named method (statistics checked against the formulas on layers large
enough for them to be tight), a network's `init` in the train section leaves such layers, and
wrong uses fail at the argument.
"""

from __future__ import annotations

import math

import pytest
import torch
from conftest import codes_at, compile_text
from torch import nn

import gandsl
import gandsl.runtime as rt
from gandsl.runtime.inits import init_weight, initialized
from gandsl.train.init import initialize

SPEC = """\
param L = 4
data d: image[1, 8, 8] = digits()
network G(z: latent[64]) -> image[1, 8, 8] {
  h = z -> linear(4096, init=msr(gain=L^(-1/(2*2-2))))
  h = h -> linear(64, init=zeros) -> reshape(1, 8, 8)
  return h -> conv(1, 3, pad=1) -> tanh
}
network D(x: image[1, 8, 8]) -> scalar {
  h = x -> conv(256, 3, pad=1, init=msr) -> flatten
  return h -> linear(1, init=orthogonal(gain=2), sn=true)
}
objective {
  x ~ d
  z ~ normal(64)
  D minimizes gan_d(D(x), D(G(z)))
  G minimizes gan_g(D(G(z)))
}
train {
  adam G (lr=2e-4)
  adam D (lr=2e-4)
  init G normal(std=0.02)
  init D normal(std=0.02)
}
"""


@pytest.fixture(scope="module")
def nets(tmp_path_factory):
    path = tmp_path_factory.mktemp("init") / "init.gan"
    path.write_text(SPEC)
    torch.manual_seed(0)
    loaded = gandsl.load(path)
    return loaded, loaded.networks


def test_generated_constructor_names_the_method(nets):
    loaded, _ = nets
    assert 'rt.initialized(nn.Linear(64, 4096), "msr", gain=0.5)' in loaded.source
    assert 'rt.initialized(nn.Linear(4096, 64), "zeros")' in loaded.source
    # the weight is drawn first: spectral norm keeps the weight it is given
    assert ('spectral_norm(\n                rt.initialized(nn.Linear(16384, 1), "orthogonal", '
            'gain=2))') in loaded.source


def test_msr_is_normal_with_std_gain_over_root_fan_in(nets):
    _, n = nets
    g_first = n["G"].linear_1
    w = g_first.weight
    # L^(-1/(2m-2)) with L = 4, m = 2: 4^(-1/2) = 0.5; fan_in = 64
    assert w.mean().abs() < 3 * 0.5 / 8 / math.sqrt(w.numel())
    assert w.std().item() == pytest.approx(0.5 / 8, rel=0.01)
    assert torch.all(g_first.bias == 0)
    conv = n["D"].main[0]  # D is one nn.Sequential: conv, flatten, linear
    # a conv's fan-in counts the kernel: 1 channel · 3 · 3 = 9; gain 1 by default
    assert conv.weight.std().item() == pytest.approx(1 / 3, rel=0.05)


def test_zeros_and_orthogonal(nets):
    _, n = nets
    assert torch.all(n["G"].linear_2.weight == 0)
    lin = n["D"].main[2]
    w = lin.parametrizations.weight.original  # the stored weight under spectral norm
    # a 1 × 16384 orthogonal matrix is a row of norm 1, scaled by the gain
    assert torch.linalg.vector_norm(w).item() == pytest.approx(2.0, rel=1e-5)


def test_network_init_leaves_layers_with_their_own(nets):
    _, n = nets
    g = n["G"]
    own = g.linear_1.weight.clone(), g.linear_2.weight.clone()
    torch.manual_seed(1)
    initialize(g, "normal", {"std": 0.02})
    assert torch.equal(g.linear_1.weight, own[0]) and torch.equal(g.linear_2.weight, own[1])
    conv = g.conv_1.weight  # no init of its own: N(0, 0.02²) now
    assert conv.std().item() == pytest.approx(0.02, rel=0.5)
    assert conv.abs().max().item() < 0.02 * 6


def test_r3gan_fixup_branch_against_its_formula():
    """R3GAN's MSRInitializer: N(0, (activation gain · L^(-1/(2m-2)))² / fan_in) for the inner
    layers of a residual branch, 0 for its last: the branch starts as the identity."""
    torch.manual_seed(0)
    layers, m, slope = 4, 3, 0.2
    gain = math.sqrt(2 / (1 + slope ** 2)) * layers ** (-1 / (2 * m - 2))
    conv = initialized(nn.Conv2d(96, 192, 3, padding=1), "msr", gain=gain)
    fan_in = 96 * 9
    assert conv.weight.std().item() == pytest.approx(gain / math.sqrt(fan_in), rel=0.01)
    last = initialized(nn.Conv2d(192, 96, 1), "msr", gain=0)
    assert torch.all(last.weight == 0) and torch.all(last.bias == 0)


def test_every_method_draws_what_it_says():
    torch.manual_seed(0)
    w = torch.empty(512, 1024)
    init_weight(w, "uniform", range=0.1)
    assert -0.1 <= w.min() and w.max() <= 0.1 and w.max() > 0.099
    init_weight(w, "normal", mean=1.0, std=0.5)
    assert w.mean().item() == pytest.approx(1.0, abs=0.005)
    assert w.std().item() == pytest.approx(0.5, rel=0.01)
    init_weight(w, "ones")
    assert torch.all(w == 1)
    init_weight(w, "kaiming", a=0.0)  # He: std √2 / √fan_in
    assert w.std().item() == pytest.approx(math.sqrt(2 / 1024), rel=0.01)
    init_weight(w, "xavier", gain=1.0)  # Glorot uniform: bound √(6 / (fan_in + fan_out))
    assert w.abs().max().item() <= math.sqrt(6 / (512 + 1024)) + 1e-7
    with pytest.raises(ValueError, match="unknown initialization"):
        init_weight(w, "lecun")


HEAD = """\
data d: image[1, 8, 8] = digits()
network D(x: image[1, 8, 8]) -> scalar {
  return x -> flatten -> %s
}
"""


@pytest.mark.parametrize("layer, code, col", [
    ("linear(1, init=lecun)", "E203", 41),
    ("linear(1, init=msr(std=1))", "E104", 45),
    ("linear(1, init=msr(gain=true))", "E203", 50),
    ("linear(1, init=msr(0.5))", "E203", 41),
    ("linear(1, init=1)", "E203", 41),
    ("linear(1, init=zeros, sn=true)", "E203", 41),
    ("linear(1, init=msr(gain=0), sn=true)", "E203", 41),
    ("linear(1, init=msr, eqlr=true)", "E203", 41),
    ("relu(init=zeros)", "E104", 31),
])
def test_wrong_initializations_fail_at_the_argument(layer, code, col):
    assert codes_at(HEAD % layer)[:1] == [(code, 3, col)]


def test_projection_takes_an_init_of_its_class_embedding():
    result = compile_text("""\
        data d: image[1, 8, 8], class[10] = digits()
        network D(x: image[1, 8, 8], y: class[10]) -> scalar {
          h = x -> flatten -> linear(256)
          return h -> projection(y, init=msr(gain=0.5))
        }
        """)
    assert 'rt.Projection(10, 256, init="msr", gain=0.5)' in result.python
    torch.manual_seed(0)
    p = rt.Projection(10, 4096, init="msr", gain=0.5)
    # the embedding's weight is (10, 4096): fan_in 4096, as a weighted layer's
    assert p.embed.weight.std().item() == pytest.approx(0.5 / 64, rel=0.02)
    before = p.embed.weight.clone()
    initialize(p, "normal", {"std": 0.02})  # a network's init leaves it
    assert torch.equal(p.embed.weight, before)
