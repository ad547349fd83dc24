"""The objective section → a graph of values (samples, network calls, losses) and players.

Definitions in the objective are order-free equations: `fake = G(z)` may come after a line that
uses `fake`. They are ordered along a networkx dependency graph, and a cycle is an error that
prints the cycle. Each `P minimizes a + w * b` becomes player P with weighted terms.
"""

from __future__ import annotations

from typing import Any

import networkx as nx

from .. import syntax as S
from ..consteval import FUNCTIONS as CONST_FUNCTIONS
from ..consteval import (
    ConstError,
    NotConst,
    Silent,
    as_int,
    describe,
    evaluate,
    names_in,
    truth,
)
from ..diagnostics import Diagnostics, Span, did_you_mean
from ..functions import DISTRIBUTIONS, FUNCTIONS, FArg, Fn
from ..ir import Network, Objective, ONode, Player, State, Term
from .augment import Pipeline, read_pipeline
from .binding import Callee, Sig, bind
from .externs import call_extern
from .globals import Globals, const_or_poison
from .scope import POISON, Poison


class ObjectiveLowering:
    def __init__(self, decl: S.ObjectiveDecl, g: Globals, networks: dict[str, Network | None],
                 diags: Diagnostics) -> None:
        self.decl, self.g, self.networks, self.diags = decl, g, networks, diags
        self.nodes: list[ONode] = []
        self.env: dict[str, Any] = {}  # objective names → node id, or a compile-time value
        self.groups: dict[str, list[str]] = {}
        self.draws = 0
        self.incomplete = False  # something was dropped after an error reported elsewhere
        self.states: list[tuple[State, S.Expr]] = []  # each state and its `next` expression

    def run(self) -> Objective:
        stmts = self._flatten(self.decl.body)
        defs: dict[str, tuple[S.Stmt, Span]] = {}
        players: list[S.Minimize] = []
        for stmt in stmts:
            if isinstance(stmt, S.Minimize):
                players.append(stmt)
                continue
            for target in stmt.targets:
                if not isinstance(target, S.Name):
                    self.diags.error("E301", "objective values are named with plain names",
                                     target.span)
                    continue
                if target.id in defs or target.id in self.g.networks:
                    first = defs[target.id][1] if target.id in defs else \
                        self.g.spans[target.id]
                    self.diags.error("E102", f"`{target.id}` is already defined", target.span,
                                     notes=[("first defined here", first)])
                    continue
                defs[target.id] = (stmt, target.span)
        for stmt in self._ordered(defs):
            self._define(stmt)
        # A state's next value may use anything, itself included: lowered once all is named.
        for state, expr in self.states:
            nxt = self._value(expr, var=f"{state.name}_next")
            if isinstance(nxt, _ConstBox):
                nxt = self._box(nxt, expr.span)
            state.next = nxt if isinstance(nxt, int) else None
        result = Objective(nodes=self.nodes, players=[p for p in map(self._player, players) if p],
                           groups=self.groups, span=self.decl.span,
                           states=[st for st, _ in self.states],
                           pipelines={n: v.ops for n, v in self.env.items()
                                      if isinstance(v, Pipeline)})
        self.incomplete |= any(isinstance(v, Poison) for v in self.env.values())
        for name, v in self.env.items():  # after the players: their terms apply pipelines
            if isinstance(v, Pipeline) and not v.applied and not name.startswith("_"):
                self.diags.warn("W501", f"the augmentation `{name}` is never applied",
                                v.span, hint=f"apply it to images: `{name}(x)`")
        return result

    # -- statements ---------------------------------------------------------------------

    def _flatten(self, stmts: list[S.Stmt]) -> list[S.Stmt]:
        out: list[S.Stmt] = []
        for stmt in stmts:
            if isinstance(stmt, S.If):
                cond = const_or_poison(stmt.cond, self.g.resolve, self.diags)
                if isinstance(cond, Poison):  # what either branch defines is unknown
                    self.incomplete = True
                    continue
                try:
                    taken = stmt.then if truth(cond, stmt.cond.span) else stmt.orelse
                except ConstError as e:
                    self.diags.error(e.code, e.message, e.span)
                    continue
                out.extend(self._flatten(taken or []))
            elif isinstance(stmt, S.Sample | S.Assign | S.Minimize):
                out.append(stmt)
            else:
                what = {S.Return: "`return`", S.For: "`for`", S.Let: "`let`",
                        S.ExprStmt: "a bare expression"}.get(type(stmt), "this statement")
                hint = "is `minimizes` missing?" if isinstance(stmt, S.ExprStmt) else None
                self.diags.error("E301", f"{what} is not allowed in the objective", stmt.span,
                                 hint=hint)
        return out

    def _ordered(self, defs: dict[str, tuple[S.Stmt, Span]]) -> list[S.Stmt]:
        """Definition statements in dependency order; statements in a cycle are dropped."""
        graph = nx.DiGraph()
        stmt_of = {name: stmt for name, (stmt, _) in defs.items()}
        graph.add_nodes_from(defs)
        for name, (stmt, _) in defs.items():
            expr = stmt.source if isinstance(stmt, S.Sample) else stmt.value
            if _is_state(expr):  # its `next` is lowered last: only its start is a dependency
                expr = S.Lit(expr.span, 0)
            for ref, _ in names_in(expr):
                if ref in defs and stmt_of[ref] is not stmt:
                    graph.add_edge(ref, name)
        order = list(defs)
        bad: set[str] = set()
        for cycle in nx.simple_cycles(graph):
            cycle = cycle[::-1]  # edges run from a value to its users; the message reads "uses"
            i = min(range(len(cycle)), key=lambda k: order.index(cycle[k]))
            cyc = cycle[i:] + cycle[:i]
            path = " → ".join([*cyc, cyc[0]])
            self.diags.error("E106", f"objective values depend on each other in a cycle: "
                             f"{path}", defs[cyc[0]][1],
                             notes=[(f"`{n}` is defined here", defs[n][1]) for n in cyc[1:]])
            bad.update(cycle)
        for name in bad:
            self.env[name] = POISON  # reported once, as the cycle; uses stay quiet
        names = nx.lexicographical_topological_sort(graph.subgraph(set(defs) - bad),
                                                    key=order.index)
        seen: list[S.Stmt] = []
        for name in names:
            if stmt_of[name] not in seen:
                seen.append(stmt_of[name])
        return seen

    def _define(self, stmt: S.Stmt) -> None:
        if isinstance(stmt, S.Sample):
            self._sample(stmt)
            return
        assert isinstance(stmt, S.Assign)
        if len(stmt.targets) != 1:
            pipe = self._pipeline_of(stmt.value)
            if pipe is not None and len(stmt.value.args) == len(stmt.targets):
                self._apply_alike(pipe, stmt)
                return
            self.diags.error("E301", "assign one value per statement in the objective",
                             stmt.span, hint="several names take the images of one "
                             "augmentation: `xa, ya = aug(x, y)`")
            for t in stmt.targets:
                self.env[t.id] = POISON
            return
        name = stmt.targets[0].id
        if isinstance(stmt.value, S.GroupLit):
            self._group(name, stmt.value)
            return
        if _is_state(stmt.value):
            self._state(name, stmt.value)
            return
        if _is_call_of(stmt.value, "augment"):
            self._augment(name, stmt.value)
            return
        self.env[name] = self._value(stmt.value, var=name)

    # -- augmentation ---------------------------------------------------------------------

    def _augment(self, name: str, call: S.Call) -> None:
        def const(e: S.Expr) -> Any:
            v = self._const(e)
            return None if isinstance(v, Poison) else v

        def value(e: S.Expr) -> Any:
            v = self._value(e)
            if isinstance(v, _ConstBox):
                if isinstance(v.value, bool) or not isinstance(v.value, int | float) or \
                        not 0 <= v.value <= 1:
                    self.diags.error("E203", f"`p` is a probability, in [0, 1]; got "
                                     f"{describe(v.value)}", e.span)
                    return None
                return float(v.value)
            return None if isinstance(v, Poison) else v

        pipe = read_pipeline(name, call, const, value, self.diags)
        self.env[name] = POISON if pipe is None else pipe

    def _pipeline_of(self, expr: S.Expr) -> Pipeline | None:
        """The pipeline `expr` applies (`aug(x)`), if it applies one."""
        if isinstance(expr, S.Call) and isinstance(expr.func, S.Name):
            pipe = self.env.get(expr.func.id)
            return pipe if isinstance(pipe, Pipeline) else None
        return None

    def _apply(self, pipe: Pipeline, call: S.Call, var: str | None, alike: bool = False) -> Any:
        """`aug(x)` (or, `alike`, the tuple of `aug(x, y)`): one node drawing once for all
        images."""
        if call.kwargs:
            self.diags.error("E104", f"`{pipe.name}(...)` takes the images to augment, and "
                             "nothing by name", call.kwargs[0].span)
            return POISON
        if not call.args:
            self.diags.error("E105", f"`{pipe.name}(...)` needs an image to augment",
                             call.span)
            return POISON
        if len(call.args) > 1 and not alike:
            self.diags.error("E301", f"`{pipe.name}` of several images gives one image each: "
                             f"name them, e.g. `xa, ya = {pipe.name}(x, y)`", call.span)
            return POISON
        inputs = self._tensors(call.args, "E201", f"`{pipe.name}` augments images")
        if isinstance(inputs, Poison):
            return inputs
        named = {"p": pipe.p} if isinstance(pipe.p, int) else {}
        kwargs: dict[str, Any] = {"ops": pipe.ops}
        if pipe.p is not None and not named:
            kwargs["p"] = pipe.p
        node = self._add("augment", call.span, name=pipe.name, inputs=[*inputs,
                         *named.values()], kwargs=kwargs, named=named, var=var)
        pipe.applied.append(node)
        return node

    def _apply_alike(self, pipe: Pipeline, stmt: S.Assign) -> None:
        """`xa, ya = aug(x, y)`: one draw, one name per image."""
        node = self._apply(pipe, stmt.value, None, alike=True)
        for k, t in enumerate(stmt.targets):
            self.env[t.id] = node if isinstance(node, Poison) else self._add(
                "item", t.span, inputs=[node], field=k, var=t.id)

    def _state(self, name: str, call: S.Call) -> None:
        """`k = state(0, next=...)`: a node reading the current value; `next` comes later."""
        bound = bind(Callee("state"), [Sig("init", required=True),
                     Sig("next", required=True), Sig("after", keyword_only=True)],
                     call.args, call.kwargs, call.span, self.diags)
        if bound is None:
            self.env[name] = POISON
            return
        after = bound.get("after")
        if after is not None and not isinstance(after, S.Name):
            self.diags.error("E203", "`after` names the player after whose every step the "
                             "state moves: `after=D`", after.span)
            self.env[name] = POISON
            return
        init = self._const(bound["init"])
        if isinstance(init, Poison):
            self.env[name] = POISON
            return
        if isinstance(init, bool) or not isinstance(init, int | float):
            self.diags.error("E201", f"a state starts at a number, got {describe(init)}",
                             bound["init"].span)
            self.env[name] = POISON
            return
        read = self._add("state", call.span, name=name, args=[float(init)], var=name)
        self.env[name] = read
        self.states.append((State(name=name, init=float(init), read=read, span=call.span,
                                  after=after.id if after else None,
                                  after_span=after.span if after else None), bound["next"]))

    def _group(self, name: str, group: S.GroupLit) -> None:
        members: list[str] = []
        for n in group.names:
            if n.id not in self.g.networks:
                self.diags.error("E101", f"`{n.id}` is not a network", n.span,
                                 lambda n=n: did_you_mean(n.id, self.g.networks))
            elif n.id in members:
                self.diags.error("E102", f"`{n.id}` is listed twice", n.span)
            else:
                members.append(n.id)
        self.groups[name] = members

    def _sample(self, stmt: S.Sample) -> None:
        src = stmt.source
        names = [t.id for t in stmt.targets if isinstance(t, S.Name)]
        if isinstance(src, S.Name) and src.id in self.g.poisoned:
            for n in names:
                self.env[n] = POISON
            return
        if isinstance(src, S.Name) and src.id in self.g.datasets:
            ds = self.g.datasets[src.id]
            if len(names) != len(ds.fields):
                fields = ", ".join(str(f) for f in ds.fields)
                self.diags.error("E301", f"`{src.id}` yields {len(ds.fields)} value"
                                 f"{'s' if len(ds.fields) != 1 else ''} ({fields}) but "
                                 f"{len(names)} name{'s are' if len(names) != 1 else ' is'} "
                                 "given", stmt.span)
                for n in names:
                    self.env[n] = POISON
                return
            self.draws += 1
            for i, n in enumerate(names):
                self.env[n] = self._add("data", src.span, name=src.id, field=i, var=n,
                                        kwargs={"draw": self.draws})
            return
        if isinstance(src, S.Call) and isinstance(src.func, S.Name) and \
                src.func.id in DISTRIBUTIONS:
            dist = src.func.id
            _, keywords = DISTRIBUTIONS[dist]
            if len(names) != 1:
                self.diags.error("E301", f"`{dist}(...)` gives one value", stmt.span)
                return
            self.env[names[0]] = self._draw(dist, src, keywords, names[0])
            return
        if isinstance(src, S.Name | S.Call):
            name = src.id if isinstance(src, S.Name) else getattr(src.func, "id", "")
            self.diags.error("E101", f"`{name}` is not a dataset or a distribution", src.span,
                             lambda: did_you_mean(name, [*self.g.datasets, *DISTRIBUTIONS]) or
                             f"distributions are {', '.join(DISTRIBUTIONS)}")
        else:
            self.diags.error("E301", "sample from a dataset (`x ~ images`) or a distribution "
                             "(`z ~ normal(128)`)", src.span)
        for n in names:
            self.env[n] = POISON

    def _draw(self, dist: str, src: S.Call, keywords: tuple[str, ...], var: str) -> Any:
        """`z ~ normal(128, std=0.5)`, or `n ~ normal(like=x)`: noise of a size, or shaped
        and typed as a value of the objective (its type, not its value, is used)."""
        shaped = dist != "categorical"
        allowed = (*keywords, "like") if shaped else keywords
        args = [self._const(a) for a in src.args]
        kwargs: dict[str, Any] = {}
        like = None
        unknown = [kw for kw in src.kwargs if kw.name not in allowed]
        for kw in unknown:
            self.diags.error("E104", f"`{dist}` has no argument `{kw.name}`", kw.span,
                             did_you_mean(kw.name, allowed) or
                             f"`{dist}` takes only a number of classes")
        if unknown:
            return POISON
        for kw in src.kwargs:
            if kw.name == "like":
                like = self._value(kw.value)
                if isinstance(like, _ConstBox):
                    self.diags.error("E201", f"`like` of `{dist}` is a tensor of the objective "
                                     f"whose type the draw takes, got {describe(like.value)}",
                                     kw.value.span)
                    return POISON
            else:
                kwargs[kw.name] = self._const(kw.value)
        if len(args) != (like is None):
            self.diags.error("E105", f"`{dist}` takes one size, e.g. `{dist}(128)`"
                             + (f", or the shape of a value: `{dist}(like=x)`" if shaped
                                else ""), src.span)
            return POISON
        if any(isinstance(v, Poison) for v in [*args, *kwargs.values(), like]):
            return POISON
        if not self._dist_arguments(dist, kwargs, src):
            return POISON
        if like is not None:  # the size comes from the value's type, known after checking
            return self._add("dist", src.span, name=dist, kwargs={**kwargs, "like": like},
                             var=var)
        try:
            size = as_int(args[0], src.args[0].span, "a size")
        except ConstError as e:
            self.diags.error(e.code, e.message, e.span)
            return POISON
        return self._add("dist", src.span, name=dist, args=[size], kwargs=kwargs, var=var)

    def _dist_arguments(self, dist: str, kwargs: dict[str, Any], src: S.Call) -> bool:
        """A distribution's settings are numbers it can draw with (else the draw would fail
        at the first iteration of training); False after reporting."""
        spans = {kw.name: kw.value.span for kw in src.kwargs}
        for name, value in kwargs.items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                self.diags.error("E203", f"`{name}` of `{dist}` is a number, got "
                                 f"{describe(value)}", spans[name])
                return False
        problem = None
        if kwargs.get("std", 1) < 0:
            problem = "std", "`std` of `normal` is at least 0"
        elif not 0 <= kwargs.get("p", 0.5) <= 1:
            problem = "p", "`p` of `bernoulli` is a probability, in [0, 1]"
        elif kwargs.get("low", 0) >= kwargs.get("high", 1):
            problem = "high" if "high" in kwargs else "low", \
                "`low` of `uniform` must be below `high` (default: 0 and 1)"
        if problem is not None:
            name, message = problem
            self.diags.error("E203", f"{message}, got {kwargs[name]}", spans[name])
            return False
        return True

    # -- values -------------------------------------------------------------------------

    def _add(self, op: str, span: Span, **kw) -> int:
        node = ONode(id=len(self.nodes), op=op, span=span, **kw)
        self.nodes.append(node)
        return node.id

    def _const(self, expr: S.Expr) -> Any:
        def resolve(name: str, span: Span) -> Any:
            if name in self.env:
                v = self.env[name]
                if isinstance(v, Poison):
                    raise Silent
                if isinstance(v, _ConstBox):
                    return v.value
                raise NotConst(name, span)
            return self.g.resolve(name, span, visible=lambda: [
                *self.env, *self.g.names(), *self.groups])
        try:
            return evaluate(expr, resolve)
        except Silent:
            return POISON
        except ConstError as e:
            self.diags.error(e.code, e.message, e.span, e.hint)
        except NotConst as e:
            self.diags.error("E153", f"`{e.name}` is a value computed at run time; a "
                             "compile-time number is needed here", e.span)
        return POISON

    def _value(self, expr: S.Expr, var: str | None = None) -> Any:
        """A node id, a `_ConstBox`, or POISON."""
        if isinstance(expr, S.Name):
            if expr.id in self.g.poisoned:
                return POISON
            if isinstance(self.env.get(expr.id), Pipeline):
                self.diags.error("E301", f"`{expr.id}` is an augmentation pipeline; apply it: "
                                 f"`{expr.id}(x)`", expr.span)
                return POISON
            if expr.id in self.env:
                return self.env[expr.id]
            if self._is_step(expr.id):  # the iteration, a number at run time
                return self._add("step", expr.span, var=var)
            if expr.id in self.g.networks:
                self.diags.error("E206", f"network `{expr.id}` must be called: "
                                 f"`{expr.id}(...)`", expr.span)
                return POISON
            if expr.id in self.g.datasets:
                self.diags.error("E301", f"sample the dataset first: `x ~ {expr.id}`",
                                 expr.span)
                return POISON
            if expr.id in self.groups:
                self.diags.error("E301", f"`{expr.id}` is a group of networks; call them one "
                                 "at a time", expr.span)
                return POISON
        if isinstance(expr, S.Call):
            return self._call(expr, var)
        if isinstance(expr, S.Attr):
            return self._select(expr, var)
        if isinstance(expr, S.Neg):
            v = self._value(expr.operand)
            if isinstance(v, Poison):
                return v
            if isinstance(v, _ConstBox):
                return _ConstBox(-v.value)
            return self._add("neg", expr.span, inputs=[v], var=var)
        if isinstance(expr, S.BinOp):
            acc = self._value(expr.first)
            for op, operand in expr.rest:
                rhs = self._value(operand)
                if isinstance(acc, Poison) or isinstance(rhs, Poison):
                    return POISON
                if op not in ("+", "-", "*", "/", "^", "//", "%"):
                    self.diags.error("E201", f"`{op}` is not defined on tensors: the objective "
                                     "has + - * / ^, and // % on numbers", expr.span)
                    return POISON
                if op in ("/", "//", "%") and isinstance(rhs, _ConstBox) and \
                        not isinstance(rhs.value, bool) and rhs.value == 0:
                    self.diags.error("E151", "division by zero", operand.span)
                    return POISON
                if isinstance(acc, _ConstBox) and isinstance(rhs, _ConstBox):
                    acc = _ConstBox(self._const(S.BinOp(expr.span, S.Lit(expr.span, acc.value),
                                                        [(op, S.Lit(expr.span, rhs.value))])))
                    continue
                ids = [self._box(acc, expr.first.span), self._box(rhs, operand.span)]
                acc = self._add("arith", expr.span, name=op, inputs=ids)
            if var is not None and isinstance(acc, int):
                self.nodes[acc].var = var
            return acc
        if isinstance(expr, S.Chain):
            self.diags.error("E301", "`->` chains layers inside a network or block body; the "
                             "objective calls networks: `N(x)`", expr.span,
                             hint="to reshape or draw a tensor of another type, write a "
                             "network, or draw it shaped like a value: `n ~ normal(like=x)`")
            return POISON
        if isinstance(expr, S.Every | S.Labeled):
            what = "`every`" if isinstance(expr, S.Every) else "a term name (`name: ...`)"
            self.diags.error("E301", f"{what} applies to a whole loss term of `minimizes`",
                             expr.span)
            return POISON
        value = self._const(expr)
        return POISON if isinstance(value, Poison) else _ConstBox(value)

    def _box(self, v: Any, span: Span) -> int:
        if isinstance(v, _ConstBox):
            return self._add("const", span, args=[v.value])
        return v

    def _call(self, expr: S.Call, var: str | None) -> Any:
        if _is_call_of(expr.func, "augment"):
            self.diags.error("E301", "`augment(...)` defines a pipeline of its own: "
                             "`aug = augment(...)`, applied as `aug(x)`", expr.func.span)
            return POISON
        if not isinstance(expr.func, S.Name):
            self.diags.error("E103", "only networks and functions can be called",
                             expr.func.span)
            return POISON
        name = expr.func.id
        pipe = self._pipeline_of(expr)
        if pipe is not None:
            return self._apply(pipe, expr, var)
        if name in self.g.networks:
            return self._network_call(name, expr, var)
        if name in FUNCTIONS:
            return self._function(FUNCTIONS[name], expr, var)
        if name in self.g.externs and self.g.externs[name].decl.kind == "function":
            return call_extern(self, self.g.externs[name], expr, var)
        if name in self.g.poisoned:
            return POISON
        if name in DISTRIBUTIONS:
            self.diags.error("E301", f"distributions are sampled: `z ~ {name}(...)`", expr.span)
            return POISON
        if name == "state":
            self.diags.error("E301", "`state(...)` defines a named value of its own: "
                             "`k = state(0, next=...)`", expr.span)
            return POISON
        if name == "augment":
            self.diags.error("E301", "`augment(...)` defines a pipeline of its own: "
                             "`aug = augment(...)`, applied as `aug(x)`", expr.span)
            return POISON
        if isinstance(self.env.get(name), Poison):  # its definition failed, and said so
            return POISON
        self.diags.error("E103", f"unknown network or function `{name}`", expr.func.span,
                         lambda: did_you_mean(name, [*self.g.networks, *FUNCTIONS,
                                                     *self.g.externs]))
        return POISON

    def _network_call(self, name: str, expr: S.Call, var: str | None) -> Any:
        inputs = [a.name for a in self.g.networks[name].inputs]
        sig = [Sig(n, required=True) for n in inputs]
        bound = bind(Callee(name, "input", "E206"), sig, expr.args, expr.kwargs, expr.span,
                     self.diags)
        if bound is None:
            return POISON
        args = [bound[n] for n in inputs]
        ids = self._tensors(args, "E206", "network inputs are tensors")
        if isinstance(ids, Poison):
            return ids
        return self._add("call", expr.span, name=name, inputs=ids, var=var)

    def _tensors(self, exprs: list[S.Expr], code: str, what: str) -> list[int] | Poison:
        """The run-time values of `exprs`; a compile-time value among them is `code`,
        "`what`, got <it>", at its place."""
        out = []
        for a in exprs:
            v = self._value(a)
            if isinstance(v, Poison):
                return v
            if isinstance(v, _ConstBox):
                self.diags.error(code, f"{what}, got {describe(v.value)}", a.span)
                return POISON
            out.append(v)
        return out

    def _select(self, expr: S.Attr, var: str | None) -> Any:
        if isinstance(expr.obj, S.Name) and expr.obj.id in self.g.networks:
            self.diags.error("E206", f"`{expr.obj.id}.{expr.name}` is the network as a "
                             f"function; call it: `{expr.obj.id}(x).{expr.name}`", expr.span)
            return POISON
        obj = self._value(expr.obj)
        if isinstance(obj, Poison):
            return obj
        if not isinstance(obj, int) or self.nodes[obj].op != "call":
            self.diags.error("E207", f"`.{expr.name}` selects an output of a network call",
                             expr.span)
            return POISON
        network = self.nodes[obj].name
        if not self._check_output(network, expr.name, expr.span):
            return POISON
        return self._add("select", expr.span, name=expr.name, inputs=[obj], var=var)

    def _check_output(self, network: str, output: str, span: Span) -> bool:
        outs = [o.name for o in self.g.networks[network].outputs]
        if outs == [""]:
            self.diags.error("E207", f"`{network}` has a single output; use the call itself",
                             span)
            return False
        if output not in outs:
            self.diags.error("E207", f"`{network}` has no output `{output}`", span,
                             did_you_mean(output, outs) or f"its outputs are {', '.join(outs)}")
            return False
        return True

    def _function(self, fn: Fn, expr: S.Call, var: str | None) -> Any:
        sig = [Sig(a.name, required=not (a.kind in ("num", "number", "str") and
                                          a.default is not None)) for a in fn.args]
        bound = bind(Callee(fn.name), sig, expr.args, expr.kwargs, expr.span, self.diags)
        if bound is None:
            return POISON
        inputs: list[int] = []
        kwargs: dict[str, Any] = {}
        named: dict[str, int] = {}
        consts: list[Any] = []  # the values of `float` arguments that are numbers
        critic_at = None
        for a in fn.args:
            e = bound.get(a.name)
            if e is None:  # an optional number
                kwargs[a.name] = a.default
                continue
            if a.kind in ("num", "str"):
                value = self._const(e)
                if isinstance(value, Poison):
                    return value
                if not self._fits(fn, a, value, e.span):
                    return POISON
                kwargs[a.name] = value
            elif a.kind == "number":  # a number at compile time, or a value at run time
                value = self._value(e)
                if isinstance(value, Poison):
                    return value
                if isinstance(value, _ConstBox):
                    if not self._fits(fn, a, value.value, e.span):
                        return POISON
                    kwargs[a.name] = value.value
                else:
                    named[a.name] = value
            elif a.kind == "float":
                value = self._value(e)
                if isinstance(value, Poison):
                    return value
                if isinstance(value, _ConstBox):
                    if not self._fits(fn, FArg(a.name, "num"), value.value, e.span):
                        return POISON
                    consts.append(value.value)
                    value = self._box(value, e.span)
                inputs.append(value)
            elif a.kind == "critic" and "penalty" in fn.tags and not _names_network(e, self.g):
                # `r1(D(x, y), x)`: an expression of the penalized image, differentiated
                # with respect to it (the other values held fixed)
                body = self._value(e)
                if isinstance(body, Poison):
                    return body
                if isinstance(body, _ConstBox):
                    self.diags.error("E201", f"`{a.name}` of `{fn.name}` is a network or an "
                                     f"expression of the image, got {describe(body.value)}",
                                     e.span)
                    return POISON
                critic_at = (len(inputs), body, e.span)
                inputs.append(body)  # replaced below, once the images are known
            elif a.kind in ("critic", "network", "generator"):
                node = self._critic(e, fn.name)
                if node is None:
                    return POISON
                inputs.append(node)
            else:
                v = self._value(e)
                if isinstance(v, Poison):
                    return v
                if isinstance(v, _ConstBox):
                    self.diags.error("E201", f"`{a.name}` of `{fn.name}` is a tensor, got "
                                     f"{describe(v.value)}", e.span)
                    return POISON
                inputs.append(v)
        if critic_at is not None:
            k, body, span = critic_at
            node = self._critic_expression(fn, body, inputs[k + 1:], span)
            if node is None:
                return POISON
            inputs[k] = node
        if "math" in fn.tags and len(consts) == len(inputs) and not named:
            return self._fold(fn, consts, kwargs, expr)  # math on numbers: a number
        return self._add("fn", expr.span, name=fn.name, inputs=[*inputs, *named.values()],
                         kwargs=kwargs, named=named, var=var)

    def _fits(self, fn: Fn, a: FArg, value: Any, span: Span) -> bool:
        """A compile-time argument of the right kind; False after reporting."""
        if a.kind == "str":
            if value in (a.choices or ()):
                return True
            self.diags.error("E203", f"`{a.name}` of `{fn.name}` is one of "
                             f"{', '.join(repr(c) for c in a.choices or ())}; got "
                             f"{describe(value)}", span)
            return False
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.diags.error("E203", f"`{a.name}` of `{fn.name}` is a number, got "
                             f"{describe(value)}", span)
            return False
        return True

    def _fold(self, fn: Fn, values: list[Any], kwargs: dict[str, Any], expr: S.Call) -> Any:
        """Tensor math applied to numbers only: computed now (a reduction of one number is
        that number)."""
        if fn.returns == "reduce":
            return _ConstBox(values[0])
        bounds = [kwargs[a.name] for a in fn.args if a.kind == "number"]
        literal = S.Call(expr.span, S.Name(expr.func.span, fn.name),
                         [S.Lit(expr.span, v) for v in [*values, *bounds]], [])
        value = self._const(literal)
        return POISON if isinstance(value, Poison) else _ConstBox(value)

    def _critic_expression(self, fn: Fn, body: int, images: list[int],
                           span: Span) -> int | None:
        """A `critic` node: `body` as a function of the one image argument it depends on
        (`at`), the other values it uses held fixed. Its inputs are [body, at]."""
        seen: set[int] = set()
        todo = [body]
        while todo:  # everything `body` is computed from
            i = todo.pop()
            if i not in seen:
                seen.add(i)
                todo += self.nodes[i].inputs
        at = [i for i in dict.fromkeys(images) if i in seen]
        names = " or ".join(f"`{a.name}`" for a in fn.args if a.kind == "image")
        if not at:
            self.diags.error("E206", f"this critic of `{fn.name}` does not depend on {names}: "
                             "its gradient there would be zero", span,
                             hint=f"apply the critic to the image: `{fn.name}(D(x, y), x)`")
            return None
        if len(at) > 1:
            self.diags.error("E206", f"this critic of `{fn.name}` depends on both {names}; "
                             "it is differentiated with respect to one", span)
            return None
        if not any(self.nodes[i].op == "call" for i in seen):
            self.diags.error("E206", f"the critic of `{fn.name}` calls no network", span,
                             hint=f"e.g. `{fn.name}(D(x, y), x)`")
            return None
        return self._add("critic", span, inputs=[body, at[0]])

    def _critic(self, e: S.Expr, fn: str) -> int | None:
        """`D` or `D.src` as a function of one image (for penalties)."""
        if isinstance(e, S.Name) and e.id in self.g.networks:
            return self._add("netfn", e.span, name=e.id, kwargs={"output": ""})
        if isinstance(e, S.Attr) and isinstance(e.obj, S.Name) and e.obj.id in self.g.networks:
            if not self._check_output(e.obj.id, e.name, e.span):
                return None
            return self._add("netfn", e.span, name=e.obj.id, kwargs={"output": e.name})
        self.diags.error("E201", f"`{fn}` takes a network (`D`) or one of its outputs "
                         "(`D.src`)", e.span)
        return None

    # -- players ------------------------------------------------------------------------

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

    def _is_step(self, name: str) -> bool:
        """`step` names the iteration unless a value, param or network takes the name."""
        return name == "step" and name not in self.env and name not in self.g.consts and \
            name not in self.g.networks

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
        if isinstance(node, _ConstBox):  # pragma: no cover - excluded above
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


class _ConstBox:
    """A compile-time number inside the objective (a weight, a `let`)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


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


def _is_const(e: S.Expr, lowering: ObjectiveLowering) -> bool:
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


def _is_state(e: S.Expr) -> bool:
    """`state(...)`: a value carried across iterations (see `State`)."""
    return _is_call_of(e, "state")


def _is_call_of(e: S.Expr, name: str) -> bool:
    return isinstance(e, S.Call) and isinstance(e.func, S.Name) and e.func.id == name


def _names_network(e: S.Expr, g) -> bool:
    """`D` or `D.src`: a network (or one output) given as a function."""
    if isinstance(e, S.Attr):
        e = e.obj
    return isinstance(e, S.Name) and e.id in g.networks
