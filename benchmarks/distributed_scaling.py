"""Data-parallel throughput: one process against `gandsl train --nproc N`, side by side in one
run, on the same spec, global batch and steps.

Each run is a real `gandsl train` in a fresh interpreter; its training time is the one its
last checkpoint keeps (`seconds`: the training loop, without start-up), so the figures are
iterations per second of training. On a CPU the processes share the machine's cores
(`--nproc` gives each cores / N threads), so this measures what splitting a batch across
processes costs (the all-reduces, smaller matrix products per process), not a speed-up; on
N GPUs the same command gives each process its own device.

Usage:
    python benchmarks/distributed_scaling.py [--nproc 2] [--steps 60] [--write docs/performance.md]
"""

from __future__ import annotations

import argparse
import datetime
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from compile_speed import machine, publish  # noqa: E402

from gandsl.train import checkpoint as ckpt  # noqa: E402

# (spec, params, data, global batch): a penalty-heavy translation model and a batch-norm one
CASES = [
    ("stargan", {"S": 32, "g_ch": 32, "d_ch": 32, "d_layers": 5, "g_res": 4}, "shapes", 16),
    ("dcgan", {"S": 32, "nc": 1, "ngf": 32, "ndf": 32}, "digits", 64),
]


def seconds(spec: str, params: dict, data: str, batch: int, steps: int, nproc: int,
            out: Path) -> float:
    command = [sys.executable, "-m", "gandsl", "train", str(ROOT / "specs" / f"{spec}.gan"),
               "--data", data, "--batch", str(batch), "--steps", str(steps), "--device", "cpu",
               "--no-progress", "--sample-every", str(steps), "--out", str(out)]
    for name, value in params.items():
        command += ["--param", f"{name}={value}"]
    if nproc > 1:
        command += ["--nproc", str(nproc)]
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    return float(ckpt.load(out)[1]["seconds"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nproc", type=int, default=2)
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--write", type=Path, help="replace the data-parallel section of this file")
    args = ap.parse_args()
    rows = ["| spec | global batch | 1 process (it/s) | "
            f"{args.nproc} processes (it/s) | ratio |", "|---|---:|---:|---:|---:|"]
    with tempfile.TemporaryDirectory() as tmp:
        for spec, params, data, batch in CASES:
            one = seconds(spec, params, data, batch, args.steps, 1, Path(tmp) / f"{spec}-1")
            many = seconds(spec, params, data, batch, args.steps, args.nproc,
                           Path(tmp) / f"{spec}-n")
            rows.append(f"| {spec} ({', '.join(f'{k}={v}' for k, v in params.items())}) | "
                        f"{batch} | {args.steps / one:.2f} | {args.steps / many:.2f} | "
                        f"{one / many:.2f} |")
            print(rows[-1], flush=True)
    section = "\n".join([
        "## Data-parallel training",
        "",
        f"Measured {datetime.date.today().isoformat()} on {machine()} with "
        f"`python benchmarks/distributed_scaling.py --nproc {args.nproc} --steps {args.steps}`:"
        f" `gandsl train` on one process and with `--nproc {args.nproc}` (gloo), the same "
        "global batch and iterations; training time from each run's checkpoint.",
        "",
        *rows,
        "",
        "On this CPU the processes share its cores (each gets cores / N threads), so the ratio",
        "is the cost of splitting the batch (an all-reduce of each player's gradients per",
        "update, smaller products per process), not a speed-up. On N GPUs each process has its",
        "own device; that scaling is not measured here (no multi-GPU machine): see",
        "[distributed.md](distributed.md).",
        "",
    ])
    publish(section, "## Data-parallel training", args.write)


if __name__ == "__main__":
    main()
