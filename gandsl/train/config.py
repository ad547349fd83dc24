"""The settings of one training run: the spec's train section, overridden by flags."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class RunConfig:
    spec: str  # path of the .gan file
    params: dict[str, Any] = field(default_factory=dict)  # --param overrides
    data: str | None = None  # --data: a source name (digits, shapes) or an image folder
    steps: int | None = None  # iterations; None: the spec's `steps` (or 1000)
    batch: int | None = None  # None: the spec's `batch` (or 64)
    out: Path = Path("runs/run")
    resume: Path | None = None
    device: str = "auto"  # auto | cpu | cuda
    seed: int = 0
    sample_every: int = 500  # iterations between sample grids (and always at the end)
    checkpoint_every: int = 1000  # iterations between checkpoints (and always at the end)
    log_every: int = 10  # iterations between progress-bar updates and metric flushes
    samples: int = 8  # images per row of a sample grid
    workers: int = 0  # data-loading worker processes
    bf16: bool = False  # CUDA only: bf16 autocast
    channels_last: bool = False  # CUDA only: channels-last memory format
    max_bad_steps: int = 10  # consecutive non-finite losses before the run stops
    progress: bool = True

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["out"] = str(self.out)
        d["resume"] = str(self.resume) if self.resume else None
        return d
