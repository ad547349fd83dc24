"""When the objective's values are computed: the players' steps in order (`Step`), the groups
that share a draw, identical values merged, and the values a critic expression's lambda
computes."""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx

from ..ir import ONode, Player, Spec, StepExpr

RANDOM_FNS = {"shuffle", "mix_styles", "path_lengths"}  # each draws anew: never merged


@dataclass
class Step:
    player: Player
    repeat: int  # > 1: a loop of fresh draws
    cases: list[tuple[int, StepExpr]] = field(default_factory=list)  # (count, condition)

    @property
    def loops(self) -> bool:
        return self.repeat > 1 or bool(self.cases)

    def count(self) -> str:
        """How many times, as Python: `5`, or `100 if step < 25 or step % 500 == 0 else 5`."""
        return "".join(f"{n} if {step_python(c)} else " for n, c in self.cases) + \
            str(self.repeat)


def step_python(e: StepExpr) -> str:
    """A condition on `step` as Python: the language's power `^` is `**`, every other
    operator Python's own; a nested operation in parentheses, so Python's precedence cannot
    regroup it."""
    if e.kind == "step":
        return "step"
    if e.kind == "number":
        return repr(e.value)
    if e.kind in ("neg", "not"):
        inner = step_python(e.items[0])
        return f"-({inner})" if e.kind == "neg" else f"not ({inner})"
    nest = e.kind != "compare"  # a comparison binds more loosely than arithmetic
    parts = [f"({step_python(x)})" if nest and x.kind in ("arith", "bool") else step_python(x)
             for x in e.items]
    ops = [{"^": "**"}.get(op, op) for op in e.ops] if e.kind == "arith" else \
        e.ops * (len(parts) - 1)
    return parts[0] + "".join(f" {op} {x}" for op, x in zip(ops, parts[1:], strict=True))


def critic_paths(nodes: list[ONode], canon: dict[int, int],
                  graph: nx.DiGraph) -> dict[int, set[int]]:
    """A critic given as an expression (`r1(D(x, y), x)`) → the values between its image
    and the expression, which its lambda computes (`lambda v: D(v, y)`). In `graph` the
    critic then depends on what those values take from outside (`y`), not on the expression
    itself, which no step computes for it."""
    paths: dict[int, set[int]] = {}
    for n in nodes:
        if n.op != "critic" or canon[n.id] != n.id:
            continue
        body, at = canon[n.inputs[0]], canon[n.inputs[1]]
        path = (nx.ancestors(graph, body) | {body}) & (nx.descendants(graph, at) | {at})
        path.discard(at)
        graph.remove_edge(body, n.id)
        for j in path:
            for i in nodes[j].inputs:
                if canon[i] not in path:
                    graph.add_edge(canon[i], n.id)
        paths[n.id] = path
    return paths


def merge_identical(nodes: list[ONode]) -> dict[int, int]:
    """Node → the first node computing the same value (`D(x)` written twice is one call)."""
    canon: dict[int, int] = {}
    seen: dict[tuple, int] = {}
    for n in nodes:
        if n.op in ("data", "dist", "augment") or (n.op == "fn" and n.name in RANDOM_FNS):
            canon[n.id] = n.id
            continue
        key = (n.op, n.name, tuple(canon[i] for i in n.inputs), n.field, repr(n.args),
               repr(sorted(n.kwargs.items())), tuple(sorted(n.named)))
        canon[n.id] = seen.setdefault(key, n.id)
    return canon


def schedule(spec: Spec) -> list[Step]:
    """The players' steps in the order of their `minimizes` statements."""
    ratios = spec.train.ratios if spec.train else []
    steps = []
    for p in spec.objective.players:
        mine = [r for r in ratios if r.player == p.name]
        default = next((r.steps for r in mine if r.condition is None), 1)
        steps.append(Step(p, default, [(r.steps, r.condition) for r in mine if r.condition]))
    return steps


def draw_groups(steps: list[Step]) -> list[list[Step]]:
    """Steps sharing a draw: a player that steps k > 1 times opens a new group, and the
    one-step players after it join that group."""
    groups: list[list[Step]] = []
    for s in steps:
        if not groups or s.loops:
            groups.append([s])
        else:
            groups[-1].append(s)
    return groups


def networks_between(q: Step, later: list[Step]) -> set[str]:
    """Networks updated by the steps before `q` among `later`."""
    out: set[str] = set()
    for s in later:
        if s is q:
            break
        out |= set(s.player.networks)
    return out
