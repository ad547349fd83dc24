"""`gandsl fmt`: one canonical layout for a spec, the meaning and every comment kept.

The formatter keeps the author's line breaks and rewrites what is between them:
- every line's tokens are spaced by `spacing.Spacing` (one spelling per construct);
- a statement's first line is indented two spaces per open body; a line that continues a
  statement keeps its alignment: it goes to the new column of the token it was aligned with
  on the statement's earlier lines (`->` under `->`, an argument under the first argument),
  else it moves with the statement, and it is always deeper than the statement;
- a comment on its own line takes the indentation of the code after it; trailing comments
  that were aligned (in one column, a few lines apart) stay so, and a lone one keeps its
  distance from its code;
- runs of blank lines become one; none after `{`, before `}` or at the ends of the file;
  line endings are the file's first line's (LF, or CRLF for a Windows file).

It only ever changes whitespace, and it checks that: the result must parse to the same syntax
tree (spans aside) with the same comments, or `FormatterBug` is raised and nothing is written.
"""

from __future__ import annotations

from ..diagnostics import GandslError
from ..parse import parse
from ..syntax import meaning
from .lines import Source, read
from .spacing import Spacing

INDENT = 2
COMMENT_GAP = 2  # spaces between code and a trailing comment, at least
ALIGN_WINDOW = 5  # trailing comments this many lines apart, or closer, may be aligned
# Tokens that may begin a continuation line as the operator that joins it to the line above.
_LEADING_OPERATORS = ("->", "+", "-", "*", "/", "//", "%", "|", "and", "or", "every")
# Tokens after which an operand begins: the columns a continuation line may align with.
_BEFORE_OPERAND = ("(", "[", ",", "=", "~", "{", ":", "return", "minimizes", "maximizes")


class FormatterBug(Exception):
    """The formatted text would not mean what the source means: a bug, never written."""


def format_source(text: str, path: str = "<spec>") -> str:
    """The canonical layout of a spec. Raises `GandslError` when the spec does not parse."""
    module = parse(text, path)
    src = read(text)
    out = _Layout(src).text()
    first = text.find("\n")
    if first > 0 and text[first - 1] == "\r":  # a Windows file keeps its line endings
        out = out.replace("\n", "\r\n")
    try:
        same = meaning(parse(out, path)) == meaning(module) and read(out).comments == \
            src.comments
    except GandslError:
        same = False
    if not same:
        raise FormatterBug(f"formatting {path} would change what it means; it is left as it "
                           "was (please report this with the file)")
    return out


