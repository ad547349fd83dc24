"""The network lowering's nodes: the tensor value (`Val`), the limits of expansion, and the
base that appends nodes to the network under the block instances being expanded, with their
hygienic names (`res_2_conv_1`), within the spec's budget."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import limits
from .. import syntax as S
from ..diagnostics import Diagnostics, Span
from ..ir import Node
from .budget import Budget

MAX_BLOCK_DEPTH = limits.BLOCK_DEPTH.value
MAX_NODES = limits.NODES.value  # per network, after expanding loops and blocks
MAX_NESTING = limits.NESTING.value  # bodies inside bodies while expanding, blocks included

TENSOR_CALLS_ONLY_IN_OBJECTIVE = "networks are called in the objective, not inside a network"


@dataclass(frozen=True)
class Val:
    """A tensor value: the node that computes it."""

    node: int


class Abort(Exception):
    """Expansion went past a limit; the network is abandoned after one error."""


class NodeBuilder:
    """What every part of the network lowering shares: the state `NetworkLowering` sets up,
    and the adding of nodes."""

    decl: S.NetworkDecl
    diags: Diagnostics
    budget: Budget
    nodes: list[Node]
    counters: dict[str, int]
    prefix: list[str]  # block instance names, outermost first
    var_hint: list[str]

    def _spend(self, span: Span, site: tuple[str, str] | None = None) -> None:
        self.budget.spend(self.diags, span, site, self.decl.name)

    def _unique(self, base: str, counters: dict[str, int]) -> str:
        key = "_".join([*self.prefix, base])
        counters[key] = counters.get(key, 0) + 1
        return f"{base}_{counters[key]}"

    def _node(self, op: str, span: Span, x: Val | None = None,
              values: dict[str, list[int]] | None = None, args: dict[str, Any] | None = None,
              arg_spans: dict[str, Span] | None = None, base: str | None = None) -> Val:
        local = self._unique(base or op, self.counters)
        name = "_".join([*self.prefix, local])
        var = self.var_hint[-1] if self.var_hint else "h"
        node = self._add(op=op, span=span, name=name, var=var, x=None if x is None else x.node,
                         values=values or {}, args=args or {}, arg_spans=arg_spans or {})
        return Val(node.id)

    def _add(self, **kw) -> Node:
        self._spend(kw["span"])
        if len(self.nodes) >= MAX_NODES:
            self.diags.error("E152", f"network `{self.decl.name}` expands to more than "
                             f"{MAX_NODES:,} operations", kw["span"])
            raise Abort
        node = Node(id=len(self.nodes), scope=tuple(self.prefix), **kw)
        self.nodes.append(node)
        return node

