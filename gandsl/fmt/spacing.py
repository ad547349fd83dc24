"""How many spaces go between two tokens on one line: the one canonical spelling of each line.

The rules are Python's (PEP 8) where the language looks like Python, and the specs' own
conventions elsewhere:
- one space around binary operators, `->`, `~`, `=` of a statement, `|`, comparisons and words;
- no space inside brackets, before `,` `:` `;`, around `.` `..` `^`, after a unary `-`, around
  `=` inside brackets (keyword arguments, block defaults), or before the `(` or `[` of a call,
  an index or a type's dimensions;
- `{ ... }` of a body on one line has a space inside, a group `{G_xy, G_yx}` none;
- a player option in `train` keeps a space before its arguments: `adam G (lr=2e-4)` (the
  arguments belong to the option, not to `G`), while `lr linear_decay(...)` is a call; so
  does an import: `import "lib/x.gan" (ch=64)`.
"""

from __future__ import annotations

from ..catalog import OPTIMIZERS, OPTIONS
from .lines import Source, Tok

PLAYER_OPTIONS = frozenset({*OPTIMIZERS, *OPTIONS})
_OPEN = ("(", "[")
_HUG = (".", "..", "^")
_BEFORE_NOTHING = (")", "]", ",", ";", ":")


def ends_operand(t: Tok) -> bool:
    """Can an expression end with this token (so that a `-` after it subtracts)?"""
    return t.type in ("NAME", "NUMBER", "STRING") or t.value in (")", "]", "true", "false")


def is_word(t: Tok) -> bool:
    """A word the grammar spells literally: `objective`, `else`, `minimizes`, `by`, ..."""
    return t.type != "NAME" and t.value.isalpha()


class Spacing:
    """Spaces before each token, from context that spans lines (brackets, unary minus)."""

    def __init__(self, src: Source) -> None:
        toks = src.toks
        self.toks = toks
        self.depth: list[int] = []  # open ( and [ (and group braces) before each token
        self.unary: list[bool] = []
        self.group: list[bool] = []  # a `{` or `}` of a group literal
        self.option_paren: list[bool] = []
        stack: list[str] = []  # open brackets: ( [, "{" for a body, "g" for a group
        for i, t in enumerate(toks):
            prev = toks[i - 1] if i else None
            self.depth.append(sum(1 for s in stack if s != "{"))
            self.unary.append(t.value == "-" and not (prev and ends_operand(prev)))
            is_group = False
            if t.value == "{":
                # a body's brace follows `)`, `]`, a name or a word such as `objective`
                is_group = prev is not None and not ends_operand(prev) and not is_word(prev)
                stack.append("g" if is_group else "{")
            elif t.value == "}":
                is_group = bool(stack) and stack.pop() == "g"
            elif t.value in _OPEN:
                stack.append(t.value)
            elif t.value in (")", "]") and stack:
                stack.pop()
            self.group.append(is_group)
            self.option_paren.append(t.value == "(" and i >= 2 and (
                toks[i - 1].type == "NAME" and toks[i - 2].type == "NAME"
                and toks[i - 2].value in PLAYER_OPTIONS
                and (toks[i - 2].line, toks[i - 2].col) in src.starts
                or toks[i - 1].type == "STRING" and toks[i - 2].value == "import"))
        self.depth.append(0)

    def before(self, i: int) -> int:
        """Spaces between token i − 1 and token i, when both are on one line."""
        a, b = self.toks[i - 1], self.toks[i]
        if b.value in _BEFORE_NOTHING or a.value in _OPEN:
            return 0
        if a.value in _HUG or b.value in _HUG or self.unary[i - 1]:
            return 0
        if (a.value == "=" and self.depth[i - 1]) or (b.value == "=" and self.depth[i]):
            return 0  # a keyword argument or a block parameter's default
        if (a.value == "{" and self.group[i - 1]) or (b.value == "}" and self.group[i]):
            return 0
        if a.value == "{" and b.value == "}":
            return 0
        if b.value in _OPEN and ends_operand(a) and a.value not in ("true", "false"):
            return 1 if self.option_paren[i] else 0
        return 1

    def join(self, indices: list[int], indent: int) -> tuple[str, list[int]]:
        """The text of a line's tokens, and each token's column in it."""
        parts: list[str] = []
        cols: list[int] = []
        col = indent
        for k, i in enumerate(indices):
            if k:
                gap = self.before(i)
                parts.append(" " * gap)
                col += gap
            cols.append(col)
            parts.append(self.toks[i].value)
            col += len(self.toks[i].value)
        return " " * indent + "".join(parts), cols

