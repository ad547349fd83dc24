"""Tests for gandsl.runtime.functional: tile and the AdaIN reference math."""

import pytest
import torch

from gandsl.runtime.functional import adain_ref, tile


def test_tile_shape_values_and_view() -> None:
    v = torch.arange(6.0).view(2, 3)
    out = tile(v, 4, 5)
    assert out.shape == (2, 3, 4, 5)
    for b in range(2):
        for n in range(3):
            assert torch.all(out[b, n] == v[b, n])
    # A broadcast view, not a copy.
    assert out.data_ptr() == v.data_ptr()
    assert out.stride()[2:] == (0, 0)


def test_tile_rejects_non_2d() -> None:
    with pytest.raises(ValueError, match="B, N"):
        tile(torch.zeros(2, 3, 4), 2, 2)


def _manual_adain(x: torch.Tensor, scale: torch.Tensor, bias: torch.Tensor, eps: float):
    """Instance norm written out with sums, in float64."""
    x = x.double()
    n, c, h, w = x.shape
    hw = h * w
    mean = x.sum(dim=(2, 3), keepdim=True) / hw
    var = ((x - mean) ** 2).sum(dim=(2, 3), keepdim=True) / hw  # biased
    xhat = (x - mean) / (var + eps) ** 0.5
    return xhat * scale.double().view(n, c, 1, 1) + bias.double().view(n, c, 1, 1)


def test_adain_ref_matches_manual_float32() -> None:
    torch.manual_seed(0)
    x = torch.randn(2, 3, 4, 5) * 3 + 1
    scale, bias = torch.randn(2, 3), torch.randn(2, 3)
    out = adain_ref(x, scale, bias, eps=1e-5)
    assert out.shape == x.shape and out.dtype == torch.float32
    torch.testing.assert_close(out, _manual_adain(x, scale, bias, 1e-5).float())


def test_adain_ref_unit_scale_zero_bias_is_instance_norm() -> None:
    torch.manual_seed(1)
    x = torch.randn(3, 2, 6, 6)
    out = adain_ref(x, torch.ones(3, 2), torch.zeros(3, 2), eps=1e-5)
    # Every (n, c) plane has mean 0 and (biased) variance ~1.
    torch.testing.assert_close(out.mean(dim=(2, 3)), torch.zeros(3, 2), atol=1e-5, rtol=0)
    var = out.var(dim=(2, 3), correction=0)
    torch.testing.assert_close(var, torch.ones(3, 2), atol=1e-3, rtol=0)


@pytest.mark.parametrize(("dtype", "tol"), [(torch.bfloat16, 2e-2), (torch.float16, 3e-3)])
def test_adain_ref_low_precision_computes_in_fp32(dtype: torch.dtype, tol: float) -> None:
    torch.manual_seed(2)
    # A large offset makes a low-precision variance visibly wrong; fp32 stats are fine.
    x = (torch.randn(2, 4, 8, 8) * 0.5 + 20).to(dtype)
    scale = torch.randn(2, 4).to(dtype)
    bias = torch.randn(2, 4).to(dtype)
    out = adain_ref(x, scale, bias, eps=1e-5)
    assert out.dtype == dtype and out.shape == x.shape
    expected = _manual_adain(x.float(), scale.float(), bias.float(), 1e-5)
    # Only the final cast to `dtype` may differ from the exact answer.
    torch.testing.assert_close(out.double(), expected.to(dtype).double(), atol=tol, rtol=tol)


def test_adain_ref_float64_stays_float64_and_gradcheck() -> None:
    torch.manual_seed(3)
    x = torch.randn(2, 2, 3, 3, dtype=torch.float64, requires_grad=True)
    scale = torch.randn(2, 2, dtype=torch.float64, requires_grad=True)
    bias = torch.randn(2, 2, dtype=torch.float64, requires_grad=True)
    assert adain_ref(x, scale, bias).dtype == torch.float64
    assert torch.autograd.gradcheck(adain_ref, (x, scale, bias))


def test_adain_ref_shape_errors() -> None:
    with pytest.raises(ValueError, match="N, C, H, W"):
        adain_ref(torch.zeros(2, 3), torch.zeros(2, 3), torch.zeros(2, 3))
    with pytest.raises(ValueError, match="scale and bias"):
        adain_ref(torch.zeros(2, 3, 4, 4), torch.zeros(2, 4), torch.zeros(2, 3))
