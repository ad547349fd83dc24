"""`state` values against the order the players step in.

A state's next value is computed after the iteration's last step, from the values of the
last group of steps (the players that share the last draw: after a player with
`P steps k per Q step`, whose loop draws anew). Two cases have no faithful meaning there, and
are errors rather than silently different numbers:

- the next value uses a value only an earlier group computed (G's loss, before D's 3 steps
  draw anew): it would be computed again, from another draw;
- it uses a lazy term (`every k`) of a player that steps several times per iteration: which
  of its steps ran the term is not one fact after the loop.
"""

from __future__ import annotations

import networkx as nx

from ..diagnostics import Diagnostics
from ..ir import Spec


def check_states(spec: Spec, g: nx.DiGraph, diags: Diagnostics) -> None:
    obj = spec.objective
    if not obj.states or spec.train is None:
        return
    looping = {r.player for r in spec.train.ratios}
    players = obj.players
    starts = [k for k, p in enumerate(players) if p.name in looping]
    last = players[starts[-1]:] if starts else players
    earlier = players[:starts[-1]] if starts else []

    def values(ps, lazy: bool | None = None) -> set[int]:
        return {i for p in ps for t in p.terms if lazy is None or bool(t.every) == lazy
                for i in nx.ancestors(g, t.node) | {t.node}}

    now, before = values(last), values(earlier)
    loop_lazy = values([p for p in last[:1] if p.name in looping], lazy=True) - values(
        [p for p in last[:1] if p.name in looping], lazy=False)
    for st in obj.states:
        if st.next is None:
            continue
        need = nx.ancestors(g, st.next) | {st.next}
        stale = [i for i in need & before - now if obj.nodes[i].op in ("call", "fn")]
        if stale:
            who = next(p.name for p in earlier if stale[0] in values([p]))
            diags.error("E304", f"the next value of state `{st.name}` uses a value of "
                        f"`{who}`'s step, but `{last[0].name}` steps after it on draws of its "
                        "own: a state is computed from the last draw of the iteration",
                        st.span, hint=f"compute it from values of `{last[0].name}`'s step or "
                        "later ones")
        elif need & loop_lazy:
            diags.error("E304", f"the next value of state `{st.name}` uses a lazy term of "
                        f"`{last[0].name}`, which steps several times per iteration",
                        st.span, hint="make the term eager, or keep the state off it")
