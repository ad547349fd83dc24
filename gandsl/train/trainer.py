"""The training loop around a compiled spec's `Objective.iteration`.

The generated code computes each player's loss and calls `update(player, loss, terms)`; this
module supplies that `update` (backward into the player's parameters only, optimizer step,
weight clipping, EMA, metrics), the draws, schedules, checkpoints and sample grids.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .. import shard
from ..atomic import WriteError
from ..errors import TrainingStopped
from ..loader import load
from ..pipeline import read_spec, spec_identity
from ..runtime.penalties import clip_weights
from . import checkpoint as ckpt
from . import distributed, run_state
from .config import RunConfig, RunError, data_root, pick_device, resumed, run_files
from .draw import FixedDraw, TrainDraw
from .ema import EMA
from .fixed import fixed_batches
from .grid import save_grid
from .init import initialize
from .memory import check_fits
from .metrics import Metrics
from .sampling import sampling
from .schedule import factor, level, min_lr, momentum
from .weights import load_weights

__all__ = ["RunError", "Trainer", "data_root"]


def _text_identity(text: str, params: dict[str, Any]) -> str:
    """The identity of checkpoints written before 2026-11-23: the spec's exact text."""
    return hashlib.sha256(json.dumps([text, sorted(params.items())], default=str)
                          .encode()).hexdigest()


