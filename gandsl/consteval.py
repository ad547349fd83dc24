"""Compile-time evaluation: params, loop bounds, layer arguments and shape expressions.

Values are int, float, bool, str, tuples/lists of those, and `DatasetRef` (a dataset name used
as a label set inside a type, e.g. `label[celeba | rafd]`). Integer arithmetic stays exact; `/`
is true division whose integral results count as integers where a size is needed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import syntax as S
from .diagnostics import Span

MAX_MAGNITUDE = 2 ** 53  # beyond this, sizes and counts are surely a mistake


class ConstError(Exception):
    """A bad compile-time value. `hint` may be a function (see `Diagnostics.error`)."""

    def __init__(self, code: str, message: str, span: Span, hint=None) -> None:
        super().__init__(message)
        self.code, self.message, self.span, self.hint = code, message, span, hint


@dataclass(frozen=True)
class DatasetRef:
    names: tuple[str, ...]  # one dataset, or the members of a union in order

    def __str__(self) -> str:
        return " | ".join(self.names)


class Silent(Exception):
    """A name whose definition already failed with a reported error: stay quiet."""


class NotConst(Exception):
    """Raised when a name resolves to something that is not a compile-time value (a tensor)."""

    def __init__(self, name: str, span: Span) -> None:
        super().__init__(name)
        self.name, self.span = name, span


# Resolves a name to a compile-time value; raises ConstError (undefined) or NotConst.
Resolver = Callable[[str, Span], Any]


def check_value(value: Any, span: Span) -> Any:
    """A compile-time value within bounds: finite, and integers of at most 2^53."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_MAGNITUDE:
        raise ConstError("E150", f"value {value} is too large (limit 2^53)", span)
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        raise ConstError("E150", f"value is {value}", span)
    return value


def _num(value: Any, span: Span, what: str = "a number") -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConstError("E150", f"expected {what}, got {describe(value)}", span)
    return value


def describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, DatasetRef):
        return f"the dataset `{value}`"
    if isinstance(value, tuple | list):
        return f"a list of {len(value)}"
    return f"`{value}`"


