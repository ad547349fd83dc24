"""The objective section → a graph of values (samples, network calls, losses) and players.

Definitions in the objective are order-free equations: `fake = G(z)` may come after a line that
uses `fake`. They are ordered along a networkx dependency graph, and a cycle is an error that
prints the cycle. Each `P minimizes a + w * b` becomes player P with weighted terms.

This module holds `ObjectiveLowering` and its statements (the `if`s taken, the definitions
ordered and lowered one by one). Its parts are mixins, one module each, on `objective_values`
(names, arithmetic, calls, outputs): `objective_definitions` (augmentations, states,
groups), `objective_draws` (samples), `objective_functions` (calls of functions, critics) and
`objective_players` (players and their terms).
"""

from __future__ import annotations

from typing import Any

import networkx as nx

from .. import syntax as S
from ..consteval import ConstError, names_in, truth
from ..diagnostics import Diagnostics, Span
from ..ir import Network, Objective, ONode, State
from .augment import Pipeline
from .globals import Globals, const_or_poison
from .objective_definitions import Definitions
from .objective_draws import Draws
from .objective_functions import Functions
from .objective_players import Players
from .objective_values import ConstBox, is_call_of, is_state
from .scope import POISON, Poison


class ObjectiveLowering(Definitions, Draws, Functions, Players):
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
            if isinstance(nxt, ConstBox):
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
            if is_state(expr):  # its `next` is lowered last: only its start is a dependency
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
        if is_state(stmt.value):
            self._state(name, stmt.value)
            return
        if is_call_of(stmt.value, "augment"):
            self._augment(name, stmt.value)
            return
        self.env[name] = self._value(stmt.value, var=name)
