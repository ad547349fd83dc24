"""Building the syntax tree while the LALR parser reduces: one method per grammar rule.

Lark calls these methods as it reduces (its inline-transformer mode), so no parse tree is
built and no second, recursive pass walks one: a deeply nested spec costs no Python stack
here. Every method receives all the tokens of its rule (`keep_all_tokens`), so a node's span
runs from its first token to its last, keywords and brackets included, as the source reads.

The same methods measure what `parse` bounds (`gandsl.limits`), bottom-up: each node's
height (levels of nesting below it) and, for expressions, how many operands it holds. A
node past a limit is reported once, and its ancestors stay quiet. A number literal out of
range is reported too. Reports go to the `Diagnostics` of the parse in progress.
"""

from __future__ import annotations

import math
import re
import threading

from lark import Token, Transformer

from . import limits
from . import syntax as S
from .diagnostics import Diagnostics, Span

MAX_DEPTH = limits.DEPTH.value
MAX_OPERANDS = limits.OPERANDS.value
MAX_NUMBER_DIGITS = limits.NUMBER_DIGITS.value
# Named terminals: the tokens a rule's method reads. Every other token is a keyword or a
# bracket, there only for the span.
_KEPT = frozenset({"NAME", "NUMBER", "STRING", "COMP_OP", "FROZEN", "EXTERN_KIND"})
_REPORTED = -1  # a height or count of a subtree already reported: its ancestors stay quiet
_TOO_DEEP = -2  # an expression nested too deep, reported at the start of the whole expression


class Seq(list):
    """A list result (a body, arguments, names) that knows where it is written."""

    __slots__ = ("span",)

    def __init__(self, items, span: Span | None) -> None:
        super().__init__(items)
        self.span = span


class _Paren:
    """`( expr )` while its parent is built: the parent's span takes in the parentheses, the
    expression's own span does not (a caret under a term points at the term)."""

    __slots__ = ("expr", "span")

    def __init__(self, expr, span: Span | None) -> None:
        self.expr, self.span = expr, span


class _Else:
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


def _parts(children) -> list:
    """The children a method reads: keywords, brackets and the placeholders of absent
    optional parts left out (a method tells what is there by the number of parts), and
    parenthesized expressions unwrapped."""
    return [x.expr if isinstance(x, _Paren) else x for x in children
            if x is not None and not (isinstance(x, Token) and x.type not in _KEPT)]


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


def _unquote(text: str) -> str:
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


def _measure(node, children, expression: bool, operands: int = 0):
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


def _expr(method):
    """A rule whose node is part of an expression."""
    def wrapped(self, c):
        return _measure(method(self, c), c, True)
    wrapped.__name__ = method.__name__
    return wrapped


def _stmt(method):
    """A rule whose node is a statement, declaration or list: it ends any expression below."""
    def wrapped(self, c):
        return _measure(method(self, c), c, False)
    wrapped.__name__ = method.__name__
    return wrapped


