"""Layers on flat vectors and class indices: `linear`, `embedding`, `one_hot`, `maxout`,
`projection`."""

from __future__ import annotations

from ..types import TensorType, flat
from .base import FLAT, Ctx, Layer, Param, call_args, need, py, wrap_modifiers

linear = Layer(
    name="linear",
    doc="Fully connected layer (`nn.Linear`) on a flat value; `flatten` a map first.",
    params=(Param("out", "int", min=1, doc="output features"), Param("bias", "bool", True)),
    accepts=FLAT,
    infer=lambda ctx: flat(ctx.args["out"]),
    module=lambda ctx: wrap_modifiers(
        f"nn.Linear({call_args([ctx.c, ctx.args['out']], {'bias': (ctx.args['bias'], True)})})",
        ctx),
    count=lambda ctx: ctx.c * ctx.args["out"] + (ctx.args["out"] if ctx.args["bias"] else 0),
    weighted=True,
    example="h = z -> linear(1024) -> relu",
)

embedding = Layer(
    name="embedding",
    doc="A learned vector per class (`nn.Embedding`); the class count comes from `class[N]`.",
    params=(Param("dim", "int", min=1, doc="embedding size"),),
    accepts=frozenset({"class"}),
    infer=lambda ctx: flat(ctx.args["dim"]),
    module=lambda ctx: wrap_modifiers(f"nn.Embedding({ctx.c}, {ctx.args['dim']})", ctx),
    count=lambda ctx: ctx.c * ctx.args["dim"],
    weighted=True,
    example="e = y -> embedding(128)",
)

one_hot = Layer(
    name="one_hot",
    doc="A class index as a one-hot `label[N]` (float).",
    params=(),
    accepts=frozenset({"class"}),
    infer=lambda ctx: TensorType(kind="label", dims=ctx.x.dims, labels=ctx.x.labels),
    call=lambda ctx: f"F.one_hot({ctx.names['x']}, {ctx.c}).float()",
    example="y1 = y -> one_hot",
)


def _maxout_infer(ctx: Ctx) -> TensorType:
    return flat(ctx.args["units"])


maxout = Layer(
    name="maxout",
    doc="Maxout units (Goodfellow et al. 2013): a linear layer to units×pieces, then the "
        "max over each unit's pieces.",
    params=(Param("units", "int", min=1), Param("pieces", "int", min=1)),
    accepts=FLAT,
    infer=_maxout_infer,
    module=lambda ctx: f"rt.Maxout({ctx.c}, {ctx.args['units']}, {ctx.args['pieces']})",
    count=lambda ctx: (ctx.c + 1) * ctx.args["units"] * ctx.args["pieces"],
    example="h = x -> flatten -> maxout(240, 5)",
)


def _projection_infer(ctx: Ctx) -> TensorType:
    y = ctx.values["y"]
    need(y.kind == "class", f"the class argument must be `class[N]`, got {y}", "y", "E201")
    return flat(1)


def _projection_module(ctx: Ctx) -> str:
    args = call_args([ctx.values["y"].dims[0], ctx.c], {"sn": (ctx.args["sn"], False)})
    if ctx.args.get("init"):
        method, options = ctx.args["init"]
        args += f", init={py(method)}" + "".join(f", {k}={py(v)}" for k, v in options)
    return f"rt.Projection({args})"


projection = Layer(
    name="projection",
    doc="The class term of a projection discriminator (Miyato & Koyama 2018): "
        "`<embed(y), h>`, one number per sample.",
    params=(Param("y", "value", doc="the class index, `class[N]`"),
            Param("sn", "bool", False, doc="spectral normalization of the class embedding "
                  "(the reference's SNEmbedID)"),
            Param("init", "init", None, doc="the class embedding's own initialization, as a "
                  "weighted layer's `init` (fan_in: the features)")),
    accepts=FLAT,
    infer=_projection_infer,
    module=_projection_module,
    call=lambda ctx: f"self.{ctx.attr}({ctx.names['x']}, {ctx.names['y']})",
    count=lambda ctx: ctx.values["y"].dims[0] * ctx.c,
    example="out = h -> linear(1) + h -> projection(y)",
)

LAYERS = [linear, embedding, one_hot, maxout, projection]
