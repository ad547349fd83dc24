"""Changing resolution: `upsample`, `downsample`, `avg_pool`, `max_pool`, `pixel_shuffle`,
and `global_pool` (a map to a vector)."""

from __future__ import annotations

from ..types import TensorType, flat, spatial
from .base import SPATIAL, Ctx, Layer, Param, need, py
from .conv import conv_out


def _up_infer(ctx: Ctx) -> TensorType:
    c, h, w = ctx.x.dims
    s = ctx.args["scale"]
    return spatial(c, h * s, w * s, ctx.x.kind)


def _up_call(ctx: Ctx) -> str:
    mode = ctx.args["mode"]
    extra = ", align_corners=False" if mode == "bilinear" else ""
    scale = ctx.args["scale"]
    return f"F.interpolate({ctx.names['x']}, scale_factor={scale}, mode={py(mode)}{extra})"


def _up_module(ctx: Ctx) -> str:
    mode = ctx.args["mode"]
    extra = ", align_corners=False" if mode == "bilinear" else ""
    return f"nn.Upsample(scale_factor={ctx.args['scale']}, mode={py(mode)}{extra})"


upsample = Layer(
    name="upsample",
    doc="Upsample by an integer factor (nearest or bilinear interpolation).",
    params=(Param("scale", "int", 2, min=1),
            Param("mode", "str", "nearest", choices=("nearest", "bilinear"))),
    accepts=SPATIAL,
    infer=_up_infer,
    call=_up_call,
    as_module=_up_module,
    example="h = h -> upsample -> conv(128, 3, pad=1)",
)


def _down_infer(ctx: Ctx) -> TensorType:
    c, h, w = ctx.x.dims
    s = ctx.args["scale"]
    need(h % s == 0 and w % s == 0, f"{h}×{w} is not divisible by {s}", "scale")
    return spatial(c, h // s, w // s, ctx.x.kind)


def _down_call(ctx: Ctx) -> str:
    x, s, mode = ctx.names["x"], ctx.args["scale"], ctx.args["mode"]
    if mode in ("avg", "max"):
        return f"F.{mode}_pool2d({x}, {s})"
    extra = ", align_corners=False" if mode == "bilinear" else ""
    return f"F.interpolate({x}, scale_factor={1 / s!r}, mode={py(mode)}{extra})"


downsample = Layer(
    name="downsample",
    doc="Downsample by an integer factor: average (default) or max pooling, or interpolation.",
    params=(Param("scale", "int", 2, min=1),
            Param("mode", "str", "avg", choices=("avg", "max", "nearest", "bilinear"))),
    accepts=SPATIAL,
    infer=_down_infer,
    call=_down_call,
    as_module=lambda ctx: (f"nn.{ctx.args['mode'].capitalize()}Pool2d({ctx.args['scale']})"
                           if ctx.args["mode"] in ("avg", "max") else None),
    example="skip = x -> downsample -> conv(256, 1)",
)


def _pool(kind: str) -> Layer:
    def infer(ctx: Ctx) -> TensorType:
        c, h, w = ctx.x.dims
        a = ctx.args
        stride = a["stride"] or a["k"]
        need(a["pad"] * 2 <= a["k"], f"pad={a['pad']} must be at most half the kernel {a['k']}",
             "pad", "E203")
        oh, ow = conv_out(h, a["k"], stride, a["pad"]), conv_out(w, a["k"], stride, a["pad"])
        need(oh >= 1 and ow >= 1, f"output would be {oh}×{ow} for input {ctx.x}", "k")
        return spatial(c, oh, ow, ctx.x.kind)

    def arguments(ctx: Ctx) -> str:
        a = ctx.args
        extra = ""
        if a["stride"] and a["stride"] != a["k"]:
            extra += f", stride={a['stride']}"
        if a["pad"]:
            extra += f", padding={a['pad']}"
        if kind == "avg" and a["pad"] and not a["count_pad"]:
            extra += ", count_include_pad=False"
        return f"{a['k']}{extra}"

    def call(ctx: Ctx) -> str:
        return f"F.{kind}_pool2d({ctx.names['x']}, {arguments(ctx)})"

    def as_module(ctx: Ctx) -> str:
        return f"nn.{kind.capitalize()}Pool2d({arguments(ctx)})"

    params = (Param("k", "int", min=1), Param("stride", "int", 0, min=0, doc="0: same as k"),
              Param("pad", "int", 0, min=0))
    if kind == "avg":
        params += (Param("count_pad", "bool", True, doc="the padding's zeros count in the "
                         "average (`false`: PyTorch's `count_include_pad=False`)"),)
    return Layer(
        name=f"{kind}_pool",
        doc=f"{'Average' if kind == 'avg' else 'Max'} pooling; the stride defaults to the kernel.",
        params=params,
        accepts=SPATIAL, infer=infer, call=call, as_module=as_module,
        example=f"h = h -> {kind}_pool(2)")


avg_pool = _pool("avg")
max_pool = _pool("max")


def _ps_infer(ctx: Ctx) -> TensorType:
    c, h, w = ctx.x.dims
    r = ctx.args["r"]
    need(c % (r * r) == 0, f"{c} channels are not divisible by r²={r * r}", "r")
    return spatial(c // (r * r), h * r, w * r)


pixel_shuffle = Layer(
    name="pixel_shuffle",
    doc="Sub-pixel upsampling (Shi et al. 2016, SRGAN): C·r² channels to r× resolution.",
    params=(Param("r", "int", min=1),),
    accepts=SPATIAL,
    infer=_ps_infer,
    call=lambda ctx: f"F.pixel_shuffle({ctx.names['x']}, {ctx.args['r']})",
    example="h = h -> conv(256, 3, pad=1) -> pixel_shuffle(2) -> prelu",
)

_REDUCE = {"sum": "sum", "mean": "mean", "max": "amax"}

global_pool = Layer(
    name="global_pool",
    doc="Reduce every channel over all positions to one number: `sum` (SNGAN's D), `mean` or "
        "`max`; a map becomes a vector.",
    params=(Param("mode", "str", "mean", choices=tuple(_REDUCE)),),
    accepts=SPATIAL,
    infer=lambda ctx: flat(ctx.c),
    call=lambda ctx: f"{ctx.names['x']}.{_REDUCE[ctx.args['mode']]}(dim=(2, 3))",
    example="h = h -> relu -> global_pool(\"sum\") -> linear(1)",
)

LAYERS = [upsample, downsample, avg_pool, max_pool, pixel_shuffle, global_pool]
