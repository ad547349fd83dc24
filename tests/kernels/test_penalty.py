"""The penalty kernels against the reference: values, the gradient with respect to the
critic's parameters through the double backward, long rows in many chunks, zero gradients,
bf16, determinism, and values worked out by hand."""

from __future__ import annotations

import pytest
import torch
from kernel_cases import DEVICE, relative_error
from torch import nn

from gandsl.kernels import penalty, penalty_triton
from gandsl.kernels.penalty import gradient_penalty, r1_penalty


class Critic(nn.Module):
    """Smooth (twice differentiable) and small: conv, softplus, linear to one score."""

    def __init__(self, channels: int, pixels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, 3, 3, padding=1)
        self.out = nn.Linear(3 * pixels, 1)

    def forward(self, x):
        return self.out(nn.functional.softplus(self.conv(x.float())).flatten(1))


def critic_for(shape, seed=0) -> Critic:
    torch.manual_seed(seed)
    return Critic(shape[1], shape[2] * shape[3]).to(DEVICE)


def images(shape, dtype=torch.float32, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(shape, generator=g).to(DEVICE, dtype),
            torch.randn(shape, generator=g).to(DEVICE, dtype))


def value_and_param_grads(fn, critic):
    """The penalty and its gradient for each parameter of the critic; a zero tensor where
    the penalty does not depend on a parameter (the last bias moves no input gradient)."""
    critic.zero_grad(set_to_none=True)
    loss = fn()
    loss.backward()
    grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in critic.parameters()]
    assert any(g.abs().max() > 0 for g in grads)
    return loss.detach(), [g.clone() for g in grads]


# (B, C, H, W): 7×9 planes; rows of 1023; rows longer than a chunk (4551 > 4096, 2 chunks).
SHAPES = [(3, 2, 7, 9), (2, 1, 31, 33), (3, 3, 37, 41)]


@pytest.mark.parametrize("shape", SHAPES)
def test_wgan_gp_value_and_critic_gradients_match_the_reference(shape):
    critic = critic_for(shape)
    real, fake = images(shape)

    def gp(impl):
        gen = torch.Generator(device=DEVICE).manual_seed(7)  # the same α on both sides
        return gradient_penalty(critic, real, fake, weight=10.0, generator=gen, impl=impl)

    got, got_grads = value_and_param_grads(lambda: gp("triton"), critic)
    want, want_grads = value_and_param_grads(lambda: gp("ref"), critic)
    assert relative_error(got, want) < 1e-5
    for g, w in zip(got_grads, want_grads, strict=True):
        assert relative_error(g, w) < 1e-5 or w.abs().max() == g.abs().max() == 0


@pytest.mark.parametrize("shape", SHAPES[:2])
def test_r1_value_and_critic_gradients_match_the_reference(shape):
    critic = critic_for(shape, seed=1)
    real, _ = images(shape, seed=1)
    got, got_grads = value_and_param_grads(lambda: r1_penalty(critic, real, 10.0, "triton"),
                                           critic)
    want, want_grads = value_and_param_grads(lambda: r1_penalty(critic, real, 10.0, "ref"),
                                             critic)
    assert relative_error(got, want) < 1e-5
    assert all(relative_error(g, w) < 1e-5 or w.abs().max() == g.abs().max() == 0
               for g, w in zip(got_grads, want_grads, strict=True))


def test_values_worked_out_by_hand():
    """A linear critic Σ w·x has the gradient w at every x, whatever α: the WGAN-GP penalty
    is weight·(‖w‖ − 1)² and R1 is γ/2·‖w‖²."""
    w = torch.arange(12, dtype=torch.float32, device=DEVICE).view(1, 3, 2, 2) / 10
    norm = w.norm().item()  # √50.6 / 1 ...
    real, fake = images((4, 3, 2, 2))
    for impl in ("ref", "triton"):
        gp = gradient_penalty(lambda x: (x * w).sum(dim=(1, 2, 3)), real, fake, 10.0, impl=impl)
        r1 = r1_penalty(lambda x: (x * w).sum(dim=(1, 2, 3)), real, 10.0, impl=impl)
        assert gp.item() == pytest.approx(10 * (norm - 1) ** 2, rel=1e-6)
        assert r1.item() == pytest.approx(5 * norm ** 2, rel=1e-6)