class Builder(Transformer):
    """One method per grammar rule (and alias); each returns the `syntax` object of its
    text, with its span."""

    # -- top level
    def start(self, c):
        c = _parts(c)
        header = c[0] if c and isinstance(c[0], S.Header) else None
        return S.Module(header, [x for x in c if not isinstance(x, S.Header)])

    @_stmt
    def header(self, c):
        name, *title = _parts(c)
        return S.Header(str(name), _unquote(title[0]) if title else None, span_of(c))

    def empty(self, c):
        return None

    @_stmt
    def import_decl(self, c):
        path, *arguments = _parts(c)
        args, kwargs = _split_args(arguments)
        if args:  # `import "x.gan" (64)`: a param is set by its name
            STATE.diags.error("E105", "an import sets the file's params by name: "
                              "`import \"x.gan\" (ch=64)`", args[0].span)
        return S.ImportDecl(span_of(c), _unquote(str(path)), tspan(path), kwargs)

    @_stmt
    def extern_decl(self, c):
        kind, name, *rest = _parts(c)
        params = list(rest[0]) if len(rest) == 3 else []
        result, target = rest[-2], rest[-1]
        return S.ExternDecl(span_of(c), str(kind), str(name), tspan(name), params, str(result),
                            tspan(result), _unquote(str(target)), tspan(target))

    @_stmt
    def extern_params(self, c):
        return Seq(_parts(c), span_of(c))

    @_stmt
    def extern_param(self, c):
        name, kind, *default = _parts(c)
        return S.ExternParam(str(name), str(kind), default[0] if default else None, tspan(name),
                             tspan(kind))

    @_stmt
    def param_decl(self, c):
        name, *choices, value = _parts(c)
        return S.ParamDecl(span_of(c), str(name), tspan(name), value,
                           choices[0] if choices else None)

    @_stmt
    def let_decl(self, c):
        name, value = _parts(c)
        return S.Let(span_of(c), str(name), tspan(name), value)

    @_stmt
    def data_source(self, c):
        p = _parts(c)
        return S.DataDecl(span_of(c), str(p[0]), tspan(p[0]), list(p[1:-1]), p[-1])

    @_stmt
    def data_alias(self, c):
        name, source = _parts(c)
        return S.DataDecl(span_of(c), str(name), tspan(name), [], source)

    @_stmt
    def top_if(self, c):
        cond, *rest = _parts(c)
        orelse = None
        if rest and isinstance(rest[-1], _Else):
            orelse = rest.pop().items
        return S.If(span_of(c), cond, rest, orelse)

    @_stmt
    def top_else(self, c):
        return _Else(_parts(c), span_of(c))  # items, or the one `if` of `else if`

    # -- types
    @_stmt
    def type(self, c):
        p = _parts(c)
        return S.TypeExpr(str(p[0]), p[1:], span_of(c))

    # -- blocks and networks
    @_stmt
    def block_decl(self, c):
        name, *params, body = _parts(c)
        return S.BlockDecl(span_of(c), str(name), tspan(name), list(params[0]) if params else [],
                           list(body))

    @_stmt
    def block_params(self, c):
        return Seq(_parts(c), span_of(c))

    @_stmt
    def block_param(self, c):
        name, *default = _parts(c)
        return S.BlockParam(str(name), default[0] if default else None, tspan(name))

    @_stmt
    def network(self, c):
        p = _parts(c)
        frozen = isinstance(p[0], Token) and p[0].type == "FROZEN"
        if frozen:
            p = p[1:]
        name, *inputs, outputs, body = p
        return S.NetworkDecl(span_of(c), str(name), tspan(name),
                             list(inputs[0]) if inputs else [], list(outputs), list(body), frozen)

    @_stmt
    def network_copy(self, c):
        name, source = _parts(c)
        return S.NetworkCopy(span_of(c), str(name), tspan(name), str(source), tspan(source))

    @_expr
    def labeled(self, c):
        label, expr = _parts(c)
        return S.Labeled(span_of(c), str(label), tspan(label), expr)

    @_stmt
    def typed_args(self, c):
        return Seq(_parts(c), span_of(c))

    @_stmt
    def typed_arg(self, c):
        name, type_ = _parts(c)
        return S.TypedName(str(name), type_, tspan(name))

    @_stmt
    def single_output(self, c):
        (type_,) = _parts(c)
        return Seq([S.TypedName("", type_, type_.span)], span_of(c))

    @_stmt
    def named_outputs(self, c):
        (args,) = _parts(c)
        return Seq(args, span_of(c))

    @_stmt
    def body(self, c):
        return Seq(_parts(c), span_of(c))

    # -- statements
    @_stmt
    def assign(self, c):
        targets, *values = _parts(c)
        value = values[0] if len(values) == 1 else S.TupleLit(
            values[0].span.to(values[-1].span), list(values))
        return S.Assign(span_of(c), list(targets), value)

    @_stmt
    def sample(self, c):
        targets, source = _parts(c)
        return S.Sample(span_of(c), list(targets), source)

    @_stmt
    def minimize(self, c):
        player, loss = _parts(c)
        return S.Minimize(span_of(c), str(player), tspan(player), loss, False)

    @_stmt
    def maximize(self, c):
        player, loss = _parts(c)
        return S.Minimize(span_of(c), str(player), tspan(player), loss, True)

    @_stmt
    def targets(self, c):
        return Seq(_parts(c), span_of(c))

    @_stmt
    def expr_stmt(self, c):
        (expr,) = _parts(c)
        return S.ExprStmt(span_of(c), expr)

    @_stmt
    def for_stmt(self, c):
        var, iterable, body = _parts(c)
        return S.For(span_of(c), str(var), tspan(var), iterable, list(body))

    @_stmt
    def iter_expr(self, c):
        (expr,) = _parts(c)
        return expr

    @_stmt
    def iter_range(self, c):
        start, stop, *step = _parts(c)
        return S.Range(start, stop, step[0] if step else None, span_of(c))

    @_stmt
    def if_stmt(self, c):
        cond, then, *orelse = _parts(c)
        return S.If(span_of(c), cond, list(then), list(orelse[0]) if orelse else None)

    @_stmt
    def else_part(self, c):
        (part,) = _parts(c)
        return Seq([part] if isinstance(part, S.If) else part, span_of(c))

    @_stmt
    def return_stmt(self, c):
        return S.Return(span_of(c), _parts(c))

    # -- objective and train
    @_stmt
    def objective(self, c):
        (body,) = _parts(c)
        return S.ObjectiveDecl(span_of(c), list(body))

    @_stmt
    def train(self, c):
        return S.TrainDecl(span_of(c), _parts(c))

    @_stmt
    def t_batch(self, c):
        (value,) = _parts(c)
        return S.TrainStmt("batch", span_of(c), value=value)

    @_stmt
    def t_steps(self, c):
        (value,) = _parts(c)
        return S.TrainStmt("steps", span_of(c), value=value)

    @_stmt
    def t_grid(self, c):
        return S.TrainStmt("grid", span_of(c), [(str(t), tspan(t)) for t in _parts(c)])

    @_stmt
    def t_ratio(self, c):
        a, n, b, *condition = _parts(c)
        return S.TrainStmt("ratio", span_of(c), [(str(a), tspan(a)), (str(b), tspan(b))], n,
                           condition=condition[0] if condition else None)

    @_stmt
    def t_option(self, c):
        a, b, *arguments = _parts(c)
        args, kwargs = _split_args(arguments)
        return S.TrainStmt("option", span_of(c), [(str(a), tspan(a)), (str(b), tspan(b))],
                           None, args, kwargs)

    @_stmt
    def t_player_fn(self, c):
        a, b, f, *arguments = _parts(c)
        args, kwargs = _split_args(arguments)
        words = [(str(t), tspan(t)) for t in (a, b, f)]
        return S.TrainStmt("player_fn", span_of(c), words, None, args, kwargs)

    # -- expressions
    @_expr
    def or_test(self, c):
        return S.BoolOp(span_of(c), "or", _parts(c))

    @_expr
    def and_test(self, c):
        return S.BoolOp(span_of(c), "and", _parts(c))

    @_expr
    def not_op(self, c):
        (operand,) = _parts(c)
        return S.Not(span_of(c), operand)

    @_expr
    def comparison(self, c):
        left, op, right = _parts(c)
        return S.Compare(span_of(c), str(op), left, right)

    @_expr
    def union(self, c):
        return S.Union(span_of(c), _parts(c))

    @_expr
    def sum(self, c):
        p = _parts(c)
        return S.BinOp(span_of(c), p[0], [(p[i], p[i + 1]) for i in range(1, len(p), 2)])

    product = sum

    def add_op(self, c):
        return str(c[0])

    mul_op = add_op

    @_expr
    def every(self, c):
        expr, interval = _parts(c)
        return S.Every(span_of(c), expr, interval)

    @_expr
    def chain(self, c):
        head, *stages = _parts(c)
        return S.Chain(span_of(c), head, stages)

    @_expr
    def neg(self, c):
        (operand,) = _parts(c)
        return S.Neg(span_of(c), operand)

    @_expr
    def power(self, c):
        base, exponent = _parts(c)
        return S.BinOp(span_of(c), base, [("^", exponent)])

    def atom(self, c):
        """`( expr )`: no node of its own, no level of nesting."""
        (expr,) = _parts(c)
        paren = _Paren(expr, span_of(c))
        if id(expr) in STATE.height:
            STATE.height[id(paren)] = STATE.height.pop(id(expr))
            STATE.count[id(paren)] = STATE.count.pop(id(expr))
        return paren

    @_expr
    def call(self, c):
        func, *arguments = _parts(c)
        args, kwargs = _split_args(arguments)
        return S.Call(span_of(c), func, args, kwargs)

    @_expr
    def attr(self, c):
        obj, name = _parts(c)
        return S.Attr(span_of(c), obj, str(name))

    @_expr
    def index(self, c):
        obj, index = _parts(c)
        return S.Index(span_of(c), obj, index)

    @_expr
    def stage_name(self, c):
        (name,) = _parts(c)
        return S.Stage(str(name), [], [], span_of(c), tspan(name))

    @_expr
    def stage_call(self, c):
        name, *arguments = _parts(c)
        args, kwargs = _split_args(arguments)
        return S.Stage(str(name), args, kwargs, span_of(c), tspan(name))

    @_expr
    def arguments(self, c):
        return Seq(_parts(c), span_of(c))

    @_expr
    def pos_arg(self, c):
        (expr,) = _parts(c)
        return expr

    @_expr
    def kw_arg(self, c):
        name, value = _parts(c)
        return S.Kwarg(str(name), value, tspan(name))

    def number(self, c):
        (tok,) = c
        try:
            value = number_value(str(tok))
        except ValueError as e:
            STATE.diags.error("E005", str(e), tspan(tok), hint="write a large or small value "
                              "with an exponent: `2.5e6`, `1e-12`")
            value = 0
        return _measure(S.Num(tspan(tok), value, str(tok)), c, True, operands=1)

    def string(self, c):
        (tok,) = c
        return _measure(S.Str(tspan(tok), _unquote(str(tok))), c, True, operands=1)

    def name(self, c):
        (tok,) = c
        return _measure(S.Name(tspan(tok), str(tok)), c, True, operands=1)

    def true(self, c):
        return _measure(S.Bool(span_of(c), True), c, True, operands=1)

    def false(self, c):
        return _measure(S.Bool(span_of(c), False), c, True, operands=1)

    @_expr
    def tuple(self, c):
        return S.TupleLit(span_of(c), _parts(c))

    @_expr
    def list(self, c):
        return S.ListLit(span_of(c), _parts(c))

    def group(self, c):
        names = [S.Name(tspan(t), str(t)) for t in _parts(c)]
        return _measure(S.GroupLit(span_of(c), names), c, True, operands=len(names))


def _split_args(arguments: list) -> tuple[list[S.Expr], list[S.Kwarg]]:
    """Positional and keyword arguments of `[arguments]` (an empty list when absent)."""
    args: list[S.Expr] = []
    kwargs: list[S.Kwarg] = []
    for a in arguments[0] if arguments else []:
        (kwargs if isinstance(a, S.Kwarg) else args).append(a)
    return args, kwargs
