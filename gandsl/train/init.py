"""`init P normal(std=0.02)`: initializing a player's networks as the reference code does."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ..runtime.inits import OWN, init_weight, weight_of
from ..runtime.norms import ConditionalBatchNorm

_WEIGHTED = (nn.Conv2d, nn.ConvTranspose2d, nn.Linear, nn.Embedding)
_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.InstanceNorm2d, nn.GroupNorm, nn.LayerNorm)


@torch.no_grad()
def initialize(module: nn.Module, method: str, kwargs: dict[str, Any]) -> None:
    """Weights of convolutions, linear layers and embeddings by `method`, biases to 0, but
    for layers with an initialization of their own (`init=` in the spec); norm gains
    ~ N(1, std) with `normal` (DCGAN's `weights_init`), else 1."""
    for m in module.modules():
        if isinstance(m, _WEIGHTED):
            if hasattr(m, OWN):
                continue
            init_weight(weight_of(m), method, **kwargs)
            if getattr(m, "bias", None) is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, _NORMS) and getattr(m, "weight", None) is not None:
            _norm_affine(m.weight, m.bias, method, kwargs)
    # A class-conditional batch norm's gain and bias tables are a norm's affine parameters
    # (per class), not weights: the loop above drew them as embeddings, so reset them here,
    # after it. In vector mode (BigGAN's ccbn) they are linear maps and stay drawn.
    for m in module.modules():
        if isinstance(m, ConditionalBatchNorm) and m.num_classes is not None:
            _norm_affine(m.gain.weight, m.bias.weight, method, kwargs)


def _norm_affine(gain: torch.Tensor, bias: torch.Tensor, method: str,
                 kwargs: dict[str, Any]) -> None:
    """Norm gains ~ N(1, std) with `normal` (DCGAN's `weights_init`), else 1; biases 0."""
    if method == "normal":
        nn.init.normal_(gain, 1.0, kwargs.get("std", 0.02))
    else:
        nn.init.ones_(gain)
    nn.init.zeros_(bias)
