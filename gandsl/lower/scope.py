"""What the lowerings of a network body share with the externs they apply: the local names of
a body (`Scope`), and `POISON`, the value of a name whose error was already reported."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .. import syntax as S
from ..diagnostics import Span


class Poison:
    """Stands for a value whose error was already reported; silences follow-on errors."""

    def __repr__(self) -> str:
        return "<error>"


POISON = Poison()


@dataclass
class Scope:
    """Local names of a network body or of one block instance (lexical: blocks see globals,
    not their caller's locals)."""

    names: dict[str, Any] = field(default_factory=dict)
    spans: dict[str, Span] = field(default_factory=dict)
    poisoned: set[str] = field(default_factory=set)  # names (and `e[...]` bases) gone bad

    def poison(self, stmts: list) -> None:
        """After a failed `for` range or `if` condition, what the body would assign is
        unknown: make those names quiet poison instead of a flood of undefined names."""
        stack = list(stmts)
        while stack:
            st = stack.pop()
            if isinstance(st, S.Assign):
                for t in st.targets:
                    base = t.obj if isinstance(t, S.Index) else t
                    if isinstance(base, S.Name):
                        self.names[base.id] = POISON
                        self.poisoned.add(base.id)
            elif isinstance(st, S.For):
                stack.extend(st.body)
            elif isinstance(st, S.If):
                stack.extend(st.then)
                stack.extend(st.orelse or [])
