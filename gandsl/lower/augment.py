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
    sig = [Sig(p.name, keyword_only=p.keyword_only) for p in params]
    bound = bind(Callee(name), sig, args, kwargs, expr.span, diags)
    if bound is None:
        return None
    op: list[Any] = [name]
    options: dict[str, Any] = {}  # keyword-only settings, given ones only (ADA's)
    for p in params:
        if p.name not in bound:
            if not p.keyword_only:
                op.append(p.default)
            continue
        v = _argument(name, p, const(bound[p.name]), bound[p.name].span, diags)
        if v is None:
            return None
        if p.keyword_only:
            options[p.name] = v
        else:
            op.append(v)
    if options:
        op.append(options)
    return op


def _argument(name: str, p, v: Any, span: Span, diags: Diagnostics) -> Any:
    """A compile-time argument of an augmentation, checked against its kind; None after
    reporting (or when `const` already reported)."""
    if v is None:
        return None
    number = not isinstance(v, bool) and isinstance(v, int | float)
    if p.kind == "choice":
        if v in p.choices:
            return v
        wanted = f"one of {', '.join(repr(c) for c in p.choices)}"
    elif p.kind == "fraction":
        if number and 0 < v <= 1:
            return v
        wanted = "a fraction of the image size, in (0, 1]"
    elif p.kind == "number":
        if number and v >= 0:
            return float(v)
        wanted = "a number ≥ 0"
    else:  # numbers
        if isinstance(v, list | tuple) and len(v) == len(p.default) and all(
                not isinstance(x, bool) and isinstance(x, int | float) and x >= 0 for x in v):
            return tuple(float(x) for x in v)
        wanted = f"a list of {len(p.default)} numbers ≥ 0"
    diags.error("E203", f"`{p.name}` of `{name}` is {wanted}; got {describe(v)}", span)
    return None
