"""Source text → syntax tree (`syntax.Module`), with Lark errors turned into diagnostics.

The grammar lives in `grammar.lark`; this module builds the LALR parser once per process (Lark
caches the tables on disk), converts the parse tree with one transformer method per rule, and
maps Lark's exceptions to `E001`–`E004` with the expected tokens spelled as a user writes them.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from pathlib import Path

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from . import limits
from . import syntax as S
from .diagnostics import Diagnostics, GandslError, Span

MAX_SOURCE_BYTES = limits.SOURCE_BYTES.value
MAX_DEPTH = limits.DEPTH.value
MAX_OPERANDS = limits.OPERANDS.value
MAX_NUMBER_DIGITS = limits.NUMBER_DIGITS.value

_GRAMMAR = Path(__file__).with_name("grammar.lark")


@functools.cache
def _parser() -> Lark:
    return Lark(
        _GRAMMAR.read_text(),
        parser="lalr",
        propagate_positions=True,
        maybe_placeholders=True,
        cache=True,  # tables are keyed by grammar hash in the temp dir; saves ~0.1 s per process
    )


def parse(source: str, path: str = "<spec>") -> S.Module:
    """Parse a spec. Raises `GandslError` with every independent syntax error found.

    The limits (`gandsl.limits`) are checked before any recursive pass sees the text: the
    size first, then bracket nesting on the raw text, then the parse tree's depth and the
    size of each expression."""
    diags = Diagnostics()
    size = len(source.encode())
    if size > MAX_SOURCE_BYTES:
        diags.error("E004", f"spec is {size:,} bytes; the limit is {MAX_SOURCE_BYTES:,}",
                    Span.point(1, 1))
        diags.raise_if_errors(source, path)
    _check_brackets(source, diags)
    diags.raise_if_errors(source, path)
    try:
        tree = _parser().parse(source)
    except UnexpectedInput as first:
        # The first error is where the whole parse stopped. Items that start after it are
        # re-parsed alone (the rest blanked out, positions kept), so that independent syntax
        # errors in later items are reported too.
        _syntax_error(first, source, diags)
        for start_line, chunk in _top_level_chunks(source):
            if start_line <= first.line:
                continue
            try:
                _parser().parse(chunk)
            except UnexpectedInput as e:
                _syntax_error(e, chunk, diags)
        diags.raise_if_errors(source, path)
        raise AssertionError("unreachable") from None  # pragma: no cover
    _check_tree(tree, diags)
    diags.raise_if_errors(source, path)
    module = _ToSyntax(diags).transform(tree)
    diags.raise_if_errors(source, path)
    return module


def number_value(text: str) -> int | float:
    """The value of a number literal (`64`, `0.5`, `1e-4`, `200k`); `ValueError` with the
    reason when it is longer than the limit or beyond a 64-bit float."""
    digits = sum(ch in "0123456789" for ch in text)
    if digits > MAX_NUMBER_DIGITS:
        raise ValueError(f"a number of {digits:,} digits; the limit is {MAX_NUMBER_DIGITS}")
    value = _number(text)
    if isinstance(value, float) and math.isinf(value):
        raise ValueError(f"`{text}` is beyond the largest number (about 1.8e308)")
    return value


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
    width = max(1, len(str(token.value)))
    span = Span(line, col, line, col + width - 1)
    diags.error("E001", f"unexpected {_describe(token)}; expected {_expected(expected)}", span,
                hint=_token_hint(token, expected))


def _describe(token: Token) -> str:
    kind = {"NAME": "name", "NUMBER": "number", "STRING": "string"}.get(token.type)
    return f"{kind} `{token.value}`" if kind else f"`{token.value}`"


def _token_hint(token: Token, expected: set[str]) -> str | None:
    spelled = {_spell(n) for n in expected}
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


def _unclosed_brace(text: str) -> tuple[int, int] | None:
    stack: list[tuple[int, int]] = []
    for lineno, line in enumerate(text.split("\n"), 1):
        clean = _SKIP.sub(lambda m: " " * len(m.group()), line)
        for colno, ch in enumerate(clean, 1):
            if ch == "{":
                stack.append((lineno, colno))
            elif ch == "}" and stack:
                stack.pop()
    return stack[-1] if stack else None


def _end_span(text: str) -> Span:
    lines = text.split("\n")
    return Span.point(len(lines), len(lines[-1]) + 1)


_TOP_KEYWORDS = re.compile(r"^(gan|param|let|data|block|network|frozen|objective|train|if)\b")


def _top_level_chunks(source: str) -> list[tuple[int, str]]:
    """(first line, text) of each top-level item: a copy of the source with everything else
    blanked to spaces, so positions stay those of the whole file."""
    starts: list[tuple[int, int]] = []
    depth = 0
    offset = 0
    for lineno, line in enumerate(source.split("\n"), 1):
        line += "\n"
        clean = _SKIP.sub(lambda m: " " * len(m.group()), line)
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
    clean = _SKIP.sub(lambda m: " " * len(m.group()), source)
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


# Parse-tree rules (and aliases) that are parts of an expression; any other rule is a
# statement or declaration, and each expression directly under one is counted on its own.
_EXPRESSION_RULES = frozenset({
    "or_test", "and_test", "not_op", "comparison", "union", "sum", "labeled", "every", "chain",
    "product", "neg", "power", "call", "attr", "index", "stage_name", "stage_call",
    "arguments", "pos_arg", "kw_arg", "number", "string", "name", "true", "false", "tuple",
    "list", "group", "add_op", "mul_op"})
_OPERANDS = frozenset({"number", "string", "name", "true", "false"})


def _check_tree(tree: Tree, diags: Diagnostics) -> None:
    """Nesting depth and the size of each expression, without recursion."""
    counts: dict[int, int] = {}  # id of an expression's root → operands so far
    roots: dict[int, Tree] = {}
    stack: list[tuple[Tree, int, int | None]] = [(tree, 1, None)]
    while stack:
        node, depth, root = stack.pop()
        if depth > MAX_DEPTH:
            diags.error("E004", f"nesting deeper than {MAX_DEPTH} levels", _start(node),
                        hint="split the expression into named steps")
            return
        if node.data in _EXPRESSION_RULES:
            if root is None:
                root = id(node)
                roots[root] = node
            if node.data in _OPERANDS:
                counts[root] = counts.get(root, 0) + 1
            elif node.data == "group":
                counts[root] = counts.get(root, 0) + len(node.children)
        else:
            root = None
        stack.extend((c, depth + 1, root) for c in node.children if isinstance(c, Tree))
    for root, n in counts.items():
        if n > MAX_OPERANDS:
            diags.error("E004", f"this expression has {n:,} operands (names, numbers and "
                        f"strings); the limit is {MAX_OPERANDS:,}", _start(roots[root]),
                        hint="split it into named values")


def _start(node: Tree) -> Span:
    meta = node.meta
    return Span.point(getattr(meta, "line", 1), getattr(meta, "column", 1))


# ---- parse tree → syntax tree ----------------------------------------------------------


def _span(meta) -> Span:
    return Span(meta.line, meta.column, meta.end_line, max(meta.column, meta.end_column - 1))


def _tspan(tok: Token) -> Span:
    return Span(tok.line, tok.column, tok.end_line, max(tok.column, tok.end_column - 1))


def _number(text: str) -> int | float:
    scale = {"k": 1_000, "M": 1_000_000}.get(text[-1], 1)
    body = text[:-1] if scale != 1 else text
    if re.fullmatch(r"\d+", body):
        return int(body) * scale
    value = float(body) * scale
    return int(value) if scale != 1 and value.is_integer() else value


def _unquote(text: str) -> str:
    escapes = {"n": "\n", "t": "\t"}
    return re.sub(r"\\(.)", lambda m: escapes.get(m.group(1), m.group(1)), text[1:-1])


@v_args(meta=True)
class _ToSyntax(Transformer):
    """One method per grammar rule; each returns a `syntax` object with its span. A number
    literal out of range is reported to `diags` (a transformer must not raise: Lark would
    wrap the exception)."""

    def __init__(self, diags: Diagnostics) -> None:
        super().__init__()
        self.diags = diags

    # -- top level
    def start(self, meta, children):
        header = children[0] if children and isinstance(children[0], S.Header) else None
        items = [c for c in children if c is not None and not isinstance(c, S.Header)]
        return S.Module(header, items)

    def header(self, meta, c):
        return S.Header(str(c[0]), _unquote(c[1]) if c[1] is not None else None, _span(meta))

    def empty(self, meta, c):
        return None

    def param_decl(self, meta, c):
        return S.ParamDecl(_span(meta), str(c[0]), _tspan(c[0]), c[1])

    def let_decl(self, meta, c):
        return S.Let(_span(meta), str(c[0]), _tspan(c[0]), c[1])

    def data_source(self, meta, c):
        return S.DataDecl(_span(meta), str(c[0]), _tspan(c[0]), list(c[1:-1]), c[-1])

    def data_alias(self, meta, c):
        return S.DataDecl(_span(meta), str(c[0]), _tspan(c[0]), [], c[1])

    def top_if(self, meta, c):
        cond, *rest = c
        orelse = None
        if rest and isinstance(rest[-1], _Else):
            orelse = rest.pop().items
        return S.If(_span(meta), cond, [x for x in rest if x is not None], orelse)

    def top_else(self, meta, c):
        return _Else([x for x in c if x is not None])

    # -- types
    def type(self, meta, c):
        return S.TypeExpr(str(c[0]), [d for d in c[1:] if d is not None], _span(meta))

    # -- blocks and networks
    def block_decl(self, meta, c):
        name, params, body = c
        return S.BlockDecl(_span(meta), str(name), _tspan(name), params or [], body)

    def block_params(self, meta, c):
        return list(c)

    def block_param(self, meta, c):
        return S.BlockParam(str(c[0]), c[1], _tspan(c[0]))

    def network(self, meta, c):
        frozen = isinstance(c[0], Token) and c[0].type == "FROZEN"
        if frozen:
            c = c[1:]
        name, inputs, outputs, body = c
        return S.NetworkDecl(_span(meta), str(name), _tspan(name), inputs or [], outputs, body,
                             frozen)

    def network_copy(self, meta, c):
        return S.NetworkCopy(_span(meta), str(c[0]), _tspan(c[0]), str(c[1]), _tspan(c[1]))

    def labeled(self, meta, c):
        return S.Labeled(_span(meta), str(c[0]), _tspan(c[0]), c[1])

    def typed_args(self, meta, c):
        return list(c)

    def typed_arg(self, meta, c):
        return S.TypedName(str(c[0]), c[1], _tspan(c[0]))

    def single_output(self, meta, c):
        return [S.TypedName("", c[0], c[0].span)]

    def named_outputs(self, meta, c):
        return c[0]

    def body(self, meta, c):
        return [x for x in c if x is not None]

    # -- statements
    def assign(self, meta, c):
        targets, values = c[0], c[1:]
        value = values[0] if len(values) == 1 else S.TupleLit(
            values[0].span.to(values[-1].span), list(values))
        return S.Assign(_span(meta), targets, value)

    def sample(self, meta, c):
        return S.Sample(_span(meta), c[0], c[1])

    def minimize(self, meta, c):
        return S.Minimize(_span(meta), str(c[0]), _tspan(c[0]), c[1], False)

    def maximize(self, meta, c):
        return S.Minimize(_span(meta), str(c[0]), _tspan(c[0]), c[1], True)

    def targets(self, meta, c):
        return list(c)

    def expr_stmt(self, meta, c):
        return S.ExprStmt(_span(meta), c[0])

    def for_stmt(self, meta, c):
        return S.For(_span(meta), str(c[0]), _tspan(c[0]), c[1], c[2])

    def iter_expr(self, meta, c):
        return c[0]

    def iter_range(self, meta, c):
        return S.Range(c[0], c[1], c[2], _span(meta))

    def if_stmt(self, meta, c):
        cond, then, orelse = c
        return S.If(_span(meta), cond, then, orelse)

    def else_part(self, meta, c):
        return [c[0]] if isinstance(c[0], S.If) else c[0]

    def return_stmt(self, meta, c):
        return S.Return(_span(meta), list(c))

    # -- objective and train
    def objective(self, meta, c):
        return S.ObjectiveDecl(_span(meta), c[0])

    def train(self, meta, c):
        return S.TrainDecl(_span(meta), [x for x in c if x is not None])

    def t_batch(self, meta, c):
        return S.TrainStmt("batch", _span(meta), value=c[0])

    def t_steps(self, meta, c):
        return S.TrainStmt("steps", _span(meta), value=c[0])

    def t_ratio(self, meta, c):
        a, n, b, condition = c
        return S.TrainStmt("ratio", _span(meta), [(str(a), _tspan(a)), (str(b), _tspan(b))], n,
                           condition=condition)

    def t_option(self, meta, c):
        a, b, (args, kwargs) = c[0], c[1], _split_args(c[2])
        return S.TrainStmt("option", _span(meta), [(str(a), _tspan(a)), (str(b), _tspan(b))],
                           None, args, kwargs)

    def t_player_fn(self, meta, c):
        a, b, f, (args, kwargs) = c[0], c[1], c[2], _split_args(c[3])
        words = [(str(t), _tspan(t)) for t in (a, b, f)]
        return S.TrainStmt("player_fn", _span(meta), words, None, args, kwargs)

    # -- expressions
    def or_test(self, meta, c):
        return S.BoolOp(_span(meta), "or", list(c))

    def and_test(self, meta, c):
        return S.BoolOp(_span(meta), "and", list(c))

    def not_op(self, meta, c):
        return S.Not(_span(meta), c[0])

    def comparison(self, meta, c):
        return S.Compare(_span(meta), str(c[1]), c[0], c[2])

    def union(self, meta, c):
        return S.Union(_span(meta), list(c))

    def sum(self, meta, c):
        return S.BinOp(_span(meta), c[0], [(str(c[i]), c[i + 1]) for i in range(1, len(c), 2)])

    product = sum

    def add_op(self, meta, c):
        return str(c[0])

    mul_op = add_op

    def every(self, meta, c):
        return S.Every(_span(meta), c[0], c[1])

    def chain(self, meta, c):
        return S.Chain(_span(meta), c[0], list(c[1:]))

    def neg(self, meta, c):
        return S.Neg(_span(meta), c[0])

    def power(self, meta, c):
        return S.BinOp(_span(meta), c[0], [("^", c[1])])

    def call(self, meta, c):
        args, kwargs = _split_args(c[1])
        return S.Call(_span(meta), c[0], args, kwargs)

    def attr(self, meta, c):
        return S.Attr(_span(meta), c[0], str(c[1]))

    def index(self, meta, c):
        return S.Index(_span(meta), c[0], c[1])

    def stage_name(self, meta, c):
        return S.Stage(str(c[0]), [], [], _span(meta), _tspan(c[0]))

    def stage_call(self, meta, c):
        args, kwargs = _split_args(c[1])
        return S.Stage(str(c[0]), args, kwargs, _span(meta), _tspan(c[0]))

    def arguments(self, meta, c):
        return list(c)

    def pos_arg(self, meta, c):
        return c[0]

    def kw_arg(self, meta, c):
        return S.Kwarg(str(c[0]), c[1], _tspan(c[0]))

    def number(self, meta, c):
        text = str(c[0])
        try:
            value = number_value(text)
        except ValueError as e:
            self.diags.error("E005", str(e), _span(meta), hint="write a large or small value "
                             "with an exponent: `2.5e6`, `1e-12`")
            value = 0
        return S.Num(_span(meta), value, text)

    def string(self, meta, c):
        return S.Str(_span(meta), _unquote(str(c[0])))

    def name(self, meta, c):
        return S.Name(_span(meta), str(c[0]))

    def true(self, meta, c):
        return S.Bool(_span(meta), True)

    def false(self, meta, c):
        return S.Bool(_span(meta), False)

    def tuple(self, meta, c):
        return S.TupleLit(_span(meta), [x for x in c if x is not None])

    def list(self, meta, c):
        return S.ListLit(_span(meta), [x for x in c if x is not None])

    def group(self, meta, c):
        return S.GroupLit(_span(meta), [S.Name(_tspan(t), str(t)) for t in c])


class _Else:
    __slots__ = ("items",)

    def __init__(self, items):
        self.items = items


def _split_args(arguments) -> tuple[list[S.Expr], list[S.Kwarg]]:
    args: list[S.Expr] = []
    kwargs: list[S.Kwarg] = []
    for a in arguments or []:
        (kwargs if isinstance(a, S.Kwarg) else args).append(a)
    return args, kwargs


__all__ = ["parse", "number_value", "GandslError"]
