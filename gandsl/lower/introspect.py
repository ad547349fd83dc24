"""Sizes of tensors as compile-time values inside network and block bodies: `in.channels`,
`h.height`, `h.width`, `z.size`. A reusable block reads its input's channel count instead of
taking it as an argument (`block res(c=in.channels)`).

The sizes come from the same per-layer type rules the checker runs (`gandsl.infer.
infer_node`), applied quietly to the nodes lowered so far: a failure there is reported once,
by the checker, and here only makes the size unknown.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from .. import syntax as S
from ..diagnostics import Diagnostics
from ..infer import infer_node
from ..ir import Node
from ..types import TensorType

SHAPE_ATTRS = ("channels", "height", "width", "size")


class Sizes:
    """Types of the nodes of one network being lowered, inferred as they are asked for."""

    def __init__(self, nodes: list[Node]) -> None:
        self.nodes = nodes
        self.types: dict[int, TensorType | None] = {}
        self.done = 0

    def type_of(self, node_id: int) -> TensorType | None:
        quiet = Diagnostics()
        for node in self.nodes[self.done:]:
            self.types[node.id] = node.type if node.op == "input" else \
                infer_node(node, self.types, quiet)
        self.done = len(self.nodes)
        return self.types.get(node_id)


def size(t: TensorType, attr: str) -> int | str:
    """The size `attr` of a tensor of type `t`, or the reason it has none (a message)."""
    if attr == "size":
        return t.numel
    if t.family != "spatial":
        return f"{t}: it has no {attr}, not being a map (`.size` is its number of values)"
    c, h, w = t.dims
    return {"channels": c, "height": h, "width": w}[attr]


def substitute(expr: Any, replace: Callable[[S.Expr], S.Expr | None]) -> Any:
    """`expr` with every sub-expression that `replace` maps to something else replaced
    (outermost first); the syntax tree itself is left as it is."""
    if isinstance(expr, list | tuple):
        items = [substitute(e, replace) for e in expr]
        changed = any(a is not b for a, b in zip(items, expr, strict=True))
        return type(expr)(items) if changed else expr
    if isinstance(expr, S.Expr):
        new = replace(expr)
        if new is not None:
            return new
    if not dataclasses.is_dataclass(expr) or isinstance(expr, type):
        return expr
    changes = {}
    for f in dataclasses.fields(expr):
        if f.name == "span":
            continue
        old = getattr(expr, f.name)
        value = substitute(old, replace)
        if value is not old:
            changes[f.name] = value
    return dataclasses.replace(expr, **changes) if changes else expr
