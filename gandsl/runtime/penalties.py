"""Gradient penalties and critic constraints called by generated training code.

WGAN-GP, R1 and R2 run through `gandsl.kernels.penalty`: fused Triton kernels on CUDA tensors,
the plain-PyTorch reference elsewhere (`impl="ref"|"triton"|"auto"`, see `gandsl.kernels`).
The path length regulariser has no kernel and is the reference only.

All penalties build their graph with `create_graph=True`, so their gradient with respect to the
network's parameters flows (double backprop), and return a 0-d tensor averaged over samples
(`path_length` returns it together with the updated running mean).
The caller multiplies by the weight (λ = 10 for WGAN-GP, γ for R1, pl_weight for path length).
"""

import math
from collections.abc import Callable

import torch
from torch import nn

from gandsl import shard
from gandsl.kernels import penalty as fused

__all__ = ["clip_weights", "gradient_penalty", "path_length", "r1", "r2"]

_PATH_LENGTH_IMPLS = ("ref", "auto")  # no kernel: both are the reference


def _sample_device(generator: torch.Generator | None, fallback: torch.device) -> torch.device:
    """Random draws happen on the generator's device so a seeded generator reproduces them."""
    return generator.device if generator is not None else fallback


def gradient_penalty(
    critic: Callable[[torch.Tensor], torch.Tensor],
    real: torch.Tensor,
    fake: torch.Tensor,
    center: float = 1.0,
    generator: torch.Generator | None = None,
    impl: str = "auto",
) -> torch.Tensor:
    """WGAN-GP: `mean_i (‖∇_x̂ critic(x̂)_i‖₂ − center)²`, x̂ = real + α·(fake − real).

    α ~ U[0, 1] is drawn once per sample in float32 (from `generator` if given) and
    broadcast over the sample; real and fake are detached and x̂ (computed in float32, stored
    in real's dtype) is a fresh leaf that requires grad.
    `g = autograd.grad(critic(x̂).sum(), x̂, create_graph=True)`; the per-sample norm is over
    all non-batch dimensions. Because each score depends only on its own sample, the sum
    yields per-sample gradients.

    Follows igul222/improved_wgan_training (Gulrajani et al. 2017, λ = 10 outside) and StarGAN's
    `gradient_penalty`, which compute exactly this. PGGAN's `D_wgangp_acgan` uses
    `(‖g‖ − γ)²/γ²`: with its γ = 1 that is `center=1`; otherwise divide by center² outside.
    A zero gradient gives norm 0 with zero subgradient (`vector_norm`), not NaN.
    """
    return fused.gradient_penalty(critic, real, fake, weight=1.0, center=center,
                                  generator=generator, impl=impl)


def r1(
    critic: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor, impl: str = "auto"
) -> torch.Tensor:
    """R1 (Mescheder et al. 2018): `½·mean_i ‖∇_x critic(x)_i‖²` at real x; weight it with γ.

    x is a detached copy of `real` that requires grad; the gradient is taken with
    `create_graph=True`. NVlabs stylegan/stylegan2 `D_logistic_r1` computes
    `reduce_sum(square(∇), [1, 2, 3]) · γ/2` per sample, averaged later: `γ·r1(D, x)` is exactly
    that (γ = 10 for StyleGAN/StyleGAN2 config-f). StyleGAN2's lazy regularisation (every 16
    steps, multiplied by 16) is the caller's business. It evaluates `critic` on its own forward
    pass, where NVlabs reuses the D-loss forward; the value is the same.
    """
    return fused.r1_penalty(critic, real, gamma=1.0, impl=impl)


def r2(
    critic: Callable[[torch.Tensor], torch.Tensor], fake: torch.Tensor, impl: str = "auto"
) -> torch.Tensor:
    """R2 (Mescheder et al. 2018): `½·mean_i ‖∇_x critic(x)_i‖²` at generated x (as `r1`)."""
    return fused.r1_penalty(critic, fake, gamma=1.0, impl=impl)


def grad_norm(critic: Callable[[torch.Tensor], torch.Tensor], at: torch.Tensor) -> torch.Tensor:
    """‖∇_x critic(x)_i‖₂ per sample (B,), at a detached copy of `at` that requires grad; the
    gradient keeps its graph (create_graph), so a loss of the norms trains the critic by
    double backprop: any gradient penalty, `mean(grad_norm(D, x_hat)^6)` (WGAN-div) or
    `mean(relu(grad_norm(D, x_hat) - 1)^2)` (WGAN-LP)."""
    grad = fused.input_grad(critic, at.detach().requires_grad_(True))
    compute = torch.promote_types(grad.dtype, torch.float32)
    return torch.linalg.vector_norm(grad.reshape(grad.shape[0], -1).to(compute), dim=1)


