"""The optimizers part of a run: each player's optimizer (the spec's, as the generated
objective builds them), the parameters it steps, and its learning-rate and momentum schedules
(`lr PLAYER KIND(...)`, `momentum PLAYER ramp(...)` in the train section)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from .schedule import factor, min_lr, momentum


class PlayerOptimizers:
    """Built once per run. `optimizers[p]` steps `params[p]`, the parameters of the networks
    player p trains; `set_lr(step)` puts every optimizer's learning rate (and momentum, where
    a ramp names it) at its schedule's value for that step."""

    def __init__(self, objective: Any, players: dict[str, list[str]],
                 networks: dict[str, nn.Module], train: Any, total: int) -> None:
        self.optimizers: dict[str, torch.optim.Optimizer] = objective.optimizers()
        self.params = {p: [q for n in nets for q in networks[n].parameters()]
                       for p, nets in players.items()}
        # Per player: the factor of its base learning rate at a step, the floor, and the
        # momentum at a step (None: the optimizer's own, unchanged).
        self.base_lr = {p: [g["lr"] for g in opt.param_groups]
                        for p, opt in self.optimizers.items()}
        self.lr_factor: dict[str, Callable[[int], float]] = {}
        self.lr_floor: dict[str, float] = {}
        self.momentum_at: dict[str, Callable[[int], float] | None] = {}
        schedules = train.schedules if train else []
        for p in players:
            chosen = schedule_of(p, [s for s in schedules if s.setting == "lr"])
            kind, kwargs = (chosen.kind, chosen.kwargs) if chosen else ("constant", {})
            self.lr_factor[p] = factor(kind, kwargs, total, self.base_lr[p][0])
            self.lr_floor[p] = min_lr(kind, kwargs)
            ramp = schedule_of(p, [s for s in schedules if s.setting == "momentum"])
            start = self.optimizers[p].param_groups[0].get("momentum", 0.0)
            self.momentum_at[p] = momentum(ramp.kwargs, start) if ramp else None

    def set_lr(self, step: int) -> None:
        for p, opt in self.optimizers.items():
            f = self.lr_factor[p](step)
            m = self.momentum_at[p]
            for g, lr in zip(opt.param_groups, self.base_lr[p], strict=True):
                g["lr"] = max(lr * f, self.lr_floor[p]) if f > 0 else 0.0
                if m is not None:
                    g["momentum"] = m(step)


def schedule_of(player: str, schedules: list) -> Any:
    """The schedule for `player`: its own, else the one for every player, else None."""
    own = [s for s in schedules if s.player == player]
    every = [s for s in schedules if s.player is None]
    return (own or every or [None])[0]
