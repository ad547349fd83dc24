"""`gandsl sample`: images from a trained run, as a PNG grid or raw arrays (`.npz`)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np
import torch

from ..loader import load
from . import checkpoint as ckpt
from .draw import FixedDraw
from .grid import save_grid
from .sampling import sampling
from .trainer import RunError, _device, data_root


class LabelDraw(FixedDraw):
    """A fixed draw whose class labels are the ones asked for (`--label 3 --label 7`)."""

    def __init__(self, *args, labels: list[str] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.labels = labels
        self.used: torch.Tensor | None = None  # the labels the generator was given

    def _chosen(self, n_classes: int, multi_hot: bool) -> torch.Tensor | None:
        if not self.labels:
            return None
        rows = [self.labels[i % len(self.labels)] for i in range(self.batch_size)]
        if multi_hot:
            bad = [r for r in rows if len(r) != n_classes or set(r) - {"0", "1"}]
            if bad:
                raise RunError(f"--label {bad[0]}: expected {n_classes} digits 0/1 (multi-hot)")
            return torch.tensor([[float(c) for c in r] for r in rows], device=self.device)
        try:
            values = [int(r) for r in rows]
        except ValueError:
            raise RunError(f"--label {rows[0]}: expected a class index") from None
        if any(not 0 <= v < n_classes for v in values):
            raise RunError(f"--label: class indices go from 0 to {n_classes - 1}")
        return torch.tensor(values, device=self.device)

    def data(self, name: str) -> tuple[torch.Tensor, ...]:
        batch = super().data(name)
        if len(batch) > 1:
            label = batch[1]
            chosen = self._chosen(label.shape[1] if label.dim() == 2 else _classes(label),
                                  label.dim() == 2)
            if chosen is not None:
                batch = (batch[0], chosen)
            self.used = batch[1]
        return batch

    def categorical(self, n: int) -> torch.Tensor:
        self.used = self._chosen(n, False)
        if self.used is None:
            self.used = super().categorical(n)
        return self.used


def _classes(label: torch.Tensor) -> int:
    return int(label.max().item()) + 1 if label.numel() else 1


def sample(source: Path, n: int = 64, labels: list[str] | None = None,
           out: Path | None = None, truncation: float | None = None, device: str = "auto",
           data: str | None = None, seed: int = 0) -> Path:
    tensors, state = ckpt.load(source)
    run_dir = ckpt.find(source).parent.parent
    spec_file = run_dir / "spec.gan"
    if not spec_file.is_file():
        raise RunError(f"{run_dir} has no spec.gan: expected the run directory written by "
                       "`gandsl train`")
    config = json.loads((run_dir / "config.json").read_text()) if (
        run_dir / "config.json").is_file() else {}
    loaded = load(spec_file, **state.get("params", {}))
    dev = _device(device)
    nets = {name: cls().to(dev) for name, cls in loaded.classes.items()}
    where = f"checkpoint {ckpt.find(source)}"
    for name, net in nets.items():
        prefix = f"ema/{name}" if any(k.startswith(f"ema/{name}/") for k in tensors) \
            else f"net/{name}"
        ckpt.unpack_module(prefix, net, tensors, where)
    spec = loaded.spec
    names = sorted({node.name for node in spec.objective.nodes if node.op == "data"})
    batches = {}
    if names:
        from ..data import build_sources

        sources = build_sources(spec, names, n, dev, seed + 1, override=data or config.get(
            "data"), root=data_root(state.get("spec_path", spec_file)))
        batches = {k: s.next() for k, s in sources.items()}
    draw = LabelDraw(batches, n, dev, seed + 2, truncation=truncation, labels=labels)
    with sampling(nets, dev):
        rows = loaded.module.Objective(nets).samples(draw)
    generated = [k for k in loaded.module.GENERATED if k in rows]
    out = out or run_dir / "samples" / f"sample_step_{state['step']:07d}.png"
    if out.suffix == ".npz":
        arrays = {"images": rows[generated[0]].float().clamp(-1, 1).cpu().numpy()}
        if draw.used is not None:
            arrays["labels"] = draw.used.cpu().numpy()
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=out.parent, suffix=".npz")
        os.close(fd)
        np.savez(tmp, **arrays)
        os.replace(tmp, out)
        return out
    return save_grid(rows, out, columns=min(n, 16))
