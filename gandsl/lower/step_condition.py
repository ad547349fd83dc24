"""`if step < 25 or step % 500 == 0` → the condition on `step` the generated iteration tests.

A condition of a train statement is evaluated at run time, once per iteration, with `step` the
iteration number (0, 1, ...). Everything in it that does not involve `step` is a compile-time
value (numbers, params, lets) and is folded to a number (`ir.StepExpr`), so the generated
line reads `100 if step < 25 or step % 500 == 0 else 5` whatever names the spec used.
"""

from __future__ import annotations

from .. import syntax as S
from ..consteval import describe
from ..diagnostics import Diagnostics
from ..ir import StepExpr
from .globals import Globals, const_or_poison
from .scope import Poison

STEP = "step"
ALLOWED = ("`step`, numbers, params and lets, arithmetic (+ - * / // % ^), comparisons and "
           "and / or / not")


def step_condition(expr: S.Expr, g: Globals, diags: Diagnostics) -> StepExpr | None:
    """A condition on `step` with its compile-time parts folded, or None after reporting why
    it is not one."""
    if not _mentions_step(expr):
        diags.error("E304", "this condition does not depend on `step`, so it is always true or "
                    "always false", expr.span, hint="e.g. `if step < 25 or step % 500 == 0`")
        return None
    if not isinstance(expr, S.Compare | S.BoolOp | S.Not):
        diags.error("E304", "a condition is a comparison of `step`", expr.span,
                    hint="e.g. `if step < 25 or step % 500 == 0`")
        return None
    return _source(expr, g, diags)


def _mentions_step(e: S.Expr) -> bool:
    if isinstance(e, S.Name):
        return e.id == STEP
    if isinstance(e, S.Neg | S.Not):
        return _mentions_step(e.operand)
    if isinstance(e, S.BinOp):
        return _mentions_step(e.first) or any(_mentions_step(x) for _, x in e.rest)
    if isinstance(e, S.BoolOp):
        return any(_mentions_step(x) for x in e.items)
    if isinstance(e, S.Compare):
        return _mentions_step(e.left) or _mentions_step(e.right)
    return False


def _source(e: S.Expr, g: Globals, diags: Diagnostics) -> StepExpr | None:
    if not _mentions_step(e):  # a compile-time value: fold it
        value = const_or_poison(e, g.resolve, diags)
        if isinstance(value, Poison):
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            diags.error("E304", f"a step condition works with numbers, got {describe(value)}",
                        e.span, hint=f"it may use {ALLOWED}")
            return None
        return StepExpr(kind="number", value=value)
    if isinstance(e, S.Name):
        return StepExpr(kind="step")
    if isinstance(e, S.Neg | S.Not):
        inner = _source(e.operand, g, diags)
        return None if inner is None else StepExpr(
            kind="neg" if isinstance(e, S.Neg) else "not", items=[inner])
    if isinstance(e, S.BinOp):
        parts = [_source(e.first, g, diags), *(_source(x, g, diags) for _, x in e.rest)]
        if None in parts:
            return None
        for (op, x), part in zip(e.rest, parts[1:], strict=True):
            # What would fail or run away at every iteration is refused here.
            if op in ("/", "//", "%") and part.kind == "number" and part.value == 0:
                diags.error("E151", "division by zero", x.span)
                return None
            if op == "^" and _mentions_step(x):
                diags.error("E304", "an exponent cannot depend on `step`: the number would "
                            "grow without bound", x.span, hint="compare `step` with a "
                            "number instead, e.g. `step < 2^10`")
                return None
        return StepExpr(kind="arith", items=parts, ops=[op for op, _ in e.rest])
    if isinstance(e, S.Compare | S.BoolOp):
        items = [e.left, e.right] if isinstance(e, S.Compare) else e.items
        parts = [_source(x, g, diags) for x in items]
        if None in parts:
            return None
        return StepExpr(kind="compare" if isinstance(e, S.Compare) else "bool", items=parts,
                        ops=[e.op])
    diags.error("E304", "this cannot be part of a step condition", e.span,
                hint=f"it may use {ALLOWED}")
    return None
