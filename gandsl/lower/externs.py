"""`extern layer` and `extern function` declarations: their signatures, checked when the spec
is collected (names, types, the target's form, whether its module is allowed), before any
module is imported. Applying one is lowered by the network and objective lowerings; what it
computes is learned by the checker (`gandsl.extern`, on meta tensors).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import extern
from .. import syntax as S
from ..consteval import describe
from ..diagnostics import Diagnostics, did_you_mean
from ..functions import FUNCTIONS
from ..layers import LAYERS
from ..types import KINDS
from .binding import Callee, Sig, bind
from .scope import POISON, Poison, Scope

VALUES = ("int", "float", "bool", "str")  # compile-time parameters
LAYER_INPUTS = tuple(k for k in KINDS if k not in ("class", "scalar"))
LAYER_RESULTS = tuple(k for k in KINDS if k != "class")
# a function's tensors: any float tensor, a spatial one, one score per sample, or a kind
FUNCTION_INPUTS = ("tensor", "image", "score", *LAYER_INPUTS)
FUNCTION_RESULTS = ("loss", "score", "same")


@dataclass(frozen=True)
class ExternSig:
    """A checked declaration: `params[0]` of a layer is its chained input."""

    decl: S.ExternDecl

    @property
    def name(self) -> str:
        return self.decl.name

    @property
    def tensors(self) -> list[S.ExternParam]:
        return [p for p in self.decl.params if p.type not in VALUES]

    @property
    def alias(self) -> str:
        """The name the generated module imports it as."""
        return f"{self.decl.name}_extern"


def declare(decl: S.ExternDecl, diags: Diagnostics) -> ExternSig | None:
    """The signature of a declaration; None after reporting what is wrong with it."""
    d = decl
    if d.kind == "layer" and (d.name in LAYERS or d.name == "repeat"):
        diags.error("E109", f"extern layer `{d.name}` has the name of a built-in layer",
                    d.name_span, hint="choose another name")
        return None
    if d.kind == "function" and d.name in FUNCTIONS:
        diags.error("E109", f"extern function `{d.name}` has the name of a built-in function",
                    d.name_span, hint="choose another name")
        return None
    inputs = LAYER_INPUTS if d.kind == "layer" else FUNCTION_INPUTS
    results = LAYER_RESULTS if d.kind == "layer" else FUNCTION_RESULTS + LAYER_RESULTS
    seen: set[str] = set()
    for k, p in enumerate(d.params):
        if p.name in seen:
            diags.error("E102", f"parameter `{p.name}` of `{d.name}` is declared twice", p.span)
            return None
        seen.add(p.name)
        allowed = (inputs if k == 0 else VALUES) if d.kind == "layer" else (*inputs, *VALUES)
        if p.type not in allowed:
            what = ("the chained input: a tensor kind" if k == 0 else "a compile-time value")\
                if d.kind == "layer" else "a tensor kind or a compile-time value"
            diags.error("E107", f"`{p.type}` is not a type of an extern {d.kind} parameter",
                        p.type_span, did_you_mean(p.type, allowed) or
                        f"{what}: {', '.join(allowed)}")
            return None
        if p.default is not None and p.type not in VALUES:
            diags.error("E150", "only compile-time parameters have defaults", p.default.span)
            return None
    if d.kind == "layer" and not d.params:
        diags.error("E105", f"extern layer `{d.name}` takes its chained input first: "
                    f"`extern layer {d.name}(x: map, ...)`", d.name_span)
        return None
    if d.kind == "function" and not any(p.type not in VALUES for p in d.params):
        diags.error("E105", f"extern function `{d.name}` takes at least one tensor",
                    d.name_span)
        return None
    if d.result not in results:
        diags.error("E107", f"`{d.result}` is not a result of an extern {d.kind}",
                    d.result_span, did_you_mean(d.result, results) or
                    f"results: {', '.join(results)}")
        return None
    if not extern.TARGET.fullmatch(d.target):
        diags.error("E111", f"`{d.target}` is not a Python callable: write "
                    "`module.path:Name`", d.target_span)
        return None
    module = d.target.split(":")[0]
    if not extern.is_allowed(module):
        top = module.split(".")[0]
        diags.error("E111", f"`{module}` is not allowed: an extern's module is imported and "
                    "run, so the user allows it", d.target_span,
                    hint=f"`--allow-extern {top}` on the command line, or {extern.ENV}={top}")
        return None
    return ExternSig(decl)


def apply_extern(low, sig: ExternSig, v, stage: S.Stage, scope) -> Any:
    """`h -> blur(5)`: an `extern` node of the network lowering `low`. Arguments are
    compile-time values; a default may use the input's sizes (`ch: int = x.channels`)."""
    d = sig.decl
    params = d.params[1:]
    bound = bind(Callee(d.name), [Sig(p.name, required=p.default is None) for p in params],
                 stage.args, stage.kwargs, stage.span, low.diags)
    if bound is None:
        return POISON
    inner = Scope()  # where defaults are evaluated: the input and the earlier parameters
    inner.names[d.params[0].name] = v
    kwargs: list[tuple[str, Any]] = []
    spans = {}
    for p in params:
        expr = bound.get(p.name, p.default)
        value = low._value(expr, scope if p.name in bound else inner)
        if isinstance(value, Poison):
            return value
        value = _typed(value, p, expr, d.name, low.diags)
        if isinstance(value, Poison):
            return value
        inner.names[p.name] = value
        kwargs.append((p.name, value))
        spans[p.name] = expr.span
    return low._node("extern", stage.span, x=v, base=d.name, arg_spans=spans, args={
        "extern": d.name, "target": d.target, "result": d.result, "alias": sig.alias,
        "input": d.params[0].type, "kwargs": tuple(kwargs)})


