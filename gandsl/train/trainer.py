"""The training loop around a compiled spec's `Objective.iteration`.

The generated code computes each player's loss and calls `update(player, loss, terms)`; this
module supplies that `update` (backward into the player's parameters only, optimizer step,
weight clipping, EMA, metrics), the draws, schedules, checkpoints and sample grids.
"""

from __future__ import annotations

import hashlib
import json
import random
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..errors import TrainingStopped, UserError
from ..loader import load
from ..pipeline import read_spec
from . import checkpoint as ckpt
from .config import RunConfig
from .draw import FixedDraw, TrainDraw
from .ema import EMA
from .grid import save_grid
from .init import initialize
from .metrics import Metrics
from .sampling import sampling
from .schedule import factor, min_lr


class RunError(UserError):
    """A bad run directory, resume target or device: said before anything is changed."""


def spec_identity(text: str, params: dict[str, Any]) -> str:
    """What a checkpoint must match to be resumed: the spec's text and its params."""
    return hashlib.sha256(json.dumps([text, sorted(params.items())], default=str)
                          .encode()).hexdigest()


class Trainer:
    def __init__(self, config: RunConfig) -> None:
        self.config = config
        self.text = read_spec(config.spec)
        self.identity = spec_identity(self.text, config.params)
        resume_state = self._resume_target()
        self.out = Path(config.resume) if config.resume else Path(config.out)
        self.device = _device(config.device)
        self.loaded = load(config.spec, **config.params)
        spec = self.loaded.spec
        if spec.objective is None or not spec.objective.players:
            raise RunError(f"{config.spec} has no objective: there is nothing to train")
        train = spec.train
        self.total = config.steps or (train.steps if train and train.steps else 1000)
        self.batch = config.batch or (train.batch if train and train.batch else 64)
        _seed_everything(config.seed)

        # Networks, initialized as the train section says, then the generated objective.
        self.networks: dict[str, nn.Module] = {
            name: cls().to(self.device) for name, cls in self.loaded.classes.items()}
        if config.channels_last and self.device.type == "cuda":
            for net in self.networks.values():
                net.to(memory_format=torch.channels_last)
        module = self.loaded.module
        self.players: dict[str, list[str]] = dict(module.PLAYERS)
        for opt in (train.options if train else []):
            if opt.kind == "init":
                for net in self.players.get(opt.player, [opt.player]):
                    initialize(self.networks[net], opt.fn, opt.kwargs)
        self.objective = module.Objective(self.networks)
        self.optimizers: dict[str, torch.optim.Optimizer] = self.objective.optimizers()
        self.params = {p: [q for n in nets for q in self.networks[n].parameters()]
                       for p, nets in self.players.items()}
        self._schedules(train)
        self.ema: dict[str, EMA] = {}
        self.clip: dict[str, float] = {}
        for opt in (train.options if train else []):
            if opt.kind == "ema":
                nets = self.players.get(opt.player, [opt.player])
                self.ema[opt.player] = EMA({n: self.networks[n] for n in nets},
                                           float(opt.kwargs.get("decay", 0.999)),
                                           int(opt.kwargs.get("start", 0)),
                                           int(opt.kwargs.get("every", 1)))
            elif opt.kind == "clip":
                self.clip[opt.player] = float(opt.kwargs["value"])

        # Data, draws, metrics.
        from ..data import build_sources

        names = sorted({n.name for n in spec.objective.nodes if n.op == "data"})
        root = data_root(config.spec)
        self.sources = build_sources(spec, names, self.batch, self.device, config.seed,
                                     override=config.data, root=root, workers=config.workers)
        self.draw = TrainDraw(self.sources, self.batch, self.device)
        self.fixed = self._fixed_draw(spec, names, root)
        terms = module.TERMS
        self.columns = [c for p, ts in terms.items() for c in (f"{p}/loss",
                                                              *(f"{p}/{t}" for t in ts))]
        self.step = 0
        self.bad = 0  # consecutive non-finite losses
        self.sums: dict[str, torch.Tensor] = {}
        self.counts: dict[str, int] = {}
        if resume_state is not None:
            self._restore(*resume_state)
        else:
            self._start_run_dir()
        self.metrics = Metrics(self.out / "metrics.csv", self.columns,
                               resume_step=self.step if resume_state else None)

    # -- set-up -----------------------------------------------------------------------------

    def _resume_target(self):
        if self.config.resume is None:
            return None
        tensors, state = ckpt.load(Path(self.config.resume))
        if state.get("identity") != self.identity:
            was = state.get("spec_path", "?")
            raise RunError(
                f"{self.config.resume} was trained from {was} with params "
                f"{state.get('params', {})}; {self.config.spec} with params "
                f"{self.config.params} is a different spec, so the run cannot be resumed. "
                "Resume with the same spec and params, or start a new run with another --out.")
        return tensors, state

    def _start_run_dir(self) -> None:
        if (self.out / "checkpoints").exists():
            raise RunError(f"{self.out} already holds a run: continue it with --resume "
                           f"{self.out}, or choose another --out")
        self.out.mkdir(parents=True, exist_ok=True)
        (self.out / "spec.gan").write_text(self.text, encoding="utf-8")
        (self.out / "config.json").write_text(json.dumps(self.config.to_json(), indent=1))

    def _schedules(self, train) -> None:
        self.lr_factor = {}
        self.lr_floor = {}
        base = {p: [g["lr"] for g in opt.param_groups] for p, opt in self.optimizers.items()}
        self.base_lr = base
        for p in self.players:
            chosen = None
            for s in (train.schedules if train else []):
                if s.player == p or (s.player is None and chosen is None):
                    chosen = s
            kind, kwargs = (chosen.kind, chosen.kwargs) if chosen else ("constant", {})
            self.lr_factor[p] = factor(kind, kwargs, self.total)
            self.lr_floor[p] = min_lr(kind, kwargs)

    def _set_lr(self) -> None:
        for p, opt in self.optimizers.items():
            f = self.lr_factor[p](self.step)
            for g, lr in zip(opt.param_groups, self.base_lr[p], strict=True):
                g["lr"] = max(lr * f, self.lr_floor[p]) if f > 0 else 0.0

    def _fixed_draw(self, spec, names: list[str], root: Path) -> FixedDraw:
        """The draw of every sample grid. With class labels, the grid shows every class in
        turn: real (image, label) pairs are picked from a larger pool, class by class."""
        from ..data import build_sources

        classes = [f.dims[0] for name in names for f in spec.dataset(name).fields[1:]
                   if f.kind == "class"]
        n = self.config.samples
        if classes:
            n = classes[0] * max(1, n // classes[0])
        pool = max(n, 256)
        sources = build_sources(spec, names, pool, self.device, self.config.seed + 1,
                                override=self.config.data, root=root, workers=0)
        batches = {}
        for name, src in sources.items():
            batch = src.next()
            if len(batch) > 1 and batch[1].dim() == 1:
                pick = _cyclic(batch[1], n)
            else:
                pick = torch.arange(n)
            batches[name] = tuple(t[pick.to(t.device)] for t in batch)
            src.close()
        self.grid_columns = classes[0] if classes else n
        return FixedDraw(batches, n, self.device, self.config.seed + 2)

    # -- the loop ---------------------------------------------------------------------------

    def update(self, player: str, loss: torch.Tensor, terms: dict[str, torch.Tensor]) -> None:
        """One step of `player`: its parameters only receive gradients and move. A step whose
        loss or gradients are not finite is not applied."""
        if not torch.isfinite(loss):
            self._bad_step(player, f"{player}'s loss is {loss.item()}")
            return
        opt = self.optimizers[player]
        opt.zero_grad(set_to_none=True)
        loss.backward(inputs=self.params[player])
        grads = [q.grad for q in self.params[player] if q.grad is not None]
        if grads and not torch.isfinite(torch.nn.utils.get_total_norm(grads)):
            opt.zero_grad(set_to_none=True)
            self._bad_step(player, f"{player}'s gradients are not finite")
            return
        self.bad = 0
        opt.step()
        if player in self.clip:
            value = self.clip[player]
            with torch.no_grad():
                for q in self.params[player]:
                    q.clamp_(-value, value)
        if player in self.ema:
            self.ema[player].update(self.step)
        for key, value in [("loss", loss), *terms.items()]:
            name = f"{player}/{key}"
            self.sums[name] = self.sums.get(name, 0.0) + value.detach().float()
            self.counts[name] = self.counts.get(name, 0) + 1

    def run(self) -> Path:
        from tqdm import tqdm

        cfg = self.config
        bar = tqdm(total=self.total, initial=self.step, disable=not cfg.progress,
                   unit="it", dynamic_ncols=True, desc=Path(cfg.spec).stem)
        autocast = torch.autocast("cuda", dtype=torch.bfloat16) if (
            cfg.bf16 and self.device.type == "cuda") else nullcontext()
        try:
            while self.step < self.total:
                self._set_lr()
                with autocast:
                    self.objective.iteration(self.step, self.draw, self.update)
                self.metrics.add(self.step, {k: v / self.counts[k] for k, v in self.sums.items()})
                self.sums.clear()
                self.counts.clear()
                self.step += 1
                bar.update(1)
                last = self.step == self.total
                if self.step % cfg.log_every == 0 or last:
                    shown = self.metrics.flush()
                    bar.set_postfix({k: f"{v:.3g}" for k, v in shown.items()
                                     if k.endswith("/loss") or len(shown) <= 6}, refresh=False)
                if self.step % cfg.sample_every == 0 or last:
                    self.sample_grid()
                if self.step % cfg.checkpoint_every == 0 or last:
                    self.save()
        finally:
            bar.close()
            self.metrics.close()
        return self.out

    def _bad_step(self, player: str, what: str) -> None:
        self.bad += 1
        self._note(f"step {self.step}: {what}; the update is skipped")
        if self.bad >= self.config.max_bad_steps:
            latest = self.out / "checkpoints" / "latest.json"
            kept = (f"The last good checkpoint is intact: {ckpt.find(self.out)}"
                    if latest.exists() else "No checkpoint had been written yet.")
            raise TrainingStopped(f"{self.bad} consecutive non-finite steps (the last: "
                                  f"{player} at step {self.step}); the run stops. {kept}")

    def _note(self, text: str) -> None:
        from tqdm import tqdm

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
        with sampling(nets, self.device):
            draw.reset()
            return self.loaded.module.Objective(nets).samples(draw)

    # -- checkpoints ------------------------------------------------------------------------

    def save(self) -> Path | None:
        if not all(torch.isfinite(t).all() for n in self.networks.values()
                   for t in n.state_dict().values() if t.is_floating_point()):
            self._note(f"step {self.step}: the networks hold non-finite values; no checkpoint "
                       "is written, the last one stays")
            return None
        tensors: dict[str, torch.Tensor] = {}
        for name, net in self.networks.items():
            ckpt.pack_module(f"net/{name}", net, tensors)
        for ema in self.ema.values():
            for name, net in ema.averaged.items():
                ckpt.pack_module(f"ema/{name}", net, tensors)
        optim = {p: ckpt.pack_optimizer(f"optim/{p}", o, tensors)
                 for p, o in self.optimizers.items()}
        tensors["rng/torch"] = torch.get_rng_state()
        if self.device.type == "cuda":
            for i, s in enumerate(torch.cuda.get_rng_state_all()):
                tensors[f"rng/cuda/{i}"] = s
        np_state = np.random.get_state()
        tensors["rng/numpy"] = torch.from_numpy(np_state[1].astype(np.int64))
        state = {
            "step": self.step,
            "identity": self.identity,
            "spec_path": str(self.config.spec),
            "spec_sha256": self.loaded.spec.sha256,
            "params": self.config.params,
            "optimizers": optim,
            "ema": sorted(self.ema),
            "data": {name: src.state_dict() for name, src in self.sources.items()},
            "rng": {"python": _py_rng_to_json(random.getstate()),
                    "numpy": [np_state[0], int(np_state[2]), int(np_state[3]),
                              float(np_state[4])]},
            "bad_steps": self.bad,
            "total_steps": self.total,
            "batch": self.batch,
        }
        return ckpt.save(self.out, self.step, tensors, state)

    def _restore(self, tensors: dict[str, torch.Tensor], state: dict[str, Any]) -> None:
        where = f"checkpoint of {self.config.resume}"
        for name, net in self.networks.items():
            ckpt.unpack_module(f"net/{name}", net, tensors, where)
        for ema in self.ema.values():
            for name, net in ema.averaged.items():
                ckpt.unpack_module(f"ema/{name}", net, tensors, where)
        for p, opt in self.optimizers.items():
            ckpt.unpack_optimizer(f"optim/{p}", opt, tensors, state["optimizers"][p])
        for name, src in self.sources.items():
            src.load_state_dict(state["data"][name])
        torch.set_rng_state(tensors["rng/torch"])
        if self.device.type == "cuda":
            n = torch.cuda.device_count()
            torch.cuda.set_rng_state_all([tensors[f"rng/cuda/{i}"] for i in range(n)
                                          if f"rng/cuda/{i}" in tensors])
        random.setstate(_py_rng_from_json(state["rng"]["python"]))
        kind, pos, has_gauss, cached = state["rng"]["numpy"]
        np.random.set_state((kind, tensors["rng/numpy"].numpy().astype(np.uint32), pos,
                             has_gauss, cached))
        self.step = int(state["step"])
        self.bad = int(state.get("bad_steps", 0))
        if self.config.steps is None:
            self.total = max(self.total, int(state.get("total_steps", self.total)))


def data_root(spec: str | Path) -> Path:
    """Where a spec's relative data paths start: the project folder for `specs/x.gan`, else
    the spec's own folder."""
    folder = Path(spec).resolve().parent
    return folder.parent if folder.name == "specs" else folder


def _cyclic(labels: torch.Tensor, n: int) -> torch.Tensor:
    """Indices of `n` samples whose labels go 0, 1, ..., N−1, 0, 1, ... where the pool has
    them (a class missing from the pool is skipped)."""
    labels = labels.cpu()
    chosen: list[int] = []
    used: set[int] = set()
    k = int(labels.max()) + 1
    c = 0
    while len(chosen) < n and len(used) < len(labels):
        free = [i for i in (labels == c % k).nonzero().flatten().tolist() if i not in used]
        if free:
            chosen.append(free[0])
            used.add(free[0])
        c += 1
        if c > n * k:  # the pool lacks classes: fill with whatever is left
            chosen += [i for i in range(len(labels)) if i not in used][:n - len(chosen)]
            break
    return torch.tensor(chosen)


def _device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise RunError("--device cuda: no CUDA device is available (use --device cpu)")
    if name not in ("cpu", "cuda"):
        raise RunError(f"--device {name}: expected auto, cpu or cuda")
    return torch.device(name)


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2 ** 32)
    torch.manual_seed(seed)


def _py_rng_to_json(state) -> list:
    version, internal, gauss = state
    return [version, list(internal), gauss]


def _py_rng_from_json(data) -> tuple:
    version, internal, gauss = data
    return version, tuple(internal), gauss
