"""Tests for gandsl.runtime.norms: PixelNorm, ConditionalBatchNorm, AdaIN, SPADE."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import gandsl.runtime.functional as rf
from gandsl.runtime.norms import SPADE, AdaIN, ConditionalBatchNorm, PixelNorm


def n_params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


# --------------------------------------------------------------------------- PixelNorm


@pytest.mark.parametrize("shape", [(4, 7), (2, 5, 3, 3)])
def test_pixelnorm_unit_mean_square_and_direction(shape: tuple[int, ...]) -> None:
    torch.manual_seed(0)
    x = torch.randn(shape) * 4
    m = PixelNorm()
    out = m(x)
    assert out.shape == x.shape
    assert n_params(m) == 0
    mean_sq = (out**2).mean(dim=1)
    torch.testing.assert_close(mean_sq, torch.ones_like(mean_sq))
    # Each feature vector is only rescaled by its own positive factor.
    rms = (x**2).mean(dim=1, keepdim=True).sqrt()
    torch.testing.assert_close(out * rms, x)


def test_pixelnorm_eps_keeps_zeros_finite() -> None:
    out = PixelNorm(eps=1e-8)(torch.zeros(2, 3))
    assert torch.equal(out, torch.zeros(2, 3))


# ------------------------------------------------------------------ ConditionalBatchNorm


@pytest.mark.parametrize(("c", "k"), [(3, 5), (8, 10), (16, 1)])
def test_cbn_class_param_count(c: int, k: int) -> None:
    assert n_params(ConditionalBatchNorm(c, num_classes=k)) == 2 * k * c


@pytest.mark.parametrize(("c", "d"), [(3, 5), (8, 20), (16, 128)])
def test_cbn_vector_param_count(c: int, d: int) -> None:
    assert n_params(ConditionalBatchNorm(c, cond_dim=d)) == 2 * d * c


def test_cbn_needs_exactly_one_condition() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        ConditionalBatchNorm(4)
    with pytest.raises(ValueError, match="exactly one"):
        ConditionalBatchNorm(4, num_classes=3, cond_dim=5)


def test_cbn_class_init_is_plain_batchnorm() -> None:
    torch.manual_seed(0)
    x = torch.randn(6, 4, 3, 3)
    y = torch.tensor([0, 1, 2, 2, 1, 0])
    m = ConditionalBatchNorm(4, num_classes=3)
    torch.testing.assert_close(m(x, y), nn.BatchNorm2d(4, affine=False)(x))


def test_cbn_class_mode_train_and_eval() -> None:
    torch.manual_seed(1)
    c, k = 4, 3
    x = torch.randn(6, c, 3, 3) * 2 + 0.5
    y = torch.tensor([0, 1, 2, 2, 1, 0])
    m = ConditionalBatchNorm(c, num_classes=k)
    ref = nn.BatchNorm2d(c, affine=False)
    with torch.no_grad():
        m.gain.weight.copy_(torch.randn(k, c))
        m.bias.weight.copy_(torch.randn(k, c))
    g = m.gain.weight[y].view(6, c, 1, 1)
    b = m.bias.weight[y].view(6, c, 1, 1)

    out = m(x, y)
    assert out.shape == x.shape
    torch.testing.assert_close(out, ref(x) * g + b)
    # Running statistics follow nn.BatchNorm2d exactly.
    torch.testing.assert_close(m.running_mean, ref.running_mean)
    torch.testing.assert_close(m.running_var, ref.running_var)

    m.eval()
    ref.eval()
    x2 = torch.randn(6, c, 3, 3)
    torch.testing.assert_close(m(x2, y), ref(x2) * g + b)


def test_cbn_class_mode_on_2d_input() -> None:
    torch.manual_seed(2)
    x = torch.randn(5, 3)
    y = torch.tensor([1, 0, 1, 1, 0])
    m = ConditionalBatchNorm(3, num_classes=2)
    with torch.no_grad():
        m.gain.weight.copy_(torch.randn(2, 3))
        m.bias.weight.copy_(torch.randn(2, 3))
    expected = nn.BatchNorm1d(3, affine=False)(x) * m.gain.weight[y] + m.bias.weight[y]
    torch.testing.assert_close(m(x, y), expected)


def test_cbn_vector_mode_zero_linears_is_plain_batchnorm() -> None:
    torch.manual_seed(3)
    x = torch.randn(4, 5, 2, 2)
    cond = torch.randn(4, 7)
    m = ConditionalBatchNorm(5, cond_dim=7)
    with torch.no_grad():
        m.gain.weight.zero_()
        m.bias.weight.zero_()
    torch.testing.assert_close(m(x, cond), nn.BatchNorm2d(5, affine=False)(x))


def test_cbn_vector_mode_values() -> None:
    torch.manual_seed(4)
    x = torch.randn(4, 5, 2, 2)
    cond = torch.randn(4, 7)
    m = ConditionalBatchNorm(5, cond_dim=7)
    assert m.gain.bias is None and m.bias.bias is None
    gain = (cond @ m.gain.weight.T).view(4, 5, 1, 1)
    bias = (cond @ m.bias.weight.T).view(4, 5, 1, 1)
    expected = nn.BatchNorm2d(5, affine=False)(x) * (1 + gain) + bias
    torch.testing.assert_close(m(x, cond), expected)


def test_cbn_gradcheck_train_mode() -> None:
    torch.manual_seed(5)
    x = torch.randn(4, 2, 2, 2, dtype=torch.float64, requires_grad=True)
    labels = torch.tensor([0, 1, 1, 0])
    m = ConditionalBatchNorm(2, num_classes=2).double()
    with torch.no_grad():
        m.gain.weight.copy_(torch.randn(2, 2))
    assert m.training
    assert torch.autograd.gradcheck(lambda t: m(t, labels), (x,))

    mv = ConditionalBatchNorm(2, cond_dim=3).double()
    cond = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(mv, (x, cond))


# ------------------------------------------------------------------------------ AdaIN


@pytest.mark.parametrize(("c", "s"), [(3, 4), (8, 16), (32, 512)])
def test_adain_param_count(c: int, s: int) -> None:
    m = AdaIN(c, s)
    assert n_params(m) == s * 2 * c + 2 * c
    assert m.style.weight.shape == (2 * c, s)


def _manual_adain(x: torch.Tensor, w: torch.Tensor, m: AdaIN) -> torch.Tensor:
    c = m.channels
    s = w.float() @ m.style.weight.T.float() + m.style.bias.float()  # (B, 2C)
    xf = x.float()
    mean = xf.mean(dim=(2, 3), keepdim=True)
    var = ((xf - mean) ** 2).mean(dim=(2, 3), keepdim=True)
    xhat = (xf - mean) / torch.sqrt(var + m.eps)
    return xhat * (1 + s[:, :c, None, None]) + s[:, c:, None, None]


def test_adain_values() -> None:
    torch.manual_seed(0)
    m = AdaIN(3, 5)
    nn.init.normal_(m.style.bias)
    x = torch.randn(2, 3, 4, 4) * 3 + 2
    w = torch.randn(2, 5)
    out = m(x, w)
    assert out.shape == x.shape
    torch.testing.assert_close(out, _manual_adain(x, w, m))


def test_adain_bfloat16_input_computed_in_fp32() -> None:
    torch.manual_seed(1)
    m = AdaIN(4, 6).to(torch.bfloat16)
    x = (torch.randn(2, 4, 8, 8) * 0.5 + 20).to(torch.bfloat16)
    w = torch.randn(2, 6).to(torch.bfloat16)
    out = m(x, w)
    assert out.dtype == torch.bfloat16 and out.shape == x.shape
    # The style linear runs in bf16 (module dtype); only the normalisation is upcast.
    s = m.style(w).float()
    xf = x.float()
    mean = xf.mean(dim=(2, 3), keepdim=True)
    var = ((xf - mean) ** 2).mean(dim=(2, 3), keepdim=True)
    expected = (xf - mean) / torch.sqrt(var + m.eps) * (1 + s[:, :4, None, None])
    expected = expected + s[:, 4:, None, None]
    expected = expected.to(torch.bfloat16).float()
    torch.testing.assert_close(out.float(), expected, atol=5e-2, rtol=2e-2)


def test_adain_goes_through_fused_adain(monkeypatch: pytest.MonkeyPatch) -> None:
    """The layer's arithmetic is the fused op's (a Triton kernel on CUDA, the reference
    elsewhere), with the layer's eps."""
    from gandsl.runtime import norms

    calls: list[float] = []
    original = norms.fused_adain

    def spy(x, scale, bias, eps=1e-5, impl="auto"):
        calls.append(eps)
        return original(x, scale, bias, eps, impl)

    monkeypatch.setattr(norms, "fused_adain", spy)
    m = AdaIN(2, 3, eps=1e-3)
    x, w = torch.randn(2, 2, 3, 3), torch.randn(2, 3)
    s = m.style(w)
    torch.testing.assert_close(m(x, w), rf.adain_ref(x, 1 + s[:, :2], s[:, 2:], 1e-3))
    assert calls == [1e-3]


