"""Checkpoints: every tensor in one safetensors file, everything else in a JSON file, written
so that a crash at any moment leaves the previous checkpoint whole.

Layout of a run directory:
    checkpoints/step_000100/weights.safetensors   networks, EMA, optimizer and RNG tensors
    checkpoints/step_000100/state.json            step, spec, config, schedules, data, RNG
    checkpoints/latest.json                       {"path": "step_000100"}: the last complete one
Files are written to a temporary directory, fsynced, and renamed into place; `latest.json` is
replaced atomically last. Nothing is ever loaded with pickle.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from ..atomic import WriteError, new_dir_mode, new_file_mode, replace_text
from ..errors import UserError

FORMAT = 1


class CheckpointError(UserError):
    """A checkpoint that cannot be used; the message says which file and why."""


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_json(path: Path, data: Any) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, sort_keys=True)
        f.flush()
        os.fsync(f.fileno())


def save(run_dir: Path, step: int, tensors: dict[str, torch.Tensor], state: dict[str, Any],
         keep: int = 3) -> Path:
    """Write checkpoint `step` atomically; keep the `keep` newest. Returns its directory."""
    root = run_dir / "checkpoints"
    root.mkdir(parents=True, exist_ok=True)
    name = f"step_{step:07d}"
    for stale in root.glob(".step_*"):  # left by a save that was killed: never complete
        shutil.rmtree(stale, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=root))
    try:
        # safetensors wants contiguous tensors that share no memory.
        save_file({k: v.detach().contiguous().cpu().clone() for k, v in tensors.items()},
                  tmp / "weights.safetensors")
        with open(tmp / "weights.safetensors", "rb+") as f:
            os.fsync(f.fileno())
        _write_json(tmp / "state.json", {"format": FORMAT, **state})
        # mkdtemp makes the folder private (0700): a checkpoint gets the umask's permissions
        # like every other file of the run
        for f in tmp.iterdir():
            os.chmod(f, new_file_mode())
        os.chmod(tmp, new_dir_mode())
        _fsync_dir(tmp)
        final = root / name
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
        _fsync_dir(root)
    except BaseException as e:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(e, OSError | SafetensorError):  # a full disk, a lost mount
            raise WriteError(f"cannot write checkpoint {name} in {root}: "
                             f"{getattr(e, 'strerror', None) or e}") from None
        raise
    replace_text(root / "latest.json", json.dumps({"path": name, "step": step}, indent=1,
                                                  sort_keys=True), "checkpoint index",
                 durable=True)
    _fsync_dir(root)
    old = sorted(p for p in root.glob("step_*") if p.is_dir())[:-keep]
    for p in old:
        shutil.rmtree(p, ignore_errors=True)
    return final


def find(path: Path) -> Path:
    """The checkpoint directory for a run directory, a checkpoints folder, or a checkpoint."""
    path = Path(path)
    if (path / "state.json").is_file() and (path / "weights.safetensors").is_file():
        return path
    for root in (path / "checkpoints", path):
        latest = root / "latest.json"
        if latest.is_file():
            try:
                name = json.loads(latest.read_text(encoding="utf-8"))["path"]
            except (OSError, ValueError, KeyError, TypeError) as e:
                raise CheckpointError(f"{latest} is not a checkpoint pointer ({e}): expected "
                                      '{"path": "step_NNNNNNN", ...}') from None
            if not isinstance(name, str) or not re.fullmatch(r"step_\d+", name):
                raise CheckpointError(f"{latest} points at {name!r}: expected the name of a "
                                      "checkpoint directory, step_NNNNNNN")
            if not (root / name).is_dir():
                raise CheckpointError(f"{latest} points at {name}, which is not in {root}")
            return root / name
    raise CheckpointError(f"no checkpoint in {path}: expected a run directory with "
                          "checkpoints/latest.json, or a checkpoint directory with "
                          "state.json and weights.safetensors")


def load(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    ckpt = find(path)
    try:
        state = json.loads((ckpt / "state.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise CheckpointError(f"cannot read {ckpt / 'state.json'}: {e}") from None
    if state.get("format") != FORMAT:
        raise CheckpointError(f"{ckpt / 'state.json'} has format {state.get('format')!r}; this "
                              f"gandsl reads format {FORMAT}")
    try:
        tensors = load_file(ckpt / "weights.safetensors")
    except Exception as e:  # safetensors raises its own error types
        raise CheckpointError(f"cannot read {ckpt / 'weights.safetensors'}: {e}") from None
    return tensors, state


# ---- packing state into (tensors, json) -----------------------------------------------------


def pack_module(prefix: str, module: torch.nn.Module, out: dict[str, torch.Tensor]) -> None:
    for k, v in module.state_dict().items():
        out[f"{prefix}/{k}"] = v


def unpack_module(prefix: str, module: torch.nn.Module, tensors: dict[str, torch.Tensor],
                  where: str) -> None:
    mine = {k[len(prefix) + 1:]: v for k, v in tensors.items() if k.startswith(prefix + "/")}
    missing = set(module.state_dict()) - set(mine)
    if missing:
        raise CheckpointError(f"{where} lacks {len(missing)} tensors of `{prefix}` (e.g. "
                              f"{sorted(missing)[0]}): it was saved from another spec")
    try:
        module.load_state_dict(mine)
    except RuntimeError as e:
        raise CheckpointError(f"{where} does not fit `{prefix}`: {e}") from None


def pack_optimizer(prefix: str, opt: torch.optim.Optimizer,
                   out: dict[str, torch.Tensor]) -> dict[str, Any]:
    """Tensors of the optimizer state go to `out`; the rest comes back as JSON."""
    sd = opt.state_dict()
    scalars: dict[str, Any] = {}
    for idx, entry in sd["state"].items():
        for key, value in entry.items():
            if isinstance(value, torch.Tensor):
                out[f"{prefix}/{idx}/{key}"] = value
            else:
                scalars[f"{idx}/{key}"] = value
    return {"param_groups": sd["param_groups"], "scalars": scalars}


def unpack_optimizer(prefix: str, opt: torch.optim.Optimizer, tensors: dict[str, torch.Tensor],
                     meta: dict[str, Any]) -> None:
    state: dict[int, dict[str, Any]] = {}
    for k, v in tensors.items():
        if k.startswith(prefix + "/"):
            idx, key = k[len(prefix) + 1:].split("/", 1)
            state.setdefault(int(idx), {})[key] = v
    for k, v in meta["scalars"].items():
        idx, key = k.split("/", 1)
        state.setdefault(int(idx), {})[key] = v
    opt.load_state_dict({"state": state, "param_groups": meta["param_groups"]})
