"""Checks on the lowered IR: shapes and types per network, the objective's types and players,
unused values, and GAN lints. Everything independent is reported in one run."""

from __future__ import annotations

from ..diagnostics import Diagnostics
from ..ir import Spec
from .graph import objective_graph
from .lints import large_networks, lint
from .objective import check_objective, check_players
from .roles import assign_roles
from .shapes import infer_network
from .states import check_states
from .unused import unused_in_network, unused_in_objective


def check(spec: Spec, diags: Diagnostics) -> None:
    for net in spec.networks:
        infer_network(net, diags)
        if net.complete:
            unused_in_network(net, diags)
    large_networks(spec, diags)
    if spec.objective is not None:
        n_before = len(diags.errors)
        graph = objective_graph(spec.objective)
        check_objective(spec, diags)
        if not spec.objective.complete:
            return
        check_players(spec, graph, diags)
        check_states(spec, graph, diags)
        assign_roles(spec, graph, diags)
        if len(diags.errors) == n_before:  # lints and unused values read well-typed objectives
            unused_in_objective(spec, graph, diags)
            lint(spec, graph, diags)


__all__ = ["check"]
