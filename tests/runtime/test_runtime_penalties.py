"""Tests for gandsl.runtime.penalties: values, double backprop and gradchecks."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gandsl.runtime.penalties import clip_weights, gradient_penalty, path_length, r1, r2


def _linear_critic(w: torch.Tensor):
    """critic(x) = <x_i, w>: its input gradient is w for every sample and every x."""
    return lambda x: x.reshape(x.shape[0], -1) @ w  # (B,)


# --- gradient penalty ---------------------------------------------------------------------------


def test_gradient_penalty_linear_critic_value_and_weight_gradient() -> None:
    torch.manual_seed(0)
    w = torch.tensor([3.0, 0.0, 0.0, 4.0], dtype=torch.float64, requires_grad=True)  # ||w|| = 5
    real = torch.randn(3, 1, 2, 2, dtype=torch.float64)
    fake = torch.randn(3, 1, 2, 2, dtype=torch.float64)
    gp = gradient_penalty(_linear_critic(w), real, fake)
    torch.testing.assert_close(gp, torch.tensor(16.0, dtype=torch.float64))  # (5 - 1)^2
    # The value does not depend on alpha.
    for seed in (1, 2):
        g = torch.Generator().manual_seed(seed)
        other = gradient_penalty(_linear_critic(w), real, fake, generator=g)
        torch.testing.assert_close(other, gp)
    # d/dw (||w|| - 1)^2 = 2 (||w|| - 1) w / ||w|| = 1.6 w  (double backprop through autograd.grad)
    gp.backward()
    torch.testing.assert_close(w.grad, 1.6 * w.detach())
    # center = 0: ||w||^2
    torch.testing.assert_close(
        gradient_penalty(_linear_critic(w), real, fake, center=0.0),
        torch.tensor(25.0, dtype=torch.float64),
    )


def test_gradient_penalty_interpolates_with_per_sample_alpha() -> None:
    torch.manual_seed(3)
    real = torch.randn(4, 2, 3, 3, dtype=torch.float64, requires_grad=True)
    fake = torch.randn(4, 2, 3, 3, dtype=torch.float64, requires_grad=True)
    seen: list[torch.Tensor] = []

    def critic(x: torch.Tensor) -> torch.Tensor:
        seen.append(x.detach().clone())
        return 0.5 * x.pow(2).sum(dim=(1, 2, 3))  # gradient is x itself

    gp = gradient_penalty(critic, real, fake, generator=torch.Generator().manual_seed(11))
    # α is drawn in float32 whatever the images' dtype (the kernels and the reference agree)
    alpha = torch.rand(4, generator=torch.Generator().manual_seed(11)).double().view(4, 1, 1, 1)
    x_hat = real.detach() + alpha * (fake.detach() - real.detach())
    torch.testing.assert_close(seen[0], x_hat)
    expected = sum((math.sqrt(float(x_hat[i].pow(2).sum())) - 1.0) ** 2 for i in range(4)) / 4
    assert gp.item() == pytest.approx(expected, rel=1e-12)
    gp.backward()
    assert real.grad is None and fake.grad is None  # real / fake are detached


def test_gradient_penalty_flat_inputs() -> None:
    w = torch.tensor([0.6, 0.8], dtype=torch.float64)  # ||w|| = 1 -> penalty 0
    x = torch.randn(5, 2, dtype=torch.float64)
    gp = gradient_penalty(_linear_critic(w), x, x.flip(0))
    assert gp.item() == pytest.approx(0.0, abs=1e-24)


def _conv_critic(weight: torch.Tensor, bias: torch.Tensor):
    def critic(x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(F.conv2d(x, weight, bias)).sum(dim=(1, 2, 3))  # (B,)

    return critic


def test_gradient_penalty_gradcheck_wrt_critic_parameters() -> None:
    torch.manual_seed(4)
    real = torch.randn(2, 1, 3, 3, dtype=torch.float64)
    fake = torch.randn(2, 1, 3, 3, dtype=torch.float64)
    weight = (0.5 * torch.randn(2, 1, 2, 2, dtype=torch.float64)).requires_grad_()
    bias = (0.1 * torch.randn(2, dtype=torch.float64)).requires_grad_()

    def fn(weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        g = torch.Generator().manual_seed(0)  # the same alpha on every evaluation
        return gradient_penalty(_conv_critic(weight, bias), real, fake, generator=g)

    assert torch.autograd.gradcheck(fn, (weight, bias))


def test_r1_gradcheck_wrt_critic_parameters() -> None:
    torch.manual_seed(5)
    real = torch.randn(2, 1, 3, 3, dtype=torch.float64)
    weight = (0.5 * torch.randn(2, 1, 2, 2, dtype=torch.float64)).requires_grad_()
    bias = (0.1 * torch.randn(2, dtype=torch.float64)).requires_grad_()
    assert torch.autograd.gradcheck(lambda w, b: r1(_conv_critic(w, b), real), (weight, bias))


def test_r1_r2_values() -> None:
    torch.manual_seed(6)
    w = torch.tensor([1.0, 2.0, 2.0, 0.0], dtype=torch.float64)  # ||w||^2 = 9
    real = torch.randn(3, 1, 2, 2, dtype=torch.float64, requires_grad=True)
    torch.testing.assert_close(r1(_linear_critic(w), real), torch.tensor(4.5, dtype=torch.float64))

    # score_i = sum(x_i^2): gradient 2 x_i, so 0.5 * mean_i 4 ||x_i||^2 = 2 mean_i ||x_i||^2
    def quad(x: torch.Tensor) -> torch.Tensor:
        return x.pow(2).sum(dim=(1, 2, 3))

    fake = torch.randn(3, 1, 2, 2, dtype=torch.float64)
    expected_real = 2 * sum(float(real[i].detach().pow(2).sum()) for i in range(3)) / 3
    expected_fake = 2 * sum(float(fake[i].pow(2).sum()) for i in range(3)) / 3
    out = r1(quad, real)
    assert out.item() == pytest.approx(expected_real, rel=1e-12)
    assert r2(quad, fake).item() == pytest.approx(expected_fake, rel=1e-12)
    out.backward()
    assert real.grad is None  # evaluated at a detached copy


def test_unknown_impl_raises() -> None:
    x = torch.randn(2, 1, 2, 2)
    critic = _linear_critic(torch.ones(4))
    with pytest.raises(ValueError, match="impl must be one of ref, triton, auto"):
        gradient_penalty(critic, x, x, impl="fast")
    with pytest.raises(ValueError, match="impl"):
        r1(critic, x, impl="fast")
    with pytest.raises(ValueError, match="impl"):
        r2(critic, x, impl="fast")
    with pytest.raises(ValueError, match="it has no kernel"):
        path_length(lambda w: w.view(2, 1, 2, 2), torch.randn(2, 4), 0.0, impl="triton")


# --- path length --------------------------------------------------------------------------------


def test_path_length_linear_generator_value_update_and_gradient() -> None:
    torch.manual_seed(7)
    n, d, c, h, wd = 3, 4, 1, 2, 3
    a = torch.randn(d, c * h * wd, dtype=torch.float64, requires_grad=True)
    w = torch.randn(n, d, dtype=torch.float64)

    def gen(w: torch.Tensor) -> torch.Tensor:
        return (w @ a).view(n, c, h, wd)  # linear: J_i^T y = A @ noise_i

    penalty, new_mean = path_length(
        gen, w, 0.5, decay=0.01, generator=torch.Generator().manual_seed(3)
    )
    noise = torch.randn(
        n, c, h, wd, generator=torch.Generator().manual_seed(3), dtype=torch.float64
    ) / math.sqrt(h * wd)
    a0 = a.detach()
    lengths = [float((a0 @ noise[i].reshape(-1)).norm()) for i in range(n)]
    expected_mean = 0.5 + 0.01 * (sum(lengths) / n - 0.5)
    expected_penalty = sum((length - expected_mean) ** 2 for length in lengths) / n
    assert new_mean.dim() == 0 and not new_mean.requires_grad
    assert float(new_mean) == pytest.approx(expected_mean, rel=1e-12)
    assert penalty.item() == pytest.approx(expected_penalty, rel=1e-12)

    # Double backprop to the generator's weights. As in the official code the running mean
    # m = m0 + decay·(mean(l) − m0) is differentiated too:
    # dP/dl_i = (2/n)(l_i − m) − (2·decay/n²) Σ_j (l_j − m), and dl_i/dA = (A n_i) n_iᵀ / l_i.
    penalty.backward()
    expected_grad = torch.zeros_like(a0)
    total = sum(length - expected_mean for length in lengths)
    for i in range(n):
        v = noise[i].reshape(-1)
        an = a0 @ v
        d_li = (2 / n) * (lengths[i] - expected_mean) - (2 * 0.01 / n**2) * total
        expected_grad += d_li * torch.outer(an, v) / lengths[i]
    torch.testing.assert_close(a.grad, expected_grad)


def test_path_length_mean_tracks_ema_over_steps() -> None:
    # y = 2 * w broadcast to one pixel: J^T noise = 2 * noise, |.| = 2 |noise_i|.
    w = torch.randn(4, 1, dtype=torch.float64)
    pl_mean: torch.Tensor | float = 0.0
    previous = 0.0
    for step in range(3):
        g = torch.Generator().manual_seed(step)
        _, pl_mean = path_length(
            lambda v: 2 * v.view(4, 1, 1, 1), w, pl_mean, decay=0.5, generator=g
        )
        noise = torch.randn(
            4, 1, 1, 1, generator=torch.Generator().manual_seed(step), dtype=torch.float64
        )
        lengths_mean = float((2 * noise.abs()).mean())
        expected = previous + 0.5 * (lengths_mean - previous)
        assert float(pl_mean) == pytest.approx(expected, rel=1e-12)
        previous = expected


def test_path_length_sums_over_all_non_batch_dims_of_w() -> None:
    # w of shape (N, L, D) with y = sum over L and D of w: J_i = noise_i everywhere.
    w = torch.randn(2, 3, 4, dtype=torch.float64, requires_grad=True)

    def gen(v: torch.Tensor) -> torch.Tensor:
        return v.sum(dim=(1, 2)).view(2, 1, 1, 1)

    penalty, new_mean = path_length(
        gen,
        w,
        torch.tensor(0.0, dtype=torch.float64),
        decay=1.0,
        generator=torch.Generator().manual_seed(5),
    )
    noise = torch.randn(
        2, 1, 1, 1, generator=torch.Generator().manual_seed(5), dtype=torch.float64
    ).view(2)
    lengths = noise.abs() * math.sqrt(12)  # sqrt(sum over 3*4 entries of noise_i^2)
    torch.testing.assert_close(new_mean, lengths.mean())
    torch.testing.assert_close(penalty, (lengths - lengths.mean()).pow(2).mean())


# --- weight clipping ----------------------------------------------------------------------------


def test_clip_weights_clamps_parameters_only() -> None:
    net = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[-1.0, 0.005, 0.5], [0.0, -0.003, 2.0]]))
        net[0].bias.copy_(torch.tensor([0.02, -0.02]))
        net[1].running_mean.fill_(5.0)
    clip_weights(net, 0.01)
    torch.testing.assert_close(
        net[0].weight.detach(), torch.tensor([[-0.01, 0.005, 0.01], [0.0, -0.003, 0.01]])
    )
    torch.testing.assert_close(net[0].bias.detach(), torch.tensor([0.01, -0.01]))
    torch.testing.assert_close(net[1].weight.detach(), torch.full((2,), 0.01))  # BN gain 1 -> 0.01
    torch.testing.assert_close(net[1].running_mean, torch.full((2,), 5.0))  # buffer untouched
    assert all(p.grad is None and p.grad_fn is None for p in net.parameters())
    with pytest.raises(ValueError, match="non-negative"):
        clip_weights(net, -1.0)
