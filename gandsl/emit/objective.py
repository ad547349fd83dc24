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

import re
from dataclasses import dataclass, field

import networkx as nx

from ..functions import FUNCTIONS
from ..ir import ONode, Player, Spec
from ..naming import (
    OBJECTIVE_ATTRS,
    RESERVED,
    Namespace,
    docstring,
    literal,
    output_fields,
    sanitize,
)
from ..types import TensorType
from . import tensor_math
from .samples import SampleRows
from .tensor_math import atom
from .tensor_math import unwrap as _unwrap
from .wrap import WIDTH, split_sum

STEP = "step_t"  # the iteration number as a tensor, in the generated `iteration`
INLINE = {"select", "netfn", "critic", "arith", "neg", "const", "state", "step"}  # into users
RANDOM_FNS = {"shuffle", "mix_styles", "path_lengths"}  # each draws anew: never merged
TRAINING_ONLY = {"mix_styles"}  # sample grids take their first argument instead


OPTIMIZERS = {"adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop", "sgd": "SGD"}
# Without a train section, or for a player it does not name: DCGAN's Adam.
DEFAULT_OPTIMIZER = ("adam", {"lr": 2e-4, "betas": (0.5, 0.999)})


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


@dataclass
class _Step:
    player: Player
    repeat: int  # > 1: a loop of fresh draws
    cases: list[tuple[int, str]] = field(default_factory=list)  # (count, condition on step)

    @property
    def loops(self) -> bool:
        return self.repeat > 1 or bool(self.cases)

    def count(self) -> str:
        """How many times, as Python: `5`, or `100 if step < 25 or step % 500 == 0 else 5`."""
        return "".join(f"{n} if {c} else " for n, c in self.cases) + str(self.repeat)


def build_objective(spec: Spec) -> ObjectiveSource:
    obj = spec.objective
    canon = _merge_identical(obj.nodes)
    graph = nx.DiGraph()
    for n in obj.nodes:
        graph.add_node(n.id)
        for i in n.inputs:
            graph.add_edge(canon[i], canon[n.id])
    critics = _critic_paths(obj.nodes, canon, graph)
    owner = {net: p.name for p in obj.players for net in p.networks}
    attrs = Namespace(RESERVED | OBJECTIVE_ATTRS)
    networks = [(literal(net.name), attrs.create(net.name)) for net in spec.networks]
    attr = {net.name: a for net, (_, a) in zip(spec.networks, networks, strict=True)}
    attr |= {name: attrs.create(name) for name in obj.pipelines}  # names unique in a spec
    steps = _schedule(spec)
    src = ObjectiveSource(
        title=docstring(f"The objective of `{sanitize(spec.name, frozenset())}`: what each "
                        "player minimizes, one iteration at a time."),
        summary=[f"{p.name} minimizes {_terms_text(p.terms)}" for p in obj.players],
        players=wrap_literal("PLAYERS = {", [f"{literal(p.name)}: {_strings(p.networks)}"
                                             for p in obj.players], "}"),
        terms=wrap_literal("TERMS = {", [_term_weights(p) for p in obj.players], "}"),
        networks=networks)
    writer = _Writer(spec, canon, graph, owner, attr, steps)
    writer.critics = critics
    src.body = [w for line in writer.iteration() for w in wrap_call(line)]
    src.samples = [w for line in writer.samples() for w in wrap_call(line)]
    src.generated = wrap_literal("GENERATED = [", [literal(n) for n in writer.generated], "]")
    src.conditions = wrap_literal("CONDITIONS = {", [f"{literal(k)}: {literal(v)}" for k, v in
                                                      writer.conditions.items()], "}")
    src.optimizers = _optimizers(spec, attr)
    src.pipelines = [f"self.{attr[name]} = rt.Augment({', '.join(map(_augmentation, ops))})"
                     for name, ops in obj.pipelines.items()]
    if obj.states:
        src.states = "{" + ", ".join(f"{literal(st.name)}: {st.init!r}"
                                     for st in obj.states) + "}"
    return src


def _term_weights(player: Player) -> str:
    """`"G": {"gan": 1.0, ...}` of TERMS, one term per line when long."""
    items = [f"{literal(t.name)}: {t.weight!r}" for t in player.terms]
    one = f"{literal(player.name)}: {{" + ", ".join(items) + "}"
    if len(one) <= 88:
        return one
    return f"{literal(player.name)}: {{\n" + "".join(f"        {i},\n" for i in items) + "    }"


def _strings(names: list[str]) -> str:
    return "[" + ", ".join(literal(n) for n in names) + "]"


