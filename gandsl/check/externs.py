"""The type of an `extern function` call in the objective: its tensors must be of the
declared kinds, and what the user's function returns on meta tensors of their shapes must be
what the declaration says (`loss`: one number per batch, `score`: one per sample, `same`:
the first tensor's type, or a kind)."""

from __future__ import annotations

from .. import extern
from ..diagnostics import Diagnostics
from ..ir import ONode
from ..types import LOSS, RANK, SCALAR, TensorType
from .tensor_math import describe


def _fits(declared: str, t: object) -> bool:
    if not isinstance(t, TensorType) or t.kind == "class":
        return False
    if declared == "tensor":
        return True
    if declared == "score":
        return t.kind != "loss"
    if declared == "image":
        return t.family == "spatial"
    return t.kind == declared or t.family == TensorType(kind=declared,
                                                       dims=(1,) * RANK[declared]).family


def extern_function_type(node: ONode, ins: list, diags: Diagnostics) -> object:
    k = node.kwargs
    for declared, t in zip(k["types"], ins, strict=True):
        if not _fits(declared, t):
            diags.error("E201", f"`{node.name}` takes {declared} here, got {describe(t)}",
                        node.span)
            return None
    shapes = tuple(None if t.kind == "loss" else t.dims for t in ins)
    try:
        dims = extern.probe_function(k["target"], shapes, k["values"]).dims
    except extern.ExternError as e:
        diags.error("E111", f"`{node.name}`: {e}", node.span)
        return None
    result = k["result"]
    shown = "(" + ", ".join(map(str, dims)) + ")"
    if result == "loss":
        if dims != ():
            diags.error("E205", f"`{node.name}` is declared to return a loss (one number), but "
                        f"`{k['target']}` returns a {shown} tensor", node.span,
                        hint="reduce it in the function, or declare `-> score`")
            return None
        return LOSS
    if len(dims) < 1 or dims[0] != extern.BATCH:
        diags.error("E205", f"`{node.name}` is declared to return a value per sample, but "
                    f"`{k['target']}` returns a {shown} tensor for a batch of {extern.BATCH}",
                    node.span)
        return None
    per_sample = dims[1:]
    if result == "score":
        if per_sample not in ((), (1,)):
            diags.error("E205", f"`{node.name}` is declared to return a score (one number per "
                        f"sample), but `{k['target']}` returns {shown}", node.span)
            return None
        return SCALAR
    if result == "same":
        first = ins[0]
        if per_sample != first.dims:
            diags.error("E205", f"`{node.name}` is declared to return its first tensor's type "
                        f"{first}, but `{k['target']}` returns {shown}", node.span)
            return None
        return first
    if len(per_sample) != RANK[result]:
        diags.error("E205", f"`{node.name}` is declared to return {result}, but "
                    f"`{k['target']}` returns {shown}", node.span)
        return None
    return TensorType(kind=result, dims=per_sample)
