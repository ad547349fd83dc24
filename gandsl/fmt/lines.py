"""A parsed spec as physical lines: the tokens on each line, its comment, and its role.

The tokens come from the grammar's own contextual lexer, fed through the LALR parser one at a
time (`parse.tokens`), so `in` the block input is a NAME and `in` of a `for` is a keyword
exactly as the compiler sees them. Comments and line breaks are what lies between tokens.
Which lines begin a statement is read off the syntax tree, so the layout never guesses where
a statement continues.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from .. import syntax as S
from ..parse import parse, tokens

_COMMENT = re.compile(r"#[^\n]*")


@dataclass(slots=True)
class Tok:
    type: str
    value: str
    line: int  # 1-based
    col: int  # 0-based, in the original text


@dataclass(slots=True)
class Line:
    """One physical line of the original text."""

    number: int  # 1-based
    indent: int  # the original indentation
    toks: list[int] = field(default_factory=list)  # indices into the token list
    comment: str | None = None
    comment_col: int = 0  # original column of the comment
    starts_statement: bool = False


@dataclass(slots=True)
class Source:
    toks: list[Tok]
    lines: list[Line]
    comments: list[str]  # every comment, in order: what formatting must keep
    starts: set[tuple[int, int]]  # (line, 0-based column) of every statement's first token


def read(text: str) -> Source:
    """Lines of a spec that `parse.parse` has accepted."""
    starts = {(span.line, span.col - 1) for span in statement_spans(parse(text))}
    raw = text.split("\n")
    lines = [Line(i + 1, len(s) - len(s.lstrip(" \t"))) for i, s in enumerate(raw)]
    offsets = [0]
    for s in raw:
        offsets.append(offsets[-1] + len(s) + 1)

    toks: list[Tok] = []
    for t in tokens(text):
        tok = Tok(t.type, str(t.value), t.line, t.column - 1)
        line = lines[tok.line - 1]
        if not line.toks:
            line.starts_statement = (tok.line, tok.col) in starts
        line.toks.append(len(toks))
        toks.append(tok)

    comments = []
    for m in _COMMENT.finditer(_blank_strings(text)):
        number = bisect.bisect_right(offsets, m.start()) - 1  # 0-based line index
        line = lines[number]
        line.comment = text[m.start():m.end()].rstrip()
        line.comment_col = m.start() - offsets[number]
        comments.append(line.comment)
    return Source(toks, lines, comments, starts)


def statement_spans(module: S.Module) -> list:
    """The span of every statement, item and train line, nested ones included."""
    spans = [module.header.span] if module.header else []
    todo = list(module.items)
    while todo:
        node = todo.pop()
        if isinstance(node, S.TrainStmt):
            spans.append(node.span)
            continue
        spans.append(node.span)
        if isinstance(node, S.BlockDecl | S.NetworkDecl | S.For | S.ObjectiveDecl):
            todo.extend(node.body)
        elif isinstance(node, S.If):
            todo.extend(node.then)
            todo.extend(node.orelse or [])
        elif isinstance(node, S.TrainDecl):
            todo.extend(node.stmts)
    return spans


def _blank_strings(text: str) -> str:
    """The text with string literals blanked, so a `#` inside one is not a comment."""
    return re.sub(r'"(?:[^"\\\n]|\\.)*"', lambda m: " " * len(m.group()), text)
