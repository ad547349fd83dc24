"""The logging part of a run: which columns `metrics.csv` has, the loss terms of one
iteration (each player's steps averaged), the writer of the rows (`Metrics` in rank 0,
nothing in the other processes), and the progress lines of a run without a terminal."""

from __future__ import annotations

import time
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


class ProgressLines:
    """One line every N iterations on stdout, for a run whose progress bar is off (a batch
    job, `--no-progress`): `step 500/4,000  31.2 it/s  D/loss 0.693  G/loss 0.701  ETA 1m52s`.
    The speed is of the iterations since the previous line."""

    def __init__(self, total: int, start: int, every: int, clock=time.perf_counter,
                 out=print) -> None:
        self.total, self.every, self.clock, self.out = total, every, clock, out
        self.mark = (start, clock())

    def write(self, step: int, values: dict[str, float]) -> None:
        now = self.clock()
        done, since = step - self.mark[0], now - self.mark[1]
        rate = done / since if since > 0 else float("inf")
        self.mark = (step, now)
        losses = "  ".join(f"{k} {v:.4g}" for k, v in values.items() if k.endswith("/loss"))
        eta = (self.total - step) / rate if rate > 0 else 0.0
        self.out(f"step {step:,}/{self.total:,}  {rate:.1f} it/s"
                 + (f"  {losses}" if losses else "") + f"  ETA {_duration(eta)}", flush=True)


def _duration(seconds: float) -> str:
    s = round(seconds)
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"
