"""Modifiers: functions that take a torch.nn layer and return it with changed behaviour.

`equalized_lr` is the equalised learning rate of PGGAN (Karras et al. 2018, section 4.1)
with StyleGAN's learning-rate multiplier (Karras et al. 2019, mapping network). It is a
modifier rather than a layer class so it applies to any weighted layer the compiler emits.
"""

import math

import torch
from torch import nn
from torch.nn.utils import parametrize

__all__ = ["equalized_lr"]


class _Scale(nn.Module):
    """Parametrization `stored -> stored * factor` with a fixed (non-learned) factor."""

    def __init__(self, factor: float) -> None:
        super().__init__()
        self.factor = factor  # constant runtime multiplier applied to the stored tensor

    def forward(self, stored: torch.Tensor) -> torch.Tensor:
        return stored * self.factor

    def extra_repr(self) -> str:
        return f"factor={self.factor:.6g}"


def _fan_in(module: nn.Module, weight: torch.Tensor) -> int:
    """Number of inputs that feed one output of `module`.

    Linear / ConvNd store weight as (out, in/groups, *kernel), so it is `weight[0].numel()`.
    ConvTransposeNd stores (in, out/groups, *kernel): every output is fed by the
    in/groups input channels of its group times the kernel window.
    """
    if isinstance(module, nn.modules.conv._ConvTransposeNd):
        groups = module.groups
        return (weight.shape[0] // groups) * math.prod(weight.shape[2:])
    return weight[0].numel()


def equalized_lr(
    module: nn.Module,
    lr_mul: float = 1.0,
    gain: float = math.sqrt(2),
    bias_init: float = 0.0,
) -> nn.Module:
    """Apply the equalised learning rate to a weighted layer in place and return it.

    PGGAN initialises weights from N(0, 1) and scales them at run time by the He constant
    `gain / sqrt(fan_in)`, so every weight sees the same dynamic range under Adam.
    StyleGAN adds `lr_mul`: the stored weight is drawn from N(0, 1/lr_mul) (standard
    deviation) and both weight and bias are multiplied by `lr_mul` at run time, which
    slows that layer's learning by `lr_mul`.

    Implemented with `torch.nn.utils.parametrize`, so `module.weight` / `module.bias` read
    as the effective tensors while the stored ones live in
    `module.parametrizations.<name>.original`; the parameter count does not change.

    Args:
        module: a layer with a `weight` parameter (Linear, ConvNd, ConvTransposeNd, ...).
        lr_mul: learning-rate multiplier (StyleGAN's mapping network uses 0.01).
        gain: numerator of the He constant; sqrt(2) suits (leaky) ReLU.
        bias_init: value the stored bias is filled with.
    """
    weight = getattr(module, "weight", None)
    if not isinstance(weight, torch.Tensor):
        raise TypeError(
            f"equalized_lr needs a module with a `weight` tensor, got {type(module).__name__}"
        )
    if parametrize.is_parametrized(module, "weight"):
        raise ValueError(f"{type(module).__name__}.weight is already parametrized")
    if lr_mul <= 0:
        raise ValueError(f"equalized_lr needs lr_mul > 0, got {lr_mul}")

    fan_in = _fan_in(module, weight)
    bias = getattr(module, "bias", None)
    with torch.no_grad():
        weight.normal_(0.0, 1.0 / lr_mul)  # stored weight ~ N(0, (1/lr_mul)^2)
        if isinstance(bias, torch.Tensor):
            bias.fill_(bias_init)

    weight_scale = gain / math.sqrt(fan_in) * lr_mul  # He constant times lr multiplier
    parametrize.register_parametrization(module, "weight", _Scale(weight_scale))
    if isinstance(bias, torch.Tensor):
        parametrize.register_parametrization(module, "bias", _Scale(lr_mul))
    return module
