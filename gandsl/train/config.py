"""The settings of one training run: the spec's train section, overridden by flags; and how a
resumed run takes the settings it was started with."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import torch

from ..errors import UserError
from ..kernels.dispatch import IMPLS, default_kernels


class RunError(UserError):
    """A bad run directory, resume target, flag or device: said before anything is changed."""


# What `gandsl train` writes into a run directory; a directory holding any of them holds a run.
RUN_FILES = ("checkpoints", "metrics.csv", "config.json", "spec.gan", "samples", "tensorboard")


def run_files(out: Path) -> list[str]:
    """The files of a run that `out` already holds."""
    return [name for name in RUN_FILES if (Path(out) / name).exists()]


@dataclass
class RunConfig:
    spec: str  # path of the .gan file
    params: dict[str, Any] = field(default_factory=dict)  # --param overrides
    data: str | None = None  # --data: a source name (digits, shapes) or an image folder
    steps: int | None = None  # iterations; None: the spec's `steps` (or 1000)
    batch: int | None = None  # None: the spec's `batch` (or catalog.DEFAULT_BATCH)
    out: Path = Path("runs/run")
    resume: Path | None = None
    device: str = "auto"  # auto | cpu | cuda
    seed: int | None = None  # None: 0 for a new run, the run's own seed when resuming
    sample_every: int = 500  # iterations between sample grids (and always at the end)
    checkpoint_every: int = 1000  # iterations between checkpoints (and always at the end)
    log_every: int = 10  # iterations between progress-bar updates and metric flushes
    # iterations between the progress lines printed when there is no progress bar (no
    # terminal, or --no-progress): a batch job's log still shows how far the run is
    print_every: int = 100
    threads: int | None = None  # torch's CPU threads; None: torch's own choice (recorded)
    samples: int = 8  # images per row of a sample grid
    workers: int = 0  # data-loading worker processes
    bf16: bool = False  # CUDA only: bf16 autocast
    channels_last: bool = False  # CUDA only: channels-last memory format
    max_bad_steps: int = 10  # consecutive non-finite losses before the run stops
    progress: bool = True
    # which implementation the fused ops (AdaIN, gradient penalties) run: triton | ref | auto;
    # None: the GANDSL_KERNELS environment variable, else auto (`kernels_of`)
    kernels: str | None = None
    # torchrun restarted the command before its first checkpoint: the files it wrote into
    # `out` are its own, to be written again
    restarted: bool = False

    def __post_init__(self) -> None:
        for name in ("steps", "batch", "sample_every", "checkpoint_every", "log_every",
                     "print_every", "samples", "max_bad_steps", "threads"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise RunError(f"--{name.replace('_', '-')} {value}: expected a whole number "
                               "of at least 1")
        if not isinstance(self.workers, int) or self.workers < 0:
            raise RunError(f"--workers {self.workers}: expected a whole number of at least 0")
        if self.kernels is not None and self.kernels not in IMPLS:
            raise RunError(f"--kernels {self.kernels}: expected one of {', '.join(IMPLS)}")

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["out"] = str(self.out)
        d["resume"] = str(self.resume) if self.resume else None
        return d


# What a resumed run must share with the run it continues (they decide which batches and which
# random numbers come next). Explicit flags that disagree are refused rather than ignored.
RESUMED = ("seed", "batch", "data", "params")


def resumed(config: RunConfig, run_dir: Path, state: dict[str, Any]) -> RunConfig:
    """`config` with the run's own seed, batch, data and params, from its checkpoint and
    config.json; a flag given with another value is an error."""
    saved_config = read_run_config(run_dir)
    saved = {"seed": state.get("seed", saved_config.get("seed", 0)),
             "batch": state.get("batch", saved_config.get("batch")),
             "data": saved_config.get("data"),
             "params": state.get("params", saved_config.get("params", {}))}
    given = {k: getattr(config, k) for k in RESUMED}
    for key in RESUMED:
        if given[key] in (None, {}) or given[key] == saved[key]:
            continue
        flag = "--param" if key == "params" else f"--{key}"
        raise RunError(f"{flag} {_show(given[key])}: the run in {run_dir} was started with "
                       f"{_show(saved[key])}, and a resumed run continues with the same "
                       f"{key}. Leave {flag} out, or start a new run with another --out.")
    return replace(config, **{k: saved[k] if given[k] in (None, {}) else given[k]
                              for k in RESUMED})


def read_run_config(run_dir: Path) -> dict[str, Any]:
    """The run's config.json (how it was started); {} for a run without one."""
    path = run_dir / "config.json"
    if not path.is_file():
        return {}
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise RunError(f"{path} is not valid JSON ({e}): expected the settings gandsl train "
                       "wrote for the run") from None
    if not isinstance(config, dict):
        raise RunError(f"{path}: expected a JSON object of the run's settings")
    return config


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return " ".join(f"{k}={v}" for k, v in sorted(value.items())) or "no params"
    return str(value)


def kernels_of(config: RunConfig) -> str:
    """The run's choice of kernels: `--kernels`, else `GANDSL_KERNELS`, else auto."""
    if config.kernels is not None:
        return config.kernels
    try:
        return default_kernels()
    except ValueError as e:
        raise RunError(f"{e} (the default of --kernels)") from None


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise RunError("--device cuda: no CUDA device is available (use --device cpu)")
    if name not in ("cpu", "cuda"):
        raise RunError(f"--device {name}: expected auto, cpu or cuda")
    return torch.device(name)


def data_root(spec: str | Path) -> Path:
    """Where a spec's relative data paths start: the project folder for `specs/x.gan`, else
    the spec's own folder."""
    folder = Path(spec).resolve().parent
    return folder.parent if folder.name == "specs" else folder
