"""Gradient penalties with their memory-bound parts fused: WGAN-GP and R1.

`gradient_penalty(critic, real, fake)` is `weight·mean_i (‖∇_x̂ critic(x̂)_i‖₂ − center)²` at
x̂ = real + α·(fake − real), α ~ U[0, 1] per sample (Gulrajani et al. 2017; StarGAN). `r1_penalty
(critic, real, gamma)` is `γ/2·mean_i ‖∇_x critic(x)_i‖²` (Mescheder et al. 2018), the same
computation with center 0 and weight γ/2.

The critic's forward pass and the gradient of its output (`create_graph=True`) are PyTorch's;
the kernels replace the ops around them: the interpolation, and the per-sample norm with the
penalty and its backward. The penalty's backward gives autograd dL/dg, through which autograd
differentiates the critic's gradient graph, so the gradient with respect to the critic's
parameters (double backprop) is eager's. When the penalty's backward must itself be
differentiable (a `create_graph=True` backward through it) it is computed with differentiable
PyTorch operations instead of the kernel, so higher derivatives are the reference's too.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from gandsl import shard

from .dispatch import on_device, use_triton

SUPPORTS_DOUBLE_BACKWARD = True

Critic = Callable[[torch.Tensor], torch.Tensor]


def gradient_penalty(critic: Critic, real: torch.Tensor, fake: torch.Tensor,
                     weight: float = 10.0, center: float = 1.0, impl: str = "auto", *,
                     generator: torch.Generator | None = None) -> torch.Tensor:
    """WGAN-GP. real and fake (B, ...) are detached; α is drawn in float32 (from `generator`
    if given, on its device) and the interpolate is computed in float32, stored in real's
    dtype, and made a leaf that requires grad. Returns a 0-d tensor."""
    real, fake = real.detach(), fake.detach()
    if real.shape != fake.shape:
        raise ValueError(f"gradient_penalty: real {tuple(real.shape)} and fake "
                         f"{tuple(fake.shape)} differ in shape")
    # one α per sample of the global batch in data-parallel training (`shard.rows`)
    device = generator.device if generator is not None else real.device
    alpha = shard.rows(lambda n: torch.rand(n, generator=generator, dtype=torch.float32,
                                            device=device), real.shape[0])
    alpha = alpha.to(real.device)  # (B,)
    fused = use_triton("gradient_penalty", impl, real, fake)
    x_hat = _interpolate(real, fake, alpha, fused).requires_grad_(True)  # (B, ...)
    return _penalty(input_grad(critic, x_hat), weight, center, fused)


def r1_penalty(critic: Critic, real: torch.Tensor, gamma: float = 10.0,
               impl: str = "auto") -> torch.Tensor:
    """R1 at a detached copy of `real` that requires grad. Returns a 0-d tensor."""
    x = real.detach().requires_grad_(True)  # (B, ...)
    fused = use_triton("r1_penalty", impl, x)
    return _penalty(input_grad(critic, x), gamma / 2, 0.0, fused)


def input_grad(critic: Critic, x: torch.Tensor) -> torch.Tensor:
    """`∇_x Σ critic(x)`, graph kept for double backprop. Each score depends on its own sample
    only, so the gradient of the sum holds every sample's own gradient. (B, ...)"""
    (grad,) = torch.autograd.grad(critic(x).sum(), x, create_graph=True)
    return grad


def _interpolate(real: torch.Tensor, fake: torch.Tensor, alpha: torch.Tensor,
                 fused: bool) -> torch.Tensor:
    batch = real.shape[0]
    if not fused:
        a = alpha.view(batch, *(1,) * (real.dim() - 1))  # (B, 1, ..., 1)
        compute = torch.promote_types(real.dtype, torch.float32)
        r = real.to(compute)
        return (r + a * (fake.to(compute) - r)).to(real.dtype)  # (B, ...)
    from . import penalty_triton

    rows = real.contiguous().view(batch, -1)  # (B, D)
    out = torch.empty_like(rows)
    with on_device(real):
        penalty_triton.interpolate(rows, fake.contiguous().view(batch, -1), alpha, out)
    return out.view(real.shape)


def _penalty(grad: torch.Tensor, weight: float, center: float, fused: bool) -> torch.Tensor:
    if not fused:
        compute = torch.promote_types(grad.dtype, torch.float32)  # float64 stays (gradcheck)
        norms = torch.linalg.vector_norm(grad.reshape(grad.shape[0], -1).to(compute), dim=1)
        return weight * (norms - center).pow(2).mean()
    return _NormPenalty.apply(grad, float(weight), float(center))


class _NormPenalty(torch.autograd.Function):
    """weight·mean((‖g_i‖ − center)²) over the rows of g, in two kernels; backward in one."""

    @staticmethod
    def forward(ctx, grad, weight, center):
        from . import penalty_triton

        rows = grad.contiguous().view(grad.shape[0], -1)  # (B, D)
        norms = torch.empty(rows.shape[0], device=grad.device, dtype=torch.float32)
        loss = torch.empty((), device=grad.device, dtype=torch.float32)
        with on_device(grad):
            penalty_triton.penalty(rows, norms, loss, weight, center)
        ctx.save_for_backward(grad, norms)  # the input itself: see backward
        ctx.weight, ctx.center = weight, center
        return loss

    @staticmethod
    def backward(ctx, upstream):
        grad, norms = ctx.saved_tensors
        if torch.is_grad_enabled():  # create_graph=True: the gradient must be differentiable
            return _penalty_grad_ref(grad, upstream, ctx.weight, ctx.center), None, None
        from . import penalty_triton

        rows = grad.contiguous().view(grad.shape[0], -1)  # (B, D)
        dg = torch.empty_like(rows)
        with on_device(grad):
            penalty_triton.penalty_grad(rows, norms, upstream.contiguous(), dg, ctx.weight,
                                        ctx.center)
        return dg.view(grad.shape), None, None


def _penalty_grad_ref(grad: torch.Tensor, upstream: torch.Tensor, weight: float,
                      center: float) -> torch.Tensor:
    """d/dg of weight·mean((‖g_i‖ − center)²), times upstream, in differentiable PyTorch."""
    batch = grad.shape[0]
    compute = torch.promote_types(grad.dtype, torch.float32)
    rows = grad.reshape(batch, -1).to(compute)  # (B, D)
    norms = torch.linalg.vector_norm(rows, dim=1, keepdim=True)  # (B, 1)
    coef = upstream * (2 * weight / batch) * (norms - center) / norms.clamp_min(1e-30)
    return (coef * rows).view(grad.shape).to(grad.dtype)