def _optimizers(spec: Spec, attr: dict[str, str]) -> list[str]:
    chosen = {o.player: (o.kind, o.kwargs) for o in spec.train.optimizers} if spec.train else {}
    lines = []
    for p in spec.objective.players:
        kind, kwargs = chosen.get(p.name, DEFAULT_OPTIMIZER)
        nets = [f"self.{attr[n]}.parameters()" for n in p.networks]
        params = nets[0] if len(nets) == 1 else "[" + ", ".join(f"*{n}" for n in nets) + "]"
        args = "".join(f", {k}={v!r}" for k, v in kwargs.items())
        lines.append(f"{literal(p.name)}: torch.optim.{OPTIMIZERS[kind]}({params}{args}),")
    return lines


def wrap_literal(head: str, items: list[str], tail: str, width: int = 92) -> str:
    """`head item, item tail` on one line when it fits, else one item per line."""
    one = head + ", ".join(items) + tail
    if len(one) <= width:
        return one
    return head + "\n" + "".join(f"    {item},\n" for item in items) + tail


def wrap_call(line: str, width: int = 88) -> list[str]:
    """A long `update(..., {...})` or `return {...}` line, one dict entry per line."""
    if len(line) <= width or "{" not in line or not line.rstrip().endswith(("})", "}")):
        return [line]
    indent = line[:len(line) - len(line.lstrip())]
    head, _, rest = line.partition("{")
    body, _, close = rest.rpartition("}")
    items = [i.strip() for i in body.split(", ") if i.strip()]
    return [head + "{", *(f"{indent}    {i}," for i in items), indent + "}" + close]


