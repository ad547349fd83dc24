"""Networks and blocks → the pieces of their `nn.Module` classes: constructor lines, forward
lines with shape comments, and the return statement.

A block used with the same arguments on the same input type becomes one class (StarGAN's and
CycleGAN's residual blocks), and the instances a `repeat` chains become an `nn.ModuleList` and a
loop, as a careful hand-written model would have them. Local variables follow the spec's names
(`h = ...`); a name is reused only once the value it held is dead, so residual inputs and U-Net
skips are never overwritten before their last use.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from ..diagnostics import Span
from ..ir import BlockInstance, Network, Node, Port
from ..layers import has_module, layer_of
from ..layers.base import ctx_for
from ..naming import (
    Namespace,
    attribute_namespace,
    camel,
    comment,
    docstring,
    output_fields,
    sanitize,
)
from ..types import TensorType, conversion
from . import progressive

WIDTH = 100  # generated lines stay within this, comments included, where possible
_USES = {"F": re.compile(r"(?<![\w.])F\."), "rt": re.compile(r"(?<![\w.])rt\."),
         "torch": re.compile(r"(?<![\w.])torch\.")}


@dataclass
class ClassSource:
    name: str  # the Python class name
    title: str  # first docstring line
    signature_doc: str  # second docstring paragraph: the types in and out
    init: list[str] = field(default_factory=list)
    signature: str = ""
    body: list[str] = field(default_factory=list)  # forward lines, relative indentation
    returns: str = ""
    output_class: str | None = None  # NamedTuple for several outputs
    output_fields: list[tuple[str, str]] = field(default_factory=list)  # (field, comment)
    paths: dict[str, str] = field(default_factory=dict)  # node name → module path

    def uses(self) -> set[str]:
        """Which module-level imports the code of this class needs."""
        code = "\n".join([*self.init, *self.body, self.returns])
        return {name for name, pattern in _USES.items() if pattern.search(code)}


# ---- blocks as classes --------------------------------------------------------------------


@dataclass
class BlockClass:
    """One Python class for the instances of a block that share arguments and input types."""

    name: str
    instance: BlockInstance  # the first instance: its nodes give the class body
    network: Network  # the network holding that instance
    source: ClassSource | None = None


def block_key(inst: BlockInstance, net: Network) -> tuple:
    types = tuple(str(net.nodes[i].type) for i in [inst.input, *inst.values])
    return inst.block, tuple(sorted((k, repr(v)) for k, v in inst.args.items())), types


def eligible(inst: BlockInstance, net: Network) -> bool:
    """A block becomes a class when it is used directly by a network, holds more than one
    module, has no `grow` level (the network's level of detail drives those), and reads
    nothing from outside but its inputs (true of any block, checked anyway)."""
    if inst.depth != 0 or inst.result > inst.last:
        return False
    nodes = net.nodes[inst.first:inst.last + 1]
    if any(n.type is None for n in nodes):
        return False
    if any(n.op == "grow" for n in nodes):  # its levels are the network's: written inline
        return False
    modules = sum(1 for n in nodes if has_module(n.op))
    outside = {inst.input, *inst.values}
    return modules >= 2 and all(i in outside or inst.first <= i <= inst.last
                                for n in nodes for i in n.inputs)


def plan_blocks(networks: list[Network], names: Namespace) -> dict[tuple, BlockClass]:
    """The block classes of a module: one per block key, named after the block."""
    keys: dict[tuple, BlockClass] = {}
    per_block: dict[str, int] = {}
    for net in networks:
        for inst in net.blocks:
            if eligible(inst, net):
                key = block_key(inst, net)
                if key not in keys:
                    keys[key] = BlockClass("", inst, net)
                    per_block[inst.block] = per_block.get(inst.block, 0) + 1
    for bc in keys.values():
        base = camel(bc.instance.block)
        if per_block[bc.instance.block] > 1:  # `Down64`, `Down128`: the arguments tell them apart
            base += "_".join(sanitize(str(v)) for v in bc.instance.args.values())
        bc.name = names.create(base)
    return keys


def block_network(inst: BlockInstance, net: Network) -> Network:
    """The nodes of one block instance as a network of their own, for its class."""
    ports = [("x", inst.input), *zip(inst.value_params, inst.values, strict=True)]
    remap: dict[int, int] = {}
    nodes: list[Node] = []
    for i, (name, old) in enumerate(ports):
        remap[old] = i
        nodes.append(Node(id=i, op="input", name=name, var=name, span=inst.span,
                          type=net.nodes[old].type, args={"index": i}))
    prefix = inst.name + "_"
    for old in range(inst.first, inst.last + 1):
        n = net.nodes[old]
        remap[old] = len(nodes)
        nodes.append(n.model_copy(update={
            "id": len(nodes), "name": n.name.removeprefix(prefix),
            "x": None if n.x is None else remap[n.x],
            "values": {k: [remap[i] for i in ids] for k, ids in n.values.items()}}))
    result = nodes[remap[inst.result]]
    return Network(name=inst.block, inputs=[Port(name=p, type=nodes[i].type, span=inst.span)
                                            for i, (p, _) in enumerate(ports)],
                   outputs=[Port(name="", type=result.type, span=inst.span)], nodes=nodes,
                   results=[result.id], result_spans=[inst.span], span=inst.span)


def build_block_class(bc: BlockClass, reserved: frozenset[str],
                      where: Callable[[Span], str]) -> ClassSource:
    inst = bc.instance
    sub = block_network(inst, bc.network)
    total = sum(n.params for n in sub.nodes)
    args = ", ".join(f"{k}={_arg_text(v)}" for k, v in inst.args.items())
    title = docstring(f"`block {inst.block}` ({where(inst.span)})"
                      f"{' with ' + args if args else ''}: {total:,} parameters.")
    cls = ClassSource(name=bc.name, title=title, signature_doc=_types_doc(sub))
    _Builder(sub, cls, {}, reserved).build()
    return cls


# ---- networks -----------------------------------------------------------------------------


def _arg_text(value) -> str:
    """A block argument as its class docstring shows it: a number or a bool as written, a
    word in quotes; anything else (which could end the docstring) as `…`."""
    if isinstance(value, str):
        return f"'{value}'" if re.fullmatch(r"[\w.+-]*", value, re.ASCII) else "…"
    if isinstance(value, bool | int | float):
        return repr(value)
    if isinstance(value, tuple):
        inner = ", ".join(_arg_text(v) for v in value)
        return f"({inner}{',' if len(value) == 1 else ''})"
    return "…"


def build_network_class(net: Network, class_name: str, output_class: str | None,
                        blocks: dict[tuple, BlockClass], reserved: frozenset[str],
                        where: Callable[[Span], str]) -> ClassSource:
    total = sum(n.params for n in net.nodes)
    title = docstring(f"`network {net.name}` ({where(net.span)}): {total:,} "
                      "parameters.")
    cls = ClassSource(name=class_name, title=title, signature_doc=_types_doc(net),
                      output_class=output_class)
    classes = {inst.first: (inst, blocks[block_key(inst, net)]) for inst in net.blocks
               if eligible(inst, net)}
    _Builder(net, cls, classes, reserved).build()
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
    blocks: list[tuple[BlockInstance, BlockClass]] = field(default_factory=list)


class _Builder:
    def __init__(self, net: Network, cls: ClassSource,
                 classes: dict[int, tuple[BlockInstance, BlockClass]],
                 reserved: frozenset[str]) -> None:
        """`reserved`: names no local may take (the module's own and Python's)."""
        self.net, self.cls, self.classes = net, cls, classes
        self.attrs = attribute_namespace()
        self.reserved = reserved
        self.local = Namespace(self.reserved)
        self.var_of: dict[int, str] = {}

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
        last_use = _last_uses(items, net.results)
        prefer = _preferred_names(net, items, last_use)
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
        for idx, item in enumerate(items):
            target = self._variable(prefer[item.output], idx, holder, last_use)
            start = len(cls.body)
            self.regions = regions[idx] if k else None
            if item.node is not None:
                self._node(item.node, target, batch)
            else:
                self._blocks(item, target)
            chunks.append((self.regions, cls.body[start:]))
            self.var_of[item.output] = target
            holder[target] = item.output
        if k:  # statements needed at some levels only go under `if self.level ...`
            cls.body[:] = progressive.group(chunks, k)
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
                inst, bc = self.classes[i]
                prev = items[-1] if items and items[-1].blocks else None
                if prev is not None and _continues(prev, inst, bc):
                    prev.blocks.append((inst, bc))
                    prev.output = inst.result
                else:
                    items.append(_Item([inst.input, *inst.values], inst.result,
                                       blocks=[(inst, bc)]))
                i = inst.last + 1
                continue
            items.append(_Item(node.inputs, node.id, node=node))
            i += 1
        return items

    def _node(self, node: Node, target: str, batch: str) -> None:
        x = self.var_of.get(node.x) if node.x is not None else None
        if node.op == "grow":
            old_type = self.net.nodes[node.x].type
            self.cls.body.extend(progressive.grow_lines(
                target, x, self.var_of[node.values["new"][0]], self.levels[node.id],
                len(self.levels), self.regions, old_type.dims[1] != node.type.dims[1],
                node.type.shape_comment()))
            return
        if node.op in ("add", "sub", "mul"):
            sign = {"add": "+", "sub": "-", "mul": "*"}[node.op]
            expr = f"{x} {sign} {self.var_of[node.values['other'][0]]}"
        elif node.op == "scale":
            f, op = node.args["factor"], node.args.get("op", "*")
            expr = f"-{x}" if (f, op) == (-1, "*") else f"{x} {op} {f!r}"
        else:
            layer = layer_of(node.op)
            names: dict[str, object] = {"x": x}
            for name, ids in node.values.items():
                param = layer.param(name)
                many = param is not None and param.kind == "values"
                names[name] = [self.var_of[i] for i in ids] if many else (
                    self.var_of[ids[0]] if ids else None)
            ctx = ctx_for(layer, node, lambda i: self.net.nodes[i].type, names=names,
                          batch=batch)
            if layer.module is not None:
                ctx.attr = self.attrs.create(node.name)
                self._init(ctx.attr, layer.module(ctx), node.params)
                self.cls.paths[node.name] = ctx.attr
            expr = layer.forward(ctx)
        self._line(f"{target} = {expr}", node.type)

    def _blocks(self, item: _Item, target: str) -> None:
        (first, bc), count = item.blocks[0], len(item.blocks)
        result_type = self.net.nodes[item.output].type
        params = sum(n.params for n in self.net.nodes[first.first:first.last + 1])
        extra = "".join(f", {self.var_of[v]}" for v in first.values)
        x = self.var_of[first.input]
        if count == 1:
            attr = self.attrs.create(first.name)
            self._init(attr, f"{bc.name}()", params)
            self._line(f"{target} = self.{attr}({x}{extra})", result_type)
        else:
            attr = self.attrs.create(first.block)
            self._init(attr, f"nn.ModuleList([{bc.name}() for _ in range({count})])",
                       params * count, f"{count} × {params:,}")
            if target != x:
                self.cls.body.append(f"{target} = {x}")
            self.cls.body.append(f"for block in self.{attr}:")
            self._line(f"    {target} = block({target}{extra})", result_type)
        for k, (inst, _) in enumerate(item.blocks):
            for n in self.net.nodes[inst.first:inst.last + 1]:
                if has_module(n.op) and n.name.startswith(inst.name + "_"):
                    rest = n.name.removeprefix(inst.name + "_")
                    where = attr if count == 1 else f"{attr}.{k}"
                    self.cls.paths[n.name] = f"{where}.{rest}"

    def _init(self, attr: str, ctor: str, params: int, note: str | None = None) -> None:
        line = f"self.{attr} = {ctor}"
        text = f"  # {note or f'{params:,}'} param{'' if params == 1 and not note else 's'}"
        if params and len(line) + len(text) + 8 <= WIDTH:  # only where it fits
            line += text
        self.cls.init.append(line)

    def _line(self, code: str, t: TensorType | None) -> None:
        self.cls.body.append(f"{code}  # {t.shape_comment()}" if t is not None else code)

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


def _continues(prev: _Item, inst: BlockInstance, bc: BlockClass) -> bool:
    """Does this instance extend a loop: the same `repeat`, the same class, the same tensor
    arguments, fed by the previous instance?"""
    last, last_bc = prev.blocks[-1]
    return (inst.repeat is not None and inst.repeat == last.repeat and bc is last_bc
            and inst.input == last.result and inst.values == last.values)


def _last_uses(items: list[_Item], results: list[int]) -> dict[int, int]:
    last: dict[int, int] = {}
    for idx, item in enumerate(items):
        for i in item.inputs:
            last[i] = idx
    for r in results:
        last[r] = len(items)
    return last


def _preferred_names(net: Network, items: list[_Item], last_use: dict[int, int]) -> dict[int, str]:
    """The spec's name for each value; a value that outlives its name (`skip = h` before `h` is
    rebound) takes its later name instead, so U-Net skips keep theirs."""
    prefer = {item.output: net.nodes[item.output].var for item in items}
    position = {item.output: k for k, item in enumerate(items)}
    for item in items:
        node = net.nodes[item.output]
        if not node.aliases:
            continue
        k = position[item.output]
        rebinds = [j for j in range(k + 1, len(items)) if prefer[items[j].output] == node.var]
        if rebinds and last_use.get(item.output, -1) > rebinds[0]:
            prefer[item.output] = node.aliases[-1]
    return prefer


