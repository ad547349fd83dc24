"""The training loop around a compiled spec's `Objective.iteration`.

The generated code computes each player's loss and calls `update(player, loss, terms)`; this
module supplies that `update` (backward into the player's parameters only, optimizer step,
weight clipping, EMA, metrics), the draws, schedules, checkpoints and sample grids.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .. import shard
from ..catalog import DEFAULT_BATCH
from ..errors import TrainingStopped
from ..kernels.dispatch import kernels
from ..loader import load
from ..pipeline import read_spec, spec_identity
from . import distributed, run_state
from .config import RunConfig, RunError, data_root, kernels_of, pick_device
from .draw import FixedDraw
from .feed import build_feed
from .grid import save_grid
from .log import ProgressLines, StepLog, columns, open_metrics
from .memory import check_fits
from .networks import after_steps, build_networks, initialize_networks
from .optimizers import PlayerOptimizers
from .run_dir import check_spec, kept, open_run, save_checkpoint, start_run_dir
from .sampling import sampling
from .schedule import level

__all__ = ["RunError", "Trainer", "data_root"]


class Trainer:
    """A run, put together from its parts: the run directory and checkpoint it resumes from
    (`run_dir`), the networks and what follows a step (`networks`), the optimizers and their
    schedules (`optimizers`), the data (`feed`), and the metrics (`log`)."""

    def __init__(self, config: RunConfig) -> None:
        if config.threads is not None:
            torch.set_num_threads(config.threads)
        # the threads the run used, as config.json records them: what was chosen or torch's
        config = replace(config, threads=torch.get_num_threads())
        self.text = read_spec(config.spec)
        config, self.out, resume = open_run(config)
        self.config = config
        self.identity = spec_identity(self.text, config.params, config.spec)
        check_spec(config, self.out, self.text, self.identity, resume)
        self.kernels = kernels_of(config)  # the fused ops' implementation, for every iteration
        # Data-parallel under torchrun: this process's device and place in the group; rank 0
        # alone writes the run directory, metrics, grids and checkpoints.
        self.device = distributed.device_for(pick_device(config.device))
        distributed.init(self.device)
        self.rank, self.world = distributed.rank(), distributed.world_size()
        self.main = self.rank == 0
        self.loaded = load(config.spec, **config.params)
        spec = self.loaded.spec
        if spec.objective is None or not spec.objective.players:
            raise RunError(f"{config.spec} has no objective: there is nothing to train")
        train = spec.train
        self.batch = config.batch or (train.batch if train and train.batch else DEFAULT_BATCH)
        if self.batch % self.world:
            raise RunError(f"batch {self.batch} does not split into {self.world} equal shards, "
                           f"one per process: choose a --batch that is a multiple of "
                           f"{self.world}, or run {self.batch} or fewer processes that divide it")
        if resume is not None and config.steps is None:
            self.total = int(resume[1]["total_steps"])  # as the run was planned
        else:
            self.total = config.steps or (train.steps if train and train.steps else 1000)
        _seed_everything(config.seed)
        check_fits(spec, self.batch // self.world, self.device)

        # Networks, initialized as the train section says, then the generated objective.
        self.networks, self.frozen = build_networks(self.loaded, self.device,
                                                    config.channels_last)
        module = self.loaded.module
        self.players: dict[str, list[str]] = dict(module.PLAYERS)
        options = train.options if train else []
        initialize_networks(self.networks, self.players, options, config.spec,
                            load=resume is None, note=self._note)
        distributed.broadcast_modules(self.networks.values())
        self.objective = module.Objective(self.networks)
        self.opt = PlayerOptimizers(self.objective, self.players, self.networks, train,
                                    self.total)
        self.optimizers, self.params = self.opt.optimizers, self.opt.params
        # data-parallel: the running statistics averaged over the processes at each step
        self.stats = {p: [b for n in nets if n not in self.frozen
                          for b in self.networks[n].buffers() if b.is_floating_point()]
                      for p, nets in self.players.items()} if self.world > 1 else {}
        self.ema, self.after = after_steps(self.networks, self.players, options,
                                           lambda: self.step)

        # Data, draws, metrics.
        feed = build_feed(spec, config, self.batch, self.device, self.rank, self.world)
        self.sources, self.draw, self.fixed = feed.sources, feed.draw, feed.fixed
        self.grid_columns = feed.grid_columns
        # progressive growing: each growing network's full level; the schedule sets `level`
        self.full_level = {n: float(net.level) for n, net in self.networks.items()
                           if hasattr(net, "level")}
        self.grow = train.grow if train and self.full_level else None
        self.columns = columns(module.TERMS, getattr(self.objective, "state", {}),
                               self.grow is not None)
        self.step = 0
        self.bad = 0  # consecutive non-finite losses
        self.seconds_before = 0.0  # training time of the runs this one resumes
        self.started: float | None = None
        self.log = StepLog()
        self.autocast = (torch.autocast("cuda", dtype=torch.bfloat16)
                         if config.bf16 and self.device.type == "cuda" else None)
        if resume is not None:
            run_state.restore(self, *resume)
            if self.step >= self.total and not distributed.restarted():
                # nothing to do: say so rather than "trained N" (a torchrun restart after the
                # last checkpoint just finishes)
                more = "--steps" if config.steps is not None else "the planned"
                raise RunError(f"the run in {self.out} is at iteration {self.step:,}, and "
                               f"{more} {self.total:,} asks for no more: give --steps "
                               f"greater than {self.step:,} to train further")
        else:
            distributed.barrier()  # every process has chosen the run directory before it exists
            if self.main:
                start_run_dir(self.out, self.text, self.loaded.imports, config)
        self.metrics = open_metrics(self.out, self.columns, self.device, self.main,
                                    self.step if resume else None)

    # -- set-up -----------------------------------------------------------------------------

    @property
    def lr_factor(self) -> dict[str, Callable[[int], float]]:
        """Per player: the factor of its base learning rate at a step."""
        return self.opt.lr_factor

    def _set_level(self) -> None:
        """Progressive growing: every growing network (EMA copies too) at the schedule's
        level of this step, up to its own number of levels."""
        if self.grow is None:
            return
        self.level = min(level(self.step, self.grow.stable, self.grow.fade, self.grow.first),
                         max(self.full_level.values()))  # the schedule ends fully grown
        for nets in (self.networks, *(e.averaged for e in self.ema.values())):
            for name, net in nets.items():
                if name in self.full_level:
                    net.level = min(self.level, self.full_level[name])

    def _set_lr(self) -> None:
        self.opt.set_lr(self.step)

    # -- the loop ---------------------------------------------------------------------------

    def update(self, player: str, loss: torch.Tensor, terms: dict[str, torch.Tensor]) -> None:
        """One step of `player`: its parameters only receive gradients and move. A step whose
        loss or gradients are not finite is not applied. The check costs one synchronization
        with the device per step, after the backward pass has been queued."""
        opt = self.optimizers[player]
        with self._full_precision():  # gradients and optimizer states stay fp32 under bf16
            opt.zero_grad(set_to_none=True)
            loss.backward(inputs=self.params[player])
            # data-parallel: the mean over processes of the gradients (and of the loss, so
            # that every process judges the step alike); the loss itself in one process
            total = distributed.average_gradients(self.params[player], loss,
                                                  self.stats.get(player, ()))
            grads = [q.grad for q in self.params[player] if q.grad is not None]
            finite = torch.isfinite(total)
            if grads:
                finite = finite & torch.isfinite(torch.nn.utils.get_total_norm(grads))
            if not finite.item():
                opt.zero_grad(set_to_none=True)
                what = (f"{player}'s loss is {total.item()}" if not torch.isfinite(total)
                        else f"{player}'s gradients are not finite")
                self._bad_step(player, what)
                return
            self.bad = 0
            opt.step()
            for act in self.after[player]:  # weight clipping, EMA
                act()
        self.log.record(player, loss, terms)

    def elapsed(self) -> float:
        """Seconds of training so far, the resumed runs' included (checkpoints keep it)."""
        now = time.perf_counter() - self.started if self.started is not None else 0.0
        return self.seconds_before + now

    def _full_precision(self):
        return torch.autocast(self.device.type, enabled=False) if self.autocast else \
            nullcontext()

    def run(self) -> Path:
        from tqdm import tqdm

        cfg = self.config
        self.started = time.perf_counter()
        # a bar where a person watches a terminal; else a line every `print_every` iterations
        watched = cfg.progress and self.main and sys.stderr.isatty()
        bar = tqdm(total=self.total, initial=self.step, disable=not watched,
                   unit="it", dynamic_ncols=True, desc=Path(cfg.spec).stem)
        lines = ProgressLines(self.total, self.step, cfg.print_every) \
            if self.main and not watched else None
        shown: dict[str, float] = {}
        try:
            while self.step < self.total:
                self.iterate()
                bar.update(1)
                last = self.step == self.total
                if self.step % cfg.log_every == 0 or last:
                    shown = self.metrics.flush() or shown
                    bar.set_postfix({k: f"{v:.3g}" for k, v in shown.items()
                                     if k.endswith("/loss") or len(shown) <= 6}, refresh=False)
                if lines is not None and (self.step % cfg.print_every == 0 or last):
                    lines.write(self.step, shown)
                if (self.step % cfg.sample_every == 0 or last) and self.main:
                    self.sample_grid()
                if self.step % cfg.checkpoint_every == 0 or last:
                    # statistics changed since their player's step, as one process has them
                    distributed.average_buffers(self.networks[n] for n in self.networks
                                                if n not in self.frozen)
                    if self.main:
                        self.save()
            distributed.barrier()  # no process leaves before rank 0 has written the run
        finally:
            bar.close()
            self.metrics.close()
        return self.out

    def iterate(self) -> None:
        """One iteration of the objective (every player's steps at this step), its metrics
        recorded; `gandsl bench` times exactly this."""
        self._set_lr()
        self._set_level()
        with self.autocast or nullcontext(), shard.sharded(self.rank, self.world), \
                kernels(self.kernels):
            self.objective.iteration(self.step, self.draw, self.update)
        distributed.average_state(getattr(self.objective, "state", {}))
        values = distributed.average_values(self.log.means())
        if self.grow is not None:
            values["grow/level"] = torch.tensor(self.level, device=self.device)
        for name, v in getattr(self.objective, "state", {}).items():  # BEGAN's k
            values[f"state/{name}"] = torch.as_tensor(v, dtype=torch.float32, device=self.device)
        self.metrics.add(self.step, values)
        self.log.clear()
        self.step += 1

    def _bad_step(self, player: str, what: str) -> None:
        self.bad += 1
        self._note(f"step {self.step}: {what}; the update is skipped")
        if self.bad >= self.config.max_bad_steps:
            raise TrainingStopped(f"{self.bad} consecutive non-finite steps (the last: "
                                  f"{player} at step {self.step}); the run stops. "
                                  f"{kept(self.out)}")

    def _note(self, text: str) -> None:
        from tqdm import tqdm

        if self.main:  # every process would say the same
            tqdm.write(f"gandsl: {text}")

    # -- samples ----------------------------------------------------------------------------

    def sample_grid(self, path: Path | None = None) -> Path:
        path = path or self.out / "samples" / f"step_{self.step:07d}.png"
        return save_grid(self.samples(self.fixed), path, columns=self.grid_columns)

    def sample_networks(self) -> dict[str, nn.Module]:
        nets = dict(self.networks)
        for ema in self.ema.values():
            nets.update(ema.averaged)
        return nets

    def samples(self, draw: FixedDraw) -> dict[str, torch.Tensor]:
        """Images from a fixed draw, with the EMA weights where there are some; the run's
        state is left exactly as it was (see `sampling`)."""
        nets = self.sample_networks()
        with sampling(nets, self.device, self.config.seed + 3, self.frozen), \
                kernels(self.kernels):
            draw.reset()
            return self.loaded.module.Objective(nets).samples(draw)

    # -- checkpoints ------------------------------------------------------------------------

    def save(self) -> Path | None:
        """Write a checkpoint of the run as it is now (see `run_dir.save_checkpoint`)."""
        return save_checkpoint(self, self._note)


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2 ** 32)
    torch.manual_seed(seed)

