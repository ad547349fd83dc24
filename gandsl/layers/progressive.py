"""`grow(old, new)`: a point where a progressively grown network (PGGAN, StyleGAN) fades a
new stage in (Karras et al. 2018).

The network's type is that of the full network, at every level of detail: G always returns
full-size images (a lower level's image upsampled, nearest), D always takes them (its lower
levels average-pool them down), as the official code's full-resolution graph does. Each
`grow` is one level: level ℓ counts the grows by the resolution of their result, from the
lowest. While the network's `level` is at most ℓ − 1, the value is `old` (upsampled ×2 when it
is half the size of `new`: G's image of the level below); from ℓ on it is `new`; in between it
fades, `old + (new − old)·(level − ℓ + 1)`. What only `new` needs is not computed before its
level, nor what only `old` needs after. See `gandsl.emit.progressive` for the code it becomes.
"""

from __future__ import annotations

from ..types import TensorType, spatial
from .base import SPATIAL, Ctx, Layer, Param, need


def _grow_infer(ctx: Ctx) -> TensorType:
    old, new = ctx.x, ctx.values["new"]
    need(new.family == "spatial", f"`grow` fades one map into another; the new value is {new}",
         "new", "E201")
    c, h, w = old.dims
    need(new.dims[0] == c, f"`grow` fades {old} into {new}: the channels differ", "new")
    need(new.dims[1:] in ((h, w), (2 * h, 2 * w)),
         f"`grow` fades {old} into {new}: the new value must be the same size or twice it "
         "(G's image of the level below, upsampled)", "new")
    kind = "image" if old.kind == new.kind == "image" else "map"
    return spatial(*new.dims, kind=kind)


grow = Layer(
    name="grow",
    doc="A level of progressive growing: `old` until the level starts, `new` once it is "
        "grown, a linear fade in between (`old` is upsampled ×2 when it is half the size).",
    params=(Param("new", "value", doc="the value of the grown level"),),
    accepts=SPATIAL,
    infer=_grow_infer,
    call=lambda ctx: "",  # emitted by gandsl.emit.progressive: it needs branches
    value_first=True,
    example="rgb = grow(rgb, h -> conv(3, 1, eqlr=true, gain=1))",
)

LAYERS = [grow]
