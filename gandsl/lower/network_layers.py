"""The network lowering's layer calls: arguments bound to a layer's parameters, tensors
and compile-time values told apart, each value checked against its parameter (kind, bounds,
choices), the `init=` initializations, and the modifiers that cannot go together (`sn` and a
zero `init`, `init` and `eqlr`)."""

from __future__ import annotations

import functools
from typing import Any

from .. import syntax as S
from ..catalog import INITS
from ..consteval import ConstError, as_int, describe
from ..diagnostics import Span, did_you_mean
from ..layers import Layer
from ..layers.base import MODIFIERS
from .binding import Callee, Sig, bind
from .network_nodes import NodeBuilder, Val
from .scope import POISON, Poison, Scope


class Layers(NodeBuilder):
    """A layer applied to its input (or, for a layer that starts a chain, to none)."""

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
            allowed = INITS[name].keywords
            if kw.name not in allowed:
                self.diags.error("E104", f"`{name}` has no option `{kw.name}`", kw.span,
                                 did_you_mean(kw.name, allowed) or (
                                     f"its options: {', '.join(allowed)}" if allowed
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


def _zero(init: tuple) -> bool:
    """Does this initialization make every weight 0 (`zeros`, or a gain or std of 0)?"""
    method, options = init
    opts = dict(options)
    return method == "zeros" or (method in ("msr", "orthogonal", "xavier", "xavier_normal") and
                                 opts.get("gain", 1) == 0) or \
        (method in ("normal", "uniform") and opts.get("std", opts.get("range", 1)) == 0
         and opts.get("mean", 0) == 0)


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

