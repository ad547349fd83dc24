"""The network lowering's chains: each stage of `h -> a -> b` applied in turn (a layer, an
`extern layer`, `repeat`, or a block), blocks inlined with hygienic names (`res_2_conv_1`) and
recorded as `BlockInstance`s, and what can still be checked of stages whose input failed."""

from __future__ import annotations

from typing import Any

from .. import syntax as S
from ..consteval import ConstError, as_int, describe
from ..diagnostics import Span, did_you_mean
from ..ir import BlockInstance
from ..layers import LAYERS, has_module
from .binding import Callee, Sig, bind
from .externs import apply_extern
from .globals import Globals
from .network_layers import layer_sig
from .network_nodes import (
    MAX_BLOCK_DEPTH,
    MAX_NODES,
    TENSOR_CALLS_ONLY_IN_OBJECTIVE,
    Abort,
    NodeBuilder,
    Val,
)
from .scope import POISON, Poison, Scope


class Stages(NodeBuilder):
    """Chains, `repeat` and blocks."""

    g: Globals
    block_stack: list[tuple[str, Span, str]]  # (block, call site, caller's var)
    instances: list[BlockInstance]
    repeat_id: int | None  # set while a `repeat` expands its body

    def _chain(self, expr: S.Chain, scope: Scope) -> Any:
        head = expr.head
        v = self._value(head, scope)  # a tensor, or a source layer such as `const(512, 4, 4)`
        if not isinstance(v, Val | Poison):
            self.diags.error("E154", f"a chain starts from a tensor, got {describe(v)}",
                             head.span)
            v = POISON
        for k, stage in enumerate(expr.stages):
            if isinstance(v, Poison):  # the later stages' own errors are still reported
                for later in expr.stages[k:]:
                    self._check_stage(later, scope)
                return v
            v = self._stage(v, stage, scope)
        return v

    def _check_stage(self, stage: S.Stage, scope: Scope) -> None:
        """What can be checked of a stage whose input failed: that it names a layer, block or
        `repeat`, that its arguments bind, and its compile-time arguments."""
        name = stage.name
        if name == "repeat":
            if len(stage.args) == 2 and not stage.kwargs:
                self._const(stage.args[0], scope)
                for st in self._pipeline(stage.args[1]) or []:
                    self._check_stage(st, scope)
            return
        if name in self.g.blocks:
            bind(Callee(name), block_sig(self.g.blocks[name]), stage.args, stage.kwargs,
                 stage.span, self.diags)
            return
        layer = LAYERS.get(name)
        if layer is None:
            self._unknown_stage(stage)
            return
        bound = bind(Callee(layer.name), layer_sig(layer), stage.args, stage.kwargs,
                     stage.span, self.diags)
        for p in layer.all_params if bound is not None else ():
            if p.name in bound and not p.is_value:
                self._param_value(layer.name, p, bound[p.name], scope)

    def _stage(self, v: Val, stage: S.Stage, scope: Scope) -> Any:
        name = stage.name
        if name == "repeat":
            return self._repeat(v, stage, scope)
        if name in self.g.blocks:
            return self._block(self.g.blocks[name], v, stage, scope)
        if name in LAYERS:
            return self._layer(LAYERS[name], v, stage.args, stage.kwargs, stage, scope)
        if name in self.g.externs and self.g.externs[name].decl.kind == "layer":
            return apply_extern(self, self.g.externs[name], v, stage, scope)
        return self._unknown_stage(stage)

    def _unknown_stage(self, stage: S.Stage) -> Poison:
        name = stage.name
        if name in self.g.poisoned:  # its declaration failed, and said so
            return POISON
        if name in self.g.networks:
            self.diags.error("E301", TENSOR_CALLS_ONLY_IN_OBJECTIVE, stage.name_span)
            return POISON
        self.diags.error("E103", f"unknown layer or block `{name}`", stage.name_span,
                         lambda: did_you_mean(name, [*LAYERS, *self.g.blocks, "repeat",
                                                     *self.g.externs]))
        return POISON

    # -- blocks and repeat ----------------------------------------------------------------

    def _repeat(self, v: Val, stage: S.Stage, scope: Scope) -> Any:
        if len(stage.args) != 2 or stage.kwargs:
            self.diags.error("E105", "`repeat` takes a count and a body: `repeat(6, res(256))`",
                             stage.span)
            return POISON
        n = self._const(stage.args[0], scope)
        if isinstance(n, Poison):
            return n
        try:
            n = as_int(n, stage.args[0].span, "a repeat count")
        except ConstError as e:
            self.diags.error(e.code, e.message, e.span)
            return POISON
        if n < 0:
            self.diags.error("E203", f"repeat count must be at least 0, got {n}",
                             stage.args[0].span)
            return POISON
        if n > MAX_NODES:
            self.diags.error("E152", f"repeating {n:,} times exceeds the limit of "
                             f"{MAX_NODES:,}", stage.args[0].span)
            raise Abort
        stages = self._pipeline(stage.args[1])
        if stages is None:
            return POISON
        outer, self.repeat_id = self.repeat_id, id(stage)
        site = ("repeat", f"{stage.span.line}:{stage.span.col}")
        try:
            for _ in range(n):
                self._spend(stage.span, site)
                for st in stages:
                    v = self._stage(v, st, scope)
                    if isinstance(v, Poison):
                        return v
        finally:
            self.repeat_id = outer
        return v

    def _pipeline(self, expr: S.Expr) -> list[S.Stage] | None:
        if isinstance(expr, S.Name):
            return [S.Stage(expr.id, [], [], expr.span, expr.span)]
        if isinstance(expr, S.Call) and isinstance(expr.func, S.Name):
            return [S.Stage(expr.func.id, expr.args, expr.kwargs, expr.span, expr.func.span)]
        if isinstance(expr, S.Chain):
            head = self._pipeline(expr.head)
            return None if head is None else head + list(expr.stages)
        self.diags.error("E203", "the body of `repeat` is layers or blocks, e.g. "
                         "`res(256)` or `conv(64, 3, pad=1) -> relu`", expr.span)
        return None

    def _block(self, block: S.BlockDecl, v: Val, stage: S.Stage, caller: Scope) -> Any:
        if len(self.block_stack) >= MAX_BLOCK_DEPTH:
            chain = " → ".join(name for name, _, _ in self.block_stack[-6:])
            self.diags.error("E152", f"blocks nested deeper than {MAX_BLOCK_DEPTH} "
                             f"(… → {chain} → {block.name})", stage.span,
                             hint=f"does `{block.name}` call itself without an `if` that "
                             "stops it?")
            raise Abort
        self._spend(block.name_span, ("block", block.name))
        sig = block_sig(block)
        bound = bind(Callee(block.name), sig, stage.args, stage.kwargs, stage.span, self.diags)
        if bound is None:
            return POISON
        inner = Scope()
        inner.names["in"] = v
        for bp in block.params:
            if bp.name in bound:
                value = self._value(bound[bp.name], caller)
            else:
                value = self._value(bp.default, inner)
            if isinstance(value, Poison):
                return value
            inner.names[bp.name] = value
        repeat, self.repeat_id = self.repeat_id, None  # nested blocks are not the repeat's
        instance = self._unique(block.name, self.counters)
        first_node = len(self.nodes)
        caller_var = self.var_hint[-1] if self.var_hint else "h"
        self.prefix.append(instance)
        self.block_stack.append((block.name, stage.span, caller_var))
        try:
            result = self._body(block.body, inner, kind="block")
        finally:
            self.prefix.pop()
            self.block_stack.pop()
            self.repeat_id = repeat
        self._name_single_module(first_node, instance)
        if result is None:
            self.diags.error("E205", f"block `{block.name}` does not produce a value",
                             block.name_span, hint="end its body with an expression or "
                             "`return`")
            return POISON
        values, spans = result
        if len(values) != 1:
            self.diags.error("E205", "a block returns one value", spans[0])
            return POISON
        out = values[0]
        if not isinstance(out, Val | Poison):
            self.diags.error("E154", f"block `{block.name}` must return a tensor, got "
                             f"{describe(out)}", spans[0])
            return POISON
        if isinstance(out, Val) and out.node >= first_node:
            tensors = [p.name for p in block.params if isinstance(inner.names[p.name], Val)]
            self.instances.append(BlockInstance(
                block=block.name, name="_".join([*self.prefix, instance]),
                args={p.name: inner.names[p.name] for p in block.params
                      if not isinstance(inner.names[p.name], Val)},
                value_params=tensors, first=first_node, last=len(self.nodes) - 1,
                input=v.node, values=[inner.names[t].node for t in tensors], result=out.node,
                depth=len(self.prefix), repeat=repeat, span=block.name_span,
                call=stage.span))
        return out

    def _name_single_module(self, first: int, instance: str) -> None:
        """A block instance with one weighted layer names it after itself (`norm_relu_1`)."""
        mine = [n for n in self.nodes[first:]
                if has_module(n.op) and len(n.scope) == len(self.prefix) + 1]
        inner = [n for n in self.nodes[first:] if len(n.scope) > len(self.prefix) + 1
                 and has_module(n.op)]
        if len(mine) == 1 and not inner:
            mine[0].name = "_".join([*self.prefix, instance])


def block_sig(block: S.BlockDecl) -> list[Sig]:
    return [Sig(p.name, required=p.default is None) for p in block.params]
