"""`gandsl sample`: images from a trained run, as a PNG grid or raw arrays (`.npz`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..atomic import replace_file
from ..data.errors import DataError
from ..ir import Spec
from ..loader import load
from . import checkpoint as ckpt
from .config import RunError, data_root, pick_device, read_run_config
from .draw import FixedDraw
from .fixed import fixed_batches
from .grid import save_grid
from .sampling import sampling
from .schedule import level


class _OnFirstUse(dict):
    """The fixed data batches, built when the objective's samples first ask for one."""

    def __init__(self, build) -> None:
        super().__init__()
        self.build = build

    def __missing__(self, name: str) -> tuple:
        self.update(self.build())
        return self[name]


class LabelDraw(FixedDraw):
    """A fixed draw whose class labels are the ones asked for (`--label 3 --label 7`); the
    number of classes is the spec's, not what the fixed batch happens to contain."""

    def __init__(self, *args, spec: Spec, labels: list[str] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.spec, self.labels_given = spec, labels
        self.asked = False  # whether the objective drew any labels the flag could set

    def _chosen(self, n_classes: int, multi_hot: bool) -> torch.Tensor | None:
        self.asked = True
        if not self.labels_given:
            return None
        given = self.labels_given
        rows = [given[i % len(given)] for i in range(self.batch_size)]
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

    def labels(self, name: str) -> tuple[torch.Tensor, ...]:
        """The labels asked for, without reading the data; else the data's."""
        fields = self.spec.dataset(name).fields
        if self.labels_given and len(fields) == 2 and fields[1].kind in ("class", "label"):
            return (self._chosen(fields[1].dims[0], fields[1].kind == "label"),)
        return super().labels(name)

    def data(self, name: str) -> tuple[torch.Tensor, ...]:
        batch = super().data(name)
        fields = self.spec.dataset(name).fields
        if len(batch) > 1 and fields[1].kind in ("class", "label"):
            chosen = self._chosen(fields[1].dims[0], fields[1].kind == "label")
            if chosen is not None:
                batch = (batch[0], chosen, *batch[2:])
        return batch

    def categorical(self, n: int) -> torch.Tensor:
        chosen = self._chosen(n, False)
        return super().categorical(n) if chosen is None else chosen


@dataclass
class Restored:
    """A run's networks from one of its checkpoints, ready to sample."""

    loaded: Any  # gandsl.loader.Loaded
    nets: dict[str, torch.nn.Module]
    state: dict[str, Any]
    run_dir: Path
    config: dict[str, Any]  # the run's config.json
    device: torch.device
    ema: frozenset[str] = frozenset()  # the networks whose weights are their EMA

    @property
    def spec(self) -> Spec:
        return self.loaded.spec


def restore(source: Path, device: str = "auto", ema: bool = True) -> Restored:
    """The networks of a run (EMA weights where there are some, unless not `ema`) at the level
    of detail the run had reached. Raises RunError / CheckpointError."""
    tensors, state = ckpt.load(source)
    run_dir = ckpt.find(source).parent.parent
    spec_file = run_dir / "spec.gan"
    if not spec_file.is_file():
        raise RunError(f"{run_dir} has no spec.gan: expected the run directory written by "
                       "`gandsl train`")
    config = read_run_config(run_dir)
    loaded = load(spec_file, **state.get("params", {}))
    dev = pick_device(device)
    nets = {name: cls().to(dev) for name, cls in loaded.classes.items()}
    where = f"checkpoint {ckpt.find(source)}"
    averaged = set()
    for name, net in nets.items():
        prefix = f"ema/{name}" if ema and any(k.startswith(f"ema/{name}/") for k in tensors) \
            else f"net/{name}"
        ckpt.unpack_module(prefix, net, tensors, where)
        if prefix.startswith("ema/"):
            averaged.add(name)
    spec = loaded.spec
    grow = spec.train.grow if spec.train else None
    if grow is not None:  # progressive growing: the level the run had reached
        reached = level(max(int(state["step"]) - 1, 0), grow.stable, grow.fade,
                        grow.first)
        for net in nets.values():
            if hasattr(net, "level"):
                net.level = min(reached, net.level)
    return Restored(loaded, nets, state, run_dir, config, dev, frozenset(averaged))


def generate(r: Restored, n: int, labels: list[str] | None = None,
             truncation: float | None = None, data: str | None = None,
             seed: int = 0) -> dict[str, torch.Tensor]:
    """The objective's sample rows (real inputs, generated images, their labels) for `n`
    samples of one seeded draw."""
    spec = r.spec
    names = sorted({node.name for node in spec.objective.nodes if node.op == "data"})

    def real_batches() -> dict[str, tuple]:
        from ..data import build_sources

        try:
            sources = build_sources(spec, names, 1, r.device, seed,
                                    override=data or r.config.get("data"),
                                    root=data_root(r.state.get("spec_path",
                                                               r.run_dir / "spec.gan")))
        except DataError as e:
            if data is not None:
                raise
            # the rows of real data come from what the run was trained on, which has moved
            raise RunError(f"{e}. The samples show real data beside the generated images, "
                           f"from the data {r.run_dir} was trained on: pass --data NAME|PATH "
                           "to read it from elsewhere") from None
        return fixed_batches(sources, n, seed + 1)

    batches = _OnFirstUse(real_batches)  # a generator fed only noise never reads the data
    draw = LabelDraw(batches, n, r.device, seed + 2, truncation=truncation, spec=spec,
                     labels=labels)
    frozen = frozenset(net.name for net in spec.networks if net.frozen)
    with sampling(r.nets, r.device, seed + 3, frozen):
        rows = r.loaded.module.Objective(r.nets).samples(draw)
    if labels and not draw.asked:
        raise RunError(f"--label {labels[0]}: {r.run_dir}'s spec draws no class or label "
                       "(its generator is not conditional), so there is nothing to set")
    return rows


def sample(source: Path, n: int = 64, labels: list[str] | None = None,
           out: Path | None = None, truncation: float | None = None, device: str = "auto",
           data: str | None = None, seed: int = 0, per_class: int | None = None) -> Path:
    """A grid (or an .npz) of samples; `per_class=K`: K samples of each class of a
    conditional generator, one row per class with the class's name."""
    if truncation is not None and not truncation > 0:
        raise RunError(f"--truncation {truncation}: expected a positive number (2 keeps "
                       "|z| ≤ 2)")
    r = restore(source, device)
    names: list[str] = []
    if per_class is not None:
        if labels:
            raise RunError("--per-class sets the labels itself (every class in turn): leave "
                           "--label out")
        names = class_row_names(r, data)
        labels = [str(c) for c in range(len(names)) for _ in range(per_class)]
        n = len(labels)
    rows = generate(r, n, labels, truncation, data, seed)
    module = r.loaded.module
    generated = [k for k in module.GENERATED if k in rows]
    if not generated:
        raise RunError(f"{r.run_dir / 'spec.gan'}: the objective's samples hold no generated "
                       "images")
    out = out or r.run_dir / "samples" / f"sample_step_{r.state['step']:07d}.png"
    if out.suffix != ".npz":
        if per_class is not None:  # one row per class: its name, its K samples
            images = rows[generated[0]]
            rows = {name: images[c * per_class:(c + 1) * per_class]
                    for c, name in enumerate(names)}
            return save_grid(rows, out, columns=per_class)
        return save_grid(rows, out, columns=min(n, 16))
    arrays = {"images": rows[generated[0]].float().clamp(-1, 1).cpu().numpy()}
    condition = getattr(module, "CONDITIONS", {}).get(generated[0])
    if condition is not None:  # the labels the generator was given for these images
        arrays["labels"] = rows[condition].cpu().numpy()
    return replace_file(out, lambda tmp: np.savez(tmp, **arrays), "samples")


def condition_node(spec: Spec, var: str):
    """The objective's value held in `var`, the labels a generated image was made from
    (`CONDITIONS` of the generated module); None for none."""
    return next((nd for nd in spec.objective.nodes if nd.var == var and nd.type is not None),
                None)


def class_row_names(r: Restored, data: str | None) -> list[str]:
    """The names of the classes the run's generator is conditioned on, in index order: the
    data's own where it has them (Fashion-MNIST's, an image folder's subfolders, `shapes`'
    kinds), else the indices. Raises RunError for a generator given no class."""
    module = r.loaded.module
    key = getattr(module, "CONDITIONS", {}).get(module.GENERATED[0]) \
        if module.GENERATED else None
    node = condition_node(r.spec, key) if key is not None else None
    if node is None or node.type.kind != "class":
        raise RunError(f"--per-class: {r.run_dir}'s generator is given no class (it needs a "
                       "`class[N]` condition)")
    from ..data import names_of_classes

    n = node.type.dims[0]
    source = data or r.config.get("data")
    declared = [d for d in r.spec.datasets if len(d.fields) > 1 and d.fields[1].kind == "class"
                and d.fields[1].dims[0] == n]
    found = names_of_classes(source, declared[0].source if declared else None, n,
                             declared[0].kwargs.get("path") if declared else None)
    return found or [str(c) for c in range(n)]
