"""Syntax tree → IR. Expands params, ifs, loops and blocks; resolves every name."""

from __future__ import annotations

import hashlib
from typing import Any

from .. import syntax as S
from ..catalog import DATA_SOURCES
from ..diagnostics import Diagnostics
from ..ir import ExternRef, Network, Spec
from .budget import Budget
from .globals import collect
from .network import NetworkLowering
from .objective import ObjectiveLowering
from .train import lower_train


def lower(module: S.Module, source: str, path: str, overrides: dict[str, Any],
          diags: Diagnostics) -> Spec:
    """Lower a parsed spec. Problems go to `diags`; the Spec holds what could be lowered."""
    g = collect(module, overrides, diags)
    budget = Budget()  # one for the whole spec: networks each within limits can still add up
    networks: dict[str, Network | None] = {
        name: NetworkLowering(decl, g, diags, budget).run()
        for name, decl in g.networks.items()}
    # A section whose lowering failed somewhere is kept, marked incomplete: the checks of
    # what did lower still run (independent errors are all reported), and the checks that
    # would only echo the errors already reported (who trains what) do not.
    objective = None
    if g.objectives:
        before = len(diags.errors)
        lowering = ObjectiveLowering(g.objectives[0], g, networks, diags)
        objective = lowering.run()
        objective.complete = not lowering.incomplete and len(diags.errors) == before and \
            all(n is not None for n in networks.values())
    train = None
    if g.trains:
        before = len(diags.errors)
        train = lower_train(g.trains[0], g, diags)
        train.complete = len(diags.errors) == before
    name = module.header.name if module.header else _stem(path)
    return Spec(
        name=name,
        title=module.header.title if module.header else None,
        path=path,
        sha256=hashlib.sha256(source.encode()).hexdigest(),
        params=g.params,
        datasets=list(g.datasets.values()),
        networks=[n for n in networks.values() if n is not None],
        objective=objective,
        train=train,
        externs=[ExternRef(name=e.name, kind=e.decl.kind, target=e.decl.target, alias=e.alias)
                 for e in g.externs.values()],
    )


def _stem(path: str) -> str:
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    return name[:-4] if name.endswith(".gan") else name


__all__ = ["lower", "DATA_SOURCES"]