def _critic_paths(nodes: list[ONode], canon: dict[int, int],
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


def _merge_identical(nodes: list[ONode]) -> dict[int, int]:
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


def _schedule(spec: Spec) -> list[_Step]:
    """The players' steps in the order of their `minimizes` statements."""
    ratios = spec.train.ratios if spec.train else []
    steps = []
    for p in spec.objective.players:
        mine = [r for r in ratios if r.player == p.name]
        default = next((r.steps for r in mine if r.condition is None), 1)
        steps.append(_Step(p, default, [(r.steps, r.condition) for r in mine if r.condition]))
    return steps


def _groups(steps: list[_Step]) -> list[list[_Step]]:
    """Steps sharing a draw: a player that steps k > 1 times opens a new group, and the
    one-step players after it join that group."""
    groups: list[list[_Step]] = []
    for s in steps:
        if not groups or s.loops:
            groups.append([s])
        else:
            groups[-1].append(s)
    return groups


class _Writer(SampleRows):
    def __init__(self, spec: Spec, canon: dict[int, int], graph: nx.DiGraph,
                 owner: dict[str, str], attr: dict[str, str], steps: list[_Step]) -> None:
        self.spec, self.canon, self.graph = spec, canon, graph
        self.nodes = {n.id: n for n in spec.objective.nodes}
        self.owner, self.attr, self.steps = owner, attr, steps
        # The iteration's own names: its arguments, `loss` and `terms`, the loop's `i`.
        self.reserved = RESERVED | set(attr.values()) | {"step", STEP, "draw", "update",
                                                          "loss", "terms", "i"}
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
        self.critics: dict[int, set[int]] = {}  # critic expressions: `_critic_paths`
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
        """`G, D = self.G, self.D` for the networks `lines` use, then `lines`."""
        words = set(_WORDS.findall("\n".join(lines)))
        used = [a for a in self.attr.values() if a in words]
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
        groups = _groups(self.steps)
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

    def _group(self, group: list[_Step], last: bool = False) -> list[str]:
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
                cases = "".join(f", {n} if {c}" for n, c in s.cases)
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

    def _step(self, s: _Step, need: list[int], later: list[_Step],
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

    def _player_step(self, s: _Step, need: list[int], later: list[_Step],
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
        lines = [f"# {player.name} minimizes {_terms_text(player.terms)}"]
        lines += self._values([i for i in need if i in eager_need], ctx)
        total = [(t.weight, refs[self.canon[t.node]], t.name) for t in eager]
        if not lazy:
            return lines + _update(player.name, total), ctx
        done = set(eager_need)
        if eager:
            lines.append(f"loss = {_sum(total)}")
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
                          f"loss = loss + {_weighted(weight, value)}"]
            else:
                block += _update(player.name, [(weight, value, t.name)])
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

    def _values(self, nodes: list[int], ctx) -> list[str]:
        """Statements computing `nodes` (topological order) for the current step."""
        mine, later, computed, updated, called, refs, raw = ctx
        lines: list[str] = []
        pending: list[str] = []  # statements waiting to go into one `with torch.no_grad()`
        for i in nodes:
            node = self.nodes[i]
            nets = self._networks_of(i)
            grad_here = bool(nets & mine)
            if i in computed:
                var, has_graph = computed[i]
                stale = nets & updated
                # A value made by a network updated since is reused as a constant (the
                # reference loops feed D the fakes of G's step), unless this step runs that
                # network anew: then both sides of a comparison must be fresh.
                if not grad_here and not (stale & called):
                    refs[i], raw[i] = (self._detached(node, var) if has_graph else var), var
                    continue
                if grad_here and has_graph and not stale:
                    refs[i] = raw[i] = var
                    continue
            if self._inline(node, refs):
                refs[i], raw[i] = self._expr(node, refs), self._expr(node, raw)
                continue
            keep = not grad_here and any(
                i in self._needs(q.player) and nets & set(q.player.networks)
                and not nets & (mine | _networks_between(q, later)) for q in later)
            var = self._var(node)
            target = var
            if node.op == "augment" and i in self.items:  # `xa, ya = aug(x, y)`: their names
                names = [self._var(self.nodes[j]) for j in self.items[i]]
                target = ", ".join(names)
                for j, name in zip(self.items[i], names, strict=True):
                    computed[j] = (name, grad_here or keep)
            # A value kept for a later step is built from the graph-carrying variables; the
            # rest from this step's view.
            statement = f"{target} = {_unwrap(self._expr(node, raw if keep else refs))}"
            if grad_here or keep or not nets:  # label shuffles need no no_grad
                lines += self._flush(pending)
                lines.append(statement + ("  # kept with its graph for a later step"
                                          if keep else ""))
            else:
                pending.append(statement)
            computed[i] = (var, grad_here or keep)
            self.first.setdefault(i, computed[i])
            refs[i] = self._detached(node, var) if keep else var
            raw[i] = var
        return lines + self._flush(pending)

    def _inline(self, node: ONode, refs: dict[int, str]) -> bool:
        """Is this value written into its users rather than given a variable? Selections,
        numbers and arithmetic are, but for a value the spec names that is too long to read
        inline (BEGAN's `balance`) or used in several places (an annealed `sigma`); so is
        tensor math used once and not named, unless it is a loss term (its variable goes to
        `update`)."""
        if node.id in self.term_name:  # its variable goes to `update` and into the loss
            return node.op in ("select", "netfn", "const", "state")
        if node.op in INLINE:
            if node.op not in ("arith", "neg") or not node.var:
                return True
            # a named expression keeps its name when it is long, or used in several places
            text = self._expr(node, refs)
            return len(text) <= 40 and (self.graph.out_degree(node.id) <= 1 or len(text) <= 16)
        if node.op != "fn" or "math" not in FUNCTIONS[node.name].tags:
            return False
        return not node.var and self.graph.out_degree(node.id) <= 1 and \
            len(self._expr(node, refs)) <= 60

    def _detached(self, node: ONode, var: str) -> str:
        """A value used without its graph. A call with several outputs is a NamedTuple: its
        selections are detached instead (`D_x.code.detach()`)."""
        if node.op == "call" and not self.spec.network(node.name).single_output:
            return _Record(var)
        return f"{var}.detach()"

    @staticmethod
    def _flush(pending: list[str]) -> list[str]:
        if not pending:
            return []
        out = ["with torch.no_grad():  # not this player's networks: constants here",
               *("    " + p for p in pending)]
        pending.clear()
        return out

    def _draws(self, needed: list[int]) -> tuple[list[str], dict[int, str]]:
        """The statements drawing the samples `needed` uses, and their variables."""
        data: list[str] = []
        noise: list[str] = []
        drawn: dict[int, str] = {}
        draws: dict[int, list[ONode]] = {}
        for i in needed:
            n = self.nodes[i]
            if n.op == "data":
                draws.setdefault(n.kwargs["draw"], []).append(n)
            elif n.op == "dist":
                drawn[i] = self._var(n)
                noise.append(f"{drawn[i]} = {_dist(n)}")
        for ns in draws.values():
            ds = self.spec.dataset(ns[0].name)
            targets = ["_"] * len(ds.fields)
            for n in ns:
                targets[n.field] = drawn[n.id] = self._var(n)
            lhs = f"({targets[0]},)" if len(targets) == 1 else ", ".join(targets)
            data.append(f"{lhs} = draw.data({literal(ns[0].name)})")
        return data + noise, drawn

    # -- expressions ----------------------------------------------------------------------

    def _critic_lambda(self, node: ONode, refs: dict[int, str]) -> str:
        """`lambda v: D(self.aug(v), y)`: the critic's expression with its image as the
        parameter, the values it takes from outside as computed."""
        at, path = self.canon[node.inputs[1]], self.critics[node.id]
        outside = {self.canon[j] for i in path for j in self.nodes[i].inputs} - path - {at}
        param = "v" if not any(re.search(r"\bv\b", refs[i]) for i in outside) else \
            self.names.create("v")

        def inline(i: int) -> str:
            if i == at:
                return param
            if i not in path:
                return refs[i]
            n = self.nodes[i]
            return self._expr(n, {self.canon[j]: inline(self.canon[j]) for j in n.inputs})
        return f"lambda {param}: {_unwrap(inline(self.canon[node.inputs[0]]))}"

    def _var(self, node: ONode) -> str:
        if node.id in self.term_name:
            base = self.term_name[node.id]
        elif node.var:
            base = node.var
        elif node.op in ("call", "augment"):
            base = f"{node.name}_{self._arg_name(node.inputs[0]) if node.inputs else 'out'}"
        elif node.op == "fn":
            base = node.name
        else:
            base = "v"
        return self.names.create(sanitize(base))

    def _arg_name(self, i: int) -> str:
        """A short name for an argument: its variable, or `out_feat` for `out.feat`."""
        node = self.nodes[self.canon[i]]
        if node.var:
            return node.var
        if node.op == "select":
            return f"{self._arg_name(node.inputs[0])}_{node.name}"
        if node.op == "augment":  # `aug_fake`
            return f"{node.name}_{self._arg_name(node.inputs[0])}"
        return "out"

    def _expr(self, node: ONode, refs: dict[int, str]) -> str:
        if node.op == "critic":  # its expression is not computed, but written in a lambda
            return self._critic_lambda(node, refs)
        args = [refs[self.canon[i]] for i in node.inputs]
        if node.op == "call":
            return f"{self.attr[node.name]}({', '.join(map(_unwrap, args))})"
        if node.op == "select":
            record = refs[self.canon[node.inputs[0]]]
            field = self.fields[self.nodes[self.canon[node.inputs[0]]].name][node.name]
            if isinstance(record, _Record):
                return f"{record}.{field}.detach()"
            return f"{args[0]}.{field}"
        if node.op == "netfn":
            out = node.kwargs.get("output", "")
            net = self.attr[node.name]
            return f"lambda v: {net}(v).{self.fields[node.name][out]}" if out else net
        if node.op == "const":
            return repr(node.args[0])
        if node.op == "state":
            return f"self.state[{literal(node.name)}]"
        if node.op == "step":
            return STEP
        if node.op == "neg":
            return f"-{atom(args[0])}"
        if node.op == "augment":
            images = [_unwrap(a) for a in args[:len(args) - len(node.named)]]
            p = args[-1] if node.named else (repr(node.kwargs["p"]) if "p" in node.kwargs
                                             else None)
            return f"{self.attr[node.name]}({', '.join(images)}{f', p={_unwrap(p)}' if p else ''})"
        if node.op == "item":
            return f"{atom(args[0])}[{node.field}]"
        if node.op == "extern":  # the user's function; a score is (B,) as a network's
            k = node.kwargs
            values = [f"{n}={v!r}" for n, v in k["values"]]
            call = f"{k['alias']}({', '.join([*map(_unwrap, args), *values])})"
            return f"{call}.reshape(-1)" if k["result"] == "score" else call
        if node.op == "arith":
            left, right = (self.nodes[self.canon[i]] for i in node.inputs)
            return tensor_math.arith(node.name, *args, left, right, node.type)
        assert node.op == "fn", node.op
        fn = FUNCTIONS[node.name]
        n_named = len(node.named)
        named = dict(zip(node.named, args[len(args) - n_named:], strict=True))
        args = args[:len(args) - n_named]
        if "math" in fn.tags:
            x = self.nodes[self.canon[node.inputs[0]]]
            bounds = {a.name: named.get(a.name, repr(node.kwargs.get(a.name)))
                      for a in fn.args if a.kind == "number"}
            return tensor_math.math(fn, args[0], x.type, self._number_like(x), node.kwargs,
                                    bounds)
        parts = [_unwrap(a) for a in args]  # an argument needs no parentheses of its own
        for a in fn.args:
            if a.name in named:
                parts.append(f"{a.name}={_unwrap(named[a.name])}")
            elif a.kind in ("num", "number", "str"):
                value = node.kwargs.get(a.name, a.default)
                if value != a.default:
                    parts.append(f"{a.name}={value!r}")
        if node.name == "bce":
            target = self.nodes[node.inputs[1]].type
            if isinstance(target, TensorType) and target.labels and target.labels.masked:
                layout = tuple((p.size, p.kind) for p in target.labels.parts)
                parts.append(f"parts={layout!r}".replace("'", '"'))
        return f"rt.{node.name}({', '.join(parts)})"

    def _number_like(self, node: ONode) -> bool:
        """May this value be a Python number at run time (a state before its first update,
        or arithmetic of states and numbers)? Not with `step` in it: that is a tensor."""
        todo = [node]
        while todo:
            n = todo.pop()
            if n.op in ("arith", "neg"):
                todo += [self.nodes[self.canon[i]] for i in n.inputs]
            elif n.op not in ("state", "const"):
                return False
        return True

_WORDS = re.compile(r"(?<![\w.])[A-Za-z_]\w*")  # names a line uses (not `.attributes`)


class _Record(str):
    """The variable of a multi-output call whose selections are to be detached."""


def _networks_between(q: _Step, later: list[_Step]) -> set[str]:
    """Networks updated by the steps before `q` among `later`."""
    out: set[str] = set()
    for s in later:
        if s is q:
            break
        out |= set(s.player.networks)
    return out


def _dist(n: ONode) -> str:
    # `normal(like=x)`: the per-sample shape of x's type
    size = repr(tuple(n.type.dims)) if "like" in n.kwargs else n.args[0]
    kw = n.kwargs
    if n.name == "normal":
        extra = "".join(f", {k}={kw[k]!r}" for k in ("mean", "std") if k in kw)
    elif n.name == "uniform":
        extra = "".join(f", {k}={kw[k]!r}" for k in ("low", "high") if k in kw)
    elif n.name == "bernoulli":
        extra = f", p={kw['p']!r}" if "p" in kw else ""
    else:
        extra = ""
    return f"draw.{n.name}({size}{extra})"


def _weighted(weight: float, expr: str) -> str:
    if weight in (1, -1) and len(split_sum(_unwrap(expr))) == 1:
        expr = _unwrap(expr)  # `a - k * b`: a product needs no parentheses in a sum
    if weight == 1:
        return expr
    if weight == -1:
        return f"-{expr}"
    return f"{_number(weight)} * {expr}"


def _number(x: float) -> str:
    """A weight as written: `10`, `0.5`, `1e-4` — exact, never rounded."""
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else repr(float(x))


def _sum(terms: list[tuple[float, str, str]]) -> str:
    return " + ".join(_weighted(w, v) for w, v, _ in terms).replace("+ -", "- ") or "0.0"


def _update(player: str, terms: list[tuple[float, str, str]]) -> list[str]:
    """`loss = ...` and `update("D", loss, {"name": value, ...})`; a lone unweighted term is
    its own loss."""
    entries = "{" + ", ".join(f"{literal(n)}: {_unwrap(v)}" for _, v, n in terms) + "}"
    if len(terms) == 1 and terms[0][0] == 1:
        return [f"update({literal(player)}, {terms[0][1]}, {entries})"]
    return [f"loss = {_sum(terms)}", f"update({literal(player)}, loss, {entries})"]


def _augmentation(op: list) -> str:
    """One operation of a pipeline in the runtime's words: `rt.color`, `rt.cutout(0.5)`."""
    name, *args = op
    options = args.pop() if args and isinstance(args[-1], dict) else {}
    shown = [literal(a) if isinstance(a, str) else repr(a) for a in args]
    shown += [f"{k}={v!r}" for k, v in options.items()]  # keys: ADA's setting names
    return f"rt.{name}({', '.join(shown)})" if shown else f"rt.{name}"


def _terms_text(terms) -> str:
    """`gan + 10·gp (every 16)`, `real_l − balanced`: a player's terms, signs in the text."""
    text = ""
    for k, t in enumerate(terms):
        sign = "-" if t.weight < 0 else "+"
        part = _term_text(t.name, abs(t.weight), t.every)
        text += (f" {sign} " if k else ("-" if sign == "-" else "")) + part
    return text


def _term_text(name: str, weight: float, every: int | None) -> str:
    text = name if weight == 1 else f"{_number(weight)}·{name}"
    return text + (f" (every {every})" if every else "")
