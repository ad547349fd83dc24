"""`gandsl bench SPEC`: how long one training iteration of a spec takes on this machine, and
where the time goes, before committing hours to `gandsl train`.

It builds exactly what `gandsl train` builds (networks, optimizers, data, the generated
objective) in a temporary run directory that is deleted afterwards, runs warm-up iterations,
then times `Trainer.iterate`, the same call the training loop makes. Inside an iteration, the
time is split at each player's update (forward, backward and optimizer step of that player)
and at each batch drawn from the data; what is left is metrics and bookkeeping. On CUDA the
device is synchronized at each split, so the parts add up to the iteration.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch

from .config import RunConfig, RunError


@dataclass
class Bench:
    spec: str
    device: str
    batch: int
    total_steps: int  # the run's planned iterations, for the estimate
    at_step: int = 0  # the iteration of the run the timing starts at
    iterations: list[float] = field(default_factory=list)  # seconds each
    players: dict[str, float] = field(default_factory=dict)  # seconds, all timed iterations
    steps: Counter = field(default_factory=Counter)  # updates per player, all timed iterations
    data: float = 0.0  # seconds drawing batches, all timed iterations
    peak_memory: int | None = None  # bytes, CUDA only

    @property
    def mean(self) -> float:
        return statistics.fmean(self.iterations)


def bench(config: RunConfig, iters: int = 20, warmup: int = 3, kernels: str | None = None,
          at_step: int = 0) -> Bench:
    """Time `iters` iterations after `warmup`, from iteration `at_step` of the run (what a
    progressive spec's stage and the schedules depend on); `kernels="ref"` runs the fused
    ops' PyTorch references instead of the Triton kernels, for comparison (None: the
    config's choice, as `gandsl train` makes it)."""
    from .trainer import Trainer

    if kernels is not None:
        config = replace(config, kernels=kernels)
    with tempfile.TemporaryDirectory(prefix="gandsl-bench-") as tmp:
        trainer = Trainer(replace(config, out=Path(tmp) / "run", resume=None, progress=False))
        if at_step >= trainer.total:
            raise RunError(f"--at-step {at_step}: the run has {trainer.total:,} iterations; "
                           "expected a step before its end (or a larger --steps)")
        trainer.step = at_step
        try:
            return _measure(trainer, iters, warmup)
        finally:
            trainer.metrics.close()


def _measure(trainer, iters: int, warmup: int) -> Bench:
    device = trainer.device
    cuda = device.type == "cuda"

    def sync() -> None:
        if cuda:
            torch.cuda.synchronize(device)

    result = Bench(spec=trainer.config.spec, device=str(device), batch=trainer.batch,
                   total_steps=trainer.total, at_step=trainer.step)
    timing = False
    mark = 0.0  # end of the last split
    data_since_mark = 0.0
    draw_data, update = trainer.draw.data, trainer.update

    def timed_data(name: str):
        nonlocal data_since_mark
        sync()
        t = time.perf_counter()
        out = draw_data(name)
        sync()
        data_since_mark += time.perf_counter() - t
        return out

    def timed_update(player: str, loss, terms) -> None:
        nonlocal mark, data_since_mark
        update(player, loss, terms)
        sync()
        now = time.perf_counter()
        if timing:
            result.players[player] = result.players.get(player, 0.0) + \
                (now - mark - data_since_mark)
            result.steps[player] += 1
            result.data += data_since_mark
        mark, data_since_mark = now, 0.0

    trainer.draw.data, trainer.update = timed_data, timed_update
    for _ in range(warmup):  # kernels compiled, caches and allocator warm
        trainer.iterate()
    if cuda:
        torch.cuda.reset_peak_memory_stats(device)
    timing = True
    for _ in range(iters):
        sync()
        start = mark = time.perf_counter()
        data_since_mark = 0.0
        trainer.iterate()
        sync()
        result.iterations.append(time.perf_counter() - start)
        result.data += data_since_mark  # batches drawn after the last update
    if cuda:
        result.peak_memory = torch.cuda.max_memory_allocated(device)
    return result


def table(b: Bench) -> str:
    n = len(b.iterations)
    ms = sorted(t * 1000 for t in b.iterations)
    p90 = ms[min(n - 1, round(0.9 * (n - 1)))]
    rest = b.mean - (sum(b.players.values()) + b.data) / n
    lines = [f"{b.spec} on {b.device}, batch {b.batch}, {torch.get_num_threads()} CPU threads, "
             f"torch {torch.__version__}: {n} iteration{'s' if n != 1 else ''} timed"
             + (f" from iteration {b.at_step:,}" if b.at_step else ""),
             "",
             f"iteration  {b.mean * 1000:9.1f} ms mean  (median {statistics.median(ms):.1f}, "
             f"p90 {p90:.1f})  {1 / b.mean:.2f} it/s"]
    for player, seconds in b.players.items():
        steps = b.steps[player]
        lines.append(f"  {player:<8} {seconds / n * 1000:9.1f} ms per iteration  "
                     f"({seconds / steps * 1000:.1f} ms per step, {steps / n:.2f} steps per "
                     "iteration)")
    lines.append(f"  {'data':<8} {b.data / n * 1000:9.1f} ms per iteration")
    lines.append(f"  {'other':<8} {max(rest, 0.0) * 1000:9.1f} ms per iteration  (metrics, "
                 "schedules, state)")
    if b.peak_memory is not None:
        lines.append(f"peak CUDA memory  {b.peak_memory / 2**20:,.0f} MiB")
    lines.append(f"{b.total_steps:,} iterations at this speed: {_duration(b.mean * b.total_steps)}"
                 " (without sample grids and checkpoints)")
    return "\n".join(lines)


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    return f"{hours / 24:.1f} days"
