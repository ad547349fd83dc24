"""The layer catalog: every layer a spec may name, by name."""

from __future__ import annotations

from . import activations, conv, dense, gan, norms, progressive, resample, shape, style
from .base import REQUIRED, Ctx, Layer, LayerError, Param

LAYERS: dict[str, Layer] = {
    layer.name: layer
    for mod in (conv, dense, norms, activations, resample, shape, gan, style, progressive)
    for layer in mod.LAYERS
}



def layer_of(op: str) -> Layer:
    """The layer of a network node: a built-in one, or `extern`'s (not a name specs use)."""
    if op == "extern":
        from .extern import EXTERN

        return EXTERN
    return LAYERS[op]


def has_module(op: str) -> bool:
    return (op in LAYERS or op == "extern") and layer_of(op).module is not None


__all__ = ["LAYERS", "REQUIRED", "Ctx", "Layer", "LayerError", "Param", "has_module", "layer_of"]
