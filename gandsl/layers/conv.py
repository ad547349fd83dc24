"""Convolutions and padding: `conv`, `conv_t`, `pad`."""

from __future__ import annotations

from ..types import TensorType, spatial
from .base import SPATIAL, Ctx, Layer, Param, call_args, need, py, wrap_modifiers


def conv_out(size: int, k: int, stride: int, pad: int, dilation: int = 1) -> int:
    """PyTorch's output size of a convolution or pooling along one axis."""
    return (size + 2 * pad - dilation * (k - 1) - 1) // stride + 1


def _conv_infer(ctx: Ctx) -> TensorType:
    a, x = ctx.args, ctx.x
    c, h, w = x.dims
    need(c % a["groups"] == 0, f"input has {c} channels, not divisible by groups={a['groups']}",
         "groups")
    need(a["out"] % a["groups"] == 0, f"{a['out']} output channels are not divisible by "
         f"groups={a['groups']}", "groups")
    oh = conv_out(h, a["k"], a["stride"], a["pad"], a["dilation"])
    ow = conv_out(w, a["k"], a["stride"], a["pad"], a["dilation"])
    need(oh >= 1 and ow >= 1, f"output would be {oh}×{ow}: input {x} is smaller than kernel "
         f"{a['k']} with pad {a['pad']}", "k")
    _pad_fits(a["pad_mode"], a["pad"], h, w, "pad")
    return spatial(a["out"], oh, ow)


def _pad_fits(mode: str, p: int, h: int, w: int, param: str) -> None:
    """Reflection needs the padding smaller than the input; circular at most as large."""
    if mode == "reflect":
        need(p < h and p < w, f"reflection padding {p} needs an input larger than {p}, got "
             f"{h}×{w}", param)
    elif mode == "circular":
        need(p <= h and p <= w, f"circular padding {p} wraps around an input of {h}×{w} more "
             "than once", param)


def _conv_module(ctx: Ctx) -> str:
    a = ctx.args
    args = call_args([ctx.c, a["out"], a["k"]], {
        "stride": (a["stride"], 1), "padding": (a["pad"], 0), "dilation": (a["dilation"], 1),
        "groups": (a["groups"], 1), "bias": (a["bias"], True),
        "padding_mode": (a["pad_mode"], "zeros")})
    return wrap_modifiers(f"nn.Conv2d({args})", ctx)


conv = Layer(
    name="conv",
    doc="2-D convolution (`nn.Conv2d`); input channels come from the input's type.",
    params=(
        Param("out", "int", min=1, doc="output channels"),
        Param("k", "int", min=1, doc="kernel size (square)"),
        Param("stride", "int", 1, min=1),
        Param("pad", "int", 0, min=0, doc="padding on each side"),
        Param("dilation", "int", 1, min=1),
        Param("groups", "int", 1, min=1),
        Param("bias", "bool", True),
        Param("pad_mode", "str", "zeros", choices=("zeros", "reflect", "replicate", "circular")),
    ),
    accepts=SPATIAL,
    infer=_conv_infer,
    module=_conv_module,
    count=lambda ctx: ctx.args["out"] * (ctx.c // ctx.args["groups"]) * ctx.args["k"] ** 2
    + (ctx.args["out"] if ctx.args["bias"] else 0),
    weighted=True,
    example="h = x -> conv(64, 4, stride=2, pad=1, bias=false)",
)


def _conv_t_infer(ctx: Ctx) -> TensorType:
    a, x = ctx.args, ctx.x
    c, h, w = x.dims
    need(c % a["groups"] == 0, f"input has {c} channels, not divisible by groups={a['groups']}",
         "groups")
    need(a["out"] % a["groups"] == 0, f"{a['out']} output channels are not divisible by "
         f"groups={a['groups']}", "groups")
    need(a["out_pad"] < max(a["stride"], a["dilation"]), f"out_pad={a['out_pad']} must be "
         f"smaller than stride or dilation", "out_pad", "E203")

    def size(n: int) -> int:
        return (n - 1) * a["stride"] - 2 * a["pad"] + a["dilation"] * (a["k"] - 1) \
            + a["out_pad"] + 1

    oh, ow = size(h), size(w)
    need(oh >= 1 and ow >= 1, f"output would be {oh}×{ow} for input {x}", "pad")
    return spatial(a["out"], oh, ow)


def _conv_t_module(ctx: Ctx) -> str:
    a = ctx.args
    args = call_args([ctx.c, a["out"], a["k"]], {
        "stride": (a["stride"], 1), "padding": (a["pad"], 0),
        "output_padding": (a["out_pad"], 0), "groups": (a["groups"], 1),
        "bias": (a["bias"], True), "dilation": (a["dilation"], 1)})
    return wrap_modifiers(f"nn.ConvTranspose2d({args})", ctx)


conv_t = Layer(
    name="conv_t",
    doc="2-D transposed convolution (`nn.ConvTranspose2d`), the usual ×2 upsampling step.",
    params=(
        Param("out", "int", min=1, doc="output channels"),
        Param("k", "int", min=1, doc="kernel size (square)"),
        Param("stride", "int", 1, min=1),
        Param("pad", "int", 0, min=0),
        Param("out_pad", "int", 0, min=0, doc="extra rows/columns on one side of the output"),
        Param("dilation", "int", 1, min=1),
        Param("groups", "int", 1, min=1),
        Param("bias", "bool", True),
    ),
    accepts=SPATIAL,
    infer=_conv_t_infer,
    module=_conv_t_module,
    count=lambda ctx: ctx.c * (ctx.args["out"] // ctx.args["groups"]) * ctx.args["k"] ** 2
    + (ctx.args["out"] if ctx.args["bias"] else 0),
    weighted=True,
    example="h = h -> conv_t(128, 4, stride=2, pad=1, bias=false)",
)


def _pad_infer(ctx: Ctx) -> TensorType:
    c, h, w = ctx.x.dims
    p = ctx.args["p"]
    _pad_fits(ctx.args["mode"], p, h, w, "p")
    return spatial(c, h + 2 * p, w + 2 * p)


_PAD_MODE = {"zeros": "constant", "reflect": "reflect", "replicate": "replicate",
             "circular": "circular"}
_PAD_MODULE = {"zeros": "ZeroPad2d", "reflect": "ReflectionPad2d",
               "replicate": "ReplicationPad2d", "circular": "CircularPad2d"}

pad = Layer(
    name="pad",
    doc="Pad height and width by `p` on every side (`F.pad`).",
    params=(Param("p", "int", min=0),
            Param("mode", "str", "reflect", choices=tuple(_PAD_MODE))),
    accepts=SPATIAL,
    infer=_pad_infer,
    call=lambda ctx: f"F.pad({ctx.names['x']}, {(ctx.args['p'],) * 4}, "
    f"mode={py(_PAD_MODE[ctx.args['mode']])})",
    as_module=lambda ctx: f"nn.{_PAD_MODULE[ctx.args['mode']]}({ctx.args['p']})",
    example="h = x -> pad(3) -> conv(64, 7)",
)

LAYERS = [conv, conv_t, pad]
