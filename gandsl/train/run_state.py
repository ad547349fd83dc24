"""What a checkpoint of a run holds, and putting it back: networks, EMA copies, optimizers,
data positions, every random generator, the step and the run's settings. A resumed run then
draws exactly the batches and numbers the uninterrupted run would have drawn."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import torch

from . import checkpoint as ckpt
from .checkpoint import CheckpointError

if TYPE_CHECKING:
    from ..loader import Loaded
    from .config import RunConfig
    from .ema import EMA

# Keys of state.json that `restore` reads; a checkpoint without one of them is refused whole.
REQUIRED = ("step", "optimizers", "data", "rng", "total_steps", "batch", "seed")


class Run(Protocol):
    """What a checkpoint packs and restores of a run: the parts of the `Trainer` read and set
    here (a protocol, so that this module need not import the trainer, which imports it)."""

    config: RunConfig
    loaded: Loaded
    identity: str
    device: torch.device
    world: int
    networks: dict[str, torch.nn.Module]
    ema: dict[str, EMA]
    optimizers: dict[str, torch.optim.Optimizer]
    sources: dict[str, Any]
    objective: Any
    step: int
    bad: int
    total: int
    batch: int
    seconds_before: float

    def elapsed(self) -> float: ...


def pack(t: Run) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    tensors: dict[str, torch.Tensor] = {}
    for name, net in t.networks.items():
        ckpt.pack_module(f"net/{name}", net, tensors)
    for ema in t.ema.values():
        for name, net in ema.averaged.items():
            ckpt.pack_module(f"ema/{name}", net, tensors)
    optim = {p: ckpt.pack_optimizer(f"optim/{p}", o, tensors) for p, o in t.optimizers.items()}
    tensors["rng/torch"] = torch.get_rng_state()
    if t.device.type == "cuda":
        for i, s in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng/cuda/{i}"] = s
    np_state = np.random.get_state()
    tensors["rng/numpy"] = torch.from_numpy(np_state[1].astype(np.int64))
    version, internal, gauss = random.getstate()
    state = {
        "step": t.step,
        "identity": t.identity,
        "spec_path": str(t.config.spec),
        "spec_sha256": t.loaded.spec.sha256,
        "params": t.config.params,
        "optimizers": optim,
        "ema": sorted(t.ema),
        "data": {name: src.state_dict() for name, src in t.sources.items()},
        "rng": {"python": [version, list(internal), gauss],
                "numpy": [np_state[0], int(np_state[2]), int(np_state[3]), float(np_state[4])]},
        "bad_steps": t.bad,
        # `state` values of the objective (BEGAN's k_t), as plain numbers
        "objective_state": {k: float(v) for k, v in getattr(t.objective, "state", {}).items()},
        "total_steps": t.total,
        "batch": t.batch,
        "seed": t.config.seed,
        "seconds": round(t.elapsed(), 1),  # wall time of training to this checkpoint
    }
    return tensors, state


def check(state: dict[str, Any], tensors: dict[str, torch.Tensor], where: str) -> None:
    """Refuse a checkpoint that lacks what `restore` needs, before anything is changed."""
    missing = [k for k in REQUIRED if k not in state]
    missing += [k for k in ("rng/torch", "rng/numpy") if k not in tensors]
    if missing:
        raise CheckpointError(f"{where} lacks {', '.join(missing)}: it was not written by "
                              "this version of gandsl train, or it was edited")
    # the numbers the run continues from: whole numbers in range, as `pack` wrote them
    for key, low in (("step", 0), ("total_steps", 1), ("batch", 1), ("bad_steps", 0)):
        value = state.get(key, low)
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise CheckpointError(f"{where}: `{key}` is {value!r} in its state.json; expected a "
                                  f"whole number ≥ {low} (the file was edited?)")
    seconds = state.get("seconds", 0.0)
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
        raise CheckpointError(f"{where}: `seconds` is {seconds!r} in its state.json; expected "
                              "a number ≥ 0 (the file was edited?)")


def restore(t: Run, tensors: dict[str, torch.Tensor], state: dict[str, Any]) -> None:
    where = f"checkpoint of {t.config.resume}"
    for name, net in t.networks.items():
        ckpt.unpack_module(f"net/{name}", net, tensors, where)
    for ema in t.ema.values():
        for name, net in ema.averaged.items():
            ckpt.unpack_module(f"ema/{name}", net, tensors, where)
    try:
        for p, opt in t.optimizers.items():
            ckpt.unpack_optimizer(f"optim/{p}", opt, tensors, state["optimizers"][p])
        for name, src in t.sources.items():
            src.load_state_dict(state["data"][name])
        torch.set_rng_state(tensors["rng/torch"])
        if t.device.type == "cuda" and t.world > 1:
            # every process continues the stream rank 0 drew from, on its own GPU, so that
            # the processes' generators stay in step (rank 0 ran on GPU 0)
            torch.cuda.set_rng_state(tensors["rng/cuda/0"], t.device)
        elif t.device.type == "cuda":
            n = torch.cuda.device_count()
            torch.cuda.set_rng_state_all([tensors[f"rng/cuda/{i}"] for i in range(n)
                                          if f"rng/cuda/{i}" in tensors])
        version, internal, gauss = state["rng"]["python"]
        random.setstate((version, tuple(internal), gauss))
        kind, pos, has_gauss, cached = state["rng"]["numpy"]
        np.random.set_state((kind, tensors["rng/numpy"].numpy().astype(np.uint32), pos,
                             has_gauss, cached))
    except (KeyError, TypeError, ValueError, RuntimeError) as e:
        raise CheckpointError(f"{where} does not fit this run ({type(e).__name__}: {e}); "
                              "it was saved from another spec or edited") from None
    saved = state.get("objective_state", {})
    mine = getattr(t.objective, "state", {})
    if set(saved) != set(mine):
        raise CheckpointError(f"{where} carries the states {sorted(saved)}, this spec has "
                              f"{sorted(mine)}: it was saved from another spec or edited")
    mine.update({k: float(v) for k, v in saved.items()})
    t.step = int(state["step"])
    t.bad = int(state.get("bad_steps", 0))
    t.seconds_before = float(state.get("seconds", 0.0))
