"""Types of the objective's tensor math: arithmetic, elementwise functions and reductions.

Values carry a batch dimension except losses (one number per batch, `LOSS`) and compile-time
numbers (`"const"`). Arithmetic broadcasts as PyTorch does once the batch dimensions are
lined up: the per-sample dimensions are aligned from the right, a size of 1 stretches, and a
loss or a number stretches to anything (`scalar(B)` with `image[3, 8, 8]` is a map; the
generated code adds the dimensions the lower-rank side lacks after its batch dimension).
"""

from __future__ import annotations

from ..diagnostics import Diagnostics, Span
from ..functions import ADA_FILTER_MIN, ADA_GROUPS, ada_strengths
from ..types import LOSS, SCALAR, TensorType

CONST = "const"  # the checker's type of a compile-time number
_KIND_OF_RANK = {0: "scalar", 1: "vector", 3: "map"}


def numeric(t: object) -> bool:
    """Something arithmetic works on: a float tensor, a loss or a number."""
    return t == CONST or isinstance(t, TensorType) and t.kind != "class"


def describe(t: object) -> str:
    if t == CONST:
        return "a number"
    if isinstance(t, TensorType):
        return "a loss (one number per batch)" if t.kind == "loss" else str(t)
    return "a network"


def broadcast_dims(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...] | None:
    """Per-sample dimensions of `a ⊙ b`, aligned from the right; None when they clash."""
    out = []
    for k in range(1, max(len(a), len(b)) + 1):
        x = a[-k] if k <= len(a) else 1
        y = b[-k] if k <= len(b) else 1
        if x != y and 1 not in (x, y):
            return None
        out.append(max(x, y))
    return tuple(reversed(out))


def arith_type(op: str, a: object, b: object, span: Span, diags: Diagnostics) -> object:
    """The type of `a op b`; None after reporting."""
    for t in (a, b):
        if not numeric(t):
            what = "class indices are integers" if isinstance(t, TensorType) else \
                "a network is not a value"
            diags.error("E201", f"`{op}` takes float tensors, losses and numbers; "
                        f"{what} ({describe(t)})", span,
                        hint="turn class indices into a vector with `one_hot` in a network"
                        if isinstance(t, TensorType) else None)
            return None
    if op in ("//", "%") and any(isinstance(t, TensorType) and t.kind != "loss"
                                 for t in (a, b)):
        diags.error("E201", f"`{op}` is defined on numbers (`step`, states, losses), not on "
                    f"tensors ({describe(a if a != CONST and a != LOSS else b)})", span)
        return None
    if a == CONST:
        return b
    if b == CONST or b == LOSS:
        return a
    if a == LOSS:
        return b
    dims = broadcast_dims(a.dims, b.dims)
    if dims is None:
        diags.error("E202", f"cannot combine {a} and {b} with `{op}`: per-sample shapes "
                    f"{_shape(a)} and {_shape(b)} do not broadcast", span,
                    hint="sizes must be equal or 1, aligned from the right")
        return None
    if a.kind == b.kind and a.dims == b.dims:
        return a if a.labels == b.labels else a.with_kind(a.kind)
    for t in (a, b):
        if t.dims == dims and t.kind not in ("label", "logits"):
            return t
    return TensorType(kind=_KIND_OF_RANK[len(dims)], dims=dims)


def elementwise_type(fn: str, x: object, span: Span, diags: Diagnostics) -> object:
    if not numeric(x):
        diags.error("E201", f"`{fn}` takes a float tensor, a loss or a number, got "
                    f"{describe(x)}", span)
        return None
    return x


def reduction_type(fn: str, x: object, over: str, span: Span, diags: Diagnostics) -> object:
    """`mean` / `sum` / `min` / `max` / `std` / `var` of `x` over `over` (`functions.OVER`)."""
    if not numeric(x):
        diags.error("E201", f"`{fn}` takes a float tensor or a loss, got {describe(x)}", span)
        return None
    if over == "all" or x == CONST:
        return LOSS
    if x == LOSS:
        diags.error("E201", f"`{fn}(..., over=\"{over}\")` reduces a tensor's dimensions; this "
                    "is already one number per batch", span)
        return None
    if over == "sample":
        return SCALAR
    if x.family == "spatial":
        if over == "channels":
            return TensorType(kind="map", dims=(1, *x.dims[1:]))
        return TensorType(kind="vector", dims=x.dims[:1])  # "space"
    if x.family == "flat" and over == "channels":
        return SCALAR
    diags.error("E201", f"`{fn}(..., over=\"{over}\")` needs a map or image, got {x}", span)
    return None


def augment_type(node, ins: list, diags: Diagnostics) -> object:
    """An augmentation of images of one size (`aug(x)`: the image's type; `aug(x, y)`: a
    tuple of theirs, whose items the names take); ADA's probability is one number."""
    images = ins[:len(ins) - len(node.named)]
    for t in ins[len(images):]:
        if t != LOSS:
            diags.error("E201", f"`p` of `{node.name}` is one number (a `state`), got "
                        f"{describe(t)}", node.span)
            return None
    for t in images:
        if not isinstance(t, TensorType) or t.family != "spatial":
            diags.error("E201", f"`{node.name}` augments images and maps, got {describe(t)}",
                        node.span)
            return None
    sizes = {t.dims[1:] for t in images}
    if len(sizes) > 1:
        diags.error("E202", f"`{node.name}` moves its images alike, so they share one size; "
                    f"got {', '.join(str(t) for t in images)}", node.span)
        return None
    h, w = sizes.pop()
    ops = [op[0] for op in node.kwargs["ops"]]
    if "rot90" in ops and h != w:
        diags.error("E202", f"`rot90` turns square images; these are {h}×{w}", node.span)
        return None
    strengths = [ada_strengths(op[1], op[2] if len(op) > 2 else {})
                 for op in node.kwargs["ops"] if op[0] == "ada"]
    if any(m[op] > 0 for m in strengths for op in ADA_GROUPS["color"]) and \
            any(t.dims[0] not in (1, 3) for t in images):
        diags.error("E201", "ADA's colour group transforms RGB or grey images: 3 or 1 "
                    f"channels, got {', '.join(str(t) for t in images)}", node.span)
        return None
    if any(m["imgfilter"] > 0 for m in strengths) and min(h, w) < ADA_FILTER_MIN:
        diags.error("E202", f"ADA's image-space filtering (`imgfilter`) reflects its images "
                    f"by {ADA_FILTER_MIN - 1} pixels: they need at least {ADA_FILTER_MIN} "
                    f"pixels a side, got {h}×{w}", node.span)
        return None
    return images[0] if len(images) == 1 else ("tuple", images)


def _shape(t: TensorType) -> str:
    return "(" + ", ".join(str(d) for d in t.dims) + ("," if len(t.dims) == 1 else "") + ")"
