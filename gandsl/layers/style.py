"""Style-based layers: the modulated convolution of StyleGAN2 (Karras et al. 2020)."""

from __future__ import annotations

from ..types import TensorType, spatial
from .base import SPATIAL, Ctx, Layer, Param, call_args, need


def _modconv_infer(ctx: Ctx) -> TensorType:
    w = ctx.values["w"]
    need(w.family == "flat", f"the style must be a flat vector, got {w}", "w", "E201")
    k = ctx.args["k"]
    need(k % 2 == 1, f"the modulated convolution keeps the size (padding k // 2), which needs "
         f"an odd kernel, got {k}", "k", "E203")
    _, h, wd = ctx.x.dims
    up = ctx.args["up"]
    return spatial(ctx.args["out"], h * up, wd * up)


def _modconv_count(ctx: Ctx) -> int:
    c, a = ctx.c, ctx.args
    affine = ctx.values["w"].dims[0] * c + c  # A: w -> one style per input channel
    return affine + a["out"] * c * a["k"] ** 2 + (a["out"] if a["bias"] else 0)


modulated_conv = Layer(
    name="modulated_conv",
    doc="Style-modulated convolution (StyleGAN2): a learned affine map of `w` scales the "
        "weight's input channels per sample; `demod` rescales each output filter to unit "
        "norm; `up=2` upsamples (transposed convolution and [1, 3, 3, 1] blur). Padding keeps "
        "the size; equalized learning rate is built in.",
    params=(
        Param("w", "value", doc="the style vector"),
        Param("out", "int", min=1, doc="output channels"),
        Param("k", "int", min=1, doc="kernel size (odd)"),
        Param("demod", "bool", True, doc="weight demodulation (false in ToRGB)"),
        Param("up", "int", 1, choices=(1, 2), doc="2: double the resolution"),
        Param("bias", "bool", True),
    ),
    accepts=SPATIAL,
    infer=_modconv_infer,
    module=lambda ctx: "rt.ModulatedConv2d(" + call_args(
        [ctx.c, ctx.args["out"], ctx.args["k"], ctx.values["w"].dims[0]], {
            "demodulate": (ctx.args["demod"], True), "up": (ctx.args["up"], 1),
            "bias": (ctx.args["bias"], True)}) + ")",
    call=lambda ctx: f"self.{ctx.attr}({ctx.names['x']}, {ctx.names['w']})",
    count=_modconv_count,
    example="h = h -> modulated_conv(w, 512, 3, up=2) -> noise(per_channel=false)",
)

LAYERS = [modulated_conv]
