"""A parsed spec as physical lines: the tokens on each line, its comment, and its role.

The tokens come from the grammar's own contextual lexer, fed through the LALR parser one at a
time (`iter_parse`), so `in` the block input is a NAME and `in` of a `for` is a keyword exactly
as the compiler sees them. Comments and line breaks are what lies between tokens. Which lines
begin a statement is read off the parse tree, so the layout never guesses where a statement
continues.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from ..parse import _parser

# Parse-tree rules that are one statement (or item, or train line) each.
STATEMENTS = frozenset({
    "header", "param_decl", "let_decl", "data_source", "data_alias", "top_if", "block_decl",
    "network", "network_copy", "objective", "train", "assign", "sample", "minimize", "maximize",
    "for_stmt", "if_stmt", "return_stmt", "expr_stmt", "t_batch", "t_steps", "t_ratio",
    "t_option", "t_player_fn",
})
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
    starts = {(t.meta.line, t.meta.column - 1) for t in _parser().parse(text).iter_subtrees()
              if t.data in STATEMENTS and not t.meta.empty}
    raw = text.split("\n")
    lines = [Line(i + 1, len(s) - len(s.lstrip(" \t"))) for i, s in enumerate(raw)]
    offsets = [0]
    for s in raw:
        offsets.append(offsets[-1] + len(s) + 1)

    toks: list[Tok] = []
    for t in _parser().parse_interactive(text).iter_parse():
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


def _blank_strings(text: str) -> str:
    """The text with string literals blanked, so a `#` inside one is not a comment."""
    return re.sub(r'"(?:[^"\\\n]|\\.)*"', lambda m: " " * len(m.group()), text)
