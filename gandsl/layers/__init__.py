"""The layer catalog: every layer a spec may name, by name."""

from __future__ import annotations

from . import activations, conv, dense, gan, norms, progressive, resample, shape, style
from .base import REQUIRED, Ctx, Layer, LayerError, Param

LAYERS: dict[str, Layer] = {
    layer.name: layer
    for mod in (conv, dense, norms, activations, resample, shape, gan, style, progressive)
    for layer in mod.LAYERS
}

__all__ = ["LAYERS", "REQUIRED", "Ctx", "Layer", "LayerError", "Param"]