def _typed(value: Any, p: S.ExternParam, expr: S.Expr, extern_name: str,
           diags: Diagnostics) -> Any:
    """A compile-time argument of its declared type (an integral float is an int)."""
    ok = {"int": isinstance(value, int) and not isinstance(value, bool) or
          isinstance(value, float) and value.is_integer(),
          "float": isinstance(value, int | float) and not isinstance(value, bool),
          "bool": isinstance(value, bool), "str": isinstance(value, str)}[p.type]
    if not ok:
        diags.error("E203", f"`{p.name}` of `{extern_name}` is {_WORD[p.type]}, got "
                    f"{describe(value)}", expr.span)
        return POISON
    return int(value) if p.type == "int" else float(value) if p.type == "float" else value


def call_extern(low, sig: ExternSig, expr: S.Call, var: str | None) -> Any:
    """`my_loss(D(x), D(fake), margin=1)` in the objective: an `extern` node whose inputs are
    the tensors, in the declared order, and whose compile-time arguments go by name."""
    d = sig.decl
    bound = bind(Callee(d.name), [Sig(p.name, required=p.default is None) for p in d.params],
                 expr.args, expr.kwargs, expr.span, low.diags)
    if bound is None:
        return POISON
    inputs: list[int] = []
    values: list[tuple[str, Any]] = []
    for p in d.params:
        e = bound.get(p.name, p.default)
        if p.type in VALUES:
            value = low._const(e)
            if isinstance(value, Poison):
                return value
            value = _typed(value, p, e, d.name, low.diags)
            if isinstance(value, Poison):
                return value
            values.append((p.name, value))
            continue
        v = low._value(e)
        if isinstance(v, Poison):
            return v
        if not isinstance(v, int):
            low.diags.error("E201", f"`{p.name}` of `{d.name}` is a tensor ({p.type}), got "
                            f"a number", e.span)
            return POISON
        inputs.append(v)
    return low._add("extern", expr.span, name=d.name, inputs=inputs, var=var, kwargs={
        "target": d.target, "alias": sig.alias, "result": d.result,
        "types": tuple(p.type for p in sig.tensors), "values": tuple(values)})


_WORD = {"int": "an integer", "float": "a number", "bool": "`true` or `false`",
         "str": "a string"}


__all__ = ["ExternSig", "apply_extern", "call_extern", "declare", "VALUES"]
