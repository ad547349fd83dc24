"""Style-based layers: the modulated convolution of StyleGAN2 (Karras et al. 2020), and the
per-layer styles of StyleGAN (Karras et al. 2019): `broadcast` one w to every layer,
`truncation` toward the running mean of w when sampling."""

from __future__ import annotations

from ..types import TensorType, flat, spatial
from .base import FLAT, SPATIAL, Ctx, Layer, Param, call_args, need


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

broadcast = Layer(
    name="broadcast",
    doc="One vector for each of `n` layers, side by side: `latent[D]` to `latent[n·D]` "
        "(StyleGAN's mapping output for the synthesis layers; `slice` takes layer i's).",
    params=(Param("n", "int", min=1, doc="how many copies"),),
    accepts=FLAT,
    infer=lambda ctx: flat(ctx.args["n"] * ctx.x.dims[0], kind=ctx.x.kind
                           if ctx.x.kind in ("latent", "vector") else "vector"),
    call=lambda ctx: f"{ctx.names['x']}.repeat(1, {ctx.args['n']})",
    example="ws = z -> mapping -> broadcast(18)",
)


def _truncation_infer(ctx: Ctx) -> TensorType:
    a = ctx.args
    need(ctx.x.dims[0] % a["layers"] == 0, f"{ctx.x} does not split into {a['layers']} "
         "layers' styles", "layers", "E203")
    need(a["cutoff"] <= a["layers"], f"the cutoff ({a['cutoff']}) is past the last of "
         f"{a['layers']} layers", "cutoff", "E203")
    return ctx.x


truncation = Layer(
    name="truncation",
    doc="StyleGAN's truncation trick: in training, tracks the running mean of w (each step "
        "`avg ← avg + (1 − decay)·(mean w − avg)`); in sample grids, `gandsl "
        "sample` and eval mode moves the styles of the first `cutoff` layers toward it, "
        "`avg + psi·(w − avg)`. No learned parameters (the mean is a buffer).",
    params=(Param("layers", "int", min=1, doc="the layers whose styles the vector holds"),
            Param("psi", "num", 0.7, min=0), Param("cutoff", "int", 8, min=0),
            Param("decay", "num", 0.995, min=0, max=1)),
    accepts=FLAT,
    infer=_truncation_infer,
    module=lambda ctx: "rt.Truncation(" + call_args(
        [ctx.c // ctx.args["layers"], ctx.args["layers"]],
        {"psi": (ctx.args["psi"], 0.7), "cutoff": (ctx.args["cutoff"], 8),
         "decay": (ctx.args["decay"], 0.995)}) + ")",
    example="ws = w -> broadcast(18) -> truncation(layers=18, psi=0.7, cutoff=8)",
)

LAYERS = [modulated_conv, broadcast, truncation]
