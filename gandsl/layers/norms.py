"""Normalization layers: batch, instance, layer, group and pixel norm, and the conditional
ones that take a second input (conditional batch norm, AdaIN, SPADE)."""

from __future__ import annotations

from ..types import TensorType
from .base import FEATURES, SPATIAL, Ctx, Layer, Param, call_args, need, same_type


def _affine_count(ctx: Ctx) -> int:
    return 2 * ctx.c if ctx.args["affine"] else 0


def _bn_module(ctx: Ctx) -> str:
    a = ctx.args
    cls = "rt.SyncBatchNorm" if a["sync"] else \
        "nn.BatchNorm2d" if ctx.x.family == "spatial" else "nn.BatchNorm1d"
    options = {"eps": (a["eps"], 1e-5), "momentum": (a["momentum"], 0.1),
               "affine": (a["affine"], True), "track_running_stats": (a["track"], True)}
    return f"{cls}({call_args([ctx.c], options)})"


batch_norm = Layer(
    name="batch_norm",
    doc="Batch normalization over the batch (and spatial positions): `nn.BatchNorm2d` on "
        "maps, `nn.BatchNorm1d` on vectors; with `sync=true`, `rt.SyncBatchNorm`, whose "
        "statistics are the global batch's in data-parallel training.",
    params=(Param("affine", "bool", True), Param("eps", "num", 1e-5, min=0),
            Param("momentum", "num", 0.1, min=0), Param("track", "bool", True,
                                                        doc="keep running statistics"),
            Param("sync", "bool", False, doc="statistics of the global batch when training "
                  "on several processes (`rt.SyncBatchNorm`)")),
    accepts=FEATURES,
    infer=same_type,
    module=_bn_module,
    count=_affine_count,
    example="h = h -> conv(128, 4, stride=2, pad=1) -> batch_norm -> leaky_relu(0.2)",
)

def _instance_norm_infer(ctx: Ctx) -> TensorType:
    need(ctx.x.dims[1] * ctx.x.dims[2] > 1, f"instance norm of {ctx.x} normalizes a single "
         "value per channel; it needs more than one position")
    return ctx.x


instance_norm = Layer(
    name="instance_norm",
    doc="Instance normalization (`nn.InstanceNorm2d`): per sample and channel.",
    params=(Param("affine", "bool", False), Param("eps", "num", 1e-5, min=0),
            Param("momentum", "num", 0.1, min=0),
            Param("track", "bool", False, doc="keep running statistics (StarGAN does)")),
    accepts=SPATIAL,
    infer=_instance_norm_infer,
    module=lambda ctx: "nn.InstanceNorm2d(" + call_args([ctx.c], {
        "eps": (ctx.args["eps"], 1e-5), "momentum": (ctx.args["momentum"], 0.1),
        "affine": (ctx.args["affine"], False),
        "track_running_stats": (ctx.args["track"], False)}) + ")",
    count=_affine_count,
    example="h = h -> conv(64, 7, pad=3, bias=false) -> instance_norm(affine=true) -> relu",
)

layer_norm = Layer(
    name="layer_norm",
    doc="Layer normalization (`nn.LayerNorm`) over all of a sample's features: C×H×W on maps "
        "(elementwise affine), N on vectors. For a per-channel affine over C×H×W use "
        "`group_norm(1)`.",
    params=(Param("affine", "bool", True), Param("eps", "num", 1e-5, min=0)),
    accepts=FEATURES,
    infer=same_type,
    module=lambda ctx: "nn.LayerNorm(" + call_args(
        [list(ctx.x.dims) if len(ctx.x.dims) > 1 else ctx.c],
        {"eps": (ctx.args["eps"], 1e-5), "elementwise_affine": (ctx.args["affine"], True)}) + ")",
    count=lambda ctx: 2 * ctx.x.numel if ctx.args["affine"] else 0,
    example="h = h -> conv(256, 5, stride=2, pad=2) -> layer_norm -> leaky_relu(0.2)",
)


def _gn_infer(ctx: Ctx) -> TensorType:
    g = ctx.args["groups"]
    need(ctx.c % g == 0, f"{ctx.c} channels are not divisible into {g} groups", "groups")
    return ctx.x


group_norm = Layer(
    name="group_norm",
    doc="Group normalization (`nn.GroupNorm`).",
    params=(Param("groups", "int", min=1), Param("affine", "bool", True),
            Param("eps", "num", 1e-5, min=0)),
    accepts=SPATIAL,
    infer=_gn_infer,
    module=lambda ctx: "nn.GroupNorm(" + call_args([ctx.args["groups"], ctx.c], {
        "eps": (ctx.args["eps"], 1e-5), "affine": (ctx.args["affine"], True)}) + ")",
    count=_affine_count,
    example="h = h -> group_norm(32)",
)

pixel_norm = Layer(
    name="pixel_norm",
    doc="Pixelwise feature normalization (PGGAN): each position's feature vector to unit "
        "mean square.",
    params=(Param("eps", "num", 1e-8, min=0),),
    accepts=FEATURES,
    infer=same_type,
    module=lambda ctx: f"rt.PixelNorm({call_args([], {'eps': (ctx.args['eps'], 1e-8)})})",
    example="w = z -> pixel_norm -> linear(512, eqlr=true) -> leaky_relu(0.2)",
)


