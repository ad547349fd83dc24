"""Blocks → parametric `nn.Module` classes: one class per block declaration, whose constructor
takes what differs between the block's uses (`DBlock(in_ch, tmp, out)`).

Every use of a block is rendered once with symbolic numbers (`symbolic.py`); uses whose code has
the same structure share a class, and each number that differs between them becomes a
constructor parameter, named after the block's parameter that carries it where one does
(`ch`, `up`), after the input it comes from (`in_ch`) otherwise. A block whose uses differ in
structure (a bool that adds a layer) gets one class per structure.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..diagnostics import Span
from ..ir import BlockInstance, Network, Node, Port
from ..layers import has_module
from ..naming import Namespace, camel, docstring, sanitize
from .symbolic import Key, Renderer


@dataclass
class Use:
    instance: BlockInstance
    network: Network  # the network holding it
    body: Network  # its nodes as a network of their own (`block_network`)
    seen: dict[Key, Any] = field(default_factory=dict)  # probing: each number printed


@dataclass
class BlockClass:
    """One Python class for the uses of a block that share the structure of their code."""

    name: str
    block: str
    uses: list[Use]
    params: list[tuple[str, list[Any]]] = field(default_factory=list)  # name → value per use
    renderer: Renderer | None = None  # how its numbers print in the class body
    paths: dict[str, str] = field(default_factory=dict)  # node name in the body → attribute

    def arguments(self, use: int) -> list[Any]:
        return [values[use] for _, values in self.params]


def eligible(inst: BlockInstance, net: Network) -> bool:
    """A block becomes a class when it is used directly by a network, holds a module, has no
    `grow` level (the network's level of detail drives those), and reads nothing from outside
    but its inputs (true of any block, checked anyway)."""
    if inst.depth != 0 or inst.result > inst.last:
        return False
    nodes = net.nodes[inst.first:inst.last + 1]
    if any(n.type is None for n in nodes) or any(n.op == "grow" for n in nodes):
        return False
    outside = {inst.input, *inst.values}
    return any(has_module(n.op) for n in nodes) and all(
        i in outside or inst.first <= i <= inst.last for n in nodes for i in n.inputs)


def block_network(inst: BlockInstance, net: Network) -> Network:
    """The nodes of one block instance as a network of their own, for its class."""
    ports = [("x", inst.input), *zip(inst.value_params, inst.values, strict=True)]
    remap: dict[int, int] = {}
    nodes: list[Node] = []
    for i, (name, old) in enumerate(ports):
        remap[old] = i
        nodes.append(Node(id=i, op="input", name=name, var=name, span=inst.span,
                          type=net.nodes[old].type, args={"index": i}))
    caller = net.nodes[inst.result].var  # the variable the network assigns the block to
    for old in range(inst.first, inst.last + 1):
        n = net.nodes[old]
        remap[old] = len(nodes)
        nodes.append(n.model_copy(update={
            "id": len(nodes), "name": relative_name(n, inst),
            # values without a name of the block's own are `h`, whatever the caller calls them
            "var": "h" if n.var == caller else n.var,
            "x": None if n.x is None else remap[n.x],
            "values": {k: [remap[i] for i in ids] for k, ids in n.values.items()}}))
    result = nodes[remap[inst.result]]
    return Network(name=inst.block, inputs=[Port(name=p, type=nodes[i].type, span=inst.span)
                                            for i, (p, _) in enumerate(ports)],
                   outputs=[Port(name="", type=result.type, span=inst.span)], nodes=nodes,
                   results=[result.id], result_spans=[inst.span], span=inst.span)


def continues(last: BlockInstance, last_class: BlockClass, inst: BlockInstance,
              bc: BlockClass) -> bool:
    """Does `inst` extend a loop of uses ending with `last`: the same class, the same tensor
    arguments, fed by the previous use (a `repeat`, or a `for` of one block each)?"""
    return bc is last_class and inst.input == last.result and inst.values == last.values


def relative_name(node: Node, inst: BlockInstance) -> str:
    """A node's name inside its block's class: without the instance's prefix (a block of one
    module names it after the instance; in the class it is its layer)."""
    prefix = inst.name + "_"
    return node.name.removeprefix(prefix) if node.name.startswith(prefix) else node.op


def use_params(net: Network, inst: BlockInstance) -> int:
    """The learnable parameters of one use of a block."""
    return sum(n.params for n in net.nodes[inst.first:inst.last + 1])


def place_use(paths: dict[str, str], net: Network, inst: BlockInstance, bc: BlockClass,
              where: str) -> None:
    """Record where each layer of a block use lives in the module, given the use's own path
    (`d_blocks.3`): the class's path for the layer below it."""
    for n in net.nodes[inst.first:inst.last + 1]:
        inner = bc.paths.get(relative_name(n, inst))
        if inner is not None:
            paths[n.name] = f"{where}.{inner}"


