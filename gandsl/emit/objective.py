"""The objective → the `Objective` class of the generated module: one training iteration as a
careful person writes it.

`iteration(step, draw, update)` draws samples, computes each player's loss and hands it to
`update(player, loss, terms)` (the trainer: backward, optimizer step, metrics). Gradient routing
is decided here, statically:

- In player P's step, a value that does not depend on P's networks is computed under
  `torch.no_grad()`: the other players' outputs are constants, with no `detach` in the spec.
- Players that take one step each per iteration share one draw of the samples, and a value one
  step computed is reused by a later step when that is what the hand-written loop does: DCGAN's
  `fake = G(z)` is computed once, with its graph, used detached by D and differentiated by G
  (pytorch/examples); CycleGAN's fakes from G's step feed D's step (the reference's fake pool).
  A value a later step must differentiate is reused only if no network it depends on was
  updated in between; otherwise it is computed again.
- Players with `P steps k per Q step` take k steps, each on a fresh draw, before the others.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import networkx as nx

from ..functions import FUNCTIONS
from ..ir import ONode, Player, Spec
from ..types import TensorType
from .names import RESERVED, Namespace, sanitize

INLINE = {"select", "netfn", "arith", "neg", "const"}  # written into the expressions using them
RANDOM_FNS = {"shuffle"}  # never merged with an identical-looking call: each draws anew


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
    optimizers: list[str] = field(default_factory=list)  # `optimizers` return lines
    body: list[str] = field(default_factory=list)  # `iteration` lines, relative indentation
    samples: list[str] = field(default_factory=list)  # `samples` lines
    generated: str = "GENERATED = []"  # the generator outputs among the samples


@dataclass
class _Step:
    player: Player
    repeat: int  # > 1: a loop of fresh draws
    group: int  # steps of one group share a draw


def build_objective(spec: Spec) -> ObjectiveSource:
    obj = spec.objective
    canon = _merge_identical(obj.nodes)
    graph = nx.DiGraph()
    for n in obj.nodes:
        graph.add_node(n.id)
        for i in n.inputs:
            graph.add_edge(canon[i], canon[n.id])
    owner = {net: p.name for p in obj.players for net in p.networks}
    attrs = Namespace(RESERVED)
    networks = [(net.name, attrs.create(net.name)) for net in spec.networks]
    attr = dict(networks)
    steps = _schedule(spec)
    src = ObjectiveSource(
        title=f"The objective of {spec.name}: what each player minimizes, one iteration at a "
              "time.",
        summary=[f"{p.name} minimizes " + " + ".join(
            _term_text(t.name, t.weight, t.every) for t in p.terms) for p in obj.players],
        players=wrap_literal("PLAYERS = {", [f'"{p.name}": {_strings(p.networks)}'
                                             for p in obj.players], "}"),
        terms=wrap_literal("TERMS = {", [
            f'"{p.name}": {{' + ", ".join(f'"{t.name}": {t.weight!r}' for t in p.terms) + "}"
            for p in obj.players], "}"),
        networks=networks)
    writer = _Writer(spec, canon, graph, owner, attr, steps)
    src.body = [w for line in writer.iteration() for w in wrap_call(line)]
    src.samples = [w for line in writer.samples() for w in wrap_call(line)]
    src.generated = wrap_literal("GENERATED = [", [f'"{n}"' for n in writer.generated], "]")
    src.optimizers = _optimizers(spec, attr)
    return src


def _strings(names: list[str]) -> str:
    return "[" + ", ".join(f'"{n}"' for n in names) + "]"


def _optimizers(spec: Spec, attr: dict[str, str]) -> list[str]:
    chosen = {o.player: (o.kind, o.kwargs) for o in spec.train.optimizers} if spec.train else {}
    lines = []
    for p in spec.objective.players:
        kind, kwargs = chosen.get(p.name, DEFAULT_OPTIMIZER)
        nets = [f"self.{attr[n]}.parameters()" for n in p.networks]
        params = nets[0] if len(nets) == 1 else "[" + ", ".join(f"*{n}" for n in nets) + "]"
        args = "".join(f", {k}={v!r}" for k, v in kwargs.items())
        lines.append(f'"{p.name}": torch.optim.{OPTIMIZERS[kind]}({params}{args}),')
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


def _merge_identical(nodes: list[ONode]) -> dict[int, int]:
    """Node → the first node computing the same value (`D(x)` written twice is one call)."""
    canon: dict[int, int] = {}
    seen: dict[tuple, int] = {}
    for n in nodes:
        if n.op in ("data", "dist") or (n.op == "fn" and n.name in RANDOM_FNS):
            canon[n.id] = n.id
            continue
        key = (n.op, n.name, tuple(canon[i] for i in n.inputs), n.field, repr(n.args),
               repr(sorted(n.kwargs.items())))
        canon[n.id] = seen.setdefault(key, n.id)
    return canon


def _schedule(spec: Spec) -> list[_Step]:
    ratios = {r.player: r.steps for r in spec.train.ratios} if spec.train else {}
    steps: list[_Step] = []
    group = 0
    for p in spec.objective.players:
        k = ratios.get(p.name, 1)
        if k > 1 or not steps or steps[-1].repeat > 1:
            group += 1
        steps.append(_Step(p, k, group))
    return steps


class _Writer:
    def __init__(self, spec: Spec, canon: dict[int, int], graph: nx.DiGraph,
                 owner: dict[str, str], attr: dict[str, str], steps: list[_Step]) -> None:
        self.spec, self.canon, self.graph = spec, canon, graph
        self.nodes = {n.id: n for n in spec.objective.nodes}
        self.owner, self.attr, self.steps = owner, attr, steps
        self.reserved = RESERVED | set(attr.values()) | {"step", "draw", "update", "loss",
                                                          "terms", "rt", "torch", "self"}
        self.names = Namespace(self.reserved)
        # A loss term's value is named after the term (`cycle_a = rt.l1(...)`).
        self.term_name = {}
        for p in spec.objective.players:
            for t in p.terms:
                self.term_name.setdefault(canon[t.node], t.name)

    # -- analysis -------------------------------------------------------------------------

    def _networks_of(self, i: int) -> set[str]:
        """The networks whose calls `i` depends on."""
        return {self.nodes[j].name for j in nx.ancestors(self.graph, i) | {i}
                if self.nodes[j].op in ("call", "netfn")}

    def _needed(self, player: Player) -> list[int]:
        need: set[int] = set()
        for t in player.terms:
            root = self.canon[t.node]
            need |= nx.ancestors(self.graph, root) | {root}
        return sorted(need)

    # -- iteration ------------------------------------------------------------------------

    def _bind_networks(self, lines: list[str]) -> list[str]:
        """`G, D = self.G, self.D` for the networks `lines` use, then `lines`."""
        code = "\n".join(lines)
        used = [a for a in self.attr.values() if re.search(rf"(?<![\w.]){a}\b", code)]
        if not used:
            return lines
        return [f"{', '.join(used)} = {', '.join('self.' + a for a in used)}", *lines]

    def iteration(self) -> list[str]:
        lines: list[str] = []
        i = 0
        while i < len(self.steps):
            group = [s for s in self.steps if s.group == self.steps[i].group]
            i += len(group)
            if group[0].repeat > 1:
                s = group[0]
                lines.append(f"for _ in range({s.repeat}):  # {s.player.name} steps {s.repeat} "
                             "times, each on a fresh draw")
                lines += ["    " + x for x in self._group(group)]
            else:
                lines += self._group(group)
        return self._bind_networks(lines)

    def _group(self, group: list[_Step]) -> list[str]:
        """The steps of players that share one draw, in order. Names are fresh per group: no
        value outlives its group, so each group may reuse the spec's names."""
        self.names = Namespace(self.reserved)
        needed = [self._needed(s.player) for s in group]
        lines, drawn = self._draws(sorted(set().union(*map(set, needed))))
        computed: dict[int, tuple[str, bool]] = {i: (v, False) for i, v in drawn.items()}
        updated: set[str] = set()  # networks updated so far in this group
        for k, (s, need) in enumerate(zip(group, needed, strict=True)):
            mine = set(s.player.networks)
            later = group[k + 1:]
            lines.append(f"# {s.player.name} minimizes "
                         + " + ".join(_term_text(t.name, t.weight, t.every) for t in
                                      s.player.terms))
            lines += self._step(s, need, mine, later, computed, updated)
            updated |= mine
        return lines

    def _step(self, s: _Step, need: list[int], mine: set[str], later: list[_Step],
              computed: dict[int, tuple[str, bool]], updated: set[str]) -> list[str]:
        lines: list[str] = []
        pending: list[str] = []  # statements waiting to go into one `with torch.no_grad()`
        refs: dict[int, str] = {}
        for i in need:
            node = self.nodes[i]
            if node.op in ("data", "dist"):
                refs[i] = computed[i][0]
                continue
            grad_here = bool(self._networks_of(i) & mine)
            if i in computed:
                var, has_graph = computed[i]
                stale = bool(self._networks_of(i) & updated)
                if not grad_here:
                    refs[i] = self._detached(node, var) if has_graph else var
                    continue
                if has_graph and not stale:
                    refs[i] = var
                    continue
            if node.op in INLINE:
                refs[i] = self._expr(node, refs)
                continue
            keep = not grad_here and any(self._networks_of(i) & set(q.player.networks)
                                         and not self._networks_of(i) & (
                                             mine | _networks_between(q, later))
                                         for q in later)
            var = self._var(node)
            statement = f"{var} = {self._expr(node, refs)}"
            if grad_here or keep or not self._networks_of(i):  # label shuffles need no no_grad
                lines += self._flush(pending)
                lines.append(statement + ("  # kept with its graph for a later step"
                                          if keep else ""))
            else:
                pending.append(statement)
            computed[i] = (var, grad_here or keep)
            refs[i] = self._detached(node, var) if keep else var
        lines += self._flush(pending)
        lines += self._loss(s.player, refs)
        return lines

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
            data.append(f'{lhs} = draw.data("{ns[0].name}")')
        return data + noise, drawn

    # -- expressions ----------------------------------------------------------------------

    def _var(self, node: ONode) -> str:
        if node.id in self.term_name:
            base = self.term_name[node.id]
        elif node.var:
            base = node.var
        elif node.op == "call":
            first = self.nodes[node.inputs[0]] if node.inputs else None
            base = f"{node.name}_{first.var}" if first is not None and first.var else node.name
        elif node.op == "fn":
            base = node.name
        else:
            base = "v"
        return self.names.create(sanitize(base))

    def _expr(self, node: ONode, refs: dict[int, str]) -> str:
        args = [refs[self.canon[i]] for i in node.inputs]
        if node.op == "call":
            return f"{self.attr[node.name]}({', '.join(args)})"
        if node.op == "select":
            record = refs[self.canon[node.inputs[0]]]
            if isinstance(record, _Record):
                return f"{record}.{node.name}.detach()"
            return f"{args[0]}.{node.name}"
        if node.op == "netfn":
            out = node.kwargs.get("output", "")
            net = self.attr[node.name]
            return f"lambda v: {net}(v).{out}" if out else net
        if node.op == "const":
            return repr(node.args[0])
        if node.op == "neg":
            return f"-({args[0]})"
        if node.op == "arith":
            return f"({args[0]} {node.name} {args[1]})"
        assert node.op == "fn", node.op
        fn = FUNCTIONS[node.name]
        parts = list(args)
        for a in fn.args:
            if a.kind == "num":
                value = node.kwargs.get(a.name, a.default)
                if value != a.default:
                    parts.append(f"{a.name}={value!r}")
        if node.name == "bce":
            target = self.nodes[node.inputs[1]].type
            if isinstance(target, TensorType) and target.labels and target.labels.masked:
                layout = tuple((p.size, p.kind) for p in target.labels.parts)
                parts.append(f"parts={layout!r}".replace("'", '"'))
        return f"rt.{node.name}({', '.join(parts)})"

    def _loss(self, player: Player, refs: dict[int, str]) -> list[str]:
        eager = [t for t in player.terms if not t.every]
        lazy = [t for t in player.terms if t.every]
        lines: list[str] = []
        names = {}
        for t in player.terms:
            names[t.name] = refs.get(self.canon[t.node])
        total = " + ".join(_weighted(w, names[t.name]) for t in eager
                           for w in [t.weight]).replace("+ -", "- ")
        lines.append(f"loss = {total or '0.0'}")
        terms = ", ".join(f'"{t.name}": {names[t.name]}' for t in eager)
        if not lazy:
            lines.append(f'update("{player.name}", loss, {{{terms}}})')
            return lines
        lines.append(f"terms = {{{terms}}}")
        for t in lazy:
            lines.append(f"if step % {t.every} == 0:  # lazy regularization: weight × {t.every}")
            lines.append(f'    terms["{t.name}"] = {names[t.name]}')
            lines.append(f"    loss = loss + {_weighted(t.weight * t.every, names[t.name])}")
        lines.append(f'update("{player.name}", loss, terms)')
        return lines

    # -- samples --------------------------------------------------------------------------

    def samples(self) -> list[str]:
        """Fixed-draw images for grids: real inputs of generators, and generator outputs."""
        gens = {n for n, p in self.owner.items()
                if any(o.type.kind == "image" for o in self.spec.network(n).outputs)}
        picked: list[int] = []
        for i, node in sorted(self.nodes.items()):
            if self.canon[i] != i:
                continue
            if node.op == "call" and node.name in gens and self._is_image(i):
                picked.append(i)
        need = sorted(set().union(*[nx.ancestors(self.graph, i) | {i} for i in picked]))
        self.names = Namespace(self.reserved)
        lines, refs = self._draws(need)
        out_names: list[str] = []
        for i in need:
            node = self.nodes[i]
            if i in refs:
                continue
            if node.op in INLINE:
                refs[i] = self._expr(node, refs)
                continue
            var = self._var(node)
            lines.append(f"{var} = {self._expr(node, refs)}")
            refs[i] = var
        shown = [i for i in need if self.nodes[i].op == "data" and self._is_image(i)] + picked
        for i in shown:
            out_names.append(refs[i])
        self.generated = [refs[i] for i in picked]
        lines.append("return {" + ", ".join(f'"{n}": {n}' for n in out_names) + "}")
        return self._bind_networks(lines)

    def _is_image(self, i: int) -> bool:
        t = self.nodes[i].type
        return isinstance(t, TensorType) and t.family == "spatial"


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
    size = n.args[0]
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
    if weight == 1:
        return expr
    if weight == -1:
        return f"-{expr}"
    return f"{weight:g} * {expr}"


def _term_text(name: str, weight: float, every: int | None) -> str:
    text = name if weight == 1 else f"{weight:g}·{name}"
    return text + (f" (every {every})" if every else "")
