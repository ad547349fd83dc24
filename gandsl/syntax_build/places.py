"""The parse in progress (`STATE`: its diagnostics and the measures of nodes not yet in a
parent) and what the builder's methods read their children with: the places (spans) of
tokens and nodes, the children a method reads (`parts`), lists that know their place (`Seq`),
number and string literals, and a call's arguments."""

from __future__ import annotations

import math
import re
import threading

from lark import Token

from .. import limits
from .. import syntax as S
from ..diagnostics import Diagnostics, Span

MAX_NUMBER_DIGITS = limits.NUMBER_DIGITS.value
# Named terminals: the tokens a rule's method reads. Every other token is a keyword or a
# bracket, there only for the span.
KEPT = frozenset({"NAME", "NUMBER", "STRING", "COMP_OP", "FROZEN", "EXTERN_KIND"})


class Seq(list):
    """A list result (a body, arguments, names) that knows where it is written."""

    __slots__ = ("span",)

    def __init__(self, items, span: Span | None) -> None:
        super().__init__(items)
        self.span = span


class Paren:
    """`( expr )` while its parent is built: the parent's span takes in the parentheses, the
    expression's own span does not (a caret under a term points at the term)."""

    __slots__ = ("expr", "span")

    def __init__(self, expr, span: Span | None) -> None:
        self.expr, self.span = expr, span


class Else:
    __slots__ = ("items", "span")

    def __init__(self, items, span: Span | None) -> None:
        self.items, self.span = items, span


def tspan(tok: Token) -> Span:
    return Span(tok.line, tok.column, tok.end_line, max(tok.column, tok.end_column - 1),
                STATE.file)


def span_of(children) -> Span | None:
    """From the first child's start to the last child's end (tokens included; placeholders
    of absent optional parts and strings have no place)."""
    first = last = None
    for x in children:
        if isinstance(x, Token):
            first = (x.line, x.column)
            break
        span = getattr(x, "span", None)
        if span is not None:
            first = (span.line, span.col)
            break
    for x in reversed(children):
        if isinstance(x, Token):
            last = (x.end_line, x.end_column - 1)
            break
        span = getattr(x, "span", None)
        if span is not None:
            last = (span.end_line, span.end_col)
            break
    if first is None or last is None:
        return None
    return Span(first[0], first[1], last[0], last[1], STATE.file)


def parts(children) -> list:
    """The children a method reads: keywords, brackets and the placeholders of absent
    optional parts left out (a method tells what is there by the number of parts), and
    parenthesized expressions unwrapped."""
    return [x.expr if isinstance(x, Paren) else x for x in children
            if x is not None and not (isinstance(x, Token) and x.type not in KEPT)]


def number_value(text: str) -> int | float:
    """The value of a number literal (`64`, `0.5`, `1e-4`, `200k`); `ValueError` with the
    reason when it is longer than the limit or beyond a 64-bit float."""
    digits = sum(ch in "0123456789" for ch in text)
    if digits > MAX_NUMBER_DIGITS:
        raise ValueError(f"a number of {digits:,} digits; the limit is {MAX_NUMBER_DIGITS}")
    scale = {"k": 1_000, "M": 1_000_000}.get(text[-1], 1)
    body = text[:-1] if scale != 1 else text
    if re.fullmatch(r"[0-9]+", body):
        return int(body) * scale
    value = float(body) * scale
    if math.isinf(value):
        raise ValueError(f"`{text}` is beyond the largest number (about 1.8e308)")
    return int(value) if scale != 1 and value.is_integer() else value


def unquote(text: str) -> str:
    escapes = {"n": "\n", "t": "\t"}
    return re.sub(r"\\(.)", lambda m: escapes.get(m.group(1), m.group(1)), text[1:-1])


class _State(threading.local):
    """The parse in progress (one per thread): its diagnostics and the measures of the
    nodes whose parent is not built yet."""

    def reset(self, diags: Diagnostics, file: int = 0) -> None:
        self.diags = diags
        self.file = file  # `Span.file` of every place of this parse
        self.height: dict[int, int] = {}
        self.count: dict[int, int] = {}


STATE = _State()


def split_args(arguments: list) -> tuple[list[S.Expr], list[S.Kwarg]]:
    """Positional and keyword arguments of `[arguments]` (an empty list when absent)."""
    args: list[S.Expr] = []
    kwargs: list[S.Kwarg] = []
    for a in arguments[0] if arguments else []:
        (kwargs if isinstance(a, S.Kwarg) else args).append(a)
    return args, kwargs
