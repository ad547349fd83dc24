"""Tests for gandsl.runtime.modifiers.equalized_lr."""

import math
from collections.abc import Callable

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize

from gandsl.runtime.modifiers import equalized_lr


def n_params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def stored(m: nn.Module, name: str) -> torch.Tensor:
    return getattr(m.parametrizations, name).original


@pytest.mark.parametrize(
    "make",
    [
        lambda: nn.Linear(5, 3),
        lambda: nn.Linear(7, 2, bias=False),
        lambda: nn.Conv2d(3, 4, 3, padding=1),
        lambda: nn.Conv2d(4, 6, 3, groups=2, bias=False),
        lambda: nn.ConvTranspose2d(3, 4, 4, stride=2, padding=1),
    ],
)
def test_param_count_unchanged(make: Callable[[], nn.Module]) -> None:
    assert n_params(equalized_lr(make())) == n_params(make())


@pytest.mark.parametrize(
    ("make", "fan_in"),
    [
        (lambda: nn.Linear(5, 3), 5),
        (lambda: nn.Conv2d(3, 4, 3), 3 * 3 * 3),
        (lambda: nn.Conv2d(4, 6, 3, groups=2), 2 * 3 * 3),
        (lambda: nn.ConvTranspose2d(3, 4, 4, stride=2), 3 * 4 * 4),
        (lambda: nn.ConvTranspose2d(4, 6, (2, 3), groups=2), 2 * 2 * 3),
    ],
)
@pytest.mark.parametrize(("lr_mul", "gain"), [(1.0, math.sqrt(2)), (0.01, 1.0)])
def test_effective_weight_and_bias(
    make: Callable[[], nn.Module], fan_in: int, lr_mul: float, gain: float
) -> None:
    m = equalized_lr(make(), lr_mul=lr_mul, gain=gain, bias_init=0.5)
    assert parametrize.is_parametrized(m, "weight")
    w = stored(m, "weight")
    torch.testing.assert_close(m.weight, w * gain / math.sqrt(fan_in) * lr_mul)
    assert torch.all(stored(m, "bias") == 0.5)
    torch.testing.assert_close(m.bias, torch.full_like(m.bias, 0.5 * lr_mul))


def test_stored_weight_init_std() -> None:
    torch.manual_seed(0)
    m = equalized_lr(nn.Linear(128, 128), lr_mul=0.01)
    w = stored(m, "weight")
    assert abs(w.std().item() - 100.0) < 5.0
    assert abs(w.mean().item()) < 2.0
    # The effective weight then has the He std gain / sqrt(fan_in).
    assert abs(m.weight.std().item() - math.sqrt(2 / 128)) < 0.01


def test_linear_forward_and_gradient() -> None:
    torch.manual_seed(1)
    m = equalized_lr(nn.Linear(4, 3), lr_mul=0.1, bias_init=1.0)
    scale = math.sqrt(2) / math.sqrt(4) * 0.1
    x = torch.randn(5, 4)
    w, b = stored(m, "weight"), stored(m, "bias")
    out = m(x)
    torch.testing.assert_close(out, F.linear(x, w.detach() * scale, b.detach() * 0.1))

    out.sum().backward()
    assert w.grad is not None and b.grad is not None
    # d sum(x W'^T + b') / d W = scale * (sum over batch of x) for every output row.
    torch.testing.assert_close(w.grad, scale * x.sum(0).expand(3, 4))
    torch.testing.assert_close(b.grad, torch.full((3,), 5 * 0.1))


def test_conv2d_forward_and_gradient_flows() -> None:
    torch.manual_seed(2)
    m = equalized_lr(nn.Conv2d(3, 4, 3, padding=1))
    scale = math.sqrt(2) / math.sqrt(27)
    x = torch.randn(2, 3, 5, 5)
    w, b = stored(m, "weight"), stored(m, "bias")
    out = m(x)
    assert out.shape == (2, 4, 5, 5)
    torch.testing.assert_close(out, F.conv2d(x, w.detach() * scale, b.detach(), padding=1))
    out.square().mean().backward()
    assert w.grad is not None and w.grad.abs().sum() > 0


def test_conv_transpose2d_forward() -> None:
    torch.manual_seed(3)
    m = equalized_lr(nn.ConvTranspose2d(3, 2, 4, stride=2, padding=1), gain=1.0)
    scale = 1.0 / math.sqrt(3 * 4 * 4)
    x = torch.randn(2, 3, 4, 4)
    w, b = stored(m, "weight").detach(), stored(m, "bias").detach()
    out = m(x)
    assert out.shape == (2, 2, 8, 8)
    expected = F.conv_transpose2d(x, w * scale, b, stride=2, padding=1)
    torch.testing.assert_close(out, expected)


def test_rejects_module_without_weight() -> None:
    with pytest.raises(TypeError, match="weight"):
        equalized_lr(nn.ReLU())


def test_rejects_double_application() -> None:
    m = equalized_lr(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="already"):
        equalized_lr(m)
