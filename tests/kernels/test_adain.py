"""The AdaIN kernels against the reference: values and every gradient, fp32 and bf16, short
rows held in registers (several per program), rows streamed in chunks, odd sizes."""

from __future__ import annotations

import pytest
import torch
from kernel_cases import DEVICE, relative_error

from gandsl.kernels import adain, adain_triton
from gandsl.kernels.adain import adain_ref, fused_adain

# (N, C, H, W): 7×9 odd planes; 4×4 planes (StyleGAN's first block); both again with enough
# rows for several programs of many rows each (280 rows of 16: 2 programs of 256 rows; 150 of
# 63: 3 of 64); a 1023-element plane; a plane longer than TILE_MAX (16,641 elements, streamed
# in 5 chunks, odd length); and the longest row the op promises, 65,536 elements (16 chunks).
SHAPES = [(2, 3, 7, 9), (3, 5, 4, 4), (4, 70, 4, 4), (3, 50, 7, 9), (1, 2, 31, 33),
          (1, 1, 129, 129), (1, 1, 256, 256)]


def inputs(shape, dtype=torch.float32, seed=0):
    g = torch.Generator().manual_seed(seed)
    n, c = shape[:2]
    x = (torch.randn(shape, generator=g) * 3 + 1).to(DEVICE, dtype)
    scale = (1 + torch.randn(n, c, generator=g)).to(DEVICE, dtype)
    bias = torch.randn(n, c, generator=g).to(DEVICE, dtype)
    dy = torch.randn(shape, generator=g).to(DEVICE, dtype)
    return x, scale, bias, dy


def run(fn, x, scale, bias, dy):
    x, scale, bias = (t.clone().requires_grad_(True) for t in (x, scale, bias))
    y = fn(x, scale, bias)
    y.backward(dy)
    return y.detach(), x.grad, scale.grad, bias.grad


@pytest.mark.parametrize("shape", SHAPES)
def test_fp32_values_and_gradients_match_the_reference(shape):
    args = inputs(shape)
    got = run(lambda *a: fused_adain(*a, impl="triton"), *args)
    want = run(adain_ref, *args)
    for name, g, w in zip(("y", "dx", "dscale", "dbias"), got, want, strict=True):
        assert g.dtype == w.dtype and g.shape == w.shape, name
        assert relative_error(g, w) < 1e-5, (name, relative_error(g, w))


@pytest.mark.parametrize("dtype, tolerance", [(torch.bfloat16, 1e-2), (torch.float16, 1e-3)])
@pytest.mark.parametrize("shape", [(2, 3, 7, 9), (1, 1, 129, 129)])
def test_half_precision_is_computed_in_fp32(shape, dtype, tolerance):
    """bf16 and fp16 storage, fp32 arithmetic: the kernel agrees with the fp32 reference on
    the same inputs to the storage type's rounding, and keeps the dtypes."""
    args = inputs(shape, dtype)
    got = run(lambda *a: fused_adain(*a, impl="triton"), *args)
    want = run(adain_ref, *(t.float() for t in args))
    for name, g, w in zip(("y", "dx", "dscale", "dbias"), got, want, strict=True):
        assert g.dtype == dtype, name
        assert relative_error(g, w) < tolerance, (name, relative_error(g, w))


def test_mixed_dtypes_and_layouts():
    """x in bf16 with fp32 scale and bias (a style linear layer under autocast), and x in
    channels-last memory: the output has x's dtype, gradients their tensors' dtypes."""
    x, scale, bias, dy = inputs((2, 3, 7, 9))
    got = run(lambda *a: fused_adain(*a, impl="triton"), x.bfloat16(), scale, bias, dy)
    assert [t.dtype for t in got] == [torch.bfloat16, torch.bfloat16, torch.float32,
                                      torch.float32]
    want = run(adain_ref, x.bfloat16().float(), scale, bias, dy)
    assert all(relative_error(g, w) < 1e-2 for g, w in zip(got, want, strict=True))
    cl = x.to(memory_format=torch.channels_last)
    got = run(lambda *a: fused_adain(*a, impl="triton"), cl, scale, bias, dy)
    want = run(adain_ref, cl, scale, bias, dy)
    assert all(relative_error(g, w) < 1e-5 for g, w in zip(got, want, strict=True))
    assert got[0].is_contiguous(memory_format=torch.channels_last)  # as the reference keeps it
    assert want[0].is_contiguous(memory_format=torch.channels_last)


