"""networkx views of the IR: one directed graph per network and one for the objective.

Edges run from an input to the node that consumes it; every check that asks "what does this
reach" or "what is never used" is a reachability question on these graphs.
"""

from __future__ import annotations

import networkx as nx

from ..ir import Network, Objective


def network_graph(net: Network) -> nx.DiGraph:
    g = nx.DiGraph(name=net.name)
    for node in net.nodes:
        g.add_node(node.id, node=node)
        for i in node.inputs:
            g.add_edge(i, node.id)
    return g


def objective_graph(obj: Objective) -> nx.DiGraph:
    g = nx.DiGraph(name="objective")
    for node in obj.nodes:
        g.add_node(node.id, node=node)
        for i in node.inputs:
            g.add_edge(i, node.id)
    return g


def used_by(g: nx.DiGraph, sinks: list[int]) -> set[int]:
    """Every node some sink depends on, the sinks included."""
    live: set[int] = set(sinks)
    for s in sinks:
        live |= nx.ancestors(g, s)
    return live
