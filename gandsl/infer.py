"""The type of one node of a network from its inputs' types: the arithmetic nodes' rule here,
each layer's own rule from the catalog (`gandsl.layers`), which also counts the layer's
parameters.

The checker runs it over every network and reports what fails (`check.shapes`); lowering
runs it quietly on the nodes lowered so far to read `in.channels` (`lower.introspect`).
"""

from __future__ import annotations

from .diagnostics import Diagnostics
from .ir import Node
from .layers import LayerError, layer_of
from .layers.base import ctx_for
from .types import TensorType

_FAMILY_WORDS = {"spatial": "a map or image", "flat": "a vector (latent, label, logits or "
                 "vector)", "class": "a class index", "scalar": "a scalar"}


def infer_node(node: Node, types: dict[int, TensorType | None],
               diags: Diagnostics) -> TensorType | None:
    """The type of one node from its inputs' (`types`; None where they failed), or None
    after reporting. Lowering asks it too, quietly, for `in.channels`."""
    x = types.get(node.x) if node.x is not None else None
    if node.x is not None and x is None:
        return None  # the input already failed
    if node.op in ("add", "sub", "mul"):
        other = types.get(node.values["other"][0])
        if other is None:
            return None
        if x.family != other.family or x.dims != other.dims:
            word = {"add": "add", "sub": "subtract", "mul": "multiply"}[node.op]
            diags.error("E202", f"cannot {word} {x} and {other}: shapes must be equal",
                        node.span)
            return None
        return x if x.kind == other.kind else x.with_kind(
            "map" if x.family == "spatial" else "vector")
    if node.op == "scale":
        return x
    layer = layer_of(node.op)
    if x is not None and x.family not in layer.accepts:
        wanted = " or ".join(_FAMILY_WORDS[f] for f in sorted(layer.accepts))
        diags.error("E201", f"`{layer.name}` takes {wanted}, got {x}", node.span,
                    hint=_family_hint(layer.name, x))
        return None
    if any(types.get(i) is None for ids in node.values.values() for i in ids):
        return None  # an input already failed
    ctx = ctx_for(layer, node, types.get)
    try:
        out = layer.infer(ctx)
        node.params = layer.count(ctx)
    except LayerError as e:
        span = node.arg_spans.get(e.param, node.span) if e.param else node.span
        diags.error(e.code, f"`{layer.name}`: {e}", span,
                    hint=f"input: {x}" if x is not None and str(x) not in str(e) else None)
        return None
    return out


def _family_hint(layer: str, x: TensorType) -> str | None:
    if x.kind == "class":
        return "a class index is an integer: turn it into a vector with `embedding(dim)` or " \
               "`one_hot` first"
    if x.family == "spatial" and layer in ("linear", "maxout", "projection"):
        return "`flatten` the map first, or use `global_pool`"
    if x.family == "flat" and layer in ("conv", "conv_t"):
        return "`reshape(C, H, W)` the vector into a map first"
    return None