def plan_blocks(networks: list[Network], names: Namespace,
                probe: Callable[[Network], tuple[str, dict[Key, Any]]]
                ) -> dict[tuple[str, int], tuple[BlockClass, int]]:
    """(network, first node of a use) → its class and which use of the class it is.
    `probe` renders a block body with symbolic numbers: (its code, the numbers printed)."""
    groups: dict[tuple[str, str], BlockClass] = {}
    for net in networks:
        for inst in net.blocks:
            if not eligible(inst, net):
                continue
            use = Use(inst, net, block_network(inst, net))
            text, use.seen = probe(use.body)
            key = (inst.block, text)
            if key not in groups:
                groups[key] = BlockClass("", inst.block, [])
            groups[key].uses.append(use)
    out: dict[tuple[str, int], tuple[BlockClass, int]] = {}
    for bc in groups.values():
        bc.name = names.create(camel(bc.block))
        bc.params, bc.renderer = _parameters(bc)
        for k, use in enumerate(bc.uses):
            out[(use.network.name, use.instance.first)] = (bc, k)
    return out


def _parameters(bc: BlockClass) -> tuple[list[tuple[str, list[Any]]], Renderer]:
    """The constructor parameters of a class (one per distinct vector of values that differs
    between its uses, unless it is a simple function of another: `k // 2`) and the renderer
    that prints its body."""
    first = bc.uses[0]
    vectors: dict[Key, tuple] = {k: tuple(u.seen[k] for u in bc.uses) for k in first.seen}
    varying = {k: v for k, v in vectors.items() if len(set(map(repr, v))) > 1}
    named: dict[tuple, str] = {}  # vector → parameter
    order: list[tuple[int, int, tuple]] = []  # (rank, position, vector)
    block_args = list(first.instance.args)
    candidates = []
    for pos, (key, vector) in enumerate(varying.items()):
        if vector not in named:
            name, rank = _name_for(key, vector, bc, block_args)
            named[vector] = name
            candidates.append((rank, pos, vector))
    derived: dict[tuple, tuple[str, tuple]] = {}  # vector → (template, the vector it is of)
    for rank, pos, vector in sorted(candidates, key=lambda t: t[:2]):
        base = next(((t, v) for v in (c[2] for c in order) if (t := _derived(vector, v))), None)
        if base is not None and rank > len(block_args):  # a block's own parameter stays one
            derived[vector] = base
        else:
            order.append((rank, pos, vector))
    scope = Namespace()
    final: dict[tuple, str] = {}
    params: list[tuple[str, list[Any]]] = []
    for _, _, vector in order:
        final[vector] = scope.create(named[vector])
        params.append((final[vector], list(vector)))
    exprs = {v: (t, final[b]) for v, (t, b) in derived.items()}
    renderer = Renderer(params={k: (("{}", final[v]) if v in final else exprs[v])
                                for k, v in varying.items()},
                        comments=_comment_names(bc, final | {
                            v: t.format(final[b]) for v, (t, b) in derived.items()}))
    return params, renderer


