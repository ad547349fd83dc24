"""The objective's tensor math as plain torch expressions, as a person writes them.

`a - b` is `a - b`; a per-sample value meeting one of higher rank gains the dimensions it lacks
after its batch dimension (`s[:, None, None, None] * x`); elementwise functions are tensor
methods or the torch function of the same name (`x.exp()`, `F.softplus(x)`); reductions are
`x.mean()`, or `x.flatten(1).mean(1)` per sample. A value that may still be a Python number
(a `state` before its first update, arithmetic of states and numbers) is made a tensor first
(`torch.as_tensor(...)`) where a method needs one.
"""

from __future__ import annotations

import re

from ..functions import Fn
from ..types import TensorType

PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "//": 2, "%": 2, "**": 3}
_STRING = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")


def unwrap(expr: str) -> str:
    """`(a + b)` → `a + b` when the outer parentheses enclose the whole expression."""
    if not (expr.startswith("(") and expr.endswith(")")):
        return expr
    depth = 0
    for k, ch in enumerate(expr):
        depth += ch == "("
        depth -= ch == ")"
        if depth == 0 and k < len(expr) - 1:
            return expr  # `(a) * (b)`: the first pair closes early
    return expr[1:-1]


def atom(expr: str) -> str:
    """`expr` as the receiver of a method or an index: parenthesized unless it is a name, an
    attribute, a call, an index or a parenthesized whole (nothing but those outside its
    brackets)."""
    depth = 0
    for ch in _STRING.sub("''", expr):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0 and not (ch.isalnum() or ch in "_."):
            return f"({expr})"
    return expr


def batch_rank(t: object) -> int | None:
    """Per-sample dimensions of a value with a batch dimension; None for a loss or a
    number."""
    if not isinstance(t, TensorType) or t.kind == "loss":
        return None
    return len(t.dims)


def aligned(expr: str, t: object, rank: int | None) -> str:
    """`expr` with the dimensions it lacks to broadcast against `rank` per-sample ones."""
    have = batch_rank(t)
    if rank is None or have is None or have >= rank:
        return expr
    return f"{atom(expr)}[:{', None' * (rank - have)}]"


def arith(op: str, a: str, b: str, left, right, result: object) -> str:
    """`a op b` (`op` as the language writes it; `^` is `**`) with the parentheses Python
    needs: a left operand of the same or higher precedence reads left to right as it is
    computed (`(a + b) + c` is `a + b + c`), a right one only of higher (`a - (b - c)` keeps
    them, as `a + (b + c)` does: floating-point sums are not associative); `**` groups to the
    right and binds tighter than a unary minus on its left."""
    op = "**" if op == "^" else op
    rank = batch_rank(result)
    a, b = aligned(a, left.type, rank), aligned(b, right.type, rank)
    mine = PRECEDENCE[op]
    if left.op == "arith" and _prec(left) >= mine and op != "**":
        a = unwrap(a)
    if right.op == "arith" and (_prec(right) > mine or op == "**" and _prec(right) == mine):
        b = unwrap(b)
    if op == "**" and left.op == "neg":
        a = f"({a})"
    return f"({a} {op} {b})"


def _prec(node) -> int:
    return PRECEDENCE["**" if node.name == "^" else node.name]


def math(fn: Fn, x: str, x_type: object, maybe_number: bool, kwargs: dict,
         bounds: dict[str, str]) -> str:
    """A math function of the objective (`functions.Fn` with the `math` tag) applied to `x`;
    `bounds` are the expressions of `clip`'s limits."""
    if maybe_number:
        x = f"torch.as_tensor({unwrap(x)})"
    if not fn.torch.startswith("."):
        return f"{fn.torch}({unwrap(x)})"
    method = fn.torch[1:]
    if method == "clamp":
        return f"{atom(x)}.clamp({unwrap(bounds['low'])}, {unwrap(bounds['high'])})"
    # std and var divide by the number of values (the language's, numpy's), not by one less
    spread = ", correction=0" if method in ("std", "var") else ""
    if fn.returns != "reduce" or kwargs["over"] == "all":
        return f"{atom(x)}.{method}({spread[2:]})"
    over, rank = kwargs["over"], batch_rank(x_type)
    method = {"min": "amin", "max": "amax"}.get(method, method)  # values only, no indices
    if over == "sample":
        if rank == 0:  # one value per sample already
            return f"torch.zeros_like({unwrap(x)})" if spread else x
        return f"{atom(x)}.flatten(1).{method}(1{spread})"
    if over == "channels":
        return f"{atom(x)}.{method}(1, keepdim=True{spread})" if rank == 3 else \
            f"{atom(x)}.{method}(1{spread})"
    return f"{atom(x)}.{method}((2, 3){spread})"  # "space"
