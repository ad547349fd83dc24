"""Weight initializations: a layer's own (`conv(64, 3, init=msr(gain=0.5))`, made when the
generated constructor builds it) and a network's (`init G normal(std=0.02)` in the train
section, applied by the trainer to every weighted layer that has no initialization of its
own). Biases start at 0 either way.

- `zeros`, `ones`: constant weights (a residual branch that starts as the identity);
- `normal(mean, std)`, `uniform(range)`: N(mean, std²), U(−range, range);
- `xavier(gain)`, `xavier_normal(gain)`: Glorot's uniform and normal;
- `kaiming(a)`: He's normal for leaky ReLU slope a;
- `orthogonal(gain)`: a (scaled) orthogonal matrix;
- `msr(gain)`: N(0, gain² / fan_in) with fan_in = `weight.shape[1] · kernel size`, R3GAN's
  `MSRInitializer` (Huang et al. 2024): `gain` carries the activation's gain and the fix-up
  factor L^(−1/(2m−2)) of a residual branch, or 0 for its last layer.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn.utils import parametrize

METHODS = ("zeros", "ones", "normal", "uniform", "xavier", "xavier_normal", "kaiming",
           "orthogonal", "msr")
OWN = "gandsl_init"  # set on a module that has an initialization of its own


def weight_of(module: nn.Module) -> torch.Tensor:
    """The stored weight (under spectral norm or equalized lr, the parametrization's
    `original`: what the optimizer updates)."""
    if parametrize.is_parametrized(module, "weight"):
        return module.parametrizations.weight.original
    return module.weight


@torch.no_grad()
def init_weight(w: torch.Tensor, method: str, mean: float = 0.0, std: float = 0.02,
                range: float = 0.05, gain: float = 1.0, a: float = 0.0) -> None:  # noqa: A002
    if method == "zeros":
        nn.init.zeros_(w)
    elif method == "ones":
        nn.init.ones_(w)
    elif method == "normal":
        nn.init.normal_(w, mean, std)
    elif method == "uniform":  # pylearn2's irange
        nn.init.uniform_(w, -range, range)
    elif method == "xavier":
        nn.init.xavier_uniform_(w, gain=gain)
    elif method == "xavier_normal":
        nn.init.xavier_normal_(w, gain=gain)
    elif method == "kaiming":
        nn.init.kaiming_normal_(w, a=a)
    elif method == "orthogonal":
        nn.init.orthogonal_(w, gain=gain)
    elif method == "msr":
        fan_in = w.shape[1] * (w[0][0].numel() if w.ndim > 2 else 1)
        nn.init.normal_(w, 0.0, gain / math.sqrt(fan_in))
    else:
        raise ValueError(f"unknown initialization {method!r}; methods: {', '.join(METHODS)}")


def initialized(module: nn.Module, method: str, **kwargs: float) -> nn.Module:
    """`module` with its weight drawn by `method` and its bias 0, marked as initialized on
    its own so that a network-wide `init` leaves it."""
    init_weight(weight_of(module), method, **kwargs)
    if getattr(module, "bias", None) is not None:
        with torch.no_grad():
            module.bias.zero_()
    setattr(module, OWN, method)
    return module


__all__ = ["METHODS", "init_weight", "initialized", "weight_of"]
