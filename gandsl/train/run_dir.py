"""The checkpointing part of a run: which directory it writes and what it resumes from,
starting a new run directory, and writing a checkpoint (only of a healthy run)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from ..atomic import WriteError
from ..errors import TrainingStopped
from . import checkpoint as ckpt
from . import run_state
from .config import RunConfig, RunError, resumed, run_files

Resume = tuple[dict[str, torch.Tensor], dict[str, Any]]  # a checkpoint's tensors and state


def text_identity(text: str, params: dict[str, Any]) -> str:
    """The identity of checkpoints written before 2026-11-23: the spec's exact text."""
    return hashlib.sha256(json.dumps([text, sorted(params.items())], default=str)
                          .encode()).hexdigest()


def open_run(config: RunConfig) -> tuple[RunConfig, Path, Resume | None]:
    """The run's settings, its directory and the checkpoint it resumes from (None for a new
    run). A resumed run continues with its own seed, batch, data and params, and in its own
    directory, whatever path to it (run, checkpoints folder, checkpoint) was given."""
    if config.resume is None:
        return replace(config, seed=0 if config.seed is None else config.seed), \
            Path(config.out), None
    tensors, state = ckpt.load(Path(config.resume))
    out = ckpt.find(Path(config.resume)).parent.parent
    config = resumed(config, out, state)
    run_state.check(state, tensors, f"checkpoint of {config.resume}")
    return config, out, (tensors, state)


def check_spec(config: RunConfig, out: Path, text: str, identity: str,
               resume: Resume | None) -> None:
    """A resumed run's spec is the one it was trained from; a new run's --out is no file."""
    if resume is not None and resume[1].get("identity") not in (
            identity, text_identity(text, config.params)):
        # `resumed` has already refused other params, so the spec itself changed
        raise RunError(
            f"{config.resume} was trained from "
            f"{resume[1].get('spec_path', '?')}, and {config.spec} is not that spec "
            "any more (it changed beyond comments and layout), so the run cannot be "
            f"resumed. Resume with the run's own copy, {out / 'spec.gan'}, or start a "
            "new run with another --out.")
    if resume is None and out.exists() and not out.is_dir():
        raise RunError(f"--out {out}: that is a file; expected a directory for the run")


def start_run_dir(out: Path, text: str, imports: dict[str, str], config: RunConfig) -> None:
    """A new run's directory: the spec (with the files it imports) and config.json."""
    if (out / "checkpoints").exists():
        raise RunError(f"{out} already holds a run: continue it with --resume "
                       f"{out}, or choose another --out")
    held = run_files(out)
    if held and not config.restarted:  # someone's files, or another run's: kept
        raise RunError(f"{out} already holds {', '.join(held)} but no checkpoint to "
                       "resume from: choose another --out, or remove them first")
    out.mkdir(parents=True, exist_ok=True)
    (out / "spec.gan").write_text(text, encoding="utf-8")
    for rel, source in imports.items():  # the run's copy compiles on its own
        target = out / rel
        if target.resolve().is_relative_to(out.resolve()):
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(source, encoding="utf-8")
    (out / "config.json").write_text(json.dumps(config.to_json(), indent=1))


def kept(out: Path) -> str:
    """What a stopped run leaves to resume from."""
    if (out / "checkpoints" / "latest.json").exists():
        return f"The last good checkpoint is intact: {ckpt.find(out)}"
    return "No checkpoint had been written yet."


def save_checkpoint(run: Any, note: Callable[[str], None]) -> Path | None:
    """A checkpoint of `run` (a `run_state.Run` with `metrics` and `out`) as it is now,
    metrics up to now included; not while steps are failing (the last good checkpoint is the
    one to resume from)."""
    if run.bad:
        note(f"step {run.step}: the last update was not finite; no checkpoint is "
             "written, the last one stays")
        return None
    if not all(torch.isfinite(t).all() for n in run.networks.values()
               for t in n.state_dict().values() if t.is_floating_point()):
        note(f"step {run.step}: the networks hold non-finite values; no checkpoint "
             "is written, the last one stays")
        return None
    run.metrics.flush()  # a resumed run keeps exactly the rows before its checkpoint
    try:
        return ckpt.save(run.out, run.step, *run_state.pack(run))
    except WriteError as e:
        raise TrainingStopped(f"{e}. {kept(run.out)}") from None
