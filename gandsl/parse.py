"""Source text → syntax tree (`syntax.Module`), with Lark errors turned into diagnostics.

The grammar lives in `grammar.lark`; this module builds the LALR parser once per process (Lark
caches the tables on disk) with `syntax_build.Builder` as its inline transformer, so the
syntax tree is built as the parser reduces, and maps Lark's exceptions to `E001`–`E005` with
the expected tokens spelled as a user writes them.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path

from lark import Lark, Token
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from . import limits
from . import syntax as S
from .diagnostics import Diagnostics, GandslError, Span
from .syntax_build import STATE, Builder, number_value

MAX_SOURCE_BYTES = limits.SOURCE_BYTES.value
MAX_DEPTH = limits.DEPTH.value

_GRAMMAR = Path(__file__).with_name("grammar.lark")


@functools.cache
def _parser() -> Lark:
    return Lark(
        _GRAMMAR.read_text(),
        parser="lalr",
        transformer=Builder(),  # the syntax tree is built as the parser reduces
        keep_all_tokens=True,  # spans include keywords and brackets
        maybe_placeholders=True,
        cache=True,  # tables are keyed by grammar hash in the temp dir; saves ~0.1 s per process
    )


def parse(source: str, path: str = "<spec>", file: int = 0) -> S.Module:
    """Parse a spec (or, `file` > 0, a file it imports: its places carry that index).
    Raises `GandslError` with every independent syntax error found.

    The limits (`gandsl.limits`) are checked before any recursive pass sees the text: the
    size first, then bracket nesting on the raw text, then (while building) the nesting of
    every node and the size of each expression."""
    diags = Diagnostics()
    size = len(source.encode())
    if size > MAX_SOURCE_BYTES:
        diags.error("E004", f"spec is {size:,} bytes; the limit is {MAX_SOURCE_BYTES:,}",
                    Span.point(1, 1))
        diags.raise_if_errors(source, path)
    _check_brackets(source, diags)
    diags.raise_if_errors(source, path)
    STATE.reset(diags, file)
    try:
        module = _parser().parse(source, on_error=_soft_keyword)
    except UnexpectedInput as first:
        # The first error is where the whole parse stopped. Items that start after it are
        # re-parsed alone (the rest blanked out, positions kept), so that independent syntax
        # errors in later items are reported too.
        _syntax_error(first, source, diags)
        for start_line, chunk in _top_level_chunks(source):
            if start_line <= first.line:
                continue
            STATE.reset(diags)
            try:
                _parser().parse(chunk, on_error=_soft_keyword)
            except UnexpectedInput as e:
                _syntax_error(e, chunk, diags)
        diags.raise_if_errors(source, path)
        raise AssertionError("unreachable") from None  # pragma: no cover
    diags.raise_if_errors(source, path)
    return module


def parse_partial(source: str, path: str = "<spec>") -> S.Module:
    """The top-level items of a spec that parse on their own, each parsed alone (the rest of
    the text blanked, so places stay the whole file's): what an editor can still outline in
    a spec with syntax errors. Never raises for the spec's errors."""
    if len(source.encode()) > MAX_SOURCE_BYTES:
        return S.Module(header=None, items=[])
    header, items = None, []
    for _, chunk in _top_level_chunks(source):
        diags = Diagnostics()
        _check_brackets(chunk, diags)
        if diags.items:
            continue
        STATE.reset(diags)
        try:
            module = _parser().parse(chunk, on_error=_soft_keyword)
        except UnexpectedInput:
            continue
        if diags.items:
            continue
        header = header or module.header
        items += module.items
    return S.Module(header=header, items=items)


# The words NAME never matches: the alternatives of its negative lookahead in grammar.lark.
RESERVED = frozenset(re.search(r"^NAME: /\(\?!\(([a-z|]+)\)", _GRAMMAR.read_text(),
                               re.MULTILINE).group(1).split("|"))
# Words of the grammar that are names wherever the grammar does not expect them (the
# reserved words are excluded from NAME itself). The contextual lexer reads them as keywords
# wherever some context of the merged LALR state could take them, so one that the parser
# then refuses is handed back as the name it is. (`every` after an expression continues it:
# `a every 4`; it names nothing there.)
SOFT_KEYWORDS = frozenset({"gan", "import", "extern", "layer", "function", "in", "by",
                           "minimizes", "maximizes", "batch", "steps", "per", "step", "grid"})


def _as_name(e: UnexpectedToken) -> Token | None:
    """The refused token as the NAME it is, when it is a soft keyword where a name fits."""
    token = e.token
    if token.value not in SOFT_KEYWORDS or token.type == "NAME" or \
            "NAME" not in (e.accepts or e.expected):
        return None
    return Token.new_borrow_pos("NAME", str(token), token)


def _soft_keyword(e: UnexpectedInput) -> bool:
    """Lark's error hook: a soft keyword where a name fits is fed as that name, and the parse
    resumes; anything else stays the error it is."""
    name = _as_name(e) if isinstance(e, UnexpectedToken) else None
    if name is None:
        return False
    e.interactive_parser.feed_token(name)
    return True


def tokens(source: str) -> Iterator[Token]:
    """The tokens of a spec that `parse` accepts, as the grammar's contextual lexer sees
    them (`in` the block input is a NAME, `in` of a `for` a keyword)."""
    STATE.reset(Diagnostics())
    parser = _parser().parse_interactive(source)
    for token in parser.lexer_thread.lex(parser.parser_state):
        try:
            parser.feed_token(token)
        except UnexpectedToken as e:  # a soft keyword where a name fits, as `parse` reads it
            token = _as_name(e)
            if token is None:
                raise
            parser.feed_token(token)
        yield token


# ---- errors ----------------------------------------------------------------------------

_FRIENDLY = {
    "NAME": "a name",
    "NUMBER": "a number",
    "STRING": "a string",
    "COMP_OP": "a comparison",
    "$END": "end of file",
}
# Shown first: the tokens a user most likely forgot.
_PRIORITY = ["`->`", "`)`", "`}`", "`]`", "`,`", "`=`", "`{`", "`(`", "a name", "a number"]


def _spell(term: str) -> str:
    if term in _FRIENDLY:
        return _FRIENDLY[term]
    try:
        pattern = _parser().get_terminal(term).pattern
    except KeyError:
        return term.lower()
    return f"`{pattern.value}`" if pattern.type == "str" else term.lower()


def _expected(names: set[str]) -> str:
    spelled = sorted({_spell(n) for n in names},
                     key=lambda s: (_PRIORITY.index(s) if s in _PRIORITY else 99, s))
    if len(spelled) > 6:
        spelled = spelled[:6] + ["…"]
    return ", ".join(spelled)


def _syntax_error(e: UnexpectedInput, text: str, diags: Diagnostics) -> None:
    line, col = max(e.line, 1), max(e.column, 1)
    if isinstance(e, UnexpectedCharacters):
        char = text[e.pos_in_stream] if e.pos_in_stream < len(text) else "?"
        if unicodedata.decimal(char, None) is not None:  # `３`, `٣`: a digit, but not 0-9
            diags.error("E001", f"{_spell_char(char, named=True)} is not an ASCII digit",
                        Span.point(line, col), hint="numbers are written with the digits 0-9")
            return
        if char == '"':
            diags.error("E002", "unterminated string: this `\"` has no closing `\"` on its line",
                        Span.point(line, col), hint="a string ends on the line it starts")
            return
        diags.error("E002", f"unexpected character {_spell_char(char)}", Span.point(line, col),
                    hint=_char_hint(char))
        return
    token = getattr(e, "token", None)
    expected = getattr(e, "expected", None) or set()
    if isinstance(e, UnexpectedEOF) or (isinstance(token, Token) and token.type == "$END"):
        opened = _unclosed_brace(text)
        span = Span.point(*opened) if opened else _end_span(text)
        msg = "unexpected end of file"
        if opened:
            msg += "; this `{` is never closed"
        diags.error("E003", msg, span, hint=f"expected {_expected(expected)}")
        return
    assert isinstance(e, UnexpectedToken)
    before = re.search(r"([A-Za-z_]\w*)\s*$", text.split("\n")[line - 1][:col - 1]) \
        if token.value == "=" else None
    if before and before.group(1) == "every":  # `every = 2` after a statement: a lazy term
        start = before.start(1) + 1
        diags.error("E001", "`every` after an expression makes it a lazy term; it cannot name "
                    "a value here", Span(line, start, line, start + 4), hint="choose another name")
        return
    width = max(1, len(str(token.value)))
    span = Span(line, col, line, col + width - 1)
    rest = text[token.end_pos:token.end_pos + 16] if token.end_pos is not None else ""
    diags.error("E001", f"unexpected {_describe(token)}; expected {_expected(expected)}", span,
                hint=_token_hint(token, expected, rest))


def _describe(token: Token) -> str:
    kind = {"NAME": "name", "NUMBER": "number", "STRING": "string"}.get(token.type)
    return f"{kind} `{token.value}`" if kind else f"`{token.value}`"


def _token_hint(token: Token, expected: set[str], rest: str = "") -> str | None:
    """`rest`: the text after the token."""
    spelled = {_spell(n) for n in expected}
    if token.value in RESERVED and re.match(r"\s*=(?!=)", rest):
        return f"`{token.value}` is a reserved word and cannot name a value"
    if token.type == "NAME" and "`->`" in spelled:
        return f"to apply `{token.value}` to the value before it, write `-> {token.value}`"
    if token.value == "=" and "`(`" not in spelled:
        return "`=` binds a name at the start of a statement; compare with `==`"
    if token.value in ("{", "}") and "`}`" in spelled:
        return "a `(` or `[` before this point is not closed"
    return None


def _spell_char(char: str, named: bool = False) -> str:
    """A character as a message can show it: invisible ones (and, when `named`, any
    non-ASCII one) by code point and name too."""
    name = unicodedata.name(char, "").lower()
    code = f"U+{ord(char):04X}"
    if char.isprintable() and not char.isspace():
        if named and not char.isascii():
            return f"`{char}` ({code}{', ' + name if name else ''})"
        return f"`{char}`"
    return code + (f" ({name})" if name else "")


def _char_hint(char: str) -> str | None:
    if char == "\ufeff":
        return "a byte order mark: save the file as UTF-8 without one"
    if not char.isprintable() or char.isspace():
        return "an invisible character: delete it (and retype the space around it)"
    return {
        "'": "strings use double quotes",
        "&": "use `and`",
        "!": "use `not` (or `!=` to compare)",
        "@": "layer options are keyword arguments, e.g. `conv(64, 3, sn=true)`",
    }.get(char)


_SKIP = re.compile(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*')


def blanked(text: str) -> str:
    """`text` with its strings and comments turned to spaces: brackets and keywords in them
    no longer count, and every other character keeps its place."""
    return _SKIP.sub(lambda m: " " * len(m.group()), text)


def _unclosed_brace(text: str) -> tuple[int, int] | None:
    stack: list[tuple[int, int]] = []
    for lineno, line in enumerate(text.split("\n"), 1):
        clean = blanked(line)
        for colno, ch in enumerate(clean, 1):
            if ch == "{":
                stack.append((lineno, colno))
            elif ch == "}" and stack:
                stack.pop()
    return stack[-1] if stack else None


def _end_span(text: str) -> Span:
    lines = text.split("\n")
    return Span.point(len(lines), len(lines[-1]) + 1)


_TOP_KEYWORDS = re.compile(
    r"^(gan|import|param|let|data|block|network|frozen|objective|train|if)\b")


def _top_level_chunks(source: str) -> list[tuple[int, str]]:
    """(first line, text) of each top-level item: a copy of the source with everything else
    blanked to spaces, so positions stay those of the whole file."""
    starts: list[tuple[int, int]] = []
    depth = 0
    offset = 0
    for lineno, line in enumerate(source.split("\n"), 1):
        line += "\n"
        clean = blanked(line)
        if depth == 0 and _TOP_KEYWORDS.match(clean):
            starts.append((lineno, offset))
        depth = max(0, depth + clean.count("{") - clean.count("}"))
        offset += len(line)
    starts.append((0, len(source)))
    blank = re.sub(r"[^\n]", " ", source)
    return [(line, blank[:a] + source[a:b] + blank[b:])
            for (line, a), (_, b) in zip(starts, starts[1:], strict=False)]


_BRACKETS = re.compile(r"[()\[\]{}]")


def _check_brackets(source: str, diags: Diagnostics) -> None:
    """Brackets nested deeper than the limit, found on the text itself (strings and comments
    blanked): parentheses around one value leave no trace in the parse tree."""
    clean = blanked(source)
    depth = 0
    for m in _BRACKETS.finditer(clean):
        if m.group() in "([{":
            depth += 1
            if depth > MAX_DEPTH:
                start = m.start()
                line = clean.count("\n", 0, start) + 1
                col = start - clean.rfind("\n", 0, start)
                diags.error("E004", f"brackets nested deeper than {MAX_DEPTH} levels",
                            Span.point(line, col), hint="split the expression into named steps")
                return
        elif depth:
            depth -= 1


__all__ = ["parse", "parse_partial", "tokens", "blanked", "number_value", "GandslError"]
