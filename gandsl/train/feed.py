"""The data part of a run: the spec's sources (or `--data`), the draw of each training
iteration (this process's shard of the batch), and the fixed draw of the sample grids."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from .config import RunConfig, data_root
from .draw import FixedDraw, TrainDraw
from .fixed import fixed_batches


@dataclass
class Feed:
    sources: dict[str, Any]
    draw: TrainDraw
    fixed: FixedDraw | None  # rank 0 only: the other processes draw no grids
    grid_columns: int | None  # images per row of a grid (None where there is no fixed draw)


def build_feed(spec: Any, config: RunConfig, batch: int, device: torch.device,
               rank: int, world: int) -> Feed:
    """The data every `x ~ name` of the objective draws from, seeded with the run's seed."""
    from ..data import build_sources

    names = sorted({n.name for n in spec.objective.nodes if n.op == "data"})
    sources = build_sources(spec, names, batch, device, config.seed, override=config.data,
                            root=data_root(config.spec), workers=config.workers,
                            shard=(rank, world))
    draw = TrainDraw(sources, batch, device, (rank, world))
    if rank != 0:
        return Feed(sources, draw, None, None)
    fixed, columns = fixed_draw(spec, names, sources, config, device)
    return Feed(sources, draw, fixed, columns)


def fixed_draw(spec: Any, names: list[str], sources: dict[str, Any], config: RunConfig,
               device: torch.device) -> tuple[FixedDraw, int]:
    """The draw of every sample grid, and its columns. With class labels, the grid shows every
    class in turn, as many whole rows of them as fit in `samples`."""
    classes = [f.dims[0] for name in names for f in spec.dataset(name).fields[1:]
               if f.kind == "class"]
    n = config.samples
    if classes:
        n = classes[0] * max(1, n // classes[0])
    batches = fixed_batches(sources, n, config.seed + 1)
    return FixedDraw(batches, n, device, config.seed + 2), (classes[0] if classes else n)
