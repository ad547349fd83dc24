"""Network bodies → flat node lists: chains, blocks (inlined, with hygienic names), `repeat`,
compile-time `for` and `if`, residual arithmetic and the network's return values.

Names are resolved here, in order, as they are written; a compile-time value (a number, bool,
string) and a tensor value share one namespace, and which one a name holds decides what an
expression means. Shapes are not known yet: the checker infers them afterwards.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from .. import limits
from .. import syntax as S
from ..catalog import INITS
from ..consteval import ConstError, NotConst, Silent, as_int, describe, evaluate, truth
from ..diagnostics import Diagnostics, Span, did_you_mean
from ..ir import BlockInstance, Network, Node, Port
from ..layers import LAYERS, Layer, has_module
from ..layers.base import MODIFIERS
from .binding import Callee, Sig, bind
from .budget import Budget, OverBudget
from .externs import apply_extern
from .globals import Globals, eval_type
from .introspect import SHAPE_ATTRS, Sizes, size, substitute
from .scope import POISON, Poison, Scope

_ELEMENTWISE = {"+": "add", "-": "sub", "*": "mul"}  # tensor ⊙ tensor → node op

MAX_BLOCK_DEPTH = limits.BLOCK_DEPTH.value
MAX_NODES = limits.NODES.value  # per network, after expanding loops and blocks
MAX_NESTING = limits.NESTING.value  # bodies inside bodies while expanding, blocks included


@dataclass(frozen=True)
class Val:
    """A tensor value: the node that computes it."""

    node: int


class _Failed(Exception):
    """A condition that already failed: skip quietly."""


class _Abort(Exception):
    """Expansion went past a limit; the network is abandoned after one error."""


_TENSOR_CALLS_ONLY_IN_OBJECTIVE = "networks are called in the objective, not inside a network"


class NetworkLowering:
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

    def _spend(self, span: Span, site: tuple[str, str] | None = None) -> None:
        self.budget.spend(self.diags, span, site, self.decl.name)

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
        except _Abort:
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

    # -- statements ---------------------------------------------------------------------

    def _body(self, stmts: list[S.Stmt], scope: Scope, kind: str):
        """Lower statements; returns (values, spans) when a `return` (or a final bare
        expression) was reached, else None. `kind` is "network" or "block"."""
        self.nesting += 1
        try:
            if self.nesting > MAX_NESTING:  # the text nests less: blocks add up
                chain = " → ".join(name for name, _, _ in self.block_stack[-4:])
                self.diags.error("E152", f"expanding `{self.decl.name}` nests bodies deeper "
                                 f"than {MAX_NESTING} levels (blocks: … → {chain})",
                                 self.block_stack[-1][1] if self.block_stack else stmts[0].span,
                                 hint="each block applied inside another adds the levels of "
                                 "its own `for` and `if` bodies")
                raise _Abort
            return self._statements(stmts, scope, kind)
        finally:
            self.nesting -= 1

    def _statements(self, stmts: list[S.Stmt], scope: Scope, kind: str):
        for i, stmt in enumerate(stmts):
            self._spend(stmt.span)
            last = i == len(stmts) - 1
            if isinstance(stmt, S.Return):
                if not last:
                    same_line = stmts[i + 1].span.line == stmt.span.end_line
                    self.diags.error("E205", "statements after `return` are never run",
                                     stmts[i + 1].span,
                                     hint="is a `->` missing before it?" if same_line else None)
                return self._values(stmt.values, scope, kind)
            if isinstance(stmt, S.ExprStmt):
                if last:
                    return self._values([stmt.expr], scope, kind)
                hint = "assign it (`name = ...`) or remove it"
                if i > 0 and stmts[i - 1].span.end_line == stmt.span.line:
                    hint = "is a `->` missing before it?"
                self.diags.error("E205", "this value is computed and then dropped", stmt.span,
                                 hint=hint)
                continue
            result = self._stmt(stmt, scope, kind)
            if result is not None:
                return result
        return None

    def _values(self, exprs: list[S.Expr], scope: Scope, kind: str):
        """The returned values; each is named after its output (`src`, `cls`), or `out`."""
        names = [o.name or "out" for o in self.decl.outputs]
        values = []
        for i, e in enumerate(exprs):
            hint = names[i] if i < len(names) and len(exprs) == len(names) else "out"
            self.var_hint.append(hint if kind == "network" else self._block_var())
            try:
                values.append(self._value(e, scope))
            finally:
                self.var_hint.pop()
        return values, [e.span for e in exprs]

    def _block_var(self) -> str:
        """A block's value takes the name of the variable its caller assigns it to."""
        return self.block_stack[-1][2] if self.block_stack else "out"

    def _stmt(self, stmt: S.Stmt, scope: Scope, kind: str):
        if isinstance(stmt, S.Assign):
            self._assign(stmt, scope)
        elif isinstance(stmt, S.Let):
            scope.names[stmt.name] = self._const(stmt.value, scope)
            scope.spans[stmt.name] = stmt.name_span
        elif isinstance(stmt, S.For):
            return self._for(stmt, scope, kind)
        elif isinstance(stmt, S.If):
            value = self._const(stmt.cond, scope)
            try:
                if isinstance(value, Poison):
                    raise _Failed
                taken = stmt.then if truth(value, stmt.cond.span) else stmt.orelse
            except ConstError as e:
                self.diags.error(e.code, e.message, e.span, e.hint)
                scope.poison([*stmt.then, *(stmt.orelse or [])])
                return None
            except _Failed:
                scope.poison([*stmt.then, *(stmt.orelse or [])])
                return None
            return self._body(taken, scope, kind) if taken else None
        elif isinstance(stmt, S.Sample | S.Minimize):
            what = "`~` samples" if isinstance(stmt, S.Sample) else "`minimizes` names a loss"
            self.diags.error("E301", f"{what} only in the objective section", stmt.span)
        else:  # pragma: no cover - the grammar admits nothing else here
            self.diags.error("E301", "unexpected statement", stmt.span)
        return None

    def _assign(self, stmt: S.Assign, scope: Scope) -> None:
        targets = [self._target(t, scope) for t in stmt.targets]
        if len(targets) == 1:
            values = [stmt.value]
        elif isinstance(stmt.value, S.TupleLit) and len(stmt.value.items) == len(targets):
            values = stmt.value.items
        else:
            self.diags.error("E301", f"cannot assign one value to {len(targets)} names",
                             stmt.span)
            scope.poison([stmt])
            return
        results = []  # every right-hand side first, then the bindings: `a, b = b, a` swaps
        for target, expr in zip(targets, values, strict=True):
            self.var_hint.append(target[1] if target is not None else "h")
            try:
                results.append(self._value(expr, scope))
            finally:
                self.var_hint.pop()
        for target, value, expr in zip(targets, results, values, strict=True):
            if target is not None:
                scope.names[target[0]] = value
                scope.spans[target[0]] = stmt.span
                if isinstance(value, Val) and isinstance(expr, S.Name | S.Index):
                    self.nodes[value.node].aliases.append(target[1])  # `skip = h`

    def _target(self, t: S.Expr, scope: Scope) -> tuple[str, str] | None:
        """(scope key, preferred python name) for `h` or `e[i]`."""
        if isinstance(t, S.Name):
            return t.id, t.id
        if isinstance(t, S.Index) and isinstance(t.obj, S.Name):
            i = self._index(t, scope)
            return None if i is None else (f"{t.obj.id}[{i}]", f"{t.obj.id}{i}")
        self.diags.error("E301", "can only assign to a name or `name[index]`", t.span)
        return None

    def _index(self, t: S.Index, scope: Scope) -> int | None:
        """The integer index of `e[i]`, for reads and writes alike."""
        i = self._const(t.index, scope)
        if isinstance(i, Poison):
            return None
        try:
            return as_int(i, t.index.span, "an integer index")
        except ConstError as e:
            self.diags.error(e.code, e.message, e.span)
            return None

    def _for(self, stmt: S.For, scope: Scope, kind: str):
        items = self._iterable(stmt.iterable, scope)
        if items is None:
            scope.poison(stmt.body)
            scope.names[stmt.var] = POISON
            return None
        site = ("for", f"{stmt.span.line}:{stmt.span.col}")
        for item in items:
            self._spend(stmt.span, site)
            scope.names[stmt.var] = item
            scope.spans[stmt.var] = stmt.var_span
            result = self._body(stmt.body, scope, kind)
            if result is not None:
                return result
        return None

    def _iterable(self, it, scope: Scope) -> list[Any] | None:
        """The loop's values; None after an error (reported here or before)."""
        if isinstance(it, S.Range):
            bounds = [self._const(e, scope) for e in (it.start, it.stop)]
            step = self._const(it.step, scope) if it.step is not None else 1
            if any(isinstance(b, Poison) for b in [*bounds, step]):
                return None
            try:
                a, b = (as_int(v, e.span) for v, e in zip(bounds, (it.start, it.stop),
                                                          strict=True))
                s = as_int(step, it.step.span if it.step else it.span)
            except ConstError as e:
                self.diags.error(e.code, e.message, e.span)
                return None
            if s == 0:
                self.diags.error("E150", "a range's step cannot be 0", it.step.span)
                return None
            n = max(0, (b - a) // s + 1)
            if n > MAX_NODES:
                self.diags.error("E152", f"this loop runs {n:,} times; the limit is "
                                 f"{MAX_NODES:,}", it.span)
                raise _Abort
            return list(range(a, b + (1 if s > 0 else -1), s))
        value = self._const(it, scope)
        if isinstance(value, Poison):
            return None
        if not isinstance(value, tuple):
            self.diags.error("E150", f"`for` needs a range `a..b` or a list, got "
                             f"{describe(value)}", it.span)
            return None
        return list(value)

    # -- expressions --------------------------------------------------------------------

    def _resolver(self, scope: Scope):
        def resolve(name: str, span: Span) -> Any:
            if name in scope.names:
                v = scope.names[name]
                if isinstance(v, Val):
                    raise NotConst(name, span)
                if isinstance(v, Poison):
                    raise Silent
                return v
            return self.g.resolve(name, span, visible=lambda: self._visible(scope))
        return resolve

    def _size_of(self, expr: S.Attr, scope: Scope) -> Any:
        """`in.channels`, `h.width`, `z.size`: a size of a tensor of this body, POISON after
        an error, or None when `expr` is not one (an output selection, a typo)."""
        if not isinstance(expr.obj, S.Name) or expr.name not in SHAPE_ATTRS:
            return None
        v = scope.names.get(expr.obj.id)
        if isinstance(v, Poison) or expr.obj.id in scope.poisoned:
            return POISON
        if expr.obj.id not in scope.names:  # a global, or undefined (E101 from the resolver)
            v = self._const(expr.obj, scope)
        if not isinstance(v, Val):
            if not isinstance(v, Poison):
                self.diags.error("E201", f"`{expr.obj.id}` is {describe(v)}, not a tensor: "
                                 f"only tensors have a `.{expr.name}`", expr.span)
            return POISON
        t = self.sizes.type_of(v.node)
        if t is None:  # its type failed: the checker reports why
            return POISON
        n = size(t, expr.name)
        if isinstance(n, str):
            self.diags.error("E201", f"`{expr.obj.id}` is {n}", expr.span)
            return POISON
        return n

    def _sizes_known(self, expr: S.Expr, scope: Scope) -> S.Expr:
        """`expr` with the tensor sizes it reads (`in.channels`) as their numbers; raises
        Silent after an error."""
        def replace(e: S.Expr) -> S.Expr | None:
            if not isinstance(e, S.Attr):
                return None
            n = self._size_of(e, scope)
            if isinstance(n, Poison):
                raise Silent
            return None if n is None else S.Lit(e.span, n)
        return substitute(expr, replace)

    def _const(self, expr: S.Expr, scope: Scope) -> Any:
        try:
            expr = self._sizes_known(expr, scope)
            value = evaluate(expr, self._resolver(scope))
        except ConstError as e:
            self.diags.error(e.code, e.message, e.span, e.hint)
            return POISON
        except NotConst as e:
            self.diags.error("E153", f"`{e.name}` is a tensor; a compile-time value is needed "
                             "here", e.span)
            return POISON
        except Silent:
            return POISON
        return POISON if isinstance(value, Poison) or (
            isinstance(value, tuple) and any(isinstance(v, Poison) for v in value)) else value

    def _visible(self, scope: Scope) -> list[str]:
        return [*scope.names, *self.g.names()]

    def _value(self, expr: S.Expr, scope: Scope) -> Any:
        """A tensor (`Val`), a compile-time value, or POISON."""
        if isinstance(expr, S.Name):
            if expr.id in scope.names:
                return scope.names[expr.id]
            if expr.id in scope.poisoned:
                return POISON
            if expr.id in self.g.networks:
                self.diags.error("E301", _TENSOR_CALLS_ONLY_IN_OBJECTIVE, expr.span)
                return POISON
            if expr.id in LAYERS or expr.id in self.g.blocks:
                self.diags.error("E204", f"`{expr.id}` needs an input: write "
                                 f"`x -> {expr.id}`", expr.span)
                return POISON
            return self._const(expr, scope)
        if isinstance(expr, S.Index) and isinstance(expr.obj, S.Name) and not isinstance(
                scope.names.get(expr.obj.id, self.g.consts.get(expr.obj.id)), tuple):
            # `e[i]`: an indexed name (a list constant `chs[i]` is compile-time indexing)
            i = self._index(expr, scope)
            if i is None:
                return POISON
            key = f"{expr.obj.id}[{i}]"
            if key in scope.names:
                return scope.names[key]
            if expr.obj.id in scope.poisoned:
                return POISON
            self.diags.error("E101", f"`{key}` is not defined", expr.span,
                             hint=lambda: _defined(expr.obj.id, scope))
            return POISON
        if isinstance(expr, S.Chain):
            return self._chain(expr, scope)
        if isinstance(expr, S.Call):
            return self._call(expr, scope)
        if isinstance(expr, S.BinOp):
            return self._arith(expr, scope)
        if isinstance(expr, S.Neg):
            v = self._value(expr.operand, scope)
            if isinstance(v, Val):
                return self._node("scale", expr.span, x=v, args={"factor": -1, "op": "*"})
            if isinstance(v, Poison):
                return v
            return self._const(expr, scope)
        if isinstance(expr, S.GroupLit | S.Every | S.Labeled):
            self.diags.error("E301", "only allowed in the objective", expr.span)
            return POISON
        if isinstance(expr, S.Attr):
            n = self._size_of(expr, scope)
            if n is not None:
                return n
            self.diags.error("E301", "selecting an output (`.name`) is only possible on a "
                             "network call in the objective", expr.span,
                             hint="a tensor's sizes are `.channels`, `.height`, `.width` "
                             "and `.size`")
            return POISON
        return self._const(expr, scope)

    def _arith(self, expr: S.BinOp, scope: Scope) -> Any:
        acc = self._value(expr.first, scope)
        prev = expr.first
        for k, (op, operand) in enumerate(expr.rest):
            rhs = self._value(operand, scope)
            if isinstance(acc, Poison) or isinstance(rhs, Poison):
                for _, later in expr.rest[k + 1:]:  # their own errors are independent
                    self._value(later, scope)
                return POISON
            span = prev.span.to(operand.span)
            if not isinstance(acc, Val) and not isinstance(rhs, Val):
                acc = self._const(S.BinOp(span, S.Lit(span, acc), [(op, S.Lit(span, rhs))]),
                                  scope)
            elif op in ("+", "-", "*") and isinstance(acc, Val) and isinstance(rhs, Val):
                # elementwise: residual sums, and products such as ACGAN's embedding · z
                acc = self._node(_ELEMENTWISE[op], span, x=acc, values={"other": [rhs.node]})
            elif op in ("*", "/") and (isinstance(acc, Val) != isinstance(rhs, Val)):
                tensor, number = (acc, rhs) if isinstance(acc, Val) else (rhs, acc)
                if op == "/" and not isinstance(acc, Val):
                    self.diags.error("E201", "cannot divide a number by a tensor", span)
                    return POISON
                if isinstance(number, bool) or not isinstance(number, int | float):
                    self.diags.error("E201", f"cannot scale a tensor by {describe(number)}", span)
                    return POISON
                if op == "/" and number == 0:
                    self.diags.error("E151", "division by zero", operand.span)
                    return POISON
                acc = self._node("scale", span, x=tensor, args={"factor": number, "op": op})
            else:
                self.diags.error("E201", f"`{op}` between {self._what(acc)} and "
                                 f"{self._what(rhs)} is not defined", span,
                                 hint="tensors of one shape may be added, subtracted and "
                                 "multiplied, and scaled by numbers")
                return POISON
            prev = operand
        return acc

    @staticmethod
    def _what(v: Any) -> str:
        return "a tensor" if isinstance(v, Val) else describe(v)

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
            self.diags.error("E301", _TENSOR_CALLS_ONLY_IN_OBJECTIVE, stage.name_span)
            return POISON
        self.diags.error("E103", f"unknown layer or block `{name}`", stage.name_span,
                         lambda: did_you_mean(name, [*LAYERS, *self.g.blocks, "repeat",
                                                     *self.g.externs]))
        return POISON

    def _call(self, expr: S.Call, scope: Scope) -> Any:
        if not isinstance(expr.func, S.Name):
            self.diags.error("E103", "only layers, blocks and functions can be called",
                             expr.func.span)
            return POISON
        name = expr.func.id
        stage = S.Stage(name, expr.args, expr.kwargs, expr.span, expr.func.span)
        layer = LAYERS.get(name)
        if layer is not None and layer.value_first:
            if not expr.args:
                self.diags.error("E105", f"`{name}` needs a tensor as its first argument",
                                 expr.span)
                return POISON
            first = self._value(expr.args[0], scope)
            if isinstance(first, Poison):
                return first
            if not isinstance(first, Val):
                self.diags.error("E154", f"`{name}` takes a tensor first, got "
                                 f"{describe(first)}", expr.args[0].span)
                return POISON
            return self._layer(layer, first, expr.args[1:], expr.kwargs, stage, scope)
        if layer is not None and not layer.accepts:
            return self._layer(layer, None, expr.args, expr.kwargs, stage, scope)
        if layer is not None or name in self.g.blocks or name == "repeat":
            self.diags.error("E204", f"`{name}` needs an input: write `x -> {name}(...)`",
                             expr.span)
            return POISON
        if name in self.g.networks:
            self.diags.error("E301", _TENSOR_CALLS_ONLY_IN_OBJECTIVE, expr.func.span)
            return POISON
        from ..consteval import FUNCTIONS
        if name in FUNCTIONS:
            return self._const(expr, scope)
        self.diags.error("E103", f"unknown layer, block or function `{name}`", expr.func.span,
                         lambda: did_you_mean(name, [*LAYERS, *self.g.blocks, *FUNCTIONS]))
        return POISON

    # -- layers -------------------------------------------------------------------------

    def _layer(self, layer: Layer, x: Val | None, args: list[S.Expr], kwargs: list[S.Kwarg],
               stage: S.Stage, scope: Scope) -> Any:
        if x is not None and not layer.accepts:
            self.diags.error("E204", f"`{layer.name}` starts a chain and takes no input",
                             stage.span, hint=f"write `h = {layer.name}(...)`")
            return POISON
        bound = bind(Callee(layer.name), layer_sig(layer), args, kwargs, stage.span,
                     self.diags)
        if bound is None:
            return POISON
        values: dict[str, list[int]] = {}
        consts: dict[str, Any] = {}
        spans: dict[str, Span] = {}
        ok = True
        for p in layer.all_params:
            if p.name not in bound:
                if p.kind == "values":
                    values[p.name] = []
                elif p.kind == "ints":
                    consts[p.name] = ()
                elif not p.is_value:
                    consts[p.name] = p.default
                continue
            exprs = bound[p.name]
            spans[p.name] = exprs[0].span.to(exprs[-1].span) if isinstance(exprs, list) \
                else exprs.span
            if p.is_value:
                ids = []
                for e in exprs if isinstance(exprs, list) else [exprs]:
                    v = self._value(e, scope)
                    if isinstance(v, Poison):
                        ok = False
                    elif not isinstance(v, Val):
                        self.diags.error("E154", f"`{p.name}` of `{layer.name}` takes a "
                                         f"tensor, got {describe(v)}", e.span)
                        ok = False
                    else:
                        ids.append(v.node)
                values[p.name] = ids
            else:
                value = self._param_value(layer.name, p, exprs, scope)
                if isinstance(value, Poison):
                    ok = False
                consts[p.name] = value
        if not ok:
            return POISON
        if consts.get("init") and consts.get("sn") and _zero(consts["init"]):
            self.diags.error("E203", f"a zero weight has no spectral norm (σ = 0): "
                             f"`{layer.name}` would divide by it", spans["init"],
                             hint="drop `sn=true`, or start from small weights instead")
            return POISON
        if consts.get("init") and consts.get("eqlr"):
            self.diags.error("E203", f"`init` and `eqlr` both set `{layer.name}`'s weight: "
                             "equalized learning rate draws N(0, 1) and scales at run time",
                             spans["init"])
            return POISON
        return self._node(layer.name, stage.span, x=x, values=values, args=consts,
                          arg_spans=spans)

    def _param_value(self, callee: str, p, exprs, scope: Scope) -> Any:
        if p.kind == "init":  # a name or a call of options, not a value
            return self._initialization(callee, exprs, scope)
        if p.kind == "ints":
            out = []
            for e in exprs:
                v = self._checked(callee, p, e, scope, "int")
                if isinstance(v, Poison):
                    return v
                out.append(v)
            return tuple(out)
        return self._checked(callee, p, exprs, scope, p.kind)

    def _checked(self, callee: str, p, expr: S.Expr, scope: Scope, kind: str) -> Any:
        value = self._value(expr, scope)
        if isinstance(value, Poison):
            return value
        if isinstance(value, Val):
            self.diags.error("E153", f"`{p.name}` of `{callee}` is a compile-time "
                             f"{'number' if kind in ('int', 'num') else kind}, got a tensor",
                             expr.span)
            return POISON
        if p.default is None and value is None:
            return None
        try:
            if kind == "int":
                value = as_int(value, expr.span, f"an integer for `{p.name}`")
            elif kind == "num":
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise ConstError("E203", f"`{p.name}` of `{callee}` is a number, got "
                                     f"{describe(value)}", expr.span)
            elif kind == "bool":
                if not isinstance(value, bool):
                    raise ConstError("E203", f"`{p.name}` of `{callee}` is `true` or `false`, "
                                     f"got {describe(value)}", expr.span)
            elif kind == "str":
                if not isinstance(value, str):
                    raise ConstError("E203", f"`{p.name}` of `{callee}` is a string, got "
                                     f"{describe(value)}", expr.span)
            elif kind == "nums":
                if not isinstance(value, tuple | list) or not value or any(
                        isinstance(v, bool) or not isinstance(v, int | float) for v in value):
                    raise ConstError("E203", f"`{p.name}` of `{callee}` is a tuple of numbers, "
                                     f"e.g. (0.5, 0.5, 0.5), got {describe(value)}", expr.span)
                value = tuple(float(v) for v in value)
            if kind in ("int", "num"):
                _check_bounds(callee, p, kind, value, expr.span)
            if p.choices is not None and value not in p.choices:
                hint = did_you_mean(str(value), [str(c) for c in p.choices])
                raise ConstError("E203", f"`{p.name}` of `{callee}` is one of "
                                 f"{', '.join(repr(c) for c in p.choices)}; got {value!r}",
                                 expr.span, hint)
        except ConstError as e:
            self.diags.error("E203" if e.code == "E150" else e.code, e.message, e.span, e.hint)
            return POISON
        return value

    def _initialization(self, callee: str, expr: S.Expr, scope: Scope) -> Any:
        """`init=zeros`, `init=msr(gain=...)`: (method, ((option, value), ...))."""
        if isinstance(expr, S.Name):
            name, kwargs = expr.id, []
        elif isinstance(expr, S.Call) and isinstance(expr.func, S.Name) and not expr.args:
            name, kwargs = expr.func.id, expr.kwargs
        else:
            self.diags.error("E203", f"`init` of `{callee}` is an initialization, e.g. `zeros` "
                             "or `msr(gain=0.5)` (options by name)", expr.span)
            return POISON
        if name not in INITS:
            self.diags.error("E203", f"unknown initialization `{name}`", expr.span,
                             did_you_mean(name, INITS) or f"choices: {', '.join(INITS)}")
            return POISON
        options = []
        for kw in kwargs:
            if kw.name not in INITS[name]:
                self.diags.error("E104", f"`{name}` has no option `{kw.name}`", kw.span,
                                 did_you_mean(kw.name, INITS[name]) or (
                                     f"its options: {', '.join(INITS[name])}" if INITS[name]
                                     else f"`{name}` takes no options"))
                return POISON
            value = self._const(kw.value, scope)
            if isinstance(value, Poison):
                return value
            if isinstance(value, bool) or not isinstance(value, int | float):
                self.diags.error("E203", f"`{kw.name}` of `{name}` is a number, got "
                                 f"{describe(value)}", kw.value.span)
                return POISON
            options.append((kw.name, value))
        return name, tuple(options)

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
            raise _Abort
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
            raise _Abort
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
                depth=len(self.prefix), repeat=repeat, span=block.name_span))
        return out

    def _name_single_module(self, first: int, instance: str) -> None:
        """A block instance with one weighted layer names it after itself (`norm_relu_1`)."""
        mine = [n for n in self.nodes[first:]
                if has_module(n.op) and len(n.scope) == len(self.prefix) + 1]
        inner = [n for n in self.nodes[first:] if len(n.scope) > len(self.prefix) + 1
                 and has_module(n.op)]
        if len(mine) == 1 and not inner:
            mine[0].name = "_".join([*self.prefix, instance])

    # -- nodes --------------------------------------------------------------------------

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
            raise _Abort
        node = Node(id=len(self.nodes), scope=tuple(self.prefix), **kw)
        self.nodes.append(node)
        return node


