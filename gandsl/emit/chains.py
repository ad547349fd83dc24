"""Chains of modules → `nn.Sequential`, the way PyTorch models are usually written
(DCGAN's and StarGAN's `self.main`, pix2pix's `self.model`).

A run of forward statements becomes one `nn.Sequential` when each statement is a module
applied to the previous statement's value alone (a layer with weights, a block's class, or a
functional layer that has a module form such as `nn.LeakyReLU(0.2)`), no value inside the run
is read outside it, and the run holds at least `MIN_LENGTH` statements of which at least
`MIN_WEIGHTED` have weights. The modules keep their order, so parameters keep theirs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from ..ir import Network, Node
from ..layers import layer_of
from ..layers.base import ctx_for

MIN_LENGTH = 3
MIN_WEIGHTED = 2


class Item(Protocol):
    inputs: list[int]
    output: int
    node: Node | None
    blocks: list


def runs(net: Network, items: list[Item], last_use: dict[int, int],
         single: Callable[[Item], bool]) -> dict[int, int]:
    """First item → last item of each run. `single`: is a block item one module taking only
    the chained value (a loop of block classes counts, each use an element)."""
    kinds = [_kind(net, item, single) for item in items]
    out: dict[int, int] = {}
    i = 0
    while i < len(items):
        if kinds[i] is None:
            i += 1
            continue
        j = i
        while (j + 1 < len(items) and kinds[j + 1] is not None
               and items[j + 1].inputs == [items[j].output]
               and last_use.get(items[j].output) == j + 1):
            j += 1
        weighted = sum(kinds[k] for k in range(i, j + 1))
        if j - i + 1 >= MIN_LENGTH and weighted >= MIN_WEIGHTED:
            out[i] = j
        i = j + 1
    return out


def _kind(net: Network, item: Item, single: Callable[[Item], bool]) -> int | None:
    """1 for a module with weights, 0 for a functional layer with a module form, None for a
    statement that cannot be an element of an `nn.Sequential`."""
    if item.node is None:
        return len(item.blocks) if single(item) else None
    node = item.node
    if node.op in ("input", "add", "sub", "mul", "scale", "grow", "extern") or node.values \
            or node.x is None:
        return None
    layer = layer_of(node.op)
    if layer.module is not None:
        return 1 if layer.call is None else None
    if layer.as_module is None:
        return None
    ctx = ctx_for(layer, node, lambda i: net.nodes[i].type)
    return 0 if layer.as_module(ctx) is not None else None
