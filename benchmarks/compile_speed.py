"""Compile speed, measured side by side (issue 2's targets):

1. parse + check + emit of specs/stargan.gan in one warm process: median of many runs.
2. the whole `gandsl compile specs/stargan.gan` process against `python -c "import torch"`,
   run alternately on the same machine; the difference of the medians.

Usage: python benchmarks/compile_speed.py [--runs N] [--write docs/performance.md]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "specs" / "stargan.gan"


def in_process(runs: int) -> dict[str, float]:
    from gandsl.pipeline import compile_source, read_spec

    text = read_spec(SPEC)
    for _ in range(5):  # warm: grammar tables, templates, imports
        compile_source(text, "specs/stargan.gan")
    totals, parts = [], {"parse": [], "lower": [], "check": [], "emit": []}
    for _ in range(runs):
        t0 = time.perf_counter()
        result = compile_source(text, "specs/stargan.gan")
        totals.append(time.perf_counter() - t0)
        for k in parts:
            parts[k].append(result.timings[k])
    out = {"total": statistics.median(totals)}
    out.update({k: statistics.median(v) for k, v in parts.items()})
    return out


def _time(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT)
    return time.perf_counter() - t0


def processes(runs: int) -> dict[str, float]:
    gandsl = [sys.executable, "-m", "gandsl", "compile", str(SPEC), "-q", "-o",
              tempfile.mkdtemp()]
    torch = [sys.executable, "-c", "import torch"]
    _time(gandsl), _time(torch)  # warm the file cache and Lark's table cache
    a, b = [], []
    for _ in range(runs):  # alternate, so drift affects both equally
        a.append(_time(gandsl))
        b.append(_time(torch))
    return {"gandsl compile": statistics.median(a), "import torch": statistics.median(b)}


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import torch

    return (f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"torch {torch.__version__}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--process-runs", type=int, default=15)
    ap.add_argument("--write", type=Path, help="replace the compile section of this file")
    args = ap.parse_args()
    warm = in_process(args.runs)
    procs = processes(args.process_runs)
    diff = procs["gandsl compile"] - procs["import torch"]
    rows = [
        "| measurement | median | target |",
        "|---|---:|---:|",
        f"| parse + check + emit, stargan.gan, warm, in process | {warm['total'] * 1e3:.1f} ms "
        "| < 20 ms |",
        *(f"| — {k} | {warm[k] * 1e3:.2f} ms | |" for k in ("parse", "lower", "check", "emit")),
        f"| `gandsl compile specs/stargan.gan` (whole process) | "
        f"{procs['gandsl compile'] * 1e3:.0f} ms | |",
        f"| `python -c \"import torch\"` | {procs['import torch'] * 1e3:.0f} ms | |",
        f"| difference (compile − import torch) | {diff * 1e3:+.0f} ms | ≤ +300 ms |",
    ]
    section = "\n".join([
        "## Compiler speed",
        "",
        f"Measured {datetime.date.today().isoformat()} on {machine()} with "
        f"`python benchmarks/compile_speed.py` ({args.runs} warm runs; {args.process_runs} "
        "alternating process runs).",
        "",
        *rows,
        "",
        "`gandsl compile` never imports torch: parameter counts come from each layer's formula",
        "(tested against the instantiated modules of every spec), so the whole compile ends before",
        "`import torch` alone would. Most of the warm time is Lark building the parse tree.",
        "",
    ])
    publish(section, "## Compiler speed", args.write)


def publish(section: str, heading: str, path: Path | None) -> None:
    """Print a benchmark's section; with --write, replace (or append) the section under
    `heading` in `path` (docs/performance.md), leaving the other benchmarks' sections."""
    print(section)
    if path is None:
        return
    section = section.rstrip("\n") + "\n\n"  # one blank line before the next section
    text = path.read_text() if path.exists() else "# Performance\n\n"
    if heading in text:
        start = text.index(heading)
        nxt = text.find("\n## ", start + len(heading))
        text = text[:start] + section + (text[nxt + 1:] if nxt != -1 else "")
    else:
        text = text.rstrip() + "\n\n" + section
    path.write_text(text.rstrip("\n") + "\n")


if __name__ == "__main__":
    main()
