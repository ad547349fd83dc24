"""Elementwise layers: activations and dropout. They keep the input's type."""

from __future__ import annotations

from ..types import TensorType
from .base import FEATURES, Ctx, Layer, Param, need, same_type

ANY = frozenset({"spatial", "flat", "scalar"})


def _fn(name: str, expr: str, doc: str, module: str, example: str = "") -> Layer:
    return Layer(name=name, doc=doc, params=(), accepts=ANY, infer=same_type,
                 call=lambda ctx: expr.format(x=ctx.names["x"]),
                 as_module=lambda ctx: module, example=example)


relu = _fn("relu", "F.relu({x})", "Rectified linear unit.", "nn.ReLU()", example="h = h -> relu")
leaky_relu = Layer(
    name="leaky_relu",
    doc="Leaky ReLU; the slope defaults to PyTorch's 0.01 (StarGAN's D); DCGAN uses 0.2.",
    params=(Param("slope", "num", 0.01, min=0),),
    accepts=ANY,
    infer=same_type,
    call=lambda ctx: f"F.leaky_relu({ctx.names['x']}, {ctx.args['slope']!r})",
    as_module=lambda ctx: f"nn.LeakyReLU({ctx.args['slope']!r})",
    example="h = h -> leaky_relu(0.2)",
)
tanh = _fn("tanh", "torch.tanh({x})", "Hyperbolic tangent; images in [-1, 1].", "nn.Tanh()",
           example="return h -> tanh")
sigmoid = _fn("sigmoid", "torch.sigmoid({x})", "Logistic sigmoid. Losses that take logits "
              "already include it; the checker warns when both are used.", "nn.Sigmoid()")
softplus = Layer(
    name="softplus",
    doc="Softplus `log(1 + exp(βx)) / β`.",
    params=(Param("beta", "num", 1.0, min=0, open_min=True),),
    accepts=ANY,
    infer=same_type,
    call=lambda ctx: f"F.softplus({ctx.names['x']}"
    f"{', beta=' + repr(ctx.args['beta']) if ctx.args['beta'] != 1.0 else ''})",
    as_module=lambda ctx: "nn.Softplus("
    f"{'beta=' + repr(ctx.args['beta']) if ctx.args['beta'] != 1.0 else ''})",
)
elu = Layer(
    name="elu",
    doc="Exponential linear unit (BEGAN).",
    params=(Param("alpha", "num", 1.0, min=0),),
    accepts=ANY,
    infer=same_type,
    call=lambda ctx: f"F.elu({ctx.names['x']}"
    f"{', alpha=' + repr(ctx.args['alpha']) if ctx.args['alpha'] != 1.0 else ''})",
    as_module=lambda ctx: "nn.ELU("
    f"{'alpha=' + repr(ctx.args['alpha']) if ctx.args['alpha'] != 1.0 else ''})",
)
gelu = _fn("gelu", "F.gelu({x})", "Gaussian error linear unit.", "nn.GELU()")

prelu = Layer(
    name="prelu",
    doc="Parametric ReLU (`nn.PReLU`): one learned slope, or one per channel (SRGAN uses one).",
    params=(Param("per_channel", "bool", False),),
    accepts=FEATURES,
    infer=same_type,
    module=lambda ctx: f"nn.PReLU({ctx.c if ctx.args['per_channel'] else ''})",
    count=lambda ctx: ctx.c if ctx.args["per_channel"] else 1,
    example="h = h -> conv(64, 9, pad=4) -> prelu",
)

def _dropout_infer(ctx: Ctx) -> TensorType:
    need(not ctx.args["channels"] or ctx.x.family == "spatial",
         f"`channels=true` drops channels of a map; {ctx.x} has none", "channels", "E203")
    return ctx.x


dropout = Layer(
    name="dropout",
    doc="Dropout (`nn.Dropout`, or `nn.Dropout2d` with `channels=true`); active in training "
        "mode only.",
    params=(Param("p", "num", 0.5, min=0, max=1),
            Param("channels", "bool", False, doc="drop whole channels of a map")),
    accepts=FEATURES,
    infer=_dropout_infer,
    module=lambda ctx: f"nn.{'Dropout2d' if ctx.args['channels'] else 'Dropout'}"
    f"({ctx.args['p']!r})",
    example="h = h -> conv_t(512, 4, stride=2, pad=1) -> batch_norm -> dropout(0.5) -> relu",
)

LAYERS = [relu, leaky_relu, tanh, sigmoid, softplus, elu, gelu, prelu, dropout]
