"""The objective lowering's players: `P minimizes a + w * b` becomes player P (a network or a
group) with weighted terms, each named (by its label, its loss function or its value), with
`every k` and signs (`maximizes`, `-`) applied."""

from __future__ import annotations

from .. import syntax as S
from ..consteval import FUNCTIONS as CONST_FUNCTIONS
from ..consteval import ConstError, as_int, describe, names_in
from ..diagnostics import Span, did_you_mean
from ..functions import FUNCTIONS
from ..ir import Player, Term
from .objective_values import ConstBox, Values
from .scope import Poison


class Players(Values):
    """`minimizes` and `maximizes` statements."""

    incomplete: bool

    def _player(self, stmt: S.Minimize) -> Player | None:
        name = stmt.player
        if name in self.groups:
            networks = self.groups[name]
        elif name in self.g.networks:
            networks = [name]
        else:
            self.diags.error("E101", f"player `{name}` is not a network or a group",
                             stmt.player_span, lambda: did_you_mean(
                                 name, [*self.g.networks, *self.groups]))
            return None
        terms: list[Term] = []
        used: dict[str, int] = {}
        labels: dict[str, Span] = {}
        for sign, e in _summands(stmt.loss):
            if isinstance(e, S.Labeled):
                if e.label in labels:
                    self.diags.error("E102", f"two terms of `{name}` are named `{e.label}`",
                                     e.label_span, notes=[("the first", labels[e.label])])
                    continue
                labels[e.label] = e.label_span
            term = self._term(sign * (-1 if stmt.maximize else 1), e)
            if term is None:
                self.incomplete = True
                continue
            used[term.name] = used.get(term.name, 0) + 1
            if used[term.name] > 1 or term.name in labels and not isinstance(e, S.Labeled):
                term.name = f"{term.name}_{used[term.name]}"  # unnamed repeats: l1, l1_2, ...
            terms.append(term)
        return Player(name=name, networks=networks, terms=terms, span=stmt.player_span)

    def _term(self, sign: float, e: S.Expr) -> Term | None:
        span = e.span
        every = None
        label = None
        where = span  # what a bad term name points at: its label, or the whole term
        if isinstance(e, S.Labeled):
            label, where, e = e.label, e.label_span, e.expr
        if isinstance(e, S.Every):
            k = self._const(e.interval)
            if isinstance(k, Poison):
                return None
            try:
                every = as_int(k, e.interval.span, "an interval")
            except ConstError as err:
                self.diags.error(err.code, err.message, err.span)
                return None
            if every < 1:
                self.diags.error("E150", f"`every` needs an interval of at least 1, got "
                                 f"{every}", e.interval.span)
                return None
            e = e.expr
        while isinstance(e, S.Neg):
            sign, e = -sign, e.operand
        weight: float = 1.0
        core: S.Expr | None = e
        if isinstance(e, S.BinOp) and all(op in "*/" for op, _ in e.rest):
            factors = [("*", e.first), *e.rest]
            tensor = [(op, f) for op, f in factors if not _is_const(f, self)]
            if len(tensor) == 1 and tensor[0][0] == "*":
                core = tensor[0][1]
                for op, f in factors:
                    if f is core:
                        continue
                    value = self._const(f)
                    if isinstance(value, Poison):
                        return None
                    if isinstance(value, bool) or not isinstance(value, int | float):
                        self.diags.error("E201", f"a loss weight is a number, got "
                                         f"{describe(value)}", f.span)
                        return None
                    if op == "/" and value == 0:
                        self.diags.error("E151", "division by zero", f.span)
                        return None
                    weight = weight * value if op == "*" else weight / value
            elif not tensor:
                core = None
        if core is None or _is_const(core, self):
            self.diags.error("E301", "a constant term has no gradient; a loss term needs a "
                             "network output", span)
            return None
        while isinstance(core, S.Neg):
            sign, core = -sign, core.operand
        node = self._value(core)
        if isinstance(node, Poison):
            return None
        if isinstance(node, ConstBox):  # pragma: no cover - excluded above
            return None
        if label:
            name = label
        elif isinstance(core, S.Call) and isinstance(core.func, S.Name):
            name = core.func.id
        elif isinstance(core, S.Name):  # `+ info`, a named value of the objective
            name = core.id
        else:  # `w * r1(D, x)` with `w` known at run time only: named after its loss
            name = _loss_factor(core) or "term"
        if name == "loss":  # metrics call each player's total `P/loss`
            self.diags.error("E109", "a loss term cannot be called `loss`: that is the name of "
                             "the player's total in metrics", where,
                             hint="choose another label, e.g. `adv:`" if label else
                             "name the term with a label, e.g. `adv: loss`")
            return None
        return Term(name=name, weight=float(sign * weight), node=node, every=every, span=span)


def _loss_factor(e: S.Expr) -> str | None:
    """The one loss function among the factors of a product (`step * gan_g(...)`)."""
    if not (isinstance(e, S.BinOp) and all(op in "*/" for op, _ in e.rest)):
        return None
    calls = [f.func.id for f in (e.first, *(x for _, x in e.rest))
             if isinstance(f, S.Call) and isinstance(f.func, S.Name) and
             f.func.id in FUNCTIONS and "math" not in FUNCTIONS[f.func.id].tags]
    return calls[0] if len(calls) == 1 else None


def _summands(e: S.Expr) -> list[tuple[int, S.Expr]]:
    if isinstance(e, S.BinOp) and e.rest and all(op in "+-" for op, _ in e.rest):
        return [(1, e.first)] + [(1 if op == "+" else -1, x) for op, x in e.rest]
    return [(1, e)]


def _is_const(e: S.Expr, lowering: Values) -> bool:
    """True when no name in `e` is a tensor value of the objective, a network or a function
    that is not a compile-time one (`sqrt(2)` is a number; `mean(D(x))` is not)."""
    todo: list = [e]
    while todo:
        node = todo.pop()
        if isinstance(node, S.Call):
            if not (isinstance(node.func, S.Name) and node.func.id in CONST_FUNCTIONS):
                return False
            todo += [*node.args, *(kw.value for kw in node.kwargs)]
        elif isinstance(node, S.BinOp):
            todo += [node.first, *(x for _, x in node.rest)]
        elif isinstance(node, S.Neg | S.Not):
            todo.append(node.operand)
    for name, _ in names_in(e):
        v = lowering.env.get(name)
        if isinstance(v, int) and not isinstance(v, bool):
            return False
        if name in lowering.g.networks or lowering._is_step(name):
            return False
    return True

