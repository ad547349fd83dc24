"""Tests for gandsl.runtime.layers."""

import math

import pytest
import torch
from torch import nn

from gandsl.runtime.layers import (
    ConstantInput,
    Maxout,
    MinibatchStdDev,
    NoiseInjection,
    Projection,
    SelfAttention,
)


def n_params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


# -------------------------------------------------------------------- MinibatchStdDev


def test_mbstd_values_by_hand() -> None:
    # N=4, group 2: reshape(G=2, M=2, ...) puts samples {0, 2} and {1, 3} together.
    x = torch.tensor(
        [
            [[[1.0, 2.0]], [[0.0, 0.0]]],
            [[[5.0, 5.0]], [[1.0, 3.0]]],
            [[[3.0, 2.0]], [[4.0, 0.0]]],
            [[[5.0, 1.0]], [[1.0, 1.0]]],
        ]
    )  # (4, 2, 1, 2)
    m = MinibatchStdDev(group_size=2)
    out = m(x)
    assert out.shape == (4, 3, 1, 2)
    assert n_params(m) == 0
    torch.testing.assert_close(out[:, :2], x)

    def std_pair(a: float, b: float) -> float:
        return math.sqrt(((a - b) / 2) ** 2 + 1e-8)  # population std of two numbers

    # Group {0, 2}: element-wise pairs (1,3) (2,2) (0,4) (0,0).
    g02 = (std_pair(1, 3) + std_pair(2, 2) + std_pair(0, 4) + std_pair(0, 0)) / 4
    # Group {1, 3}: pairs (5,5) (5,1) (1,1) (3,1).
    g13 = (std_pair(5, 5) + std_pair(5, 1) + std_pair(1, 1) + std_pair(3, 1)) / 4
    expected = torch.tensor([g02, g13, g02, g13]).view(4, 1, 1, 1).expand(4, 1, 1, 2)
    torch.testing.assert_close(out[:, 2:], expected)


def test_mbstd_num_features_and_group_capped_at_batch() -> None:
    torch.manual_seed(0)
    x = torch.randn(3, 4, 2, 2)
    out = MinibatchStdDev(group_size=8, num_features=2)(x)  # G = min(8, 3) = 3
    assert out.shape == (3, 6, 2, 2)
    std = x.std(dim=0, correction=0)  # (4, 2, 2), whole batch is one group
    expected = torch.stack([std[:2].mean(), std[2:].mean()])  # one value per feature group
    for n in range(3):
        torch.testing.assert_close(out[n, 4:], expected.view(2, 1, 1).expand(2, 2, 2))


def test_mbstd_batch_not_divisible() -> None:
    with pytest.raises(ValueError, match=r"6.*4"):
        MinibatchStdDev(group_size=4)(torch.zeros(6, 2, 2, 2))