def path_length(
    generator_fn: Callable[[torch.Tensor], torch.Tensor],
    w: torch.Tensor,
    pl_mean: torch.Tensor | float,
    decay: float = 0.01,
    generator: torch.Generator | None = None,
    impl: str = "auto",
) -> tuple[torch.Tensor, torch.Tensor]:
    """StyleGAN2 path length regulariser; returns `(penalty, new_pl_mean)`.

    - `y = generator_fn(w)`, images (N, C, H, W);
    - `noise ~ N(0, 1) / sqrt(H·W)`, the shape of y (from `generator` if given);
    - `J = autograd.grad((y · noise).sum(), w, create_graph=True)`, shape of w;
    - `lengths = sqrt(Σ J²)` over all non-batch dims of w, shape (N,);
    - `new_pl_mean = pl_mean + decay · (mean(lengths) − pl_mean)`;
    - `penalty = mean((lengths − new_pl_mean)²)`.

    If w does not require grad, a detached copy that does is used. As in the official code, the
    penalty differentiates through `mean(lengths)` inside `new_pl_mean`; the mean is returned
    detached (0-d), for the caller to store and pass back next time.

    Correspondence with NVlabs/stylegan2 `G_logistic_ns_pathreg` (pl_decay 0.01, pl_weight 2):
    `pl_noise`, `pl_grads`, the `pl_mean_var` update and `pl_penalty` are the lines above, and
    the reference's per-sample `pl_penalty · pl_weight`, averaged by the training loop, is
    `pl_weight · penalty`. Two differences:
    (1) NVlabs differentiates w.r.t. dlatents of shape (N, L, 512) and takes
    `sqrt(mean_L(Σ_512 J²))`; for a w of shape (N, D) the two agree, and for a w of shape
    (N, L, D) this function's lengths and pl_mean are √L times larger and its penalty L times
    larger, so `pl_weight / L` here reproduces the reference exactly.
    (2) The gradient flows through mean(lengths) inside new_pl_mean, as in NVlabs,
    stylegan2-ada-pytorch and rosinality. The minibatch shrink (pl_batch_shrink 2) and the
    lazy interval (every 4 steps, times 4) are chosen by the caller.
    """
    if impl not in _PATH_LENGTH_IMPLS:
        raise ValueError(f"path_length: impl must be ref or auto (it has no kernel), got "
                         f"{impl!r}")
    lengths = path_lengths(generator_fn, w, generator=generator)
    penalty = path_length_penalty(lengths, pl_mean, decay)
    old = torch.as_tensor(pl_mean, dtype=lengths.dtype, device=lengths.device)
    return penalty, (old + decay * (lengths.detach().mean() - old)).detach()


def path_lengths(generator_fn: Callable[[torch.Tensor], torch.Tensor], w: torch.Tensor,
                 layers: int = 1, shrink: int = 1,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """‖J_wᵀ y‖₂ per sample (N,), for the first N = batch // shrink samples of `w`.

    `y = generator_fn(w)·noise`, noise ~ N(0, 1)/√(H·W) of the images' shape. With per-layer
    styles (B, layers·D) the length is √(mean over layers of each layer's ΣJ²), as NVlabs'
    `sqrt(mean(sum(square(pl_grads), axis=2), axis=1))` on dlatents (N, L, D). The gradient
    keeps its graph (create_graph), so a penalty on the lengths trains the generator.
    """
    w = w[: max(1, w.shape[0] // shrink)]  # pl_batch_shrink
    if not w.requires_grad:
        w = w.detach().requires_grad_(True)
    y = generator_fn(w)  # (N, C, H, W)
    pixels = math.prod(y.shape[2:])  # H·W
    # one noise image per sample of the global batch in data-parallel training (`shard`)
    noise = shard.rows(lambda n: torch.randn(
        (n, *y.shape[1:]),
        generator=generator,
        dtype=y.dtype,
        device=_sample_device(generator, y.device),
    ), y.shape[0]).to(y.device) / math.sqrt(pixels)  # (N, C, H, W)
    (grad,) = torch.autograd.grad((y * noise).sum(), w, create_graph=True)  # shape of w
    return (grad.pow(2).reshape(w.shape[0], -1).sum(dim=1) / layers).sqrt()  # (N,)


def path_length_penalty(lengths: torch.Tensor, pl_mean: torch.Tensor | float,
                        decay: float = 0.01) -> torch.Tensor:
    """`mean((lengths − a)²)` with `a = pl_mean + decay·(mean(lengths) − pl_mean)`: NVlabs'
    `pl_penalty`, differentiated through mean(lengths) inside `a` as the reference is."""
    old = torch.as_tensor(pl_mean, dtype=lengths.dtype, device=lengths.device).detach()
    target = old + decay * (lengths.mean() - old)  # () differentiable, as the reference
    return (lengths - target).pow(2).mean()


def clip_weights(module: nn.Module, value: float) -> None:
    """WGAN weight clipping: clamp every parameter of `module` to [−value, value] in place.

    martinarjovsky/WassersteinGAN clamps all critic parameters (`p.data.clamp_(-c, c)`, c = 0.01)
    at every critic iteration; this does the same under `torch.no_grad()`. Buffers (BN
    running statistics) are not parameters and are left alone, as in the reference.
    """
    if value < 0:
        raise ValueError(f"clip_weights needs a non-negative value, got {value}")
    params = list(module.parameters())
    if params:
        with torch.no_grad():  # one fused kernel per bound on the device, not one per tensor
            torch._foreach_clamp_min_(params, -value)
            torch._foreach_clamp_max_(params, value)