class Trainer:
    def __init__(self, config: RunConfig) -> None:
        self.text = read_spec(config.spec)
        resume_state = None
        if config.resume is not None:
            # A resumed run continues with its own seed, batch, data and params, and in its
            # own directory, whatever path to it (run, checkpoints folder, checkpoint) was given.
            tensors, state = ckpt.load(Path(config.resume))
            self.out = ckpt.find(Path(config.resume)).parent.parent
            config = resumed(config, self.out, state)
            run_state.check(state, tensors, f"checkpoint of {config.resume}")
            resume_state = tensors, state
        else:
            self.out = Path(config.out)
            config = replace(config, seed=0 if config.seed is None else config.seed)
        self.config = config
        self.identity = spec_identity(self.text, config.params, config.spec)
        if resume_state is not None and resume_state[1].get("identity") not in (
                self.identity, _text_identity(self.text, config.params)):
            # `resumed` has already refused other params, so the spec itself changed
            raise RunError(
                f"{config.resume} was trained from "
                f"{resume_state[1].get('spec_path', '?')}, and {config.spec} is not that spec "
                "any more (it changed beyond comments and layout), so the run cannot be "
                f"resumed. Resume with the run's own copy, {self.out / 'spec.gan'}, or start a "
                "new run with another --out.")
        if resume_state is None and self.out.exists() and not self.out.is_dir():
            raise RunError(f"--out {self.out}: that is a file; expected a directory for the run")
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
        self.batch = config.batch or (train.batch if train and train.batch else 64)
        if self.batch % self.world:
            raise RunError(f"batch {self.batch} does not split into {self.world} equal shards, "
                           f"one per process: choose a --batch that is a multiple of "
                           f"{self.world}, or run {self.batch} or fewer processes that divide it")
        if resume_state is not None and config.steps is None:
            self.total = int(resume_state[1]["total_steps"])  # as the run was planned
        else:
            self.total = config.steps or (train.steps if train and train.steps else 1000)
        _seed_everything(config.seed)
        check_fits(spec, self.batch // self.world, self.device)

        # Networks, initialized as the train section says, then the generated objective.
        self.networks: dict[str, nn.Module] = {
            name: cls().to(self.device) for name, cls in self.loaded.classes.items()}
        if config.channels_last and self.device.type == "cuda":
            for net in self.networks.values():
                net.to(memory_format=torch.channels_last)
        # A frozen network (a fixed feature extractor) never learns and runs in eval mode.
        self.frozen = frozenset(n.name for n in spec.networks if n.frozen)
        for name in self.frozen:
            self.networks[name].eval().requires_grad_(False)
        module = self.loaded.module
        self.players: dict[str, list[str]] = dict(module.PLAYERS)
        options = train.options if train else []
        for opt in options:
            if opt.kind == "init":
                for net in self._networks_of(opt.player):
                    initialize(self.networks[net], opt.fn, opt.kwargs)
        for opt in options:  # pretrained weights, after `init`; a checkpoint holds them
            if opt.kind == "load" and resume_state is None:
                self._load(opt, config)
        distributed.broadcast_modules(self.networks.values())
        self.objective = module.Objective(self.networks)
        self.optimizers: dict[str, torch.optim.Optimizer] = self.objective.optimizers()
        self.params = {p: [q for n in nets for q in self.networks[n].parameters()]
                       for p, nets in self.players.items()}
        # data-parallel: the running statistics averaged over the processes at each step
        self.stats = {p: [b for n in nets if n not in self.frozen
                          for b in self.networks[n].buffers() if b.is_floating_point()]
                      for p, nets in self.players.items()} if self.world > 1 else {}
        self._schedules(train)
        # EMA and clipping name a player or one of its networks; they act after that
        # player's step, on the networks named.
        owner = {n: p for p, nets in self.players.items() for n in nets}
        self.ema: dict[str, EMA] = {}
        self.after: dict[str, list[Callable[[], None]]] = {p: [] for p in self.players}
        for opt in options:
            if opt.kind not in ("ema", "clip"):
                continue
            nets = self._networks_of(opt.player)
            player = opt.player if opt.player in self.players else owner[opt.player]
            if opt.kind == "ema":
                ema = EMA({n: self.networks[n] for n in nets},
                          float(opt.kwargs.get("decay", 0.999)), int(opt.kwargs.get("start", 0)),
                          int(opt.kwargs.get("every", 1)))
                self.ema[opt.player] = ema
                self.after[player].append(lambda ema=ema: ema.update(self.step))
            elif opt.kind == "clip":
                value = float(opt.kwargs["value"])
                self.after[player] += [lambda net=self.networks[n], value=value:
                                       clip_weights(net, value) for n in nets]

        # Data, draws, metrics.
        from ..data import build_sources

        names = sorted({n.name for n in spec.objective.nodes if n.op == "data"})
        self.sources = build_sources(spec, names, self.batch, self.device, config.seed,
                                     override=config.data, root=data_root(config.spec),
                                     workers=config.workers, shard=(self.rank, self.world))
        self.draw = TrainDraw(self.sources, self.batch, self.device, (self.rank, self.world))
        self.fixed = self._fixed_draw(spec, names) if self.main else None
        terms = module.TERMS
        self.columns = [c for p, ts in terms.items() for c in (f"{p}/loss",
                                                              *(f"{p}/{t}" for t in ts))]
        self.columns += [f"state/{k}" for k in getattr(self.objective, "state", {})]
        # progressive growing: each growing network's full level; the schedule sets `level`
        self.full_level = {n: float(net.level) for n, net in self.networks.items()
                           if hasattr(net, "level")}
        self.grow = train.grow if train and self.full_level else None
        if self.grow is not None:
            self.columns.append("grow/level")
        self.step = 0
        self.bad = 0  # consecutive non-finite losses
        self.seconds_before = 0.0  # training time of the runs this one resumes
        self.started: float | None = None
        self.sums: dict[str, torch.Tensor] = {}
        self.counts: dict[str, int] = {}
        self.autocast = (torch.autocast("cuda", dtype=torch.bfloat16)
                         if config.bf16 and self.device.type == "cuda" else None)
        if resume_state is not None:
            run_state.restore(self, *resume_state)
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
                self._start_run_dir()
        self.metrics = (Metrics(self.out / "metrics.csv", self.columns, device=self.device,
                                resume_step=self.step if resume_state else None)
                        if self.main else distributed.NoMetrics())

    # -- set-up -----------------------------------------------------------------------------

    def _networks_of(self, name: str) -> list[str]:
        """The networks a train option names: a player's, or one network."""
        return self.players.get(name, [name])

    def _start_run_dir(self) -> None:
        if (self.out / "checkpoints").exists():
            raise RunError(f"{self.out} already holds a run: continue it with --resume "
                           f"{self.out}, or choose another --out")
        held = run_files(self.out)
        if held and not self.config.restarted:  # someone's files, or another run's: kept
            raise RunError(f"{self.out} already holds {', '.join(held)} but no checkpoint to "
                           "resume from: choose another --out, or remove them first")
        self.out.mkdir(parents=True, exist_ok=True)
        (self.out / "spec.gan").write_text(self.text, encoding="utf-8")
        for rel, text in self.loaded.imports.items():  # the run's copy compiles on its own
            target = self.out / rel
            if target.resolve().is_relative_to(self.out.resolve()):
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
        (self.out / "config.json").write_text(json.dumps(self.config.to_json(), indent=1))

    def _schedules(self, train) -> None:
        """Per player: the factor of its base learning rate at a step, the floor, and the
        momentum at a step (None: the optimizer's own, unchanged)."""
        self.lr_factor = {}
        self.lr_floor = {}
        self.momentum_at: dict[str, Callable[[int], float] | None] = {}
        base = {p: [g["lr"] for g in opt.param_groups] for p, opt in self.optimizers.items()}
        self.base_lr = base
        schedules = train.schedules if train else []
        for p in self.players:
            chosen = _schedule_of(p, [s for s in schedules if s.setting == "lr"])
            kind, kwargs = (chosen.kind, chosen.kwargs) if chosen else ("constant", {})
            self.lr_factor[p] = factor(kind, kwargs, self.total, base[p][0])
            self.lr_floor[p] = min_lr(kind, kwargs)
            ramp = _schedule_of(p, [s for s in schedules if s.setting == "momentum"])
            start = self.optimizers[p].param_groups[0].get("momentum", 0.0)
            self.momentum_at[p] = momentum(ramp.kwargs, start) if ramp else None

    def _load(self, opt, config: RunConfig) -> None:
        """`load NET ("file")`: a path relative to the project folder, as data paths are;
        an empty path keeps the network's initial weights, said once."""
        given = str(opt.kwargs["path"])
        if not given:
            self._note(f"`{opt.player}` keeps its initial weights: its `load` path is empty")
            return
        path = Path(given) if Path(given).is_absolute() else data_root(config.spec) / given
        line = load_weights(self.networks[opt.player], path, bool(opt.kwargs.get("order")),
                            f"{config.spec}: load {opt.player}", opt.kwargs.get("prefix", ""))
        self._note(f"`{opt.player}`: {line}")

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
        for p, opt in self.optimizers.items():
            f = self.lr_factor[p](self.step)
            m = self.momentum_at[p]
            for g, lr in zip(opt.param_groups, self.base_lr[p], strict=True):
                g["lr"] = max(lr * f, self.lr_floor[p]) if f > 0 else 0.0
                if m is not None:
                    g["momentum"] = m(self.step)

    def _fixed_draw(self, spec, names: list[str]) -> FixedDraw:
        """The draw of every sample grid. With class labels, the grid shows every class in
        turn, as many whole rows of them as fit in `samples`."""
        classes = [f.dims[0] for name in names for f in spec.dataset(name).fields[1:]
                   if f.kind == "class"]
        n = self.config.samples
        if classes:
            n = classes[0] * max(1, n // classes[0])
        self.grid_columns = classes[0] if classes else n
        batches = fixed_batches(self.sources, n, self.config.seed + 1)
        return FixedDraw(batches, n, self.device, self.config.seed + 2)

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
        for key, value in [("loss", loss), *terms.items()]:
            name = f"{player}/{key}"
            self.sums[name] = self.sums.get(name, 0.0) + value.detach().float()
            self.counts[name] = self.counts.get(name, 0) + 1

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
        bar = tqdm(total=self.total, initial=self.step, disable=not cfg.progress or not self.main,
                   unit="it", dynamic_ncols=True, desc=Path(cfg.spec).stem)
        try:
            while self.step < self.total:
                self.iterate()
                bar.update(1)
                last = self.step == self.total
                if self.step % cfg.log_every == 0 or last:
                    shown = self.metrics.flush()
                    bar.set_postfix({k: f"{v:.3g}" for k, v in shown.items()
                                     if k.endswith("/loss") or len(shown) <= 6}, refresh=False)
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
        with self.autocast or nullcontext(), shard.sharded(self.rank, self.world):
            self.objective.iteration(self.step, self.draw, self.update)
        distributed.average_state(getattr(self.objective, "state", {}))
        values = distributed.average_values({k: v / self.counts[k] for k, v in self.sums.items()})
        if self.grow is not None:
            values["grow/level"] = torch.tensor(self.level, device=self.device)
        for name, v in getattr(self.objective, "state", {}).items():  # BEGAN's k
            values[f"state/{name}"] = torch.as_tensor(v, dtype=torch.float32, device=self.device)
        self.metrics.add(self.step, values)
        self.sums.clear()
        self.counts.clear()
        self.step += 1

    def _bad_step(self, player: str, what: str) -> None:
        self.bad += 1
        self._note(f"step {self.step}: {what}; the update is skipped")
        if self.bad >= self.config.max_bad_steps:
            raise TrainingStopped(f"{self.bad} consecutive non-finite steps (the last: "
                                  f"{player} at step {self.step}); the run stops. "
                                  f"{self._kept()}")

    def _kept(self) -> str:
        """What a stopped run leaves to resume from."""
        if (self.out / "checkpoints" / "latest.json").exists():
            return f"The last good checkpoint is intact: {ckpt.find(self.out)}"
        return "No checkpoint had been written yet."

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
        with sampling(nets, self.device, self.config.seed + 3, self.frozen):
            draw.reset()
            return self.loaded.module.Objective(nets).samples(draw)

    # -- checkpoints ------------------------------------------------------------------------

    def save(self) -> Path | None:
        """Write a checkpoint of the run as it is now, metrics up to now included; not while
        steps are failing (the last good checkpoint is the one to resume from)."""
        if self.bad:
            self._note(f"step {self.step}: the last update was not finite; no checkpoint is "
                       "written, the last one stays")
            return None
        if not all(torch.isfinite(t).all() for n in self.networks.values()
                   for t in n.state_dict().values() if t.is_floating_point()):
            self._note(f"step {self.step}: the networks hold non-finite values; no checkpoint "
                       "is written, the last one stays")
            return None
        self.metrics.flush()  # a resumed run keeps exactly the rows before its checkpoint
        try:
            return ckpt.save(self.out, self.step, *run_state.pack(self))
        except WriteError as e:
            raise TrainingStopped(f"{e}. {self._kept()}") from None


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2 ** 32)
    torch.manual_seed(seed)


def _schedule_of(player: str, schedules: list) -> Any:
    """The schedule for `player`: its own, else the one for every player, else None."""
    own = [s for s in schedules if s.player == player]
    every = [s for s in schedules if s.player is None]
    return (own or every or [None])[0]