def test_mbstd_gradcheck() -> None:
    torch.manual_seed(1)
    x = torch.randn(4, 2, 2, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(MinibatchStdDev(group_size=2, num_features=2), (x,))


# --------------------------------------------------------------------- NoiseInjection


@pytest.mark.parametrize("c", [1, 3, 64])
def test_noise_param_count(c: int) -> None:
    m = NoiseInjection(c)
    assert n_params(m) == c and m.weight.shape == (c,)


def test_noise_zero_weight_is_identity() -> None:
    x = torch.randn(2, 3, 4, 4)
    assert torch.equal(NoiseInjection(3)(x), x)


def test_noise_given_noise_formula() -> None:
    torch.manual_seed(0)
    m = NoiseInjection(3)
    with torch.no_grad():
        m.weight.copy_(torch.tensor([0.5, -1.0, 2.0]))
    x = torch.randn(2, 3, 4, 4)
    noise = torch.randn(2, 1, 4, 4)
    out = m(x, noise)
    for c, s in enumerate([0.5, -1.0, 2.0]):
        torch.testing.assert_close(out[:, c], x[:, c] + s * noise[:, 0])


def test_noise_default_noise_shape_and_dtype() -> None:
    m = NoiseInjection(3).double()
    with torch.no_grad():
        m.weight.fill_(1.0)
    x = torch.zeros(2, 3, 4, 5, dtype=torch.float64)
    out = m(x)
    assert out.dtype == torch.float64 and out.shape == x.shape
    # The same single-channel noise image is broadcast over all channels.
    assert torch.equal(out[:, 0], out[:, 1]) and torch.equal(out[:, 1], out[:, 2])
    assert out.abs().sum() > 0


# ---------------------------------------------------------------------- ConstantInput


@pytest.mark.parametrize(("c", "h", "w"), [(512, 4, 4), (3, 2, 5)])
def test_constant_input(c: int, h: int, w: int) -> None:
    m = ConstantInput(c, h, w)
    assert n_params(m) == c * h * w
    out = m(3)
    assert out.shape == (3, c, h, w)
    for b in range(3):
        assert torch.equal(out[b], m.const[0])
    out.sum().backward()
    # Every batch entry back-propagates into the one constant.
    torch.testing.assert_close(m.const.grad, torch.full((1, c, h, w), 3.0))


# ---------------------------------------------------------------------- SelfAttention


@pytest.mark.parametrize("c", [8, 16, 64])
def test_self_attention_param_counts(c: int) -> None:
    c8, c2 = c // 8, c // 2
    assert n_params(SelfAttention(c, "sagan")) == 2 * (c * c8 + c8) + c * c + c + 1
    assert n_params(SelfAttention(c, "biggan")) == 2 * c * c8 + 2 * c * c2 + 1


def test_self_attention_errors() -> None:
    with pytest.raises(ValueError, match="sagan"):
        SelfAttention(16, kind="transformer")
    with pytest.raises(ValueError, match="channels"):
        SelfAttention(4)


@pytest.mark.parametrize("kind", ["sagan", "biggan"])
def test_self_attention_gamma_zero_is_identity(kind: str) -> None:
    torch.manual_seed(0)
    x = torch.randn(2, 16, 4, 4)
    out = SelfAttention(16, kind)(x)
    assert out.shape == x.shape
    torch.testing.assert_close(out, x)


def _conv1x1(conv: nn.Conv2d, x: torch.Tensor) -> torch.Tensor:
    """1x1 conv as an einsum over channels; output flattened to (B, O, HW)."""
    y = torch.einsum("oc,bchw->bohw", conv.weight[:, :, 0, 0], x)
    if conv.bias is not None:
        y = y + conv.bias.view(1, -1, 1, 1)
    return y.flatten(2)


def _pool2x2(y: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """2x2 max pool of a (B, C, HW) tensor laid out as (H, W); returns (B, C, HW/4)."""
    b, c, _ = y.shape
    return y.view(b, c, h // 2, 2, w // 2, 2).amax(dim=(3, 5)).flatten(2)


def test_self_attention_sagan_values() -> None:
    torch.manual_seed(1)
    m = SelfAttention(16, "sagan")
    with torch.no_grad():
        m.gamma.fill_(1.0)
    x = torch.randn(2, 16, 3, 4)
    q, k, v = _conv1x1(m.query, x), _conv1x1(m.key, x), _conv1x1(m.value, x)
    attn = torch.einsum("bci,bcj->bij", q, k).softmax(dim=-1)  # (B, query i, key j)
    attended = torch.einsum("bij,bcj->bci", attn, v).view(2, 16, 3, 4)
    torch.testing.assert_close(m(x), attended + x)


def test_self_attention_biggan_values() -> None:
    torch.manual_seed(2)
    m = SelfAttention(16, "biggan")
    with torch.no_grad():
        m.gamma.fill_(1.0)
    x = torch.randn(2, 16, 4, 6)
    theta = _conv1x1(m.theta, x)  # (B, 2, 24)
    phi = _pool2x2(_conv1x1(m.phi, x), 4, 6)  # (B, 2, 6)
    g = _pool2x2(_conv1x1(m.g, x), 4, 6)  # (B, 8, 6)
    beta = torch.einsum("bci,bcj->bij", theta, phi).softmax(dim=-1)  # (B, 24, 6)
    attended = torch.einsum("bij,bcj->bci", beta, g).view(2, 8, 4, 6)
    o = _conv1x1(m.o, attended).view(2, 16, 4, 6)
    torch.testing.assert_close(m(x), o + x)


# ------------------------------------------------------------------------- Projection


@pytest.mark.parametrize(("k", "f"), [(10, 4), (1000, 16), (1, 1)])
def test_projection_param_count(k: int, f: int) -> None:
    assert n_params(Projection(k, f)) == k * f


def test_projection_values() -> None:
    torch.manual_seed(0)
    m = Projection(5, 3)
    h = torch.randn(4, 3)
    y = torch.tensor([4, 0, 0, 2])
    out = m(h, y)
    assert out.shape == (4, 1)
    emb = m.embed.weight
    for b in range(4):
        expected = sum(emb[y[b], j] * h[b, j] for j in range(3))
        torch.testing.assert_close(out[b, 0], expected)


# ----------------------------------------------------------------------------- Maxout


@pytest.mark.parametrize(("i", "u", "p"), [(784, 240, 5), (3, 2, 4), (5, 1, 1)])
def test_maxout_param_count(i: int, u: int, p: int) -> None:
    m = Maxout(i, u, p)
    assert n_params(m) == i * u * p + u * p
    assert n_params(m) == n_params(nn.Linear(i, u * p))


def test_maxout_values_use_consecutive_pieces() -> None:
    torch.manual_seed(0)
    m = Maxout(3, 2, 4)
    x = torch.randn(5, 3)
    out = m(x)
    assert out.shape == (5, 2)
    z = x @ m.linear.weight.T + m.linear.bias  # (5, 8)
    expected = torch.stack([z[:, 0:4].amax(dim=1), z[:, 4:8].amax(dim=1)], dim=1)
    torch.testing.assert_close(out, expected)


def test_maxout_gradcheck() -> None:
    torch.manual_seed(1)
    m = Maxout(3, 2, 3).double()
    x = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(m, (x,))


def test_normalize_maps_minus_one_to_one_images_to_imagenet_inputs():
    from gandsl import runtime as rt

    x = torch.tensor([-1.0, 0.0, 1.0]).view(1, 3, 1, 1)  # pixels 0, 0.5, 1
    out = rt.normalize(x, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)).flatten()
    expected = torch.tensor([(0 - 0.485) / 0.229, (0.5 - 0.456) / 0.224, (1 - 0.406) / 0.225])
    torch.testing.assert_close(out, expected)
