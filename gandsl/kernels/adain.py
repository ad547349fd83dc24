"""AdaIN, `(x − mean) / sqrt(var + eps) · scale + bias` per (sample, channel) plane, as one
fused op: the Triton forward reads x once and writes y once (eager PyTorch makes four or five
passes), the Triton backward reads x and dy once and writes dx.

Double backward (StyleGAN2's path length penalty differentiates through the synthesis
network with `create_graph=True`) is supported: when the backward itself must be
differentiable it is computed with differentiable PyTorch operations from the saved inputs
instead of the kernel, so second derivatives equal the reference's.
"""

from __future__ import annotations

import torch

from .dispatch import on_device, use_triton

SUPPORTS_DOUBLE_BACKWARD = True


def adain_ref(x: torch.Tensor, scale: torch.Tensor, bias: torch.Tensor,
              eps: float = 1e-5) -> torch.Tensor:
    """Adaptive instance normalisation, the reference (Huang & Belongie 2017).

    Each (n, c) plane of `x` is normalised by its own mean and biased variance over H × W,
    then scaled and shifted by `scale[n, c]` and `bias[n, c]`. Statistics and arithmetic run in
    at least float32 even for bf16 / fp16 inputs (a reduced-precision variance over a whole
    plane loses too many digits); the result is cast back to `x.dtype`. float64 stays float64.
    """
    _check_shapes(x, scale, bias)
    compute = torch.promote_types(x.dtype, torch.float32)
    xf = x.to(compute)  # (N, C, H, W)
    mean = xf.mean(dim=(2, 3), keepdim=True)  # (N, C, 1, 1)
    var = xf.var(dim=(2, 3), keepdim=True, correction=0)  # (N, C, 1, 1), biased
    xhat = (xf - mean) / torch.sqrt(var + eps)  # (N, C, H, W)
    out = xhat * scale.to(compute)[:, :, None, None] + bias.to(compute)[:, :, None, None]
    return out.to(x.dtype)  # (N, C, H, W)


def fused_adain(x: torch.Tensor, scale: torch.Tensor, bias: torch.Tensor, eps: float = 1e-5,
                impl: str = "auto") -> torch.Tensor:
    """AdaIN of x (N, C, H, W) with scale and bias (N, C); `impl` as in `dispatch`."""
    if not use_triton("fused_adain", impl, x, scale, bias):
        return adain_ref(x, scale, bias, eps)
    _check_shapes(x, scale, bias)
    return _FusedAdaIN.apply(x, scale, bias, float(eps))


class _FusedAdaIN(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, scale, bias, eps):
        from . import adain_triton

        n, c, h, w = x.shape
        rows = x.contiguous().view(n * c, h * w)  # a copy only for non-NCHW layouts
        y = torch.empty_like(rows)
        mean = torch.empty(n * c, device=x.device, dtype=torch.float32)
        rstd = torch.empty_like(mean)
        with on_device(x):
            adain_triton.forward(rows, scale.contiguous().view(-1),
                                 bias.contiguous().view(-1), y, mean, rstd, eps)
        # The kernel's backward reads `rows` (a view of x when x is NCHW, so no extra memory);
        # a differentiable backward needs the inputs themselves, with their graph.
        ctx.save_for_backward(x, scale, bias, rows, mean, rstd)
        ctx.eps = eps
        return y.view(n, c, h, w).contiguous(memory_format=_layout(x))

    @staticmethod
    def backward(ctx, dy):
        x, scale, bias, rows, mean, rstd = ctx.saved_tensors
        if torch.is_grad_enabled():  # create_graph=True: the gradients must be differentiable
            return (*_backward_ref(dy, x, scale, bias, ctx.eps), None)
        from . import adain_triton

        dx = torch.empty_like(rows)
        dscale = torch.empty(scale.shape, device=scale.device, dtype=scale.dtype)
        dbias = torch.empty(bias.shape, device=bias.device, dtype=bias.dtype)
        with on_device(x):
            adain_triton.backward(dy.contiguous().view_as(rows), rows,
                                  scale.contiguous().view(-1), mean, rstd, dx, dscale, dbias)
        return dx.view(x.shape).contiguous(memory_format=_layout(x)), dscale, dbias, None


def _layout(x: torch.Tensor) -> torch.memory_format:
    """channels-last in, channels-last out (as the reference's elementwise ops keep it); the
    kernels themselves read and write NCHW rows, so such a tensor costs a copy each way."""
    return torch.channels_last if x.dim() == 4 and x.is_contiguous(
        memory_format=torch.channels_last) and not x.is_contiguous() else torch.contiguous_format


def _backward_ref(dy: torch.Tensor, x: torch.Tensor, scale: torch.Tensor, bias: torch.Tensor,
                  eps: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(dx, dscale, dbias) from differentiable PyTorch operations (the kernel's formulas)."""
    compute = torch.promote_types(x.dtype, torch.float32)
    xf, g = x.to(compute), dy.to(compute)  # (N, C, H, W)
    length = x.shape[2] * x.shape[3]
    mean = xf.mean(dim=(2, 3), keepdim=True)  # (N, C, 1, 1)
    rstd = torch.rsqrt(xf.var(dim=(2, 3), keepdim=True, correction=0) + eps)  # (N, C, 1, 1)
    xhat = (xf - mean) * rstd  # (N, C, H, W)
    dbias = g.sum(dim=(2, 3))  # (N, C)
    dscale = (g * xhat).sum(dim=(2, 3))  # (N, C)
    gain = rstd * scale.to(compute)[:, :, None, None]  # (N, C, 1, 1)
    dx = gain * (g - dbias[:, :, None, None] / length
                 - xhat * dscale[:, :, None, None] / length)  # (N, C, H, W)
    return dx.to(x.dtype), dscale.to(scale.dtype), dbias.to(bias.dtype)


def _check_shapes(x: torch.Tensor, scale: torch.Tensor, bias: torch.Tensor) -> None:
    if x.dim() != 4:
        raise ValueError(f"adain expects x of shape (N, C, H, W), got {tuple(x.shape)}")
    n, c = x.shape[:2]
    if scale.shape != (n, c) or bias.shape != (n, c):
        raise ValueError(f"adain expects scale and bias of shape {(n, c)}, got "
                         f"{tuple(scale.shape)} and {tuple(bias.shape)}")
