"""Unused values (warnings): network values that reach no output, unused network inputs,
objective values that reach no loss term, and datasets nobody samples."""

from __future__ import annotations

import networkx as nx

from ..diagnostics import Diagnostics
from ..ir import Network, Spec
from .graph import network_graph, used_by


def unused_in_network(net: Network, diags: Diagnostics) -> None:
    g = network_graph(net)
    live = used_by(g, net.results)
    for node in net.nodes:
        if node.id in live or g.out_degree(node.id) > 0:
            continue  # live, or not the last dead value of its chain (reported once)
        if node.op == "input":
            if not node.name.startswith("_"):
                diags.warn("W501", f"input `{node.name}` of `{net.name}` is never used",
                           node.span, hint=f"prefix it with `_` (`_{node.name}`) if this is "
                           "intended")
        elif not node.var.startswith("_"):
            diags.warn("W501", f"this value (`{node.var}`) is never used: it reaches no output "
                       f"of `{net.name}`", node.span)


def unused_in_objective(spec: Spec, g: nx.DiGraph, diags: Diagnostics) -> None:
    obj = spec.objective
    # A state's next value is used (it becomes the state), and so is the state itself: its
    # value is logged every iteration (BEGAN's convergence measure is a state for that).
    # So is a value the sample grid shows (`grid fake, x, recon`).
    shown = {r.name for r in spec.train.grid} if spec.train else set()
    # And a value whose type shapes a draw (`t ~ uniform(like=D(x))`).
    sinks = [t.node for p in obj.players for t in p.terms] + [
        i for st in obj.states for i in (st.read, st.next) if i is not None] + [
        n.id for n in obj.nodes if n.var in shown] + [
        n.kwargs["like"] for n in obj.nodes if n.op == "dist" and "like" in n.kwargs]
    live = used_by(g, sinks)
    reported: set[str] = set()
    for node in obj.nodes:
        if node.id in live or g.out_degree(node.id) > 0 or node.op in ("const", "netfn"):
            continue
        name = node.var or ""
        if name.startswith("_") or name in reported:
            continue
        reported.add(name)
        what = f"`{name}`" if name else "this value"
        diags.warn("W501", f"{what} is never used by any loss", node.span)
    sampled = {n.name for n in obj.nodes if n.op == "data"}
    in_unions = {m for d in spec.datasets for m in d.members}
    for ds in spec.datasets:
        used = ds.name in sampled or ds.name in in_unions or _used_in_types(spec, ds.name)
        if not used:
            diags.warn("W501", f"dataset `{ds.name}` is never sampled", ds.span)


def _used_in_types(spec: Spec, name: str) -> bool:
    for net in spec.networks:
        for port in [*net.inputs, *net.outputs]:
            if port.type.labels and any(p.dataset == name for p in port.type.labels.parts):
                return True
    return False
