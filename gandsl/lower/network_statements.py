"""The network lowering's statements: bodies (with the nesting limit), `return` and a final
bare expression, assignments (`a, b = b, a` swaps), `let`, and compile-time `for` and `if`,
which are expanded here."""

from __future__ import annotations

from typing import Any

from .. import syntax as S
from ..consteval import ConstError, as_int, describe, truth
from .network_nodes import MAX_NESTING, MAX_NODES, Abort, NodeBuilder, Val
from .scope import POISON, Poison, Scope


class _Failed(Exception):
    """A condition that already failed: skip quietly."""


class Statements(NodeBuilder):
    """Statements of a network or block body, lowered in order."""

    def _body(self, stmts: list[S.Stmt], scope: Scope, kind: str):
        """Lower statements; returns (values, spans) when a `return` (or a final bare
        expression) was reached, else None. `kind` is "network" or "block"."""
        self.nesting += 1
        try:
            if self.nesting > MAX_NESTING:  # the text nests less: blocks add up
                chain = " → ".join(name for name, _, _ in self.block_stack[-4:])
                self.diags.error("E152", f"expanding `{self.decl.name}` nests bodies deeper "
                                 f"than {MAX_NESTING} levels (blocks: … → {chain})",
                                 self.block_stack[-1][1] if self.block_stack else stmts[0].span,
                                 hint="each block applied inside another adds the levels of "
                                 "its own `for` and `if` bodies")
                raise Abort
            return self._statements(stmts, scope, kind)
        finally:
            self.nesting -= 1

    def _statements(self, stmts: list[S.Stmt], scope: Scope, kind: str):
        for i, stmt in enumerate(stmts):
            self._spend(stmt.span)
            last = i == len(stmts) - 1
            if isinstance(stmt, S.Return):
                if not last:
                    same_line = stmts[i + 1].span.line == stmt.span.end_line
                    self.diags.error("E205", "statements after `return` are never run",
                                     stmts[i + 1].span,
                                     hint="is a `->` missing before it?" if same_line else None)
                return self._values(stmt.values, scope, kind)
            if isinstance(stmt, S.ExprStmt):
                if last:
                    return self._values([stmt.expr], scope, kind)
                hint = "assign it (`name = ...`) or remove it"
                if i > 0 and stmts[i - 1].span.end_line == stmt.span.line:
                    hint = "is a `->` missing before it?"
                self.diags.error("E205", "this value is computed and then dropped", stmt.span,
                                 hint=hint)
                continue
            result = self._stmt(stmt, scope, kind)
            if result is not None:
                return result
        return None

    def _values(self, exprs: list[S.Expr], scope: Scope, kind: str):
        """The returned values; each is named after its output (`src`, `cls`), or `out`."""
        names = [o.name or "out" for o in self.decl.outputs]
        values = []
        for i, e in enumerate(exprs):
            hint = names[i] if i < len(names) and len(exprs) == len(names) else "out"
            self.var_hint.append(hint if kind == "network" else self._block_var())
            try:
                values.append(self._value(e, scope))
            finally:
                self.var_hint.pop()
        return values, [e.span for e in exprs]

    def _block_var(self) -> str:
        """A block's value takes the name of the variable its caller assigns it to."""
        return self.block_stack[-1][2] if self.block_stack else "out"

    def _stmt(self, stmt: S.Stmt, scope: Scope, kind: str):
        if isinstance(stmt, S.Assign):
            self._assign(stmt, scope)
        elif isinstance(stmt, S.Let):
            scope.names[stmt.name] = self._const(stmt.value, scope)
            scope.spans[stmt.name] = stmt.name_span
        elif isinstance(stmt, S.For):
            return self._for(stmt, scope, kind)
        elif isinstance(stmt, S.If):
            value = self._const(stmt.cond, scope)
            try:
                if isinstance(value, Poison):
                    raise _Failed
                taken = stmt.then if truth(value, stmt.cond.span) else stmt.orelse
            except ConstError as e:
                self.diags.error(e.code, e.message, e.span, e.hint)
                scope.poison([*stmt.then, *(stmt.orelse or [])])
                return None
            except _Failed:
                scope.poison([*stmt.then, *(stmt.orelse or [])])
                return None
            return self._body(taken, scope, kind) if taken else None
        elif isinstance(stmt, S.Sample | S.Minimize):
            what = "`~` samples" if isinstance(stmt, S.Sample) else "`minimizes` names a loss"
            self.diags.error("E301", f"{what} only in the objective section", stmt.span)
        else:  # pragma: no cover - the grammar admits nothing else here
            self.diags.error("E301", "unexpected statement", stmt.span)
        return None

    def _assign(self, stmt: S.Assign, scope: Scope) -> None:
        targets = [self._target(t, scope) for t in stmt.targets]
        if len(targets) == 1:
            values = [stmt.value]
        elif isinstance(stmt.value, S.TupleLit) and len(stmt.value.items) == len(targets):
            values = stmt.value.items
        else:
            self.diags.error("E301", f"cannot assign one value to {len(targets)} names",
                             stmt.span)
            scope.poison([stmt])
            return
        results = []  # every right-hand side first, then the bindings: `a, b = b, a` swaps
        for target, expr in zip(targets, values, strict=True):
            self.var_hint.append(target[1] if target is not None else "h")
            try:
                results.append(self._value(expr, scope))
            finally:
                self.var_hint.pop()
        for target, value, expr in zip(targets, results, values, strict=True):
            if target is not None:
                scope.names[target[0]] = value
                scope.spans[target[0]] = stmt.span
                if isinstance(value, Val) and isinstance(expr, S.Name | S.Index):
                    self.nodes[value.node].aliases.append(target[1])  # `skip = h`

    def _target(self, t: S.Expr, scope: Scope) -> tuple[str, str] | None:
        """(scope key, preferred python name) for `h` or `e[i]`."""
        if isinstance(t, S.Name):
            return t.id, t.id
        if isinstance(t, S.Index) and isinstance(t.obj, S.Name):
            i = self._index(t, scope)
            return None if i is None else (f"{t.obj.id}[{i}]", f"{t.obj.id}{i}")
        self.diags.error("E301", "can only assign to a name or `name[index]`", t.span)
        return None

    def _index(self, t: S.Index, scope: Scope) -> int | None:
        """The integer index of `e[i]`, for reads and writes alike."""
        i = self._const(t.index, scope)
        if isinstance(i, Poison):
            return None
        try:
            return as_int(i, t.index.span, "an integer index")
        except ConstError as e:
            self.diags.error(e.code, e.message, e.span)
            return None

    def _for(self, stmt: S.For, scope: Scope, kind: str):
        items = self._iterable(stmt.iterable, scope)
        if items is None:
            scope.poison(stmt.body)
            scope.names[stmt.var] = POISON
            return None
        site = ("for", f"{stmt.span.line}:{stmt.span.col}")
        for item in items:
            self._spend(stmt.span, site)
            scope.names[stmt.var] = item
            scope.spans[stmt.var] = stmt.var_span
            result = self._body(stmt.body, scope, kind)
            if result is not None:
                return result
        return None

    def _iterable(self, it, scope: Scope) -> list[Any] | None:
        """The loop's values; None after an error (reported here or before)."""
        if isinstance(it, S.Range):
            bounds = [self._const(e, scope) for e in (it.start, it.stop)]
            step = self._const(it.step, scope) if it.step is not None else 1
            if any(isinstance(b, Poison) for b in [*bounds, step]):
                return None
            try:
                a, b = (as_int(v, e.span) for v, e in zip(bounds, (it.start, it.stop),
                                                          strict=True))
                s = as_int(step, it.step.span if it.step else it.span)
            except ConstError as e:
                self.diags.error(e.code, e.message, e.span)
                return None
            if s == 0:
                self.diags.error("E150", "a range's step cannot be 0", it.step.span)
                return None
            n = max(0, (b - a) // s + 1)
            if n > MAX_NODES:
                self.diags.error("E152", f"this loop runs {n:,} times; the limit is "
                                 f"{MAX_NODES:,}", it.span)
                raise Abort
            return list(range(a, b + (1 if s > 0 else -1), s))
        value = self._const(it, scope)
        if isinstance(value, Poison):
            return None
        if not isinstance(value, tuple):
            self.diags.error("E150", f"`for` needs a range `a..b` or a list, got "
                             f"{describe(value)}", it.span)
            return None
        return list(value)
