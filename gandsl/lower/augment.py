"""`aug = augment(translation(1/8), cutout(1/2), color)`: an augmentation pipeline of the
objective, read into its operations and their compile-time arguments (`functions.
AUGMENTATIONS`). Applying it (`aug(x)`, `xa, ya = aug(x, y)`) is lowered by the objective."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .. import syntax as S
from ..consteval import describe
from ..diagnostics import Diagnostics, Span, did_you_mean
from ..functions import AUGMENTATIONS
from .binding import Callee, Sig, bind


@dataclass
class Pipeline:
    """A pipeline named in the objective: its operations and ADA's probability `p` (None:
    no ADA; a node id: a value at run time; else a number)."""

    name: str
    ops: list[list[Any]]
    span: Span
    p: Any = None
    applied: list[int] = field(default_factory=list)  # the nodes applying it


def read_pipeline(name: str, call: S.Call, const, value, diags: Diagnostics) -> Pipeline | None:
    """The pipeline of `augment(...)`; None after reporting. `const(expr)` evaluates a
    compile-time argument (POISON-like None on error), `value(expr)` a run-time one."""
    ops: list[list[Any]] = []
    ok = True
    for arg in call.args:
        op = _operation(arg, const, diags)
        ok &= op is not None
        if op is not None:
            ops.append(op)
    p = None
    for kw in call.kwargs:
        if kw.name != "p":
            diags.error("E104", f"`augment` has no argument `{kw.name}`", kw.span,
                        hint="its arguments are augmentations, and `p=` for `ada`")
            ok = False
            continue
        p = value(kw.value)
        ok &= p is not None
    if not ok:
        return None
    if not ops:
        diags.error("E105", "`augment` needs at least one augmentation", call.span,
                    hint=f"augmentations: {', '.join(AUGMENTATIONS)}")
        return None
    uses_ada = any(op[0] == "ada" for op in ops)
    if uses_ada and p is None:
        diags.error("E105", "`ada` augments each sample with a probability: give it as "
                    "`augment(..., p=...)`, a number or a `state`", call.span)
        return None
    if p is not None and not uses_ada:
        span = next(kw.span for kw in call.kwargs if kw.name == "p")
        diags.error("E203", "`p` is ADA's probability, and this pipeline has no `ada`", span)
        return None
    return Pipeline(name, ops, call.span, p)


def _operation(expr: S.Expr, const, diags: Diagnostics) -> list[Any] | None:
    if isinstance(expr, S.Name):
        name, args, kwargs, span = expr.id, [], [], expr.span
    elif isinstance(expr, S.Call) and isinstance(expr.func, S.Name):
        name, args, kwargs, span = expr.func.id, expr.args, expr.kwargs, expr.func.span
    else:
        diags.error("E203", "an augmentation is a name (`color`) or a call "
                    "(`translation(1/8)`)", expr.span)
        return None
    if name not in AUGMENTATIONS:
        diags.error("E103", f"unknown augmentation `{name}`", span,
                    did_you_mean(name, AUGMENTATIONS) or
                    f"augmentations: {', '.join(AUGMENTATIONS)}")
        return None
    params = AUGMENTATIONS[name]
    bound = bind(Callee(name), [Sig(p.name) for p in params], args, kwargs, expr.span, diags)
    if bound is None:
        return None
    op: list[Any] = [name]
    for p in params:
        if p.name not in bound:
            op.append(p.default)
            continue
        v = const(bound[p.name])
        if v is None:
            return None
        if p.choices is not None:
            if v not in p.choices:
                diags.error("E203", f"`{p.name}` of `{name}` is one of "
                            f"{', '.join(repr(c) for c in p.choices)}; got {describe(v)}",
                            bound[p.name].span)
                return None
        elif isinstance(v, bool) or not isinstance(v, int | float) or not 0 < v <= 1:
            diags.error("E203", f"`{p.name}` of `{name}` is a fraction of the image size, in "
                        f"(0, 1]; got {describe(v)}", bound[p.name].span)
            return None
        op.append(v)
    return op