def test_many_rows_and_many_chunks(monkeypatch):
    """More rows and chunks than the finishing program takes in one step (64 × 64): with
    chunks of 16 elements, 70 rows of 1100 elements are 70 × 69 partial sums."""
    monkeypatch.setattr(penalty_triton, "CHUNK", 16)
    g = torch.randn(70, 1100, device=DEVICE)
    norms = torch.empty(70, device=DEVICE)
    loss = torch.empty((), device=DEVICE)
    penalty_triton.penalty(g, norms, loss, 3.0, 1.0)
    want = g.double().norm(dim=1)
    assert relative_error(norms, want) < 1e-6
    assert relative_error(loss, 3.0 * (want - 1).pow(2).mean()) < 1e-6
    dg = torch.empty_like(g)
    penalty_triton.penalty_grad(g, norms, torch.tensor(2.0, device=DEVICE), dg, 3.0, 1.0)
    want_dg = 2.0 * 3.0 * 2 / 70 * ((want - 1) / want)[:, None] * g.double()
    assert relative_error(dg, want_dg) < 1e-6


def test_zero_gradient_rows_give_zero_not_nan():
    """A linear critic with zero weights: every norm is 0, the penalty weight·center², and the
    weights' gradient is zero (the subgradient of the norm at 0), not NaN."""
    real, fake = images((3, 1, 4, 4))
    for impl in ("ref", "triton"):
        w = torch.zeros(1, 1, 4, 4, device=DEVICE, requires_grad=True)
        loss = gradient_penalty(lambda x, w=w: (x * w).sum(dim=(1, 2, 3)), real, fake, 10.0,
                                impl=impl)
        assert loss.item() == 10.0
        (grad,) = torch.autograd.grad(loss, w)
        assert torch.equal(grad, torch.zeros_like(w))


def test_bf16_images():
    shape = (3, 2, 7, 9)
    critic = critic_for(shape)
    real, fake = images(shape, torch.bfloat16)

    def gp(impl):
        gen = torch.Generator(device=DEVICE).manual_seed(3)
        return gradient_penalty(critic, real, fake, generator=gen, impl=impl)

    got, got_grads = value_and_param_grads(lambda: gp("triton"), critic)
    want, want_grads = value_and_param_grads(lambda: gp("ref"), critic)
    assert got.dtype == torch.float32
    assert relative_error(got, want) < 1e-2
    assert all(relative_error(g, w) < 1e-2 or w.abs().max() == g.abs().max() == 0
               for g, w in zip(got_grads, want_grads, strict=True))


def test_the_same_bits_every_run(monkeypatch):
    """The penalty, its norms and its gradient are the same bits on every run: each sum is
    taken in a fixed order (the compile test checks there are no atomics in the PTX). Only the
    penalty's own kernels are compared: a critic's cuDNN gradients need not be deterministic."""
    monkeypatch.setattr(penalty_triton, "CHUNK", 64)  # several chunks per row
    g = torch.randn(5, 1000, device=DEVICE)
    runs = []
    for _ in range(2):
        norms = torch.empty(5, device=DEVICE)
        loss = torch.empty((), device=DEVICE)
        penalty_triton.penalty(g, norms, loss, 10.0, 1.0)
        dg = torch.empty_like(g)
        penalty_triton.penalty_grad(g, norms, torch.tensor(1.0, device=DEVICE), dg, 10.0, 1.0)
        runs.append((loss, norms, dg))
    assert all(torch.equal(a, b) for a, b in zip(*runs, strict=True))


def test_the_penalty_backward_is_differentiable():
    """A backward through the penalty with create_graph=True gives the reference's second
    derivatives (the differentiable formulas replace the kernel there)."""
    assert penalty.SUPPORTS_DOUBLE_BACKWARD
    g0 = torch.randn(3, 50, device=DEVICE)
    v = torch.randn_like(g0)

    def second(fused):
        g = g0.clone().requires_grad_(True)
        (dg,) = torch.autograd.grad(penalty._penalty(g, 10.0, 1.0, fused), g, create_graph=True)
        (ddg,) = torch.autograd.grad((dg * v).sum(), g)
        return dg.detach(), ddg

    for got, want in zip(second(True), second(False), strict=True):
        assert relative_error(got, want) < 1e-5


def test_impl_is_the_sixth_argument_and_generator_a_keyword():
    """gradient_penalty(critic, real, fake, weight, center, impl): the issue's signature; the
    generator, which a positional string must never reach, is keyword-only."""
    real, fake = images((2, 1, 4, 4))
    w = torch.ones(1, 1, 4, 4, device=DEVICE)
    critic = lambda x: (x * w).sum(dim=(1, 2, 3))  # noqa: E731
    for impl in ("ref", "triton"):
        assert gradient_penalty(critic, real, fake, 10.0, 1.0, impl).item() == \
            pytest.approx(10.0 * (4 - 1) ** 2)
    with pytest.raises(TypeError):
        gradient_penalty(critic, real, fake, 10.0, 1.0, "ref", None)