def _derived(vector: tuple, base: tuple) -> str | None:
    """`{} // 2`, `2 * {}`, `{} + 1` …: a template that makes `vector` from `base` at every
    use, for integers only."""
    if not all(type(v) is int and type(b) is int for v, b in zip(vector, base, strict=True)):
        return None
    for k in (2, 4):
        if vector == tuple(b // k for b in base):
            return f"{{}} // {k}"
        if vector == tuple(b * k for b in base):
            return f"{k} * {{}}"
    shifts = {v - b for v, b in zip(vector, base, strict=True)}
    if len(shifts) == 1 and (d := shifts.pop()) and abs(d) <= 4:
        return f"{{}} {'+' if d > 0 else '-'} {abs(d)}"
    return None


def _name_for(key: Key, vector: tuple, bc: BlockClass, block_args: list[str]) -> tuple[str, int]:
    """A parameter's name and rank (its place in the signature: inputs' sizes first, then the
    block's own parameters in their order, then anything else)."""
    for i, arg in enumerate(block_args):
        if tuple(u.instance.args[arg] for u in bc.uses) == vector:
            return arg, 1 + i
    body = bc.uses[0].body
    node = body.nodes[key[1]]
    if key[0] == "dim":  # a size the input has (`in_ch`), wherever the body reads it
        for port in body.nodes[:len(body.inputs)]:
            for axis in range(len(port.type.dims)):
                if tuple(u.body.nodes[port.id].type.dims[axis] for u in bc.uses) == vector:
                    return _port_dim(port, axis), 0
    if key[0] == "dim":
        return f"{node.name}_dim{key[2]}", 1 + len(block_args)
    return sanitize(f"{node.name}_{key[2]}"), 1 + len(block_args)


def _port_dim(node: Node, axis: int) -> str:
    if node.type is not None and len(node.type.dims) == 3:
        return ("in_ch", "in_h", "in_w")[axis] if node.name == "x" else \
            f"{node.name}_{('ch', 'h', 'w')[axis]}"
    return "in_features" if node.name == "x" else f"{node.name}_dim"


def _comment_names(bc: BlockClass, sizes: dict[tuple, str]) -> dict[Key, str]:
    """How shape comments and the class's signature write each size: a number where every use
    has the same; a channel or feature count as the code writes it (`out`, `2 * nf`); a height
    or width from the input's (`H/2`, `W+2`, `H*up`); `?` when none of these holds."""
    bodies = [u.body for u in bc.uses]
    x = bodies[0].nodes[0]
    spatial = x.type is not None and len(x.type.dims) == 3
    axes = {1: "H", 2: "W"} if spatial else {}
    out: dict[Key, str] = {}
    for node in bodies[0].nodes:
        if node.type is None:
            continue
        for axis in range(len(node.type.dims)):
            vector = tuple(b.nodes[node.id].type.dims[axis] for b in bodies)
            key = ("dim", node.id, axis)
            if len(set(vector)) == 1:
                out[key] = str(vector[0])
            elif len(node.type.dims) == 3 and axis in axes:  # height from H, width from W
                out[key] = _relative(vector, bodies, [(axis, axes[axis])], sizes)
            else:
                out[key] = sizes.get(vector, "?")
    return out


def _relative(vector: tuple, bodies: list[Network], axes: list[tuple[int, str]],
              params: dict[tuple, str]) -> str:
    """A size as the input's height or width makes it: `H`, `2H`, `H/2`, `H+2`, `H/8-1`,
    `H*up`; `?` when it is none of these."""
    for axis, letter in axes:
        base = tuple(b.nodes[0].type.dims[axis] for b in bodies)
        pairs = list(zip(vector, base, strict=True))
        if base == vector:
            return letter
        if all(v % b == 0 for v, b in pairs):
            ratios = tuple(v // b for v, b in pairs)
            if len(set(ratios)) == 1:
                return f"{ratios[0]}{letter}"
            if ratios in params:
                return f"{letter}*{params[ratios]}"
        if all(v and b % v == 0 for v, b in pairs):
            ratios = tuple(b // v for v, b in pairs)
            if len(set(ratios)) == 1:
                return f"{letter}/{ratios[0]}"
            if ratios in params:
                return f"{letter}/{params[ratios]}"
        # `H+2`, `2H+2`, `H/8-1`: a shift of the size, a multiple or a part of it
        for num, den in ((1, 1), (2, 1), (4, 1), (1, 2), (1, 4), (1, 8), (1, 16), (1, 32)):
            if any(b % den for _, b in pairs):
                break
            shifts = {v - b * num // den for v, b in pairs}
            if len(shifts) == 1:
                d = shifts.pop()
                part = f"{num if num > 1 else ''}{letter}{f'/{den}' if den > 1 else ''}"
                return f"{part}{'+' if d > 0 else '-'}{abs(d)}"
    return "?"


def class_title(bc: BlockClass, where: Callable[[Span], str]) -> str:
    counts = sorted({sum(n.params for n in u.body.nodes) for u in bc.uses})
    inst = bc.uses[0].instance
    uses = f"{len(bc.uses)} uses" if len(bc.uses) > 1 else "1 use"
    size = f"{counts[0]:,} parameters" if len(counts) == 1 else \
        f"{counts[0]:,} to {counts[-1]:,} parameters"
    return docstring(f"`block {inst.block}` ({where(inst.span)}), {uses}: {size}.")


def module_roles(net: Network, inside: set[int] = frozenset()) -> dict[int, str]:
    """Module attributes named as a person would: by the variable the spec gives the module's
    value where that names it alone (`skip`), else by its layer (`conv`), numbered from 1
    where the body has several (`conv1`, `conv2`); `inside`: the modules of an
    `nn.Sequential`, which need no name. Used for block classes, whose bodies are new; a
    network's modules keep the names checkpoints and tests know (`conv_1`)."""
    # a module of a block inside the block keeps the inner block's name (`res_1_conv_1`)
    out = {n.id: n.name for n in net.nodes if has_module(n.op) and len(n.scope) > 1}
    modules = [n for n in net.nodes if has_module(n.op) and n.id not in out
               and n.id not in inside]
    ports = {n.var for n in net.nodes if n.op == "input"}
    per_var = Counter(n.var for n in modules)
    bases = {n.id: n.var if per_var[n.var] == 1 and n.var not in _GENERIC | ports else n.op
             for n in modules}
    totals = Counter(bases.values())
    seen: Counter[str] = Counter()
    for i, base in bases.items():
        seen[base] += 1
        sep = "_" if base[-1].isdigit() else ""
        out[i] = base if totals[base] == 1 else f"{base}{sep}{seen[base]}"
    return out


_GENERIC = frozenset({"h", "x", "y", "out", "z"})  # variables that name no role
