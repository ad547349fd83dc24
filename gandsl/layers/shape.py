"""Layers that only rearrange values: `flatten`, `reshape`, `concat`, `tile`, `slice`; and
`normalize`, the fixed input normalization of a pretrained feature network."""

from __future__ import annotations

from ..types import TensorType, flat, spatial
from .base import FEATURES, Ctx, Layer, Param, need

flatten = Layer(
    name="flatten",
    doc="A map `[C, H, W]` as a vector `[C·H·W]`.",
    params=(),
    accepts=frozenset({"spatial"}),
    infer=lambda ctx: flat(ctx.x.numel),
    call=lambda ctx: f"{ctx.names['x']}.flatten(1)",
    as_module=lambda ctx: "nn.Flatten()",
    example="h = h -> flatten -> linear(1)",
)


def _reshape_infer(ctx: Ctx) -> TensorType:
    dims = ctx.args["dims"]
    need(len(dims) in (1, 3), f"reshape takes 1 (a vector) or 3 (a map: C, H, W) sizes, got "
         f"{len(dims)}", "dims", "E203")
    n = 1
    for d in dims:
        n *= d
    need(n == ctx.x.numel, f"cannot reshape {ctx.x} ({ctx.x.numel} numbers) to "
         f"[{', '.join(map(str, dims))}] ({n} numbers)", "dims")
    return flat(dims[0]) if len(dims) == 1 else spatial(*dims)


reshape = Layer(
    name="reshape",
    doc="View a value with other per-sample sizes: `reshape(C, H, W)` gives a map, "
        "`reshape(N)` a vector; the number of elements must not change.",
    params=(Param("dims", "ints", min=1, doc="the new sizes"),),
    accepts=FEATURES,
    infer=_reshape_infer,
    call=lambda ctx: f"{ctx.names['x']}.reshape(-1, {', '.join(map(str, ctx.args['dims']))})",
    example="h = z -> linear(4 * 4 * 512) -> reshape(512, 4, 4)",
)


def _concat_infer(ctx: Ctx) -> TensorType:
    parts = [ctx.x, *ctx.values["others"]]
    need(len(parts) >= 2, "concat needs at least two values", "others", "E203")
    first = parts[0]
    for i, p in enumerate(parts[1:], 2):
        need(p.family == first.family and p.family in ("spatial", "flat"),
             f"cannot concatenate {first} with {p} (value {i}): both must be maps or both "
             f"vectors", "others", "E201")
        if first.family == "spatial":
            need(p.dims[1:] == first.dims[1:], f"cannot concatenate {first} with {p}: spatial "
                 f"sizes {first.dims[1]}×{first.dims[2]} and {p.dims[1]}×{p.dims[2]} differ",
                 "others")
    total = sum(p.dims[0] for p in parts)
    kinds = {p.kind for p in parts}
    if first.family == "spatial":
        return spatial(total, *first.dims[1:], kind=first.kind if len(kinds) == 1 else "map")
    return flat(total, kind=first.kind if len(kinds) == 1 and first.kind != "label"
                else "vector")


concat = Layer(
    name="concat",
    doc="Concatenate along channels (maps of equal size) or features (vectors).",
    params=(Param("others", "values", doc="the values after the first"),),
    accepts=FEATURES,
    infer=_concat_infer,
    call=lambda ctx: f"torch.cat([{', '.join([ctx.names['x'], *ctx.names['others']])}], dim=1)",
    value_first=True,
    example="h = concat(x, tile(c, like=x)) -> conv(64, 7, pad=3)",
)


def _tile_size(ctx: Ctx) -> tuple[int, int]:
    """H and W: from `like=`, or from `height=` and `width=`."""
    like = ctx.values.get("like")
    if like is not None:
        return like.dims[1], like.dims[2]
    return ctx.args["height"], ctx.args["width"]


def _tile_infer(ctx: Ctx) -> TensorType:
    like = ctx.values.get("like")
    if like is not None:
        need(like.family == "spatial", f"`like` must be a map or image, got {like}", "like",
             "E201")
        need(ctx.args["height"] == 0 and ctx.args["width"] == 0,
             "give either `like` or `height` and `width`", "height", "E203")
    h, w = _tile_size(ctx)
    need(h >= 1 and w >= 1, "tile needs `like=x` or `height` and `width`", "like", "E203")
    return spatial(ctx.c, h, w)


tile = Layer(
    name="tile",
    doc="Broadcast a vector over every position of a map: `[N]` to `[N, H, W]` (StarGAN feeds "
        "its target labels to G this way).",
    params=(Param("like", "value", None, doc="take H and W from this map"),
            Param("height", "int", 0, min=0), Param("width", "int", 0, min=0)),
    accepts=frozenset({"flat"}),
    infer=_tile_infer,
    call=lambda ctx: f"rt.tile({ctx.names['x']}, {', '.join(map(str, _tile_size(ctx)))})",
    value_first=True,
    example="h = concat(x, tile(c, like=x))",
)



def _slice_infer(ctx: Ctx) -> TensorType:
    start, size = ctx.args["start"], ctx.args["size"]
    n = ctx.x.dims[0]
    what = "features" if ctx.x.family == "flat" else "channels"
    need(start + size <= n, f"slice({start}, {size}) takes {what} {start}..{start + size - 1} "
         f"of {ctx.x}, which has {n}", "size")
    if ctx.x.family == "spatial":
        return spatial(size, *ctx.x.dims[1:])
    # a part of a latent is a latent (BigGAN's chunks of z); a part of labels is a vector
    return flat(size, kind=ctx.x.kind if ctx.x.kind in ("latent", "logits") else "vector")


slice_ = Layer(
    name="slice",
    doc="`size` consecutive features of a vector (or channels of a map) from `start`: "
        "BigGAN's hierarchical latent gives each block its own chunk of z.",
    params=(Param("start", "int", min=0), Param("size", "int", min=1)),
    accepts=FEATURES,
    infer=_slice_infer,
    call=lambda ctx: f"{ctx.names['x']}.narrow(1, {ctx.args['start']}, {ctx.args['size']})",
    example="zi = z -> slice(20 * i, 20)",
)



def _normalize_infer(ctx: Ctx) -> TensorType:
    for name in ("mean", "std"):
        n = len(ctx.args[name])
        need(n == ctx.c, f"`{name}` has {n} numbers, {ctx.x} has {ctx.c} channels", name,
             "E203")
    need(all(s > 0 for s in ctx.args["std"]), "`std` must be positive", "std", "E203")
    return spatial(*ctx.x.dims)


normalize = Layer(
    name="normalize",
    doc="A pretrained network's input normalization: an image in [−1, 1] is mapped to "
        "[0, 1], then per channel `(x − mean) / std` (torchvision's VGG: the ImageNet mean "
        "and std). No learned parameters.",
    params=(Param("mean", "nums", doc="per channel, in [0, 1] pixel units"),
            Param("std", "nums", doc="per channel, in [0, 1] pixel units")),
    accepts=frozenset({"spatial"}),
    infer=_normalize_infer,
    call=lambda ctx: f"rt.normalize({ctx.names['x']}, {ctx.args['mean']!r}, "
    f"{ctx.args['std']!r})",
    example="h = x -> normalize(mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225))",
)

LAYERS = [flatten, reshape, concat, tile, slice_, normalize]