def as_int(value: Any, span: Span, what: str = "an integer") -> int:
    """An integer, accepting integral floats (from `/`) as integers."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConstError("E150", f"expected {what}, got {describe(value)}", span)
    return value


def _div(a, b, span: Span):
    if b == 0:
        raise ConstError("E151", "division by zero", span)
    return a / b


def _floordiv(a, b, span: Span):
    if b == 0:
        raise ConstError("E151", "division by zero", span)
    return a // b


def _mod(a, b, span: Span):
    if b == 0:
        raise ConstError("E151", "division by zero", span)
    return a % b


def _pow(a, b, span: Span):
    if isinstance(b, int) and isinstance(a, int) and b >= 0:
        if abs(a) > 1 and b * (abs(a).bit_length() - 1) > 60:  # surely beyond 2^53: stop early
            raise ConstError("E150", f"{a}^{b} is too large", span)
        return a ** b  # callers check the result against 2^53
    try:
        result = float(a) ** float(b)
    except OverflowError:
        raise ConstError("E150", f"{a}^{b} is too large", span) from None
    except ZeroDivisionError:
        raise ConstError("E151", f"{a}^{b} divides by zero", span) from None
    if isinstance(result, complex):  # a negative base with a fractional exponent
        raise ConstError("E150", f"{a}^{b} is not a real number", span)
    return result


_BINARY = {
    "+": lambda a, b, s: a + b,
    "-": lambda a, b, s: a - b,
    "*": lambda a, b, s: a * b,
    "/": _div,
    "//": _floordiv,
    "%": _mod,
    "^": _pow,
}

_COMPARE = {
    "==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
    ">": lambda a, b: a > b, "<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b,
}


def _len(x, span):
    if not isinstance(x, tuple | list):
        raise ConstError("E150", f"`len` takes a list, got {describe(x)}", span)
    return len(x)


def _log2(x, span):
    x = _num(x, span)
    if x <= 0:
        raise ConstError("E150", f"log2 of {x}", span)
    r = math.log2(x)
    return int(r) if r.is_integer() else r


def _sqrt(x, span):
    x = _num(x, span)
    if x < 0:
        raise ConstError("E150", f"sqrt of {x}", span)
    return math.sqrt(x)


def _exp(x, span):
    try:
        return math.exp(_num(x, span))
    except OverflowError:
        raise ConstError("E150", f"exp({x}) is too large", span) from None


def _log(x, span):
    x = _num(x, span)
    if x <= 0:
        raise ConstError("E150", f"log of {x}", span)
    return math.log(x)


def _trig(fn):
    def apply(x, span):
        x = _num(x, span)
        if not math.isfinite(x):  # math.cos(inf) raises ValueError
            raise ConstError("E150", f"{fn.__name__} of {x}", span)
        return fn(x)
    return apply


def _softplus(x, span):
    x = _num(x, span)
    return x + math.log1p(math.exp(-x)) if x > 0 else math.log1p(math.exp(x))


def _sigmoid(x, span):
    x = _num(x, span)
    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))


def _clip(x, low, high, span):
    return min(max(_num(x, span), _num(low, span)), _num(high, span))


# Names every spec may use without declaring them (a declaration of the same name wins).
CONSTANTS: dict[str, float] = {"pi": math.pi}

FUNCTIONS: dict[str, tuple[int, int, Callable]] = {
    # name: (min args, max args, fn(*args, span))
    "min": (1, 64, lambda *a: min(_num(v, a[-1]) for v in a[:-1])),
    "max": (1, 64, lambda *a: max(_num(v, a[-1]) for v in a[:-1])),
    "abs": (1, 1, lambda x, s: abs(_num(x, s))),
    "log2": (1, 1, _log2),
    "sqrt": (1, 1, _sqrt),
    "int": (1, 1, lambda x, s: int(_num(x, s))),
    "floor": (1, 1, lambda x, s: math.floor(_num(x, s))),
    "ceil": (1, 1, lambda x, s: math.ceil(_num(x, s))),
    "round": (1, 1, lambda x, s: round(_num(x, s))),
    "len": (1, 1, lambda x, s: _len(x, s)),
    # the objective's elementwise math, on numbers
    "exp": (1, 1, _exp),
    "log": (1, 1, _log),
    "square": (1, 1, lambda x, s: _num(x, s) ** 2),
    "softplus": (1, 1, _softplus),
    "sigmoid": (1, 1, _sigmoid),
    "relu": (1, 1, lambda x, s: max(_num(x, s), 0)),
    "tanh": (1, 1, lambda x, s: math.tanh(_num(x, s))),
    "sign": (1, 1, lambda x, s: (_num(x, s) > 0) - (_num(x, s) < 0)),
    "cos": (1, 1, _trig(math.cos)),
    "sin": (1, 1, _trig(math.sin)),
    "clip": (3, 3, _clip),
    "clamp": (3, 3, _clip),
}


def evaluate(expr: S.Expr, resolve: Resolver) -> Any:
    """Evaluate a compile-time expression. Raises ConstError or NotConst."""
    if isinstance(expr, S.Num):
        return check_value(expr.value, expr.span)
    if isinstance(expr, S.Str | S.Bool | S.Lit):
        return expr.value
    if isinstance(expr, S.Name):
        return resolve(expr.id, expr.span)
    if isinstance(expr, S.TupleLit):
        return tuple(evaluate(e, resolve) for e in expr.items)
    if isinstance(expr, S.ListLit):
        return tuple(evaluate(e, resolve) for e in expr.items)
    if isinstance(expr, S.Neg):
        return -_num(evaluate(expr.operand, resolve), expr.operand.span)
    if isinstance(expr, S.Not):
        return not truth(evaluate(expr.operand, resolve), expr.operand.span)
    if isinstance(expr, S.BinOp):
        acc = evaluate(expr.first, resolve)
        prev = expr.first
        for op, operand in expr.rest:
            rhs = evaluate(operand, resolve)
            start = expr.span if prev is expr.first else prev.span  # includes any `(`
            if op == "+" and isinstance(acc, str) and isinstance(rhs, str):
                acc = acc + rhs
            else:
                acc = _BINARY[op](_num(acc, prev.span), _num(rhs, operand.span),
                                  start.to(operand.span))
            acc = check_value(acc, expr.span)
            prev = operand
        return acc
    if isinstance(expr, S.BoolOp):
        for item in expr.items:
            value = truth(evaluate(item, resolve), item.span)
            if value == (expr.op == "or"):
                return value
        return expr.op == "and"
    if isinstance(expr, S.Compare):
        a, b = evaluate(expr.left, resolve), evaluate(expr.right, resolve)
        try:
            return _COMPARE[expr.op](a, b)
        except TypeError:
            raise ConstError("E150", f"cannot compare {describe(a)} with {describe(b)}",
                             expr.span) from None
    if isinstance(expr, S.Union):
        names: list[str] = []
        for item in expr.items:
            v = evaluate(item, resolve)
            if not isinstance(v, DatasetRef):
                raise ConstError("E150", f"`|` joins datasets, got {describe(v)}", item.span)
            names.extend(v.names)
        return DatasetRef(tuple(names))
    if isinstance(expr, S.Index):
        seq = evaluate(expr.obj, resolve)
        i = as_int(evaluate(expr.index, resolve), expr.index.span, "an integer index")
        if not isinstance(seq, tuple):
            raise ConstError("E150", f"cannot index {describe(seq)}", expr.obj.span)
        if not -len(seq) <= i < len(seq):
            raise ConstError("E150", f"index {i} is out of range for a list of {len(seq)}",
                             expr.index.span)
        return seq[i]
    if isinstance(expr, S.Call) and isinstance(expr.func, S.Name) and expr.func.id in FUNCTIONS:
        lo, hi, fn = FUNCTIONS[expr.func.id]
        if expr.kwargs:
            raise ConstError("E104", f"`{expr.func.id}` takes no keyword arguments",
                             expr.kwargs[0].span)
        if not lo <= len(expr.args) <= hi:
            raise ConstError("E105", f"`{expr.func.id}` takes {lo if lo == hi else f'{lo}+'} "
                             f"argument{'s' if hi > 1 else ''}, got {len(expr.args)}", expr.span)
        args = [evaluate(a, resolve) for a in expr.args]
        return check_value(fn(*args, expr.span), expr.span)
    raise ConstError("E153", "expected a compile-time value here", expr.span)


def truth(value: Any, span: Span) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    raise ConstError("E150", f"expected a condition, got {describe(value)}", span)




def names_in(expr: Any) -> list[tuple[str, Span]]:
    """Every `Name` inside an expression (for dependency graphs), without recursion limits."""
    found: list[tuple[str, Span]] = []
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, S.Name):
            found.append((node.id, node.span))
        elif isinstance(node, list | tuple):
            stack.extend(node)
        elif isinstance(node, S.Kwarg):
            stack.append(node.value)
        elif isinstance(node, S.Stage):
            stack.extend(node.args)
            stack.extend(node.kwargs)
        elif isinstance(node, S.Expr | S.Range):
            for name in node.__slots__:
                if name != "span":
                    stack.append(getattr(node, name))
    return found
