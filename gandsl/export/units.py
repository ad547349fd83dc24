"""What `gandsl export` writes out: one callable per generator, read from the spec's objective.

A generator's export is the image its objective makes through the fewest other networks (as
`gandsl sample` shows first): the generator itself and the networks that feed it directly
(StyleGAN's mapping network before its synthesis network), called in that order. Whatever
else reaches the generator (noise, a data image, labels, a shuffled label) becomes an input of
the export, named after the network argument it feeds. `--network NAME` exports that one
network alone, with its own arguments.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx
import torch

from ..errors import UserError
from ..functions import TRAINING_ONLY
from ..ir import ONode, Spec
from ..naming import RESERVED, Namespace
from ..types import TensorType

# names the exported module's `Model.forward` uses itself
_TAKEN = RESERVED | {"psi", "noise", "image"}


@dataclass
class Call:
    """One network call of an export: `target = network(*args)` (args are value names)."""

    network: str
    args: list[str]
    target: str


@dataclass
class Unit:
    """One exported callable."""

    name: str  # the file name's stem: the network that makes its result
    inputs: list[tuple[str, TensorType]] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)

    @property
    def networks(self) -> list[str]:
        return [c.network for c in self.calls]

    @property
    def result(self) -> str:
        return self.calls[-1].target


def units(spec: Spec, names: list[str] | None) -> list[Unit]:
    """The callables to export: the named networks, or else every generator's."""
    known = [n.name for n in spec.networks]
    if names:
        for name in names:
            if name not in known:
                raise UserError(f"--network {name}: the spec has no such network; its "
                                f"networks are {', '.join(known)}")
        return [_alone(spec, name) for name in dict.fromkeys(names)]
    obj = spec.objective
    if obj is None or not obj.generators:
        raise UserError(f"{spec.path} has no generator to export (no network of its "
                        f"objective makes images); name one with --network ({', '.join(known)})")
    return [_generator(spec, g) for g in obj.generators]


def _alone(spec: Spec, name: str) -> Unit:
    net = spec.network(name)
    names = Namespace(_TAKEN)
    unit = Unit(name, inputs=[(names.create(p.name), p.type) for p in net.inputs])
    unit.calls.append(Call(name, [n for n, _ in unit.inputs], names.create("out")))
    return unit


def _generator(spec: Spec, name: str) -> Unit:
    obj = spec.objective
    nodes = {n.id: n for n in obj.nodes}
    graph = nx.DiGraph([(i, n.id) for n in obj.nodes for i in n.inputs])
    graph.add_nodes_from(nodes)
    made = [n for n in obj.nodes if n.op == "call" and n.name == name and _image(n)]
    if not made:
        return _alone(spec, name)
    first = min(made, key=lambda n: (sum(nodes[a].op == "call" for a in nx.ancestors(graph, n.id)),
                                     n.id))
    unit = Unit(name)
    _call(spec, nodes, first, unit, Namespace(_TAKEN), "image")
    return unit


def _call(spec: Spec, nodes: dict[int, ONode], node: ONode, unit: Unit, names: Namespace,
          target: str) -> None:
    """Append the calls computing `node` (a network call) to `unit`, upstream ones first."""
    net = spec.network(node.name)
    args = []
    for port, i in zip(net.inputs, node.inputs, strict=False):
        source = nodes[i]
        while source.op == "fn" and source.name in TRAINING_ONLY:
            source = nodes[source.inputs[0]]
        name = names.create(port.name)
        if source.op == "call" and source.name != node.name and \
                spec.network(source.name).single_output:
            _call(spec, nodes, source, unit, names, name)
        else:
            unit.inputs.append((name, port.type))
        args.append(name)
    unit.calls.append(Call(node.name, args, target))


def _image(node: ONode) -> bool:
    return isinstance(node.type, TensorType) and node.type.family == "spatial"


def example_inputs(inputs: list[tuple[str, TensorType]], batch: int, seed: int
                   ) -> list[torch.Tensor]:
    """Random inputs of these types: class indices, 0/1 labels, images in [-1, 1], else
    normal values."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for _, t in inputs:
        if t.kind == "class":
            out.append(torch.randint(0, t.dims[0], (batch,), generator=g))
        elif t.kind == "label":
            out.append(torch.randint(0, 2, (batch, *t.dims), generator=g).float())
        elif t.kind == "image":
            out.append(torch.rand(batch, *t.dims, generator=g) * 2 - 1)
        else:
            out.append(torch.randn(batch, *t.dims, generator=g))
    return out
