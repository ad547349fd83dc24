"""Networks and blocks → the pieces of their `nn.Module` classes: constructor lines, forward
lines with shape comments, and the return statement.

A block becomes one class whose constructor takes what differs between its uses
(`blocks.py`), and the uses a loop chains become an `nn.ModuleList` and a `for`, as a careful
hand-written model would have them. Numbers print through a `symbolic.Renderer`, which knows
which of them are constructor parameters and which the module names as constants (`SQRT2`).
Local variables follow the spec's names (`h = ...`); a name is reused only once the value it
held is dead, so residual inputs and U-Net skips are never overwritten before their last use.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from ..diagnostics import Span
from ..ir import BlockInstance, Network, Node
from ..layers import layer_of
from ..layers.base import ctx_for
from ..naming import Namespace, attribute_namespace, comment, docstring, output_fields, sanitize
from ..types import TensorType, conversion
from . import progressive
from .blocks import BlockClass, class_title, continues, module_roles, place_use, use_params
from .chains import runs
from .loop_writer import LoopWriter
from .loops import find_loops
from .symbolic import NotLoopable, Renderer, SymbolicTypes, symbolic, symbolic_type
from .variables import last_uses, preferred_names

WIDTH = 100  # generated lines stay within this, comments included, where possible
_USES = {"F": re.compile(r"(?<![\w.])F\."), "rt": re.compile(r"(?<![\w.])rt\."),
         "torch": re.compile(r"(?<![\w.])torch\.")}


@dataclass
class ClassSource:
    name: str  # the Python class name
    title: str  # first docstring line
    signature_doc: str  # second docstring paragraph: the types in and out
    init: list[str] = field(default_factory=list)
    ctor: list[str] = field(default_factory=list)  # constructor parameters, `name: type`
    signature: str = ""
    body: list[str] = field(default_factory=list)  # forward lines, relative indentation
    returns: str = ""
    output_class: str | None = None  # NamedTuple for several outputs
    output_fields: list[tuple[str, str]] = field(default_factory=list)  # (field, comment)
    paths: dict[str, str] = field(default_factory=dict)  # node name → module path

    def uses(self) -> set[str]:
        """Which module-level imports the code of this class needs."""
        return code_uses([*self.init, *self.body, self.returns])


def code_uses(lines: list[str]) -> set[str]:
    """Which of the module-level imports (`F`, `rt`, `torch`) these lines of code name."""
    code = "\n".join(lines)
    return {name for name, pattern in _USES.items() if pattern.search(code)}


# Which class and which of its uses each block instance of a network is: (network, first node)
BlockUses = dict[tuple[str, int], tuple[BlockClass, int]]


def probe_block(body: Network, reserved: frozenset[str]) -> tuple[str, dict]:
    """A block body's code with every number a placeholder, and the numbers behind them."""
    renderer = Renderer(probe=True)
    cls = ClassSource(name="", title="", signature_doc="")
    _Builder(body, cls, {}, reserved, renderer, counts=False, roles=True).build()
    return "\n".join([cls.signature, *cls.init, *cls.body, cls.returns]), renderer.seen


def build_block_class(bc: BlockClass, reserved: frozenset[str], where: Callable[[Span], str],
                      constants: dict[float, str]) -> ClassSource:
    body, renderer = bc.uses[0].body, bc.renderer
    renderer.constants = constants
    renderer.place = "comment"
    ins = ", ".join(f"{p.name}: {symbolic_type(p.type, ('dim', i), renderer)}"
                    for i, p in enumerate(body.inputs))
    out = symbolic_type(body.nodes[body.results[0]].type, ("dim", body.results[0]), renderer)
    cls = ClassSource(name=bc.name, title=class_title(bc, where),
                      signature_doc=docstring(f"({ins}) -> {out}"))
    same = len({sum(n.params for n in u.body.nodes) for u in bc.uses}) == 1
    names = [name for name, _ in bc.params]
    _Builder(body, cls, {}, reserved, renderer, counts=same, params=names, roles=True).build()
    cls.ctor = [f"{name}: {type(values[0]).__name__}" for name, values in bc.params]
    cls.init[:0] = [f"self.{name} = {name}" for name in renderer.forward_params]
    bc.paths = cls.paths
    return cls


def build_network_class(net: Network, class_name: str, output_class: str | None,
                        blocks: BlockUses, reserved: frozenset[str],
                        where: Callable[[Span], str], renderer: Renderer) -> ClassSource:
    total = sum(n.params for n in net.nodes)
    title = docstring(f"`network {net.name}` ({where(net.span)}): {total:,} "
                      "parameters.")
    cls = ClassSource(name=class_name, title=title, signature_doc=_types_doc(net),
                      output_class=output_class)
    classes = {inst.first: (inst, *blocks[(net.name, inst.first)]) for inst in net.blocks
               if (net.name, inst.first) in blocks}
    _Builder(net, cls, classes, reserved, renderer).build()
    return cls


