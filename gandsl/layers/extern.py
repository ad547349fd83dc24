"""The layer of every `extern layer` node: its type and parameter count come from running
the user's module on meta tensors (`gandsl.extern`), its constructor is the imported class
called with the spec's arguments by name."""

from __future__ import annotations

from .. import extern
from ..types import RANK, SPATIAL, TensorType
from .base import Ctx, Layer, LayerError, py

_FAMILY = {"spatial": "a map or image", "flat": "a vector (latent, label, logits or vector)",
           "scalar": "a scalar"}


def _probe(ctx: Ctx) -> extern.Probe:
    a = ctx.args
    declared = TensorType(kind=a["input"], dims=(1,) * RANK[a["input"]])
    if ctx.x.family != declared.family:
        raise LayerError(f"`{a['extern']}` takes {_FAMILY[declared.family]}, got {ctx.x}",
                         code="E201")
    try:
        return extern.probe_layer(a["target"], a["kwargs"], ctx.x.dims)
    except extern.ExternError as e:
        raise LayerError(str(e), code="E111") from None


def _infer(ctx: Ctx) -> TensorType:
    a, dims = ctx.args, _probe(ctx).dims
    if len(dims) != RANK[a["result"]] or any(d < 1 for d in dims):
        shape = "(B, " + ", ".join(map(str, dims)) + ")"
        raise LayerError(f"`{a['extern']}` is declared to return {a['result']}, but "
                         f"`{a['target']}` returns {shape} tensors", code="E205")
    if a["result"] in SPATIAL or RANK[a["result"]] != 0:
        return TensorType(kind=a["result"], dims=dims)
    return TensorType(kind="scalar", dims=())


def _module(ctx: Ctx) -> str:
    args = ", ".join(f"{k}={py(v)}" for k, v in ctx.args["kwargs"])
    return f"{ctx.args['alias']}({args})"


EXTERN = Layer(
    name="extern",
    doc="A module of the user's (`extern layer`).",
    params=(),
    accepts=frozenset({"spatial", "flat"}),
    infer=_infer,
    module=_module,
    count=lambda ctx: _probe(ctx).params,
)
