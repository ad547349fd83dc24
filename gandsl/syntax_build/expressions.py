"""The builder's rules of expressions: operators, chains and their stages, calls and their
arguments, literals and names. Parentheses (`atom`) give no node and no level of nesting."""

from __future__ import annotations

from .. import syntax as S
from .measure import expr_rule, measure
from .places import STATE, Paren, Seq, number_value, parts, span_of, split_args, tspan, unquote


class Expressions:
    """Expressions, each measured (height, operands) as it is built."""

    # -- expressions
    @expr_rule
    def or_test(self, c):
        return S.BoolOp(span_of(c), "or", parts(c))

    @expr_rule
    def and_test(self, c):
        return S.BoolOp(span_of(c), "and", parts(c))

    @expr_rule
    def not_op(self, c):
        (operand,) = parts(c)
        return S.Not(span_of(c), operand)

    @expr_rule
    def comparison(self, c):
        left, op, right = parts(c)
        return S.Compare(span_of(c), str(op), left, right)

    @expr_rule
    def union(self, c):
        return S.Union(span_of(c), parts(c))

    @expr_rule
    def sum(self, c):
        p = parts(c)
        return S.BinOp(span_of(c), p[0], [(p[i], p[i + 1]) for i in range(1, len(p), 2)])

    product = sum

    def add_op(self, c):
        return str(c[0])

    mul_op = add_op

    @expr_rule
    def every(self, c):
        expr, interval = parts(c)
        return S.Every(span_of(c), expr, interval)

    @expr_rule
    def chain(self, c):
        head, *stages = parts(c)
        return S.Chain(span_of(c), head, stages)

    @expr_rule
    def neg(self, c):
        (operand,) = parts(c)
        return S.Neg(span_of(c), operand)

    @expr_rule
    def power(self, c):
        base, exponent = parts(c)
        return S.BinOp(span_of(c), base, [("^", exponent)])

    def atom(self, c):
        """`( expr )`: no node of its own, no level of nesting."""
        (expr,) = parts(c)
        paren = Paren(expr, span_of(c))
        if id(expr) in STATE.height:
            STATE.height[id(paren)] = STATE.height.pop(id(expr))
            STATE.count[id(paren)] = STATE.count.pop(id(expr))
        return paren

    @expr_rule
    def call(self, c):
        func, *arguments = parts(c)
        args, kwargs = split_args(arguments)
        return S.Call(span_of(c), func, args, kwargs)

    @expr_rule
    def attr(self, c):
        obj, name = parts(c)
        return S.Attr(span_of(c), obj, str(name))

    @expr_rule
    def index(self, c):
        obj, index = parts(c)
        return S.Index(span_of(c), obj, index)

    @expr_rule
    def stage_name(self, c):
        (name,) = parts(c)
        return S.Stage(str(name), [], [], span_of(c), tspan(name))

    @expr_rule
    def stage_call(self, c):
        name, *arguments = parts(c)
        args, kwargs = split_args(arguments)
        return S.Stage(str(name), args, kwargs, span_of(c), tspan(name))

    @expr_rule
    def arguments(self, c):
        return Seq(parts(c), span_of(c))

    @expr_rule
    def pos_arg(self, c):
        (expr,) = parts(c)
        return expr

    @expr_rule
    def kw_arg(self, c):
        name, value = parts(c)
        return S.Kwarg(str(name), value, tspan(name))

    def number(self, c):
        (tok,) = c
        try:
            value = number_value(str(tok))
        except ValueError as e:
            STATE.diags.error("E005", str(e), tspan(tok), hint="write a large or small value "
                              "with an exponent: `2.5e6`, `1e-12`")
            value = 0
        return measure(S.Num(tspan(tok), value, str(tok)), c, True, operands=1)

    def string(self, c):
        (tok,) = c
        return measure(S.Str(tspan(tok), unquote(str(tok))), c, True, operands=1)

    def name(self, c):
        (tok,) = c
        return measure(S.Name(tspan(tok), str(tok)), c, True, operands=1)

    def true(self, c):
        return measure(S.Bool(span_of(c), True), c, True, operands=1)

    def false(self, c):
        return measure(S.Bool(span_of(c), False), c, True, operands=1)

    @expr_rule
    def tuple(self, c):
        return S.TupleLit(span_of(c), parts(c))

    @expr_rule
    def list(self, c):
        return S.ListLit(span_of(c), parts(c))

    def group(self, c):
        names = [S.Name(tspan(t), str(t)) for t in parts(c)]
        return measure(S.GroupLit(span_of(c), names), c, True, operands=len(names))

