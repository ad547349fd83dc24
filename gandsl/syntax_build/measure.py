"""What `parse` bounds (`gandsl.limits`), measured bottom-up as the builder's methods run: each
node's height (levels of nesting below it) and, for expressions, how many operands it holds.
A node past a limit is reported once, and its ancestors stay quiet. `expr_rule` and
`stmt_rule` wrap a rule's method with the measuring."""

from __future__ import annotations

from .. import limits
from ..diagnostics import Span
from .places import STATE, span_of

MAX_DEPTH = limits.DEPTH.value
MAX_OPERANDS = limits.OPERANDS.value
_REPORTED = -1  # a height or count of a subtree already reported: its ancestors stay quiet
_TOO_DEEP = -2  # an expression nested too deep, reported at the start of the whole expression


def measure(node, children, expression: bool, operands: int = 0):
    """Record `node`'s height and operand count from its children's (which are forgotten:
    each node has one parent), reporting a limit crossed here. An expression nested too deep
    is reported where the whole expression starts, by the statement that holds it."""
    height, count = 1, operands
    quiet = False
    h, n = STATE.height, STATE.count
    for child in children:
        k = id(child)
        if k in h:
            ch, cn = h.pop(k), n.pop(k)
            if ch == _TOO_DEEP and not expression:
                _too_deep(child)
                ch = _REPORTED
            if ch < 0:
                quiet = True
                height = ch if ch == _TOO_DEEP else height
                continue
            height = max(height, ch + 1)
            count += cn
    if not expression:
        count = 0
    if quiet:
        height = height if height == _TOO_DEEP else _REPORTED
    elif height > MAX_DEPTH:
        if expression:
            height = _TOO_DEEP
        else:
            _too_deep(node)
            height = _REPORTED
    elif count > MAX_OPERANDS:
        STATE.diags.error("E004", f"this expression has {count:,} operands (names, numbers "
                          f"and strings); the limit is {MAX_OPERANDS:,}", _point(node),
                          hint="split it into named values")
        height = _REPORTED
    h[id(node)], n[id(node)] = height, count
    return node


def _too_deep(node) -> None:
    STATE.diags.error("E004", f"nesting deeper than {MAX_DEPTH} levels", _point(node),
                      hint="split the expression into named steps")


def _point(node) -> Span:
    span = span_of([node])
    return Span.point(span.line, span.col) if span is not None else Span.point(1, 1)


def expr_rule(method):
    """A rule whose node is part of an expression."""
    def wrapped(self, c):
        return measure(method(self, c), c, True)
    wrapped.__name__ = method.__name__
    return wrapped


def stmt_rule(method):
    """A rule whose node is a statement, declaration or list: it ends any expression below."""
    def wrapped(self, c):
        return measure(method(self, c), c, False)
    wrapped.__name__ = method.__name__
    return wrapped