class _Layout:
    def __init__(self, src: Source) -> None:
        self.src = src
        self.spacing = Spacing(src)
        n = len(src.lines)
        self.code: list[str | None] = [None] * n  # the formatted tokens of each line
        self.indent: list[int] = [0] * n
        self.col: dict[int, int] = {}  # token index → its new column
        self.opens: list[bool] = [False] * n  # the line ends with a body's `{`
        self.closes: list[bool] = [False] * n  # the line starts with a body's `}`

    def text(self) -> str:
        self._code_lines()
        comments = self._comment_columns()
        out: list[str] = []
        blank = False
        last = None  # index of the last line written
        for k, line in enumerate(self.src.lines):
            if self.code[k] is None and line.comment is None:
                blank = last is not None
                continue
            if blank and not self.opens[last] and not self.closes[k]:
                out.append("")
            blank = False
            last = k
            if self.code[k] is None:
                out.append(" " * self._comment_indent(k) + line.comment)
            elif line.comment is None:
                out.append(self.code[k])
            else:
                out.append(self.code[k].ljust(comments[k]) + line.comment)
        return "\n".join(out) + "\n" if out else ""

    def _code_lines(self) -> None:
        toks, sp = self.src.toks, self.spacing
        depth = 0  # open bodies
        statement: list[int] = []  # the lines of the statement being laid out
        for k, line in enumerate(self.src.lines):
            if not line.toks:
                continue
            first = toks[line.toks[0]]
            self.closes[k] = first.value == "}" and not sp.group[line.toks[0]]
            if self.closes[k]:
                indent = INDENT * max(depth - 1, 0)
                statement = [k]
            elif line.starts_statement or first.value == "else":
                indent = INDENT * depth
                statement = [k]
            else:
                indent = self._continuation(k, statement)
                statement.append(k)
            self.indent[k] = indent
            self.code[k], cols = sp.join(line.toks, indent)
            self.col.update(zip(line.toks, cols, strict=True))
            for i in line.toks:
                if not sp.group[i]:
                    depth += {"{": 1, "}": -1}.get(toks[i].value, 0)
            last = line.toks[-1]
            self.opens[k] = toks[last].value == "{" and not sp.group[last]

    def _continuation(self, k: int, statement: list[int]) -> int:
        """The new indentation of line k, which continues the statement of `statement`.

        It keeps an alignment the author made with the statement's earlier lines: an operator
        under the same operator (`->` under `->`), an operand under an operand (an argument
        under the first argument, `return a,` / `b`), a hanging operator left of the operand
        it lines up with (`+ 10 * gp` under `wgan_d(...)`), and a sum's `+ in` under its first
        term. Otherwise the line moves with its statement. Only `+ in` may stay at the
        statement's column; every other continuation is deeper than the statement."""
        toks = self.src.toks
        first = toks[self.src.lines[k].toks[0]]
        c = first.col
        head = statement[0] if statement else k
        deeper = self.indent[head] + INDENT
        wanted: list[tuple[int, bool, int, int]] = []  # (column, an operand?, shift, floor)
        if first.value in _LEADING_OPERATORS:
            wanted.append((c, False, 0, deeper))
            if first.value != "->":
                wanted.append((c, True, 0, self.indent[head]))
            wanted.append((c + len(first.value) + 1, True, len(first.value) + 1, deeper))
        else:
            wanted.append((c, True, 0, deeper))
        for col, operand, shift, floor in wanted:
            for j in reversed(statement):
                for i in self.src.lines[j].toks:
                    if toks[i].col == col and (self._operand_start(i) if operand
                                               else toks[i].value == first.value):
                        return max(self.col[i] - shift, floor)
        moved = self.indent[head] - self.src.lines[head].indent
        return max(c + moved, deeper)

    def _operand_start(self, i: int) -> bool:
        """Does token i begin an operand: a statement, an argument, a right-hand side?"""
        line = self.src.lines[self.src.toks[i].line - 1]
        if i == 0 or (line.toks[0] == i and line.starts_statement):
            return True
        return self.src.toks[i - 1].value in _BEFORE_OPERAND

    def _comment_indent(self, k: int) -> int:
        """A comment on its own line belongs to the code after it."""
        for j in range(k + 1, len(self.src.lines)):
            if self.code[j] is not None:
                return self.indent[j] + (INDENT if self.closes[j] else 0)
        return 0

    def _comment_columns(self) -> dict[int, int]:
        """Columns of trailing comments. Comments that were aligned (one column, each within
        `ALIGN_WINDOW` lines of the next) stay aligned, at that column or right of their
        longest code; a lone comment keeps its distance from its code (two spaces at least)."""
        lines = self.src.lines
        by_column: dict[int, list[int]] = {}
        for k, line in enumerate(lines):
            if self.code[k] is not None and line.comment is not None:
                by_column.setdefault(line.comment_col, []).append(k)
        columns: dict[int, int] = {}
        for col, ks in by_column.items():
            groups = [[ks[0]]]
            for k in ks[1:]:
                if k - groups[-1][-1] <= ALIGN_WINDOW:
                    groups[-1].append(k)
                else:
                    groups.append([k])
            for group in groups:
                if len(group) == 1:
                    k = group[0]
                    gap = col - self._code_end(k)
                    columns[k] = len(self.code[k]) + max(gap, COMMENT_GAP)
                else:
                    columns.update(dict.fromkeys(group, max(
                        col, *(len(self.code[k]) + COMMENT_GAP for k in group))))
        return columns

    def _code_end(self, k: int) -> int:
        """Where line k's code ended in the original text."""
        last = self.src.toks[self.src.lines[k].toks[-1]]
        return last.col + len(last.value)