def _types_doc(net: Network) -> str:
    ins = ", ".join(f"{p.name}: {p.type}" for p in net.inputs)
    outs = ", ".join(f"{p.name}: {p.type}" if p.name else str(p.type) for p in net.outputs)
    return docstring(f"({ins}) -> {outs if len(net.outputs) == 1 else f'({outs})'}")


@dataclass
class _Item:
    """One forward statement: a node, or a block call, or a loop over repeated blocks."""

    inputs: list[int]
    output: int
    node: Node | None = None
    blocks: list[tuple[BlockInstance, BlockClass, int]] = field(default_factory=list)


class _Builder(LoopWriter):
    def __init__(self, net: Network, cls: ClassSource,
                 classes: dict[int, tuple[BlockInstance, BlockClass, int]],
                 reserved: frozenset[str], renderer: Renderer, counts: bool = True,
                 params: list[str] = (), roles: bool = False) -> None:
        """`reserved`: names no local may take (the module's own and Python's); `counts`:
        note each module's parameters (not in a class whose uses differ there); `params`:
        the constructor's parameters, which `forward` reads as attributes; `roles`: name
        modules by their role in the spec (`conv`, `skip`) rather than by their place."""
        self.net, self.cls, self.classes = net, cls, classes
        self.attrs = attribute_namespace()
        for name in params:
            self.attrs.create(name)
        self.reserved = reserved
        self.local = Namespace(self.reserved)
        self.var_of: dict[int, str] = {}
        self.R, self.counts = renderer, counts
        self.types = SymbolicTypes(net, renderer)
        self.roles: dict[int, str] = {}
        self.named_by_role = roles
        self.loop_attrs: dict[int, str] = {}  # inside a loop: node → `convs[i]`
        self.loop_comment: str | None = None  # inside a loop: the shapes, first … last
        self.loop_nodes: dict[int, list[Node]] = {}  # inside a loop: node → it per iteration
        self.regions: list = []  # levels of detail where the statement runs, per iteration

    def build(self) -> None:
        net, cls = self.net, self.cls
        params = []
        for node in net.nodes:
            if node.op == "input":
                v = self.local.create(node.name)
                self.var_of[node.id] = v
                params.append(f"{v}: Tensor")
        cls.signature = ", ".join(["self", *params])
        items = self._items()
        last_use = last_uses(items, net.results)
        prefer = preferred_names(net, items, last_use)
        holder = {v: i for i, v in self.var_of.items()}  # python variable → node it holds
        batch = f"{self.var_of[net.nodes[0].id]}.shape[0]" if params else "1"
        self.levels = progressive.grow_levels(net)
        k = len(self.levels)
        regions = progressive.needs(net, [(it.inputs, it.output, it.node) for it in items],
                                    self.levels) if k else []
        if k:
            self.attrs.create("level")  # the attribute the trainer sets
            cls.init.append(f"self.level = {float(k)!r}  # levels of detail grown, 0 to {k}")
        chunks = []
        # chains of modules as `nn.Sequential` (not where levels of detail cut them)
        # the spec's loops as loops (in a network's class: a block's body is its first use's)
        self.item_regions = regions
        loops = {} if self.named_by_role else {
            lp.start: lp for lp in find_loops(net, items, last_use)}
        chains = {} if k else runs(net, items, last_use, lambda it: not it.blocks[0][0].values)
        # a loop of a chain is written as the chain (`nn.Sequential`, as DCGAN's authors do)
        loops = {s: lp for s, lp in loops.items()
                 if not any(a <= lp.start and lp.end <= b for a, b in chains.items())}
        chains = {a: b for a, b in chains.items()
                  if not any(lp.start <= b and a <= lp.end for lp in loops.values())}
        if self.named_by_role:  # roles of the modules that stay attributes
            inside = {items[j].output for i, end in chains.items() for j in range(i, end + 1)}
            self.roles = module_roles(net, inside=inside)
        idx = 0
        while idx < len(items):
            start = len(cls.body)
            if idx in loops and self._loop(items, loops[idx], batch, holder, last_use, prefer):
                chunks.append((None, cls.body[start:]))  # its statements' conditions inside
                idx = loops[idx].end + 1
                continue
            end = chains.get(idx, idx)
            item = items[end]
            target = self._variable(prefer[item.output], end, holder, last_use)
            self.regions = [regions[idx]] if k else []
            if end > idx:
                self._sequential(items[idx:end + 1], target, batch)
            elif item.node is not None:
                self._node(item.node, target, batch)
            else:
                self._blocks(item, target)
            chunks.append((progressive.condition(self.regions, k) if k else None,
                           cls.body[start:]))
            self.var_of[item.output] = target
            holder[target] = item.output
            idx = end + 1
        if k:  # statements needed at some levels only go under `if self.level ...`
            cls.body[:] = progressive.group(chunks)
        self._returns()

    # -- the statements -----------------------------------------------------------------

    def _items(self) -> list[_Item]:
        items: list[_Item] = []
        i = 0
        nodes = self.net.nodes
        while i < len(nodes):
            node = nodes[i]
            if node.op == "input":
                i += 1
                continue
            if i in self.classes:
                inst, bc, use = self.classes[i]
                prev = items[-1] if items and items[-1].blocks else None
                if prev is not None and continues(*prev.blocks[-1][:2], inst, bc):
                    prev.blocks.append((inst, bc, use))
                    prev.output = inst.result
                else:
                    items.append(_Item([inst.input, *inst.values], inst.result,
                                       blocks=[(inst, bc, use)]))
                i = inst.last + 1
                continue
            items.append(_Item(node.inputs, node.id, node=node))
            i += 1
        return items

    def _node(self, node: Node, target: str, batch: str) -> None:
        x = self.var_of.get(node.x) if node.x is not None else None
        if node.op == "grow":  # in a loop: the grows of every iteration, one level each
            grows = self.loop_nodes.get(node.id, [node])
            ups = {self.net.nodes[g.x].type.dims[1] != g.type.dims[1] for g in grows}
            if len(ups) > 1:
                raise NotLoopable("a grow upsamples in some iterations only")
            self.cls.body.extend(progressive.grow_lines(
                target, x, self.var_of[node.values["new"][0]], [self.levels[g.id] for g in grows],
                len(self.levels), self.regions, ups.pop(),
                self.loop_comment or node.type.shape_comment()))
            return
        if node.op in ("add", "sub", "mul"):
            sign = {"add": "+", "sub": "-", "mul": "*"}[node.op]
            expr = f"{x} {sign} {self.var_of[node.values['other'][0]]}"
        elif node.op == "scale":
            f, op = node.args["factor"], node.args.get("op", "*")
            self.R.place, self.R.origin = "forward", "scale"
            f = symbolic(f, ("arg", node.id, "factor"), self.R)
            expr = f"-{x}" if (f, op) == (-1, "*") else f"{x} {op} {f!r}"
        else:
            layer, ctx = self._ctx(node, batch)
            if node.id in self.loop_attrs:  # an element of a loop's ModuleList
                ctx.attr = self.loop_attrs[node.id]
            elif layer.module is not None:
                ctx.attr = self.attrs.create(self.roles.get(node.id, node.name))
                self.R.place = "init"
                self._init(ctx.attr, layer.module(ctx), node.params)
                self.cls.paths[node.name] = ctx.attr
            self.R.place = "forward"
            expr = layer.forward(ctx)
        self._line(f"{target} = {expr}", self.types[node.id])

    def _ctx(self, node: Node, batch: str):
        """The layer of a node and its `Ctx`, with symbolic numbers and the variables it reads."""
        layer = layer_of(node.op)
        names: dict[str, object] = {"x": self.var_of.get(node.x) if node.x is not None else None}
        for name, ids in node.values.items():
            param = layer.param(name)
            many = param is not None and param.kind == "values"
            names[name] = [self.var_of.get(i) for i in ids] if many else (
                self.var_of.get(ids[0]) if ids else None)
        ctx = ctx_for(layer, node, self.types.__getitem__, names=names, batch=batch)
        ctx.args = {k: symbolic(v, ("arg", node.id, k), self.R) for k, v in node.args.items()}
        self.R.origin = node.op
        return layer, ctx

    def _sequential(self, items: list[_Item], target: str, batch: str) -> None:
        """A chain of modules (`chains.py`) as one `nn.Sequential`, each element's shape in
        its comment."""
        attr = self.attrs.create("main")
        elements: list[tuple[str, int]] = []  # (constructor, node whose shape it gives)
        total = 0
        for item in items:
            if item.node is not None:
                layer, ctx = self._ctx(item.node, batch)
                self.R.place = "init"
                make = layer.module or layer.as_module
                if layer.module is not None:
                    self.cls.paths[item.node.name] = f"{attr}.{len(elements)}"
                elements.append((make(ctx), item.node.id))
                total += item.node.params
                continue
            for inst, bc, use in item.blocks:
                place_use(self.cls.paths, self.net, inst, bc, f"{attr}.{len(elements)}")
                elements.append((self._construct(bc, use), inst.result))
                total += use_params(self.net, inst)
        head = f"self.{attr} = nn.Sequential("
        self.cls.init.append(head + (f"  # {total:,} params" if self.counts and total else ""))
        self.R.place = "comment"
        self.cls.init.extend(f"    {ctor},  # {self.types[i].shape_comment()}"
                             for ctor, i in elements)
        self.cls.init.append(")")
        x = self.var_of[items[0].inputs[0]]
        self._line(f"{target} = self.{attr}({x})", self.types[items[-1].output])

    def _blocks(self, item: _Item, target: str) -> None:
        (first, _, _), count = item.blocks[0], len(item.blocks)
        result_type = self.net.nodes[item.output].type
        counts = [use_params(self.net, inst) for inst, _, _ in item.blocks]
        calls = [self._construct(b, use) for _, b, use in item.blocks]
        extra = "".join(f", {self.var_of[v]}" for v in first.values)
        x = self.var_of[first.input]
        if count == 1:
            attr = self.attrs.create(first.name)
            self._init(attr, calls[0], counts[0])
            self._line(f"{target} = self.{attr}({x}{extra})", result_type)
        else:
            attr = self.attrs.create(first.block if first.block.endswith("s") else
                                     first.block + "s")
            if len(set(calls)) == 1:
                self._init(attr, f"nn.ModuleList([{calls[0]} for _ in range({count})])",
                           sum(counts), f"{count} × {counts[0]:,}")
            else:
                self.cls.init.append(f"self.{attr} = nn.ModuleList([  # {sum(counts):,} params")
                self.cls.init.extend(f"    {call},  # {n:,}" for call, n in zip(
                    calls, counts, strict=True))
                self.cls.init.append("])")
            if target != x:
                self.cls.body.append(f"{target} = {x}")
            start = self.net.nodes[first.input].type
            self.cls.body.append(f"for block in self.{attr}:  # {start.shape_comment()} → "
                                 f"{result_type.shape_comment()}")
            self.cls.body.append(f"    {target} = block({target}{extra})")
        for k, (inst, b, _) in enumerate(item.blocks):
            place_use(self.cls.paths, self.net, inst, b, attr if count == 1 else f"{attr}.{k}")

    def _construct(self, bc: BlockClass, use: int) -> str:
        """`DBlock(64, 128, out=128)`: a block class's constructor call for one of its uses;
        after two positional arguments the rest are named."""
        args = [self.R.literal(v, count=False) for v in bc.arguments(use)]
        names = [name for name, _ in bc.params]
        parts = args[:2] + [f"{n}={a}" for n, a in zip(names[2:], args[2:], strict=True)]
        return f"{bc.name}({', '.join(parts)})"

    def _init(self, attr: str, ctor: str, params: int, note: str | None = None) -> None:
        line = f"self.{attr} = {ctor}"
        text = f"  # {note or f'{params:,}'} param{'' if params == 1 and not note else 's'}"
        if self.counts and params and len(line) + len(text) + 8 <= WIDTH:  # where it fits
            line += text
        self.cls.init.append(line)

    def _line(self, code: str, t: TensorType | None) -> None:
        self.R.place = "comment"
        shape = self.loop_comment or (t.shape_comment() if t is not None else None)
        self.cls.body.append(f"{code}  # {shape}" if shape else code)

    # -- variables ------------------------------------------------------------------------

    def _variable(self, base: str, idx: int, holder: dict[str, int],
                  last_use: dict[int, int]) -> str:
        """`base`, unless it holds a value needed after item `idx`: then `base_1`, ..."""
        base = sanitize(base, self.reserved)
        i = 0
        while True:
            candidate = base if i == 0 else f"{base}_{i}"
            held = holder.get(candidate)
            if held is None or last_use.get(held, -1) <= idx:
                return candidate
            i += 1

    def _returns(self) -> None:
        net, cls = self.net, self.cls
        fields = output_fields([port.name for port in net.outputs])
        results = []
        for port, rid in zip(net.outputs, net.results, strict=True):
            value = self.var_of[rid]
            conv = conversion(net.nodes[rid].type, port.type)
            if conv == "flatten":
                value += ".flatten(1)"
            elif conv == "scalar":
                value += ".reshape(-1)"
            results.append(value)
            if port.name:
                name = fields[port.name]
                cls.output_fields.append((name, f"{port.type.shape_comment()}  "
                                          f"{comment(str(port.type))}"))
        if cls.output_class:
            cls.returns = f"{cls.output_class}(" + ", ".join(
                f"{n}={v}" for (n, _), v in zip(cls.output_fields, results, strict=True)) + ")"
        else:
            cls.returns = results[0]
