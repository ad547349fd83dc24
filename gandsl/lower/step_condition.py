"""`if step < 25 or step % 500 == 0` → the Python condition the generated iteration tests.

A condition of a train statement is evaluated at run time, once per iteration, with `step` the
iteration number (0, 1, ...). Everything in it that does not involve `step` is a compile-time
value (numbers, params, lets) and is folded to a literal, so the generated line reads
`100 if step < 25 or step % 500 == 0 else 5` whatever names the spec used.
"""

from __future__ import annotations

from .. import syntax as S
from ..consteval import describe
from ..diagnostics import Diagnostics
from .globals import Globals, const_or_poison
from .scope import Poison

STEP = "step"
_PY_OPS = {"^": "**"}  # the language's power; every other operator is Python's own
ALLOWED = ("`step`, numbers, params and lets, arithmetic (+ - * / // % ^), comparisons and "
           "and / or / not")


def step_condition(expr: S.Expr, g: Globals, diags: Diagnostics) -> str | None:
    """The Python source of a condition on `step`, or None after reporting why it is not one."""
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


def _source(e: S.Expr, g: Globals, diags: Diagnostics) -> str | None:
    if not _mentions_step(e):  # a compile-time value: fold it
        value = const_or_poison(e, g.resolve, diags)
        if isinstance(value, Poison):
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            diags.error("E304", f"a step condition works with numbers, got {describe(value)}",
                        e.span, hint=f"it may use {ALLOWED}")
            return None
        return repr(value)
    if isinstance(e, S.Name):
        return STEP
    parts: list[str | None]
    if isinstance(e, S.Neg):
        inner = _source(e.operand, g, diags)
        return None if inner is None else f"-({inner})"
    if isinstance(e, S.Not):
        inner = _source(e.operand, g, diags)
        return None if inner is None else f"not ({inner})"
    if isinstance(e, S.BinOp):
        parts = [_source(e.first, g, diags), *(_source(x, g, diags) for _, x in e.rest)]
        if None in parts:
            return None
        for (op, x), part in zip(e.rest, parts[1:], strict=True):
            # What would fail or run away at every iteration is refused here.
            if op in ("/", "//", "%") and not _mentions_step(x) and float(part) == 0:
                diags.error("E151", "division by zero", x.span)
                return None
            if op == "^" and _mentions_step(x):
                diags.error("E304", "an exponent cannot depend on `step`: the number would "
                            "grow without bound", x.span, hint="compare `step` with a "
                            "number instead, e.g. `step < 2^10`")
                return None
        text = _wrap(e.first, parts[0])
        for (op, x), part in zip(e.rest, parts[1:], strict=True):
            text += f" {_PY_OPS.get(op, op)} {_wrap(x, part)}"
        return text
    if isinstance(e, S.Compare):
        left, right = _source(e.left, g, diags), _source(e.right, g, diags)
        return None if left is None or right is None else f"{left} {e.op} {right}"
    if isinstance(e, S.BoolOp):
        parts = [_source(x, g, diags) for x in e.items]
        if None in parts:
            return None
        return f" {e.op} ".join(_wrap(x, p) for x, p in zip(e.items, parts, strict=True))
    diags.error("E304", "this cannot be part of a step condition", e.span,
                hint=f"it may use {ALLOWED}")
    return None


def _wrap(e: S.Expr, text: str | None) -> str:
    """Parentheses around a nested operation, so Python's precedence cannot regroup it."""
    return f"({text})" if isinstance(e, S.BinOp | S.BoolOp) else str(text)
