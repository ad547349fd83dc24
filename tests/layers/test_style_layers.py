"""`modulated_conv` (StyleGAN2's modulated convolution, `gandsl.layers.style` and
`gandsl.runtime.style`) and `noise(per_channel=false)`: the compiler's parameter formula
against the instantiated module, the values against a per-sample computation written out by
hand (modulate, demodulate, convolve; for ×2 a zero-insertion upsampling and the
[1, 3, 3, 1] blur), and the output shapes."""

from __future__ import annotations

import math
import textwrap

import pytest
import torch
import torch.nn.functional as F
from conftest import diagnostics

import gandsl
from gandsl.runtime import ModulatedConv2d


def _load(tmp_path, inputs: str, expr: str, out: str):
    """Compile a one-network spec returning `expr`; (spec network, torch module)."""
    path = tmp_path / "case.gan"
    path.write_text(textwrap.dedent(f"""\
        gan style_case
        network N({inputs}) -> {out} {{
          return {expr}
        }}
        """))
    loaded = gandsl.load(path)
    return loaded.spec.networks[0], loaded.networks["N"]


# (input channels, the layer's arguments after `w`, declared output, parameters by hand)
# with w: latent[7] and x: map[C, 5, 5]
COUNT_CASES = [
    (4, "6, 3", "map[6, 5, 5]", 7 * 4 + 4 + 6 * 4 * 9 + 6),
    (4, "6, 3, up=2", "map[6, 10, 10]", 7 * 4 + 4 + 6 * 4 * 9 + 6),
    (4, "3, 1, demod=false", "map[3, 5, 5]", 7 * 4 + 4 + 3 * 4 + 3),
    (5, "2, 5, bias=false", "map[2, 5, 5]", 7 * 5 + 5 + 2 * 5 * 25),
    (5, "2, 1, up=2, demod=false, bias=false", "map[2, 10, 10]", 7 * 5 + 5 + 2 * 5),
]


@pytest.mark.parametrize(("c", "args", "out", "params"), COUNT_CASES,
                         ids=[c[1] for c in COUNT_CASES])
def test_parameter_formula_equals_the_module(tmp_path, c, args, out, params):
    net, module = _load(tmp_path, f"x: map[{c}, 5, 5], w: latent[7]",
                        f"x -> modulated_conv(w, {args})", out)
    assert sum(n.params for n in net.nodes) == params  # the compiler's formula
    assert sum(p.numel() for p in module.parameters()) == params  # the real module
    y = module(torch.randn(3, c, 5, 5), torch.randn(3, 7))
    assert tuple(y.shape) == (3, *net.outputs[0].type.dims)  # declared shape, ×2 with up=2
    y.sum().backward()
    assert all(p.grad is not None for p in module.parameters())


def test_upsampling_shape_for_every_odd_kernel():
    x, w = torch.randn(2, 3, 6, 4), torch.randn(2, 5)
    for k in (1, 3, 5, 7):
        m = ModulatedConv2d(3, 4, k, 5, up=2)
        assert tuple(m(x, w).shape) == (2, 4, 12, 8)
        assert tuple(ModulatedConv2d(3, 4, k, 5)(x, w).shape) == (2, 4, 6, 4)


def _styles(m: ModulatedConv2d, w: torch.Tensor) -> torch.Tensor:
    """A(w) written out: equalized lr with gain 1, so the stored weight over √style_dim."""
    stored = m.affine.parametrizations.weight.original  # (I, style_dim)
    return w @ stored.t() / math.sqrt(m.style_dim) + m.affine.parametrizations.bias.original


