"""Network bodies → flat node lists: chains, blocks (inlined, with hygienic names), `repeat`,
compile-time `for` and `if`, residual arithmetic and the network's return values.

Names are resolved here, in order, as they are written; a compile-time value (a number, bool,
string) and a tensor value share one namespace, and which one a name holds decides what an
expression means. Shapes are not known yet: the checker infers them afterwards.

This module holds `NetworkLowering` and its entry: the inputs, the outputs and the values a
network returns. Its parts are mixins, one module each: `network_statements` (bodies, `for`,
`if`, assignments), `network_expressions` (names, arithmetic, calls), `network_stages`
(chains, `repeat`, blocks), `network_layers` (a layer's arguments, `init`, modifiers), on
`network_nodes` (the nodes, their names and the limits).
"""

from __future__ import annotations

from .. import syntax as S
from ..consteval import describe
from ..diagnostics import Diagnostics, Span
from ..ir import BlockInstance, Network, Node, Port
from .budget import Budget, OverBudget
from .globals import Globals, eval_type
from .introspect import Sizes
from .network_expressions import Expressions
from .network_layers import Layers, layer_sig
from .network_nodes import MAX_BLOCK_DEPTH, MAX_NESTING, MAX_NODES, Abort, Val
from .network_stages import Stages, block_sig
from .network_statements import Statements
from .scope import POISON, Poison, Scope


class NetworkLowering(Statements, Expressions, Stages, Layers):
    def __init__(self, decl: S.NetworkDecl, g: Globals, diags: Diagnostics,
                 budget: Budget | None = None) -> None:
        self.decl, self.g, self.diags = decl, g, diags
        self.budget = budget or Budget()
        self.nodes: list[Node] = []
        self.counters: dict[str, int] = {}
        self.prefix: list[str] = []  # block instance names, outermost first
        self.block_stack: list[tuple[str, Span, str]] = []  # (block, call site, caller's var)
        self.var_hint: list[str] = []
        self.instances: list[BlockInstance] = []
        self.repeat_id: int | None = None  # set while a `repeat` expands its body
        self.nesting = 0  # bodies being lowered, one inside the other (blocks included)
        self.sizes = Sizes(self.nodes)  # `in.channels`: types of what is lowered so far

    # -- entry --------------------------------------------------------------------------

    def run(self) -> Network | None:
        if self.budget.exhausted:  # reported once, where it ran out
            return None
        try:
            return self._run()
        except OverBudget:
            return None

    def _run(self) -> Network | None:
        d = self.decl
        scope = Scope()
        inputs: list[Port] = []
        seen: dict[str, Span] = {}
        for i, arg in enumerate(d.inputs):
            t = eval_type(arg.type, self.g, self.diags)
            if arg.name in seen:
                self.diags.error("E102", f"input `{arg.name}` is declared twice", arg.span,
                                 notes=[("first declared here", seen[arg.name])])
                continue
            seen[arg.name] = arg.span
            if t is None:
                scope.names[arg.name] = POISON
                continue
            inputs.append(Port(name=arg.name, type=t, span=arg.span))
            node = self._add(op="input", span=arg.span, name=arg.name, var=arg.name,
                             args={"index": i})
            node.type = t
            scope.names[arg.name] = Val(node.id)
        outputs: list[Port] = []
        for out in d.outputs:
            if out.name and out.name in seen:
                what = "an input" if any(a.name == out.name for a in d.inputs) else "an output"
                self.diags.error("E102", f"`{out.name}` is already {what} of `{d.name}`",
                                 out.span, notes=[("first declared here", seen[out.name])])
                return None
            seen[out.name] = out.span
            t = eval_type(out.type, self.g, self.diags)
            if t is not None:
                outputs.append(Port(name=out.name, type=t, span=out.span))
        if len(outputs) != len(d.outputs) or len(inputs) != len(d.inputs):
            return None

        def network(results: list[int] | None, spans: list[Span]) -> Network:
            # A body with errors still gives its signature (the objective is checked against
            # it) and the nodes that lowered (their shapes are checked): independent errors
            # later in the network, or elsewhere, are reported too.
            return Network(name=d.name, inputs=inputs, outputs=outputs, nodes=self.nodes,
                           results=results or [], result_spans=spans if results else [],
                           frozen=d.frozen, copy_of=d.copy_of, blocks=self.instances,
                           span=d.name_span, complete=results is not None)

        errors = len(self.diags.errors)
        try:
            result = self._body(d.body, scope, kind="network")
        except Abort:
            return network(None, [])
        if result is None:
            self.diags.error("E205", f"network `{d.name}` never returns a value", d.name_span,
                             hint="end the body with `return h`")
            return network(None, [])
        values, spans = result
        if len(values) != len(outputs):
            names = ", ".join(o.name or "value" for o in outputs)
            self.diags.error("E205", f"network `{d.name}` declares {len(outputs)} output"
                             f"{'s' if len(outputs) != 1 else ''} ({names}) but returns "
                             f"{len(values)}", spans[0].to(spans[-1]))
            return network(None, [])
        results: list[int] = []
        for v, span in zip(values, spans, strict=True):
            if isinstance(v, Poison):
                return network(None, [])
            if not isinstance(v, Val):
                self.diags.error("E154", f"a network returns tensors, got {describe(v)}", span)
                return network(None, [])
            results.append(v.node)
        return network(results if len(self.diags.errors) == errors else None, spans)


__all__ = ["NetworkLowering", "Val", "layer_sig", "block_sig", "MAX_BLOCK_DEPTH", "MAX_NODES",
           "MAX_NESTING"]
