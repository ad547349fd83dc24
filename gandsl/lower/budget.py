"""The expansion budget: how much work unrolling a spec may take, counted while it is done.

`for`, `repeat` and blocks multiply: nested loops, or a block that applies itself twice per
level, grow exponentially while each construct alone stays small. Every statement lowered,
loop iteration, block or `repeat` application and node made spends one step of one budget
shared by the whole spec; past `limits.EXPANSION` lowering stops with one `E152` that names
the construct that spent the most (the loop or the recursive block that blew up).
"""

from __future__ import annotations

from collections import Counter

from .. import limits
from ..diagnostics import Diagnostics, Span


class OverBudget(Exception):
    """The budget ran out; the error is reported. Lowering stops."""


class Budget:
    def __init__(self, limit: int = limits.EXPANSION.value) -> None:
        self.limit = limit
        self.left = limit
        self.exhausted = False
        # (kind, name) → (steps it spent, where it is written)
        self._spent: Counter[tuple[str, str]] = Counter()
        self._where: dict[tuple[str, str], Span] = {}

    def spend(self, diags: Diagnostics, span: Span, site: tuple[str, str] | None = None,
              network: str = "") -> None:
        """One step; `site` is the construct it is for (`("for", "i")`, `("block", "res")`).
        Raises `OverBudget` after reporting, when the budget is spent."""
        if site is not None:
            self._spent[site] += 1
            self._where.setdefault(site, span)
        self.left -= 1
        if self.left >= 0:
            return
        self.exhausted = True
        self._report(diags, span, network)
        raise OverBudget

    def _report(self, diags: Diagnostics, span: Span, network: str) -> None:
        budget = f"the spec's expansion budget is {self.limit:,} steps"
        if not self._spent:
            diags.error("E152", f"expanding `{network}` takes more than {self.limit:,} "
                        f"steps; {budget}", span)
            return
        (kind, name), count = self._spent.most_common(1)[0]
        where = self._where[(kind, name)]
        if kind == "block":
            diags.error("E152", f"block `{name}` is applied {count:,} times while expanding "
                        f"`{network}`; {budget}", where,
                        hint="a block that applies itself more than once per level doubles "
                        "its work with every level: is the recursion meant?")
        elif kind == "for":
            diags.error("E152", f"this `for` runs its body {count:,} times while expanding "
                        f"`{network}`; {budget}", where,
                        hint="nested loops multiply their iteration counts")
        else:
            diags.error("E152", f"this `repeat` applies its body {count:,} times while "
                        f"expanding `{network}`; {budget}", where,
                        hint="a `repeat` inside a loop or a block runs once per use")