def _reference(m: ModulatedConv2d, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """One sample at a time, with ordinary (non-grouped) convolutions."""
    k = m.kernel_size
    styles = _styles(m, w)
    outs = []
    for n in range(x.shape[0]):
        weight = m.weight * styles[n].reshape(1, -1, 1, 1)  # modulate the input channels
        if m.demodulate:  # each output filter to unit L2 norm
            norm = weight.pow(2).sum(dim=(1, 2, 3), keepdim=True).add(1e-8).sqrt()
            weight = weight / norm
        else:  # the He constant of equalized lr
            weight = weight / math.sqrt(m.in_channels * k * k)
        xn = x[n:n + 1]
        if m.up == 1:
            y = F.conv2d(xn, weight, padding=k // 2)
        else:
            # A stride-2 transposed convolution is a full convolution of the input with zeros
            # inserted between pixels...
            _, c, h, wd = xn.shape
            u = xn.new_zeros(1, c, 2 * h - 1, 2 * wd - 1)
            u[:, :, ::2, ::2] = xn
            y = F.conv2d(F.pad(u, [k - 1] * 4), weight.flip([2, 3]))  # (1, O, 2H+k-2, ...)
            # ... then the [1, 3, 3, 1] low-pass, normalized and times 4 (two zeros of four).
            taps = x.new_tensor([1.0, 3.0, 3.0, 1.0]) / 8
            blur = (torch.outer(taps, taps) * 4).expand(y.shape[1], 1, 4, 4)
            p = (5 - k) // 2
            y = F.conv2d(F.pad(y, [p] * 4), blur, groups=y.shape[1])
        outs.append(y + m.bias.reshape(1, -1, 1, 1) if m.bias is not None else y)
    return torch.cat(outs)


@pytest.mark.parametrize(("k", "demod", "up", "bias"), [
    (3, True, 1, True), (3, True, 2, True), (1, False, 1, True), (1, False, 2, False),
    (5, True, 2, False), (3, False, 2, True)])
def test_values_equal_the_hand_written_computation(k, demod, up, bias):
    torch.manual_seed(0)
    m = ModulatedConv2d(3, 4, k, 6, demodulate=demod, up=up, bias=bias).double()
    with torch.no_grad():  # styles away from 1 and a non-zero bias, so both are exercised
        m.affine.parametrizations.bias.original.normal_()
        if m.bias is not None:
            m.bias.normal_()
    x, w = torch.randn(2, 3, 5, 4, dtype=torch.double), torch.randn(2, 6, dtype=torch.double)
    torch.testing.assert_close(m(x, w), _reference(m, x, w))


def test_the_affine_starts_at_one_and_demodulation_removes_the_weight_scale():
    torch.manual_seed(0)
    m = ModulatedConv2d(3, 4, 3, 6, bias=False).double()
    assert torch.equal(m.affine.parametrizations.bias.original, torch.ones(3, dtype=torch.double))
    x, w = torch.randn(2, 3, 5, 5, dtype=torch.double), torch.randn(2, 6, dtype=torch.double)
    y = m(x, w)
    with torch.no_grad():
        m.weight.mul_(7.0)
    torch.testing.assert_close(m(x, w), y)  # every filter is rescaled to unit norm anyway


def test_upsampling_keeps_a_constant_image_constant_inside():
    """The blur's gain: a 1×1 conv upsampled from a constant image keeps its value (away from
    the border, where the reference's zero padding darkens it)."""
    m = ModulatedConv2d(2, 3, 1, 4, demodulate=False, up=2, bias=False)
    x, w = torch.ones(1, 2, 6, 6), torch.randn(1, 4)
    y = m(x, w)
    flat = ModulatedConv2d(2, 3, 1, 4, demodulate=False, bias=False)
    flat.load_state_dict(m.state_dict())
    inner = y[:, :, 2:-2, 2:-2]
    torch.testing.assert_close(inner, flat(x, w)[:, :, :1, :1].expand_as(inner))


def test_noise_with_one_strength(tmp_path):
    net, module = _load(tmp_path, "x: map[4, 5, 5]", "x -> noise(per_channel=false)",
                        "map[4, 5, 5]")
    assert sum(n.params for n in net.nodes) == 1
    assert sum(p.numel() for p in module.parameters()) == 1
    x = torch.randn(2, 4, 5, 5)
    with torch.no_grad():
        next(module.parameters()).fill_(0.5)
    d = module(x) - x  # the same noise image, scaled by the one strength, in every channel
    assert torch.allclose(d, d[:, :1].expand_as(d))


@pytest.mark.parametrize(("expr", "code"), [
    ("x -> modulated_conv(w, 4, 2)", "E203"),              # an even kernel
    ("x -> modulated_conv(w, 4, 3, up=3)", "E203"),        # ×1 or ×2 only
    ("x -> modulated_conv(x, 4, 3)", "E201"),              # the style must be flat
    ("x -> modulated_conv(3, 4, 3)", "E154"),              # the style is a tensor
])
def test_wrong_arguments(expr, code):
    found = diagnostics(f"""\
        network N(x: map[4, 5, 5], w: latent[7]) -> map[4, 5, 5] {{
          return {expr}
        }}
        """)
    assert code in [d.code for d in found]
