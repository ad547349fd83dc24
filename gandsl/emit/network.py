"""One network → the pieces of its `nn.Module` class: constructor lines, forward lines with
shape comments, and the return statement.

Local variables follow the spec's names (`h = ...`), reusing a name only once the value it held
is dead, so residual inputs are never overwritten before their last use.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..ir import Network, Node
from ..layers import LAYERS, Ctx
from ..types import conversion
from .names import Namespace, attribute_namespace, comment, docstring

_WIDTH = 100  # generated lines stay within this, comments included, where possible

_OPS = {
    "add": "{x} + {other}",
    "sub": "{x} - {other}",
}


@dataclass
class ClassSource:
    name: str  # the Python class name
    spec_name: str
    doc: list[str]
    init: list[str] = field(default_factory=list)
    signature: str = ""
    body: list[str] = field(default_factory=list)
    returns: str = ""
    output_class: str | None = None  # NamedTuple for several outputs
    output_fields: list[tuple[str, str]] = field(default_factory=list)  # (field, comment)
    params: int = 0
    uses: set[str] = field(default_factory=set)  # "F", "rt", "torch"


def build_class(net: Network, class_name: str, output_class: str | None,
                path: str) -> ClassSource:
    attrs = attribute_namespace()
    local = Namespace()
    total = sum(n.params for n in net.nodes)
    ins = ", ".join(f"{p.name}: {p.type}" for p in net.inputs)
    outs = ", ".join(f"{p.name}: {p.type}" if p.name else str(p.type) for p in net.outputs)
    doc = [docstring(f"`network {net.name}` ({path}:{net.span.line}): {total:,} parameters."),
           "", f"({ins}) -> {outs if len(net.outputs) == 1 else f'({outs})'}"]
    cls = ClassSource(name=class_name, spec_name=net.name, doc=doc, params=total,
                      output_class=output_class)

    last_use = _last_uses(net)
    holder: dict[str, int] = {}  # python variable → node currently held
    var_of: dict[int, str] = {}
    args = []
    for node in net.nodes:
        if node.op == "input":
            v = local.create(node.name)
            var_of[node.id] = v
            holder[v] = node.id
            args.append(f"{v}: Tensor")
    cls.signature = ", ".join(["self", *args])
    batch = var_of[net.nodes[0].id] + ".shape[0]" if args else "1"

    for idx, node in enumerate(net.nodes):
        if node.op == "input":
            continue
        expr, ctor = _expr(node, net, var_of, attrs, batch, cls)
        if ctor is not None:
            line = f"self.{ctor[0]} = {ctor[1]}"
            note = f"  # {node.params:,} params"
            if node.params and len(line) + len(note) + 8 <= _WIDTH:  # only where it fits
                line += note
            cls.init.append(line)
        target = _variable(node, idx, holder, last_use)
        var_of[node.id] = target
        holder[target] = node.id
        shape = node.type.shape_comment() if node.type is not None else ""
        cls.body.append(f"{target} = {expr}  # {shape}" if shape else f"{target} = {expr}")

    results = []
    for port, rid in zip(net.outputs, net.results, strict=True):
        value = var_of[rid]
        conv = conversion(net.nodes[rid].type, port.type) if net.nodes[rid].type else "same"
        if conv == "flatten":
            value += ".flatten(1)"
        elif conv == "scalar":
            value += ".reshape(-1)"
        results.append((port.name, value))
        if port.name:
            cls.output_fields.append((port.name, f"{port.type.shape_comment()}  "
                                      f"{comment(str(port.type))}"))
    if output_class:
        cls.returns = f"{output_class}(" + ", ".join(f"{n}={v}" for n, v in results) + ")"
    else:
        cls.returns = results[0][1]
    return cls


def _last_uses(net: Network) -> dict[int, int]:
    last: dict[int, int] = {}
    for idx, node in enumerate(net.nodes):
        for i in node.inputs:
            last[i] = idx
    for r in net.results:
        last[r] = len(net.nodes)
    return last


def _variable(node: Node, idx: int, holder: dict[str, int], last_use: dict[int, int]) -> str:
    """The spec's variable name, unless it still holds a value needed after this node."""
    base = local_name(node.var)
    i = 0
    while True:
        candidate = base if i == 0 else f"{base}_{i}"
        held = holder.get(candidate)
        if held is None or last_use.get(held, -1) <= idx:
            return candidate
        i += 1


def local_name(var: str) -> str:
    probe = Namespace()
    return probe.create(var)


def _expr(node: Node, net: Network, var_of: dict[int, str], attrs: Namespace, batch: str,
          cls: ClassSource):
    """(forward expression, (attribute, constructor) or None)."""
    x = var_of.get(node.x) if node.x is not None else None
    if node.op in _OPS:
        return _OPS[node.op].format(x=x, other=var_of[node.values["other"][0]]), None
    if node.op == "scale":
        f = node.args["factor"]
        return (f"-{x}" if f == -1 else f"{x} * {f!r}"), None
    layer = LAYERS[node.op]
    names: dict[str, object] = {"x": x}
    values: dict[str, object] = {}
    for name, ids in node.values.items():
        param = layer.param(name)
        if param is not None and param.kind == "values":
            names[name] = [var_of[i] for i in ids]
            values[name] = [net.nodes[i].type for i in ids]
        elif ids:
            names[name] = var_of[ids[0]]
            values[name] = net.nodes[ids[0]].type
    x_type = net.nodes[node.x].type if node.x is not None else None
    ctx = Ctx(x=x_type, args=node.args, values=values, names=names, batch=batch)
    ctor = None
    if layer.module is not None:
        ctx.attr = attrs.create(node.name)
        ctor = (ctx.attr, layer.module(ctx))
        if "rt." in ctor[1]:
            cls.uses.add("rt")
    expr = layer.call(ctx)
    for prefix in ("F.", "rt.", "torch."):
        if prefix in expr:
            cls.uses.add(prefix[:-1])
    return expr, ctor
