"""The logging part of a run: which columns `metrics.csv` has, the loss terms of one
iteration (each player's steps averaged), and the writer of the rows (`Metrics` in rank 0,
nothing in the other processes)."""

from __future__ import annotations

from pathlib import Path

import torch

from .distributed import NoMetrics
from .metrics import Metrics


def columns(terms: dict[str, list[str]], state: dict, grow: bool) -> list[str]:
    """Every player's loss and its terms (`D/loss`, `D/gan_d`), then the objective's states
    (`state/k`), then the progressive level (`grow/level`) when the run grows."""
    names = [c for p, ts in terms.items() for c in (f"{p}/loss", *(f"{p}/{t}" for t in ts))]
    names += [f"state/{k}" for k in state]
    if grow:
        names.append("grow/level")
    return names


class StepLog:
    """The terms the players' updates record during one iteration, kept on the device: a
    player that steps k times in the iteration logs the mean of its k values."""

    def __init__(self) -> None:
        self.sums: dict[str, torch.Tensor] = {}
        self.counts: dict[str, int] = {}

    def record(self, player: str, loss: torch.Tensor, terms: dict[str, torch.Tensor]) -> None:
        for key, value in [("loss", loss), *terms.items()]:
            name = f"{player}/{key}"
            self.sums[name] = self.sums.get(name, 0.0) + value.detach().float()
            self.counts[name] = self.counts.get(name, 0) + 1

    def means(self) -> dict[str, torch.Tensor]:
        return {k: v / self.counts[k] for k, v in self.sums.items()}

    def clear(self) -> None:
        self.sums.clear()
        self.counts.clear()


def open_metrics(out: Path, names: list[str], device: torch.device, main: bool,
                 resume_step: int | None) -> Metrics | NoMetrics:
    """metrics.csv in `out` for rank 0 (cut back to `resume_step` rows when resuming);
    nothing for the other processes."""
    if not main:
        return NoMetrics()
    return Metrics(out / "metrics.csv", names, device=device, resume_step=resume_step)
