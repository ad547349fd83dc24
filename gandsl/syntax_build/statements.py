"""The builder's rules of statements: assignments, samples (`~`), `minimizes`, bare
expressions, `for`, `if` and `return`, and the objective and train sections."""

from __future__ import annotations

from .. import syntax as S
from .measure import stmt_rule
from .places import Seq, parts, span_of, split_args, tspan


class Statements:
    """Statements, and the objective and train sections."""

    # -- statements
    @stmt_rule
    def assign(self, c):
        targets, *values = parts(c)
        value = values[0] if len(values) == 1 else S.TupleLit(
            values[0].span.to(values[-1].span), list(values))
        return S.Assign(span_of(c), list(targets), value)

    @stmt_rule
    def sample(self, c):
        targets, source = parts(c)
        return S.Sample(span_of(c), list(targets), source)

    @stmt_rule
    def minimize(self, c):
        player, loss = parts(c)
        return S.Minimize(span_of(c), str(player), tspan(player), loss, False)

    @stmt_rule
    def maximize(self, c):
        player, loss = parts(c)
        return S.Minimize(span_of(c), str(player), tspan(player), loss, True)

    @stmt_rule
    def targets(self, c):
        return Seq(parts(c), span_of(c))

    @stmt_rule
    def expr_stmt(self, c):
        (expr,) = parts(c)
        return S.ExprStmt(span_of(c), expr)

    @stmt_rule
    def for_stmt(self, c):
        var, iterable, body = parts(c)
        return S.For(span_of(c), str(var), tspan(var), iterable, list(body))

    @stmt_rule
    def iter_expr(self, c):
        (expr,) = parts(c)
        return expr

    @stmt_rule
    def iter_range(self, c):
        start, stop, *step = parts(c)
        return S.Range(start, stop, step[0] if step else None, span_of(c))

    @stmt_rule
    def if_stmt(self, c):
        cond, then, *orelse = parts(c)
        return S.If(span_of(c), cond, list(then), list(orelse[0]) if orelse else None)

    @stmt_rule
    def else_part(self, c):
        (part,) = parts(c)
        return Seq([part] if isinstance(part, S.If) else part, span_of(c))

    @stmt_rule
    def return_stmt(self, c):
        return S.Return(span_of(c), parts(c))

    # -- objective and train
    @stmt_rule
    def objective(self, c):
        (body,) = parts(c)
        return S.ObjectiveDecl(span_of(c), list(body))

    @stmt_rule
    def train(self, c):
        return S.TrainDecl(span_of(c), parts(c))

    @stmt_rule
    def t_batch(self, c):
        (value,) = parts(c)
        return S.TrainStmt("batch", span_of(c), value=value)

    @stmt_rule
    def t_steps(self, c):
        (value,) = parts(c)
        return S.TrainStmt("steps", span_of(c), value=value)

    @stmt_rule
    def t_grid(self, c):
        return S.TrainStmt("grid", span_of(c), [(str(t), tspan(t)) for t in parts(c)])

    @stmt_rule
    def t_ratio(self, c):
        a, n, b, *condition = parts(c)
        return S.TrainStmt("ratio", span_of(c), [(str(a), tspan(a)), (str(b), tspan(b))], n,
                           condition=condition[0] if condition else None)

    @stmt_rule
    def t_option(self, c):
        a, b, *arguments = parts(c)
        args, kwargs = split_args(arguments)
        return S.TrainStmt("option", span_of(c), [(str(a), tspan(a)), (str(b), tspan(b))],
                           None, args, kwargs)

    @stmt_rule
    def t_player_fn(self, c):
        a, b, f, *arguments = parts(c)
        args, kwargs = split_args(arguments)
        words = [(str(t), tspan(t)) for t in (a, b, f)]
        return S.TrainStmt("player_fn", span_of(c), words, None, args, kwargs)
