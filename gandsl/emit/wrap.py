"""Keep every line of a generated module within 100 columns, the way a person would break it.

The emitters write one statement per line; most fit. A line that does not is broken here, after
rendering, so that no emitter has to know how long its names and numbers will be:

- code is broken inside its brackets: the arguments of the call (or items of the literal) that
  runs to the end of the line go on the lines after it, packed, four columns in; a statement
  with no such bracket (a long sum) is wrapped in parentheses and broken before its top-level
  `+` and `-`. A piece still too long is broken the same way, one level deeper;
- docstring lines are refilled at spaces, with their indentation;
- a trailing comment moves to a line of its own above its statement; comment lines are left
  alone (the emitters keep them short).
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator

WIDTH = 100
_OPEN, _CLOSE = "([{", ")]}"


def wrap_module(text: str, width: int = WIDTH) -> str:
    out: list[str] = []
    in_doc = False
    for line in text.split("\n"):
        quotes = line.count('"""')
        if in_doc or line.lstrip().startswith('"""'):
            out += _wrap_doc(line, width) if len(line) > width else [line]
        elif len(line) > width and not line.lstrip().startswith("#"):
            out += wrap_code(line, width)
        else:
            out.append(line)
        if quotes % 2:
            in_doc = not in_doc
    return "\n".join(out)


def _wrap_doc(line: str, width: int) -> list[str]:
    indent = line[:len(line) - len(line.lstrip())]
    return textwrap.wrap(line.strip(), width, initial_indent=indent, subsequent_indent=indent,
                         break_long_words=False, break_on_hyphens=False) or [line]


def wrap_code(line: str, width: int = WIDTH) -> list[str]:
    """One statement, broken into lines of at most `width` columns where its brackets allow."""
    if len(line) <= width:
        return [line]
    indent = line[:len(line) - len(line.lstrip())]
    body, comment = _comment(line.strip())
    if comment:  # a trailing comment goes on a line of its own, above its statement
        return [indent + comment, *wrap_code(indent + body, width)]
    span = _trailing_bracket(body)
    if span is not None:
        start, end = span
        head, inner, tail = body[:start + 1], body[start + 1:end], body[end:]
        items = _split(inner, ",")
        if len(indent + head) <= width and (len(items) > 1 or _has_bracket(inner)):
            pieces = [p.strip() + ("," if k < len(items) - 1 else "")
                      for k, p in enumerate(items)]
            return [indent + head, *_pack(pieces, indent + "    ", width, tail)]
    # `name = a + b + c`: parenthesize the right-hand side and break before + and -
    target, sep, value = _assignment(body)
    terms = _split_sum(value)
    if len(terms) > 1:
        first = f"{indent}{target}{sep}("
        inner_indent = " " * len(first)
        lines = _pack(terms, inner_indent, width, ")", first=first)
        return lines
    return [line]  # nothing to break at: left as it is


def _pack(pieces: list[str], indent: str, width: int, tail: str,
          first: str = "") -> list[str]:
    """Pieces joined by spaces onto as few lines as fit (the first line starting with
    `first`, the others with `indent`), `tail` after the last; a piece too long for a line
    of its own is broken further."""
    lines: list[str] = []
    current, bare = first, True  # bare: nothing but `first` on the current line yet
    for k, piece in enumerate(pieces):
        text = piece + (tail if k == len(pieces) - 1 else "")
        joined = current + text if bare else current + " " + text
        if bare and not first:
            joined = indent + text
        if len(joined) <= width:
            current, bare = joined, False
            continue
        if not bare or first:
            lines.append(current.rstrip())
        broken = wrap_code(indent + text, width)
        lines += broken[:-1]
        current, bare = broken[-1], False
    if current and not bare:
        lines.append(current)
    return lines


def _scan(s: str) -> Iterator[tuple[int, str, int]]:
    """(index, character, bracket depth before it) of every character outside strings."""
    depth, quote = 0, None
    for i, ch in enumerate(s):
        if quote:
            if ch == quote and s[i - 1] != "\\":
                quote = None
            continue
        if ch in "\"'":
            quote = ch
            continue
        yield i, ch, depth
        depth += (ch in _OPEN) - (ch in _CLOSE)


def _trailing_bracket(s: str) -> tuple[int, int] | None:
    """(open, close) of the outermost bracket pair whose close ends the statement (but for a
    trailing `)`, `,` or `:`), choosing the one that opens first."""
    stack: list[int] = []
    pairs: dict[int, int] = {}
    for i, ch, _ in _scan(s):
        if ch in _OPEN:
            stack.append(i)
        elif ch in _CLOSE and stack:
            pairs[stack.pop()] = i
    rest = set(",:)")
    for start in sorted(pairs):
        end = pairs[start]
        if all(c in rest for c in s[end + 1:].replace(" ", "")) and end - start > 2:
            return start, end
    return None


def _split(s: str, sep: str) -> list[str]:
    """`s` split at `sep` outside brackets and strings."""
    cuts = [i for i, ch, depth in _scan(s) if ch == sep and depth == 0]
    parts = [s[a + 1:b] for a, b in zip([-1, *cuts], [*cuts, len(s)], strict=True)]
    return [p for p in parts if p.strip()]


def _split_sum(s: str) -> list[str]:
    """`a + b * c - d` → [`a`, `+ b * c`, `- d`]: the top-level terms, signs leading."""
    cuts = [i for i, ch, depth in _scan(s) if ch in "+-" and depth == 0
            and s[i - 1:i] == " " and s[i + 1:i + 2] == " "]
    terms = [s[a:b].strip() for a, b in zip([0, *cuts], [*cuts, len(s)], strict=True)]
    return [t for t in terms if t]


def _assignment(s: str) -> tuple[str, str, str]:
    """(`target`, ` = `, value) of `target = value`, or ("", "", s)."""
    head, sep, value = s.partition(" = ")
    if sep and all(ch.isalnum() or ch in "_.[]\"', " for ch in head):
        return head, sep, value
    if s.startswith("return "):
        return "return", " ", s[len("return "):]
    return "", "", s


def _comment(s: str) -> tuple[str, str]:
    """(code, `# comment`) of a line; the comment is "" when there is none."""
    for i, ch, _ in _scan(s):
        if ch == "#":
            return s[:i].rstrip(), s[i:]
    return s, ""


def _has_bracket(s: str) -> bool:
    return any(ch in s for ch in _OPEN)
