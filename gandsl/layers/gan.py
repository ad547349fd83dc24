"""Layers from the GAN literature: minibatch standard deviation (PGGAN), noise injection and
constant input (StyleGAN), self-attention (SAGAN, BigGAN), a per-channel bias."""

from __future__ import annotations

from ..types import TensorType, spatial
from .base import FEATURES, SPATIAL, Ctx, Layer, Param, call_args, need


def _mbstd_infer(ctx: Ctx) -> TensorType:
    c, h, w = ctx.x.dims
    f = ctx.args["features"]
    need(c % f == 0, f"{c} channels are not divisible into {f} features", "features")
    return spatial(c + f, h, w)


minibatch_stddev = Layer(
    name="minibatch_stddev",
    doc="Append the standard deviation across groups of samples as extra channels (PGGAN); "
        "the batch must be divisible by the group size.",
    params=(Param("group", "int", 4, min=1), Param("features", "int", 1, min=1)),
    accepts=SPATIAL,
    infer=_mbstd_infer,
    module=lambda ctx: "rt.MinibatchStdDev(" + call_args([], {
        "group_size": (ctx.args["group"], 4), "num_features": (ctx.args["features"], 1)}) + ")",
    example="h = h -> minibatch_stddev -> conv(512, 3, pad=1)",
)

noise = Layer(
    name="noise",
    doc="Add per-pixel Gaussian noise scaled by a learned weight: one per channel "
        "(StyleGAN), or one for the layer with `per_channel=false` (StyleGAN2).",
    params=(Param("per_channel", "bool", True,
                  doc="false: one strength for all channels (StyleGAN2)"),),
    accepts=SPATIAL,
    infer=lambda ctx: ctx.x,
    # One strength is a (1,) weight that broadcasts over the channels.
    module=lambda ctx: f"rt.NoiseInjection({ctx.c if ctx.args['per_channel'] else 1})",
    count=lambda ctx: ctx.c if ctx.args["per_channel"] else 1,
    example="h = h -> conv(512, 3, pad=1) -> noise -> leaky_relu(0.2)",
)

const = Layer(
    name="const",
    doc="A learned constant map, the same for every sample (StyleGAN's synthesis input). It "
        "starts a chain; the batch size is taken from the network's first input.",
    params=(Param("channels", "int", min=1), Param("height", "int", min=1),
            Param("width", "int", min=1)),
    accepts=frozenset(),
    infer=lambda ctx: spatial(ctx.args["channels"], ctx.args["height"], ctx.args["width"]),
    module=lambda ctx: f"rt.ConstantInput({ctx.args['channels']}, {ctx.args['height']}, "
    f"{ctx.args['width']})",
    call=lambda ctx: f"self.{ctx.attr}({ctx.batch})",
    count=lambda ctx: ctx.args["channels"] * ctx.args["height"] * ctx.args["width"],
    example="h = const(512, 4, 4) -> adain(w)",
)


def _attn_infer(ctx: Ctx) -> TensorType:
    need(ctx.c >= 8, f"self-attention needs at least 8 channels, got {ctx.c}")
    if ctx.args["kind"] == "biggan":
        need(min(ctx.x.dims[1:]) >= 2, f"BigGAN's attention pools keys 2×2; {ctx.x} is too "
             "small", "kind")
    return ctx.x


def _attn_count(ctx: Ctx) -> int:
    c = ctx.c
    if ctx.args["kind"] == "sagan":
        return 2 * (c * (c // 8) + c // 8) + c * c + c + 1
    return 2 * c * (c // 8) + 2 * c * (c // 2) + 1


self_attention = Layer(
    name="self_attention",
    doc="Self-attention over positions with a learned residual gate γ that starts at 0: "
        "`sagan` (Zhang et al. 2019, 1×1 convs with bias) or `biggan` (BigGAN's, no bias, "
        "pooled keys).",
    params=(Param("kind", "str", "sagan", choices=("sagan", "biggan")),
            Param("sn", "bool", False, doc="spectral norm on the 1×1 convs (SAGAN, BigGAN)")),
    accepts=SPATIAL,
    infer=_attn_infer,
    module=lambda ctx: "rt.SelfAttention(" + call_args([ctx.c], {
        "kind": (ctx.args["kind"], "sagan"), "sn": (ctx.args["sn"], False)}) + ")",
    count=_attn_count,
    example="h = h -> conv_t(128, 4, stride=2, pad=1) -> self_attention",
)

bias = Layer(
    name="bias",
    doc="A learned bias per channel (per feature of a vector), starting at 0: PGGAN's bias "
        "after its first dense layer is reshaped, StyleGAN's on the learned constant.",
    params=(),
    accepts=FEATURES,
    infer=lambda ctx: ctx.x,
    module=lambda ctx: f"rt.Bias({ctx.c})",
    count=lambda ctx: ctx.c,
    example="h = z -> linear(512 * 16, bias=false) -> reshape(512, 4, 4) -> bias",
)

LAYERS = [minibatch_stddev, noise, const, self_attention, bias]
