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

import ast
import re
import textwrap
from collections.abc import Iterator

WIDTH = 100
_OPEN, _CLOSE = "([{", ")]}"


def wrap_module(text: str, width: int = WIDTH) -> str:
    """Every long line broken; a code line whose breaking would change what the statement
    means is left whole: a long line is better than a wrong one. A `\"\"\"` opens or closes
    a docstring: string values never hold one (`naming.literal`)."""
    out: list[str] = []
    in_doc = False
    for line in text.split("\n"):
        # a comment may quote `"""` (a spec's title): only code opens or closes a docstring
        quotes = 0 if line.lstrip().startswith("#") else line.count('"""')
        if len(line) <= width or line.lstrip().startswith("#"):
            out.append(line)
        elif in_doc or line.lstrip().startswith('"""'):
            out.extend(_wrap_doc(line, width))
        else:
            broken = wrap_code(line, width)
            out.extend(broken if _statement(broken) == _statement([line]) is not None
                       else [line])
        if quotes % 2:
            in_doc = not in_doc
    return "\n".join(out)


def _statement(lines: list[str]) -> str | None:
    """The syntax tree of one statement, parsed alone: as it is, as a compound statement's
    header (with a `pass` body), as a dict entry or as call arguments (a line of a literal
    or call the template opened); None when it does not parse."""
    code = textwrap.dedent("\n".join(lines))
    for attempt in (code, code + "\n    pass", "{\n" + code + "\n}", "f(\n" + code + "\n)"):
        try:
            return ast.dump(ast.parse(attempt))
        except SyntaxError:
            continue
    return None


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
        terms = split_sum(inner) if len(items) == 1 and head.endswith("(") else []
        if len(indent + head) <= width and len(terms) > 1:
            # `a * (b + c)`: the sum breaks inside its own parentheses, before + and -
            return [indent + head, *_pack(terms, indent + "    ", width, tail)]
        if len(indent + head) <= width and (len(items) > 1 or _has_bracket(inner)):
            pieces = [p.strip() + ("," if k < len(items) - 1 else "")
                      for k, p in enumerate(items)]
            return [indent + head, *_pack(pieces, indent + "    ", width, tail)]
    # `name = a + b + c`: parenthesize the right-hand side and break before + and -; a
    # trailing comma (an argument of an outer call) stays outside the parentheses
    target, sep, value = _assignment(body)
    comma = "," if value.endswith(",") else ""
    terms = split_sum(value.removesuffix(","))
    if len(terms) > 1:
        first = f"{indent}{target}{sep}("
        return _pack(terms, " " * len(first), width, ")" + comma, first=first)
    return [line]  # nothing to break at: left as it is


def _pack(pieces: list[str], indent: str, width: int, tail: str,
          first: str = "") -> list[str]:
    """Pieces joined by spaces onto as few lines as fit (the first line starting with
    `first`, the others with `indent`), `tail` after the last; a piece too long for a line
    of its own is broken further."""
    lines: list[str] = []
    current, bare = first, True  # bare: nothing but `first` on the current line yet
    for k, piece in enumerate(pieces):
        end = tail if k == len(pieces) - 1 else ""
        text = piece + end
        joined = current + text if bare else current + " " + text
        if bare and not first:
            joined = indent + text
        if len(joined) <= width:
            current, bare = joined, False
            continue
        if not bare or first:
            lines.append(current.rstrip())
        broken = wrap_code(indent + piece, width)  # the tail goes after what it closes
        if len(broken[-1] + end) > width and set(end) <= set("),"):
            # the closing brackets push it over: break the piece with them
            broken = wrap_code(indent + piece + end, width)
            end = ""
        lines += broken[:-1]
        current, bare = broken[-1] + end, False
    if current and not bare:
        lines.append(current)
    return lines


def _scan(s: str) -> Iterator[tuple[int, str, int]]:
    """(index, character, bracket depth before it) of every character outside strings."""
    depth, quote, escaped = 0, None, False
    for i, ch in enumerate(s):
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
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


def split_sum(s: str) -> list[str]:
    """`a + b * c - d` → [`a`, `+ b * c`, `- d`]: the top-level terms, signs leading."""
    cuts = [i for i, ch, depth in _scan(s) if ch in "+-" and depth == 0
            and s[i - 1:i] == " " and s[i + 1:i + 2] == " "]
    terms = [s[a:b].strip() for a, b in zip([0, *cuts], [*cuts, len(s)], strict=True)]
    return [t for t in terms if t]


_HEADS = re.compile(r'(?P<head>return|[\w.\[\]"\', ]+?(?= = )|"[^"]*"(?=: )|\w+(?==[^=]))'
                    r"(?P<sep> = |: |=| )")


def _assignment(s: str) -> tuple[str, str, str]:
    """(head, separator, value) of `target = value`, `return value`, a dict entry
    `"key": value` or a keyword argument `name=value`; else ("", "", s)."""
    m = _HEADS.match(s)
    if m is None or (m["head"] == "return") != (m["sep"] == " "):
        return "", "", s
    return m["head"], m["sep"], s[m.end():]


def _comment(s: str) -> tuple[str, str]:
    """(code, `# comment`) of a line; the comment is "" when there is none."""
    for i, ch, _ in _scan(s):
        if ch == "#":
            return s[:i].rstrip(), s[i:]
    return s, ""


def _has_bracket(s: str) -> bool:
    return any(ch in s for ch in _OPEN)