def test_double_backward_matches_the_reference():
    """StyleGAN2's path length penalty differentiates the gradient: the fused op's gradients
    are themselves differentiable and give the reference's second derivatives."""
    assert adain.SUPPORTS_DOUBLE_BACKWARD
    x, scale, bias, dy = inputs((2, 3, 5, 6), seed=1)
    v = torch.randn_like(x)

    def second(fn):
        # dy depends on a parameter, as the noise-weighted output does in the path length
        # penalty: its gradient must flow through the backward too
        xs, ss, bs = (t.clone().requires_grad_(True) for t in (x, scale, bias))
        k = torch.tensor(1.5, device=DEVICE, requires_grad=True)
        gx, gs = torch.autograd.grad((fn(xs, ss, bs) * dy * k).sum(), (xs, ss),
                                     create_graph=True)
        return torch.autograd.grad((gx * v).sum() + gs.pow(2).sum(), (xs, ss, bs, k),
                                   allow_unused=True)

    got = second(lambda *a: fused_adain(*a, impl="triton"))
    want = second(adain_ref)
    for g, w in zip(got, want, strict=True):
        assert (g is None) == (w is None)
        if g is not None:
            assert relative_error(g, w) < 1e-5


def test_unit_scale_and_zero_bias_is_instance_norm():
    x = inputs((2, 4, 6, 5))[0]
    y = fused_adain(x, torch.ones(2, 4, device=DEVICE), torch.zeros(2, 4, device=DEVICE),
                    impl="triton")
    want = torch.nn.functional.instance_norm(x, eps=1e-5)
    assert relative_error(y, want) < 1e-5


def test_bad_shapes_are_named():
    x = torch.zeros(2, 3, 4, 4, device=DEVICE)
    with pytest.raises(ValueError, match=r"scale and bias of shape \(2, 3\)"):
        fused_adain(x, torch.zeros(3, 2, device=DEVICE), torch.zeros(2, 3, device=DEVICE),
                    impl="triton")
    with pytest.raises(ValueError, match=r"x of shape \(N, C, H, W\)"):
        fused_adain(x[0], torch.zeros(2, 3), torch.zeros(2, 3), impl="ref")


def test_small_planes_share_a_program():
    """StyleGAN's 4×4 and 8×8 layers (N=32, C=512): a program takes up to 256 or 64 whole rows,
    so it still moves 4,096 elements, but not so many that the GPU's SMs go idle; rows from
    4,096 elements on take a program each."""
    rows = 32 * 512
    assert adain_triton.tile_shape(rows, 16) == (256, 16, 8)
    assert adain_triton.tile_shape(rows, 64) == (64, 64, 8)
    assert adain_triton.tile_shape(rows, 63) == (64, 64, 8)  # 7×9: padded to 64
    assert adain_triton.tile_shape(rows, 4096) == (1, 4096, 8)
    assert adain_triton.tile_shape(rows, 8192) == (1, 8192, 16)
    assert adain_triton.tile_shape(3, 16) == (4, 16, 4)  # never more rows than there are
    # on an H100 (132 SMs: at least 264 programs), 4×4 planes take 32 rows a program
    assert adain_triton.tile_shape(rows, 16, 264) == (32, 16, 4)
    assert adain_triton.tile_shape(rows, 16384) == (1, 16384, 32)
