"""The objective's values as Python: each node's expression (inlined into its users where that
reads better), variables named after the spec, draws, critic lambdas and detached values.
A mixin of the iteration writer (`objective.py`), which holds the state these read."""

from __future__ import annotations

from ..functions import FUNCTIONS
from ..ir import ONode
from ..naming import literal, sanitize
from ..types import TensorType
from . import tensor_math
from .objective_text import draw_call
from .schedule import networks_between
from .tensor_math import atom
from .tensor_math import unwrap as _unwrap

STEP = "step_t"  # the iteration number as a tensor, in the generated `iteration`
INLINE = {"select", "netfn", "critic", "arith", "neg", "const", "state", "step"}  # into users


class Record(str):
    """The variable of a multi-output call whose selections are to be detached."""


class ValueWriter:
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
                and not nets & (mine | networks_between(q, later)) for q in later)
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
            return Record(var)
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
                noise.append(f"{drawn[i]} = {draw_call(n)}")
        for ns in draws.values():
            ds = self.spec.dataset(ns[0].name)
            targets = ["_"] * len(ds.fields)
            for n in ns:
                targets[n.field] = drawn[n.id] = self._var(n)
            # no image used (CGAN's grid): its labels only, which `sample --label` sets
            method = "labels" if targets[0] == "_" and len(targets) > 1 else "data"
            targets = targets[1:] if method == "labels" else targets
            lhs = f"({targets[0]},)" if len(targets) == 1 else ", ".join(targets)
            data.append(f"{lhs} = draw.{method}({literal(ns[0].name)})")
        return data + noise, drawn

    # -- expressions ----------------------------------------------------------------------

    def _network(self, name: str) -> str:
        """The local name of a network (or augmentation pipeline) the code calls, noted so
        that the method binds it (`G, D = self.G, self.D`)."""
        self.called.add(self.attr[name])
        return self.attr[name]

    def _critic_lambda(self, node: ONode, refs: dict[int, str]) -> str:
        """`lambda v: D(self.aug(v), y)`: the critic's expression with its image as the
        parameter, the values it takes from outside as computed."""
        at, path = self.canon[node.inputs[1]], self.critics[node.id]
        # `v` unless a variable, network or function of the method has that name
        param = "v" if "v" not in self.names.used | self.reserved else self.names.create("v")

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
            return f"{self._network(node.name)}({', '.join(map(_unwrap, args))})"
        if node.op == "select":
            record = refs[self.canon[node.inputs[0]]]
            field = self.fields[self.nodes[self.canon[node.inputs[0]]].name][node.name]
            if isinstance(record, Record):
                return f"{record}.{field}.detach()"
            return f"{args[0]}.{field}"
        if node.op == "netfn":
            out = node.kwargs.get("output", "")
            net = self._network(node.name)
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
            aug = self._network(node.name)
            return f"{aug}({', '.join(images)}{f', p={_unwrap(p)}' if p else ''})"
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
