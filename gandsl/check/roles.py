"""Who generates and what the sample grid shows, read off the objective's graph.

A *critic* is a network called on an image that another player's network made: a
discriminator, EBGAN's and BEGAN's auto-encoding discriminators (which output images too),
an encoder that reads generated images back (BicycleGAN's E on G's output). A *generator* is
a trained network with an image output that is no critic. What a network is fed decides,
not who feeds it: VAE-GAN's decoder G is fed the encoder's latent code and stays a generator,
and the grid shows what it makes.

The grid's rows are the generators' images and the real images they are made from, unless the
train section names them (`grid x, recon, fake`). The first generated row is what `gandsl
sample` writes and `gandsl eval` scores; by default that is the image made through the fewest
other networks (VAE-GAN's prior sample G(z) before its reconstruction G(E(x))).
"""

from __future__ import annotations

import networkx as nx

from ..diagnostics import Diagnostics, did_you_mean
from ..ir import Spec
from ..types import TensorType
from .tensor_math import describe


def _spatial(t) -> bool:
    return isinstance(t, TensorType) and t.family == "spatial"


def critics(spec: Spec, g: nx.DiGraph) -> set[str]:
    """The networks ever called on an image another player's network made."""
    obj = spec.objective
    owner = {n: p.name for p in obj.players for n in p.networks}
    makes_images = {net.name for net in spec.networks
                    if any(_spatial(o.type) for o in net.outputs)}
    found: set[str] = set()
    for node in obj.nodes:
        if node.op != "call" or node.name in found:
            continue
        me = owner.get(node.name)
        for a in nx.ancestors(g, node.id):
            other = obj.nodes[a]
            if other.op == "call" and other.name in makes_images and \
                    owner.get(other.name) not in (None, me):
                found.add(node.name)
                break
    return found


def generators(spec: Spec, g: nx.DiGraph) -> list[str]:
    """Trained networks with an image output that judge no other player's images."""
    obj = spec.objective
    trained = {n for p in obj.players for n in p.networks}
    judges = critics(spec, g)
    return [net.name for net in spec.networks if net.name in trained and net.name not in judges
            and any(_spatial(o.type) for o in net.outputs)]


def assign_roles(spec: Spec, g: nx.DiGraph, diags: Diagnostics) -> None:
    """Record the generators and the grid the train section names (`grid x, recon`) in the
    objective, for the emitter's `samples`."""
    obj = spec.objective
    obj.generators = generators(spec, g)
    if spec.train is None or not spec.train.grid:
        return
    named = {n.var: n for n in obj.nodes if n.var}
    rows: list[int] = []
    for row in spec.train.grid:
        node = named.get(row.name)
        if node is None:
            what = "a network" if any(n.name == row.name for n in spec.networks) else \
                "an augmentation" if row.name in obj.pipelines else None
            diags.error("E101", f"`{row.name}` is not a value of the objective" +
                        (f" (it is {what}: name a value it makes, e.g. `fake = G(z)`)"
                         if what else ""), row.span,
                        did_you_mean(row.name, [n for n in named if _spatial(named[n].type)]))
            continue
        if not _spatial(node.type):
            what = describe(node.type) if isinstance(node.type, TensorType) else \
                "several values"
            diags.error("E201", f"the grid shows images; `{row.name}` is {what}",
                        row.span, hint="name image values of the objective (`image[...]` or "
                        "`map[...]`)")
            continue
        rows.append(node.id)
    if len(rows) < len(spec.train.grid):
        return
    made = [i for i in rows if any(obj.nodes[a].op == "call" and obj.nodes[a].name in
                                   {n for p in obj.players for n in p.networks}
                                   for a in nx.ancestors(g, i) | {i})]
    if not made:
        first = spec.train.grid[0].span.to(spec.train.grid[-1].span)
        diags.error("E304", "the grid shows no generated image: `gandsl sample` and `eval` "
                    "use its first value that a network made", first,
                    hint="add a value a generator makes, e.g. `fake = G(z)`")
        return
    obj.grid = rows