def test_adain_gradcheck() -> None:
    torch.manual_seed(2)
    m = AdaIN(2, 3).double()
    x = torch.randn(2, 2, 3, 3, dtype=torch.float64, requires_grad=True)
    w = torch.randn(2, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(m, (x, w))


# ------------------------------------------------------------------------------ SPADE


@pytest.mark.parametrize(
    ("c", "label", "hidden", "k"), [(4, 3, 8, 3), (16, 35, 128, 3), (8, 2, 5, 1), (3, 4, 6, 5)]
)
def test_spade_param_count(c: int, label: int, hidden: int, k: int) -> None:
    m = SPADE(c, label, hidden=hidden, kernel=k)
    expected = label * hidden * k * k + hidden + 2 * (hidden * c * k * k + c)
    assert n_params(m) == expected
    assert n_params(SPADE(c, label, hidden=hidden, kernel=k, norm="instance")) == expected


def test_spade_unknown_norm() -> None:
    with pytest.raises(ValueError, match="batch.*instance"):
        SPADE(4, 3, norm="layer")


def _manual_spade(m: SPADE, x: torch.Tensor, segmap: torch.Tensor, norm: str) -> torch.Tensor:
    """SPADE composed by hand from the module's own conv weights; segmap already resized."""
    pad = m.gamma.kernel_size[0] // 2
    conv0 = m.shared[0]
    actv = F.relu(F.conv2d(segmap, conv0.weight, conv0.bias, padding=pad))
    gamma = F.conv2d(actv, m.gamma.weight, m.gamma.bias, padding=pad)
    beta = F.conv2d(actv, m.beta.weight, m.beta.bias, padding=pad)
    if norm == "batch":
        mean = x.mean(dim=(0, 2, 3), keepdim=True)
        var = x.var(dim=(0, 2, 3), keepdim=True, correction=0)
    else:
        mean = x.mean(dim=(2, 3), keepdim=True)
        var = x.var(dim=(2, 3), keepdim=True, correction=0)
    normalized = (x - mean) / torch.sqrt(var + 1e-5)
    return normalized * (1 + gamma) + beta


@pytest.mark.parametrize("norm", ["batch", "instance"])
def test_spade_values_downsampled_segmap(norm: str) -> None:
    torch.manual_seed(0)
    m = SPADE(3, 2, hidden=5, kernel=3, norm=norm)
    x = torch.randn(2, 3, 4, 4)
    seg = torch.randn(2, 2, 8, 8)
    out = m(x, seg)
    assert out.shape == x.shape
    # Nearest resize 8 -> 4 keeps every second pixel, starting at 0.
    torch.testing.assert_close(out, _manual_spade(m, x, seg[:, :, ::2, ::2], norm))


def test_spade_values_upsampled_segmap() -> None:
    torch.manual_seed(1)
    m = SPADE(4, 3, hidden=6, kernel=1)
    x = torch.randn(2, 4, 4, 6)
    seg = torch.randn(2, 3, 2, 3)
    # Nearest resize 2x3 -> 4x6 repeats each pixel twice along both axes.
    segmap = seg.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)
    torch.testing.assert_close(m(x, seg), _manual_spade(m, x, segmap, "batch"))