def _zero(init: tuple) -> bool:
    """Does this initialization make every weight 0 (`zeros`, or a gain or std of 0)?"""
    method, options = init
    opts = dict(options)
    return method == "zeros" or (method in ("msr", "orthogonal", "xavier", "xavier_normal") and
                                 opts.get("gain", 1) == 0) or \
        (method in ("normal", "uniform") and opts.get("std", opts.get("range", 1)) == 0
         and opts.get("mean", 0) == 0)


def _defined(base: str, scope: Scope) -> str | None:
    """The hint for an undefined `e[i]`: the indices of `e` that are defined."""
    indexed = [k for k in scope.names if k.startswith(f"{base}[")]
    return f"defined: {', '.join(indexed[:8])}" if indexed else None


def _check_bounds(callee: str, p, kind: str, value, span: Span) -> None:
    low = p.min if kind == "num" or p.min is None else int(p.min)
    if p.min is not None and (value < p.min or p.open_min and value == p.min):
        word = "greater than" if p.open_min else "at least"
        raise ConstError("E203", f"`{p.name}` of `{callee}` must be {word} {low}, got {value}",
                         span)
    if p.max is not None and value > p.max:
        raise ConstError("E203", f"`{p.name}` of `{callee}` must be at most {p.max}, got {value}",
                         span)


@functools.cache
def layer_sig(layer: Layer) -> list[Sig]:
    modifiers = {p.name for p in MODIFIERS}
    return [Sig(p.name, required=p.required and p.kind not in ("values", "ints"),
                variadic=p.kind in ("values", "ints"), keyword_only=p.name in modifiers)
            for p in layer.all_params]


def block_sig(block: S.BlockDecl) -> list[Sig]:
    return [Sig(p.name, required=p.default is None) for p in block.params]
