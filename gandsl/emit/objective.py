"""The objective → the `Objective` class of the generated module: one training iteration as a
careful person writes it.

`iteration(step, draw, update)` draws samples, computes each player's loss and hands it to
`update(player, loss, terms)` (the trainer: backward, optimizer step, metrics). Players step in
the order of their `minimizes` statements. Gradient routing is decided here, statically:

- In player P's step, a value that does not depend on P's networks is computed under
  `torch.no_grad()`: the other players' outputs are constants, with no `detach` in the spec.
- Players share one draw of the samples per iteration, and a value one step computed is
  reused by a later step when that is what the hand-written loop does: DCGAN's `fake = G(z)`
  is computed once, with its graph, used detached by D and differentiated by G
  (pytorch/examples); CycleGAN's fakes from G's step feed D's step, as the reference's do
  (its image pool, which would replay older fakes, is not modelled). A value is computed again
  if a network it depends on was updated in between: D(x) after D's step, say.
- A player with `P steps k per Q step` opens a group: its k steps each take a fresh draw, and
  the players after it use the draw and values of its last step (StarGAN's D steps 5 times,
  then G uses the fifth draw, as the reference loop does).
- A term `every k` (lazy regularization) and the values only it needs are computed inside
  `if counter % k == 0`, counting the player's own steps, with its weight multiplied by k.
- A `state` (BEGAN's k_t) lives in `self.state`, a constant within the iteration; after the
  last step it takes its `next` value, computed without gradients from the values the steps
  computed (the losses before the updates, as BEGAN's single graph has them).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx

from ..ir import Player, Spec
from ..naming import (
    OBJECTIVE_ATTRS,
    RESERVED,
    Namespace,
    docstring,
    literal,
    output_fields,
    sanitize,
)
from .objective_text import (
    augmentation,
    loss_sum,
    optimizer_lines,
    strings,
    term_weights,
    terms_text,
    update_lines,
    weighted,
    wrap_call,
    wrap_literal,
)
from .objective_values import STEP, ValueWriter
from .samples import SampleRows
from .schedule import Step, critic_paths, draw_groups, merge_identical, schedule
from .tensor_math import unwrap as _unwrap
from .wrap import WIDTH


@dataclass
class ObjectiveSource:
    title: str  # first docstring line
    summary: list[str]  # "D minimizes ..." lines
    players: str  # the PLAYERS literal
    terms: str  # the TERMS literal
    networks: list[tuple[str, str]]  # (spec name, attribute)
    pipelines: list[str] = field(default_factory=list)  # `self.aug = rt.Augment(...)` lines
    optimizers: list[str] = field(default_factory=list)  # `optimizers` return lines
    body: list[str] = field(default_factory=list)  # `iteration` lines, relative indentation
    samples: list[str] = field(default_factory=list)  # `samples` lines
    generated: str = "GENERATED = []"  # the generator outputs among the samples
    conditions: str = "CONDITIONS = {}"  # generated image → the labels it was made from
    states: str = ""  # the `self.state` literal: each state at its start; "" without states


def build_objective(spec: Spec) -> ObjectiveSource:
    obj = spec.objective
    canon = merge_identical(obj.nodes)
    graph = nx.DiGraph()
    for n in obj.nodes:
        graph.add_node(n.id)
        for i in n.inputs:
            graph.add_edge(canon[i], canon[n.id])
    critics = critic_paths(obj.nodes, canon, graph)
    owner = {net: p.name for p in obj.players for net in p.networks}
    attrs = Namespace(RESERVED | OBJECTIVE_ATTRS)
    networks = [(literal(net.name), attrs.create(net.name)) for net in spec.networks]
    attr = {net.name: a for net, (_, a) in zip(spec.networks, networks, strict=True)}
    attr |= {name: attrs.create(name) for name in obj.pipelines}  # names unique in a spec
    steps = schedule(spec)
    src = ObjectiveSource(
        title=docstring(f"The objective of `{sanitize(spec.name, frozenset())}`: what each "
                        "player minimizes, one iteration at a time."),
        summary=[f"{p.name} minimizes {terms_text(p.terms)}" for p in obj.players],
        players=wrap_literal("PLAYERS = {", [f"{literal(p.name)}: {strings(p.networks)}"
                                             for p in obj.players], "}"),
        terms=wrap_literal("TERMS = {", [term_weights(p) for p in obj.players], "}"),
        networks=networks)
    writer = _Writer(spec, canon, graph, owner, attr, steps)
    writer.critics = critics
    src.body = [w for line in writer.iteration() for w in wrap_call(line)]
    src.samples = [w for line in writer.samples() for w in wrap_call(line)]
    src.generated = wrap_literal("GENERATED = [", [literal(n) for n in writer.generated], "]")
    src.conditions = wrap_literal("CONDITIONS = {", [f"{literal(k)}: {literal(v)}" for k, v in
                                                      writer.conditions.items()], "}")
    src.optimizers = optimizer_lines(spec, attr)
    src.pipelines = [f"self.{attr[name]} = rt.Augment({', '.join(map(augmentation, ops))})"
                     for name, ops in obj.pipelines.items()]
    if obj.states:
        src.states = "{" + ", ".join(f"{literal(st.name)}: {st.init!r}"
                                     for st in obj.states) + "}"
    return src


class _Writer(ValueWriter, SampleRows):
    def __init__(self, spec: Spec, canon: dict[int, int], graph: nx.DiGraph,
                 owner: dict[str, str], attr: dict[str, str], steps: list[Step]) -> None:
        self.spec, self.canon, self.graph = spec, canon, graph
        self.nodes = {n.id: n for n in spec.objective.nodes}
        self.owner, self.attr, self.steps = owner, attr, steps
        # The iteration's own names: its arguments, `loss` and `terms`, the loop's `i`.
        self.reserved = RESERVED | set(attr.values()) | {"step", STEP, "draw", "update",
                                                          "loss", "terms", "i"} | {
            e.alias for e in spec.externs}  # the user's functions, imported by alias
        self.called: set[str] = set()  # networks the method being written calls
        self.fields = {net.name: output_fields([o.name for o in net.outputs])
                       for net in spec.networks}
        self.names = Namespace(self.reserved)
        self.lazy_test: dict[int, str] = {}  # node → the `every` test it is computed under
        # an augmentation of several images → its items, in order
        self.items: dict[int, list[int]] = {}
        for n in sorted(spec.objective.nodes, key=lambda n: n.field):
            if n.op == "item" and canon[n.id] == n.id:
                self.items.setdefault(canon[n.inputs[0]], []).append(n.id)
        self._nets: dict[int, frozenset[str]] = {}
        self.critics: dict[int, set[int]] = {}  # critic expressions: `critic_paths`
        self.first: dict[int, tuple[str, bool]] = {}  # a value's first variable in the group
        self._player_needs: dict[str, frozenset[int]] = {}
        # A loss term's value is named after the term (`cycle_a = rt.l1(...)`).
        self.term_name = {}
        for p in spec.objective.players:
            for t in p.terms:
                self.term_name.setdefault(canon[t.node], t.name)

    # -- analysis -------------------------------------------------------------------------

    def _networks_of(self, i: int) -> set[str]:
        """The networks whose calls `i` depends on (asked once per node per step: kept)."""
        if i not in self._nets:
            found = set()
            for j in nx.ancestors(self.graph, i) | {i}:
                if self.nodes[j].op in ("call", "netfn"):
                    found.add(self.nodes[j].name)
                elif j in self.critics:  # the networks its lambda calls
                    found |= {self.nodes[k].name for k in self.critics[j]
                              if self.nodes[k].op == "call"}
            self._nets[i] = frozenset(found)
        return self._nets[i]

    def _needs(self, player: Player) -> frozenset[int]:
        """What a player's step computes (kept: asked once per value per step)."""
        if player.name not in self._player_needs:
            self._player_needs[player.name] = frozenset(self._needed(player))
        return self._player_needs[player.name]

    def _needed(self, player: Player) -> list[int]:
        need: set[int] = set()
        for t in player.terms:
            root = self.canon[t.node]
            need |= nx.ancestors(self.graph, root) | {root}
        return sorted(need)

    # -- iteration ------------------------------------------------------------------------

    def _bind_networks(self, lines: list[str]) -> list[str]:
        """`G, D = self.G, self.D` for the networks `lines` call, then `lines`."""
        used = [a for a in self.attr.values() if a in self.called]
        self.called = set()
        if not used:
            return lines
        return [f"{', '.join(used)} = {', '.join('self.' + a for a in used)}", *lines]

    def iteration(self) -> list[str]:
        lines: list[str] = []
        if any(n.op == "step" for n in self.nodes.values()):
            # `step` in the objective's math is a float32 tensor, as the losses are (exact to
            # 2^24 steps): `1 / step` at step 0 is inf (caught as a non-finite loss), not a
            # ZeroDivisionError
            lines.append(f"{STEP} = torch.tensor(float(step))")
        groups = draw_groups(self.steps)
        for k, group in enumerate(groups):
            lines += self._group(group, last=k == len(groups) - 1)
        return self._bind_networks(lines)

    def _state_updates(self, computed: dict[int, tuple[str, bool]],
                       updated: set[str]) -> list[str]:
        """Every state's next value, from the values this iteration's steps computed (as
        constants); then one assignment of them all, so that none sees another's new value.
        A state whose next value uses a lazy term's values changes only when that term ran
        (StyleGAN2's pl_mean, every 4 steps): under the same test, else it keeps its value."""
        states = [st for st in self.spec.objective.states
                  if st.next is not None and st.after is None]
        if not states:
            return []
        needs = {st.name: self._next_needs(st) for st in states}
        lines = [f"# the state{'s' if len(states) > 1 else ''} for the next iteration"]
        fresh = [i for i in sorted(set().union(*needs.values()))
                 if self.nodes[i].op in ("data", "dist") and i not in computed]
        if fresh:  # samples only a state uses
            draws, drawn = self._draws(fresh)
            lines += draws
            computed.update({i: (v, False) for i, v in drawn.items()})
        by_test: dict[str | None, list] = {}
        for st in states:
            tests = {self.lazy_test[i] for i in needs[st.name]
                     if i in self.lazy_test and i in computed}
            by_test.setdefault(" and ".join(sorted(tests)) or None, []).append(st)
        nexts: dict[str, str] = {}
        for test, group in by_test.items():
            refs: dict[int, str] = {}
            raw: dict[int, str] = {}
            ctx = (set(), [], computed, updated, set(), refs, raw)
            body = self._values(sorted(set().union(*(needs[st.name] for st in group))), ctx)
            for st in group:
                value = _unwrap(refs[self.canon[st.next]])
                if not value.isidentifier():
                    nexts[st.name] = self.names.create(f"{st.name}_next")
                    body.append(f"{nexts[st.name]} = {value}")
                else:
                    nexts[st.name] = value
            if test is None:
                lines += body
            else:
                lines += [f"if {test}:", *("    " + x for x in body), "else:  # not this step",
                          *(f"    {nexts[st.name]} = self.state[{literal(st.name)}]"
                            for st in group)]
        targets = ", ".join(f"self.state[{literal(st.name)}]" for st in states)
        line = f"{targets} = {', '.join(nexts[st.name] for st in states)}"
        if len(line) + 8 > WIDTH:  # one dict, which breaks between its items: all at once too
            line = "self.state.update({" + ", ".join(
                f"{literal(st.name)}: {nexts[st.name]}" for st in states) + "})"
        return [*lines, line]

    def _group(self, group: list[Step], last: bool = False) -> list[str]:
        """Steps that share a draw, in order. A group may open with a player that steps k
        times: its steps form a loop with a fresh draw each, and the steps after the loop
        reuse the last iteration's draw and values, as StarGAN's reference loop does. Names
        are fresh per group: no value outlives its group."""
        self.names = Namespace(self.reserved)
        computed: dict[int, tuple[str, bool]] = {}  # node → (variable, carries a graph)
        self.first = {}
        updated: set[str] = set()  # networks updated so far in this group
        lines: list[str] = []
        rest = group
        if group[0].loops:
            s, k = group[0], group[0].repeat
            need = self._needed(s.player)
            body, drawn = self._draws(need)
            computed.update({i: (v, False) for i, v in drawn.items()})
            # lazy terms count the player's own steps; the check rejects them with `cases`
            body += self._step(s, need, [], computed, updated, counter=f"step * {k} + i")
            loop_var = "i" if any(t.every for t in s.player.terms) else "_"
            if s.cases:  # the count is an expression: the comment gets a line of its own
                cases = "".join(f", {n} if {c.text()}" for n, c in s.cases)
                lines.append(f"# {s.player.name} steps {k} times{cases}; each on a fresh draw")
                lines.append(f"for {loop_var} in range({s.count()}):")
            else:
                lines.append(f"for {loop_var} in range({k}):  # {s.player.name} steps {k} times, "
                             "each on a fresh draw")
            lines += ["    " + x for x in body]
            updated |= set(s.player.networks)
            rest = group[1:]
        needed = [self._needed(s.player) for s in rest]
        fresh = sorted(set().union(set(), *map(set, needed)) - set(computed))
        draws, drawn = self._draws(fresh)
        computed.update({i: (v, False) for i, v in drawn.items()})
        lines += draws
        for k, (s, need) in enumerate(zip(rest, needed, strict=True)):
            lines += self._step(s, need, rest[k + 1:], computed, updated, counter="step")
            updated |= set(s.player.networks)
        if last:  # from the values as first computed: before the updates that follow them
            lines += self._state_updates({**computed, **self.first}, updated)
        return lines

    def _step(self, s: Step, need: list[int], later: list[Step],
              computed: dict[int, tuple[str, bool]], updated: set[str],
              counter: str) -> list[str]:
        """One player's step, then the states that move after each of its steps."""
        lines, ctx = self._player_step(s, need, later, computed, updated, counter)
        return lines + self._after_step(s.player.name, ctx)

    def _next_needs(self, st) -> set[int]:
        """The values a state's next value is computed from, itself included."""
        return nx.ancestors(self.graph, self.canon[st.next]) | {self.canon[st.next]}

    def _after_step(self, player: str, ctx) -> list[str]:
        """`lam = state(0, next=..., after=D)`: its next value from the values D's step
        computed (before its update), assigned at once, so that D's next step and the steps
        after it read the new value. Under a lazy term's test when it needs that term's
        values."""
        states = [st for st in self.spec.objective.states
                  if st.after == player and st.next is not None]
        if not states:
            return []
        refs = ctx[5]
        needs = set().union(*map(self._next_needs, states))
        body = self._values(sorted(needs), ctx)
        nexts = [_unwrap(refs[self.canon[st.next]]) for st in states]
        targets = ", ".join(f"self.state[{literal(st.name)}]" for st in states)
        body.append(f"{targets} = {', '.join(nexts)}")
        tests = sorted({self.lazy_test[i] for i in needs if i in self.lazy_test})
        names = ", ".join(f"`{st.name}`" for st in states)
        lines = [f"# {names}: moved after each of {player}'s steps"]
        if tests:
            lines.append(f"if {' and '.join(tests)}:")
            lines += ["    with torch.no_grad():", *("        " + x for x in body)]
        else:
            lines += ["with torch.no_grad():", *("    " + x for x in body)]
        return lines

    def _player_step(self, s: Step, need: list[int], later: list[Step],
                     computed: dict[int, tuple[str, bool]], updated: set[str],
                     counter: str) -> tuple[list[str], tuple]:
        """One player's step: its values, then its loss handed to `update`. Terms with
        `every k` and the values only they need are computed inside `if counter % k == 0`.
        Returns the lines and the step's context (for what follows the step)."""
        player = s.player
        mine = set(player.networks)
        eager = [t for t in player.terms if not t.every]
        lazy = [t for t in player.terms if t.every]
        eager_need = set(self._needed_for(eager))
        called = self._fresh_calls(need, mine, computed, updated)
        refs: dict[int, str] = {}  # this step's view: detached where it needs no gradient
        raw: dict[int, str] = {}  # the variables themselves, graphs included
        ctx = (mine, later, computed, updated, called, refs, raw)
        lines = [f"# {player.name} minimizes {terms_text(player.terms)}"]
        lines += self._values([i for i in need if i in eager_need], ctx)
        total = [(t.weight, refs[self.canon[t.node]], t.name) for t in eager]
        if not lazy:
            return lines + update_lines(player.name, total), ctx
        done = set(eager_need)
        if eager:
            lines.append(f"loss = {loss_sum(total)}")
            lines.append("terms = {" + ", ".join(f"{literal(n)}: {_unwrap(v)}"
                                                 for _, v, n in total) + "}")
        for t in lazy:
            mine_only = [i for i in self._needed_for([t]) if i not in done]
            done |= set(mine_only)
            block = self._values(mine_only, ctx)
            value = refs[self.canon[t.node]]
            weight = t.weight * t.every
            if eager:
                block += [f"terms[{literal(t.name)}] = {_unwrap(value)}",
                          f"loss = loss + {weighted(weight, value)}"]
            else:
                block += update_lines(player.name, [(weight, value, t.name)])
            test = counter if counter == "step" else f"({counter})"
            for i in mine_only:  # a state computed from these updates only when they run
                self.lazy_test[i] = f"{test} % {t.every} == 0"
            lines.append(f"if {test} % {t.every} == 0:  # lazy regularization: weight × "
                         f"{t.every}")
            lines += ["    " + x for x in block]
        if eager:
            lines.append(f"update({literal(player.name)}, loss, terms)")
        return lines, ctx

    def _fresh_calls(self, need: list[int], mine: set[str],
                     computed: dict[int, tuple[str, bool]], updated: set[str]) -> set[str]:
        """Networks this step runs anew: a call not computed yet, or one it must
        differentiate that is stale or was computed without its graph. A constant made
        earlier by such a network is made again, so that this step's comparisons do not mix
        old and new weights (feature matching's D(x) and D(fake)); otherwise it is reused,
        as the reference loops feed D the fakes of G's step."""
        fresh = set()
        for i in need:
            node = self.nodes[i]
            if node.op not in ("call", "netfn", "critic"):
                continue
            nets = self._networks_of(i)
            names = {self.nodes[k].name for k in self.critics[i]
                     if self.nodes[k].op == "call"} if node.op == "critic" else {node.name}
            if i not in computed:
                fresh |= names
            elif nets & mine and (nets & updated or not computed[i][1]):
                fresh |= names
        return fresh

    def _needed_for(self, terms) -> list[int]:
        need: set[int] = set()
        for t in terms:
            root = self.canon[t.node]
            need |= nx.ancestors(self.graph, root) | {root}
        return sorted(need)