def _cbn_infer(ctx: Ctx) -> TensorType:
    y = ctx.values["y"]
    need(y.kind == "class" or y.family == "flat",
         f"the condition must be a `class[N]` or a flat vector, got {y}", "y", "E201")
    return ctx.x


def _cbn_module(ctx: Ctx) -> str:
    y = ctx.values["y"]
    key = "num_classes" if y.kind == "class" else "cond_dim"
    extra = call_args([], {"eps": (ctx.args["eps"], 1e-5),
                           "momentum": (ctx.args["momentum"], 0.1),
                           "sn": (ctx.args["sn"], False),
                           "sync": (ctx.args["sync"], False)})
    return f"rt.ConditionalBatchNorm({ctx.c}, {key}={y.dims[0]}{', ' + extra if extra else ''})"


cond_batch_norm = Layer(
    name="cond_batch_norm",
    doc="Conditional batch norm: batch norm without affine, then gains and biases chosen by a "
        "class (`class[N]`, SNGAN/cGAN) or computed from a vector (BigGAN: `1 + W_g y`, "
        "`W_b y`).",
    params=(Param("y", "value", doc="the condition: class[N] or a vector"),
            Param("eps", "num", 1e-5, min=0), Param("momentum", "num", 0.1, min=0),
            Param("sn", "bool", False, doc="spectral norm on the gain and bias maps (BigGAN's "
                  "SNLinear in ccbn)"),
            Param("sync", "bool", False, doc="statistics of the global batch when training "
                  "on several processes (BigGAN's cross-replica batch norm)")),
    accepts=FEATURES,
    infer=_cbn_infer,
    module=_cbn_module,
    call=lambda ctx: f"self.{ctx.attr}({ctx.names['x']}, {ctx.names['y']})",
    count=lambda ctx: 2 * ctx.values["y"].dims[0] * ctx.c,
    example="h = h -> cond_batch_norm(y) -> relu",
)


def _adain_infer(ctx: Ctx) -> TensorType:
    w = ctx.values["w"]
    need(w.family == "flat", f"the style must be a flat vector, got {w}", "w", "E201")
    return ctx.x


adain = Layer(
    name="adain",
    doc="Adaptive instance norm (StyleGAN): instance-normalize, then scale by `1 + s` and "
        "shift by `b`, where `(s, b)` is a learned affine map of the style `w`.",
    params=(Param("w", "value", doc="the style vector"), Param("eps", "num", 1e-5, min=0)),
    accepts=SPATIAL,
    infer=_adain_infer,
    module=lambda ctx: f"rt.AdaIN({ctx.c}, {ctx.values['w'].dims[0]}"
    f"{', eps=' + repr(ctx.args['eps']) if ctx.args['eps'] != 1e-5 else ''})",
    call=lambda ctx: f"self.{ctx.attr}({ctx.names['x']}, {ctx.names['w']})",
    count=lambda ctx: (ctx.values["w"].dims[0] + 1) * 2 * ctx.c,
    example="h = h -> noise -> leaky_relu(0.2) -> adain(w)",
)


def _spade_infer(ctx: Ctx) -> TensorType:
    seg = ctx.values["seg"]
    need(seg.family == "spatial", f"the segmentation map must be spatial, got {seg}", "seg",
         "E201")
    need(ctx.args["kernel"] % 2 == 1, f"SPADE's convolutions keep the size, which needs an odd "
         f"kernel, got {ctx.args['kernel']}", "kernel", "E203")
    return ctx.x



spade = Layer(
    name="spade",
    doc="Spatially-adaptive normalization (SPADE, Park et al. 2019): parameter-free norm, then "
        "per-pixel `1 + γ` and `β` predicted from the segmentation map resized to the input.",
    params=(Param("seg", "value", doc="the segmentation map"),
            Param("hidden", "int", 128, min=1), Param("kernel", "int", 3, min=1),
            Param("norm", "str", "batch", choices=("batch", "instance"))),
    accepts=SPATIAL,
    infer=_spade_infer,
    module=lambda ctx: "rt.SPADE(" + call_args([ctx.c, ctx.values["seg"].dims[0]], {
        "hidden": (ctx.args["hidden"], 128), "kernel": (ctx.args["kernel"], 3),
        "norm": (ctx.args["norm"], "batch")}) + ")",
    call=lambda ctx: f"self.{ctx.attr}({ctx.names['x']}, {ctx.names['seg']})",
    count=lambda ctx: ctx.values["seg"].dims[0] * ctx.args["hidden"] * ctx.args["kernel"] ** 2
    + ctx.args["hidden"] + 2 * (ctx.args["hidden"] * ctx.c * ctx.args["kernel"] ** 2 + ctx.c),
    example="h = h -> spade(seg) -> leaky_relu(0.2) -> conv(1024, 3, pad=1)",
)

LAYERS = [batch_norm, instance_norm, layer_norm, group_norm, pixel_norm, cond_batch_norm,
          adain, spade]
