"""The network lowering's expressions: names (a compile-time value and a tensor share one
namespace; which one a name holds decides what an expression means), compile-time values
with the tensor sizes they read (`in.channels`), residual arithmetic and scaling, and calls
(a layer written as a function, `concat(a, b)`, or a compile-time function)."""

from __future__ import annotations

from typing import Any

from .. import syntax as S
from ..consteval import ConstError, NotConst, Silent, describe, evaluate
from ..diagnostics import Span, did_you_mean
from ..layers import LAYERS
from .globals import Globals
from .introspect import SHAPE_ATTRS, Sizes, size, substitute
from .network_nodes import TENSOR_CALLS_ONLY_IN_OBJECTIVE, NodeBuilder, Val
from .scope import POISON, Poison, Scope

_ELEMENTWISE = {"+": "add", "-": "sub", "*": "mul"}  # tensor ⊙ tensor → node op


class Expressions(NodeBuilder):
    """Expressions of a body: a tensor (`Val`), a compile-time value, or POISON."""

    g: Globals
    sizes: Sizes

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
                self.diags.error("E301", TENSOR_CALLS_ONLY_IN_OBJECTIVE, expr.span)
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
            self.diags.error("E301", TENSOR_CALLS_ONLY_IN_OBJECTIVE, expr.func.span)
            return POISON
        from ..consteval import FUNCTIONS
        if name in FUNCTIONS:
            return self._const(expr, scope)
        self.diags.error("E103", f"unknown layer, block or function `{name}`", expr.func.span,
                         lambda: did_you_mean(name, [*LAYERS, *self.g.blocks, *FUNCTIONS]))
        return POISON


def _defined(base: str, scope: Scope) -> str | None:
    """The hint for an undefined `e[i]`: the indices of `e` that are defined."""
    indexed = [k for k in scope.names if k.startswith(f"{base}[")]
    return f"defined: {', '.join(indexed[:8])}" if indexed else None

