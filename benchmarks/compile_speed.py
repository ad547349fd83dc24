"""Compile speed, measured side by side (issue 2's targets):

1. parse + check + emit of specs/stargan.gan in one warm process: median of many runs.
2. the whole `gandsl compile specs/stargan.gan` process against `python -c "import torch"`,
   run alternately on the same machine; the difference of the medians.
3. scaling (issue 14): `check` and `compile` of synthetic specs (`synthetic.py`: many
   networks, one network of many layers, many players of many loss terms) at 5 KB, 50 KB
   and 500 KB, with the peak of Python's memory during the compile.

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


SCALES = ((5_000, 5), (50_000, 3), (500_000, 3))  # (bytes, runs)


def scaling() -> list[tuple[str, int, float, float, float, dict[str, float]]]:
    """(kind, bytes, check s, compile s, peak MB, compile's passes) of each synthetic spec:
    medians of the runs."""
    import tracemalloc

    from synthetic import KINDS, of_size

    from gandsl.pipeline import check_source, compile_source

    out = []
    for kind in KINDS:
        for size, runs in SCALES:
            text = of_size(kind, size)
            checks, compiles, passes = [], [], []
            for _ in range(runs):
                t0 = time.perf_counter()
                check_source(text, f"{kind}.gan")
                checks.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                result = compile_source(text, f"{kind}.gan")
                compiles.append(time.perf_counter() - t0)
                passes.append(result.timings)
            tracemalloc.start()
            compile_source(text, f"{kind}.gan")
            peak = tracemalloc.get_traced_memory()[1] / 2 ** 20
            tracemalloc.stop()
            middle = sorted(range(runs), key=compiles.__getitem__)[runs // 2]
            out.append((kind, len(text.encode()), statistics.median(checks),
                        statistics.median(compiles), peak, passes[middle]))
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


def _scaling_rows(results) -> list[str]:
    rows = ["| spec | size | check | compile | per KB (compile) | parse · lower · check · emit "
            "| peak memory |", "|---|---:|---:|---:|---:|---|---:|"]
    for kind, size, check, compile_, peak, passes in results:
        split = " · ".join(f"{passes[k]:.2f}" for k in ("parse", "lower", "check", "emit"))
        rows.append(f"| {kind} | {size / 1000:.0f} KB | {check:.3f} s | {compile_:.3f} s | "
                    f"{compile_ / size * 1e6:.1f} ms | {split} s | {peak:.0f} MB |")
    return rows


def cpu() -> str:
    """The processor's model name (Linux's /proc/cpuinfo), else what platform knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> str:
    import torch

    return (f"{cpu()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"torch {torch.__version__}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--process-runs", type=int, default=15)
    ap.add_argument("--write", type=Path, help="replace the compile section of this file")
    ap.add_argument("--scaling-only", action="store_true",
                    help="only the synthetic specs (section 3)")
    args = ap.parse_args()
    scale_rows = _scaling_rows(scaling())
    if args.scaling_only:
        print("\n".join(scale_rows))
        return
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
        "`import torch` alone would. Most of the warm time is Lark's parser.",
        "",
        "### Scaling with the size of a spec",
        "",
        "Synthetic specs (`benchmarks/synthetic.py`) that grow one dimension each: many small",
        "networks with one player each (the hostile-input issue's 500 KB case), one network of",
        "thousands of layers, and many players whose losses have 20 terms each. Medians of "
        f"{', '.join(str(r) for _, r in SCALES)} runs; peak = the most memory Python held "
        "during a compile (tracemalloc).",
        "",
        *scale_rows,
        "",
        "Time per kilobyte stays flat from 5 KB to 500 KB: every pass is linear in the spec.",
        "The issue's target (a 500 KB spec checked in under 1 s and compiled in under 2 s) is",
        "not met. Parsing is most of it: Lark's pure-Python LALR parser takes about 4 reductions",
        "per token through the grammar's 14 precedence levels, and its lexer about 3 µs per token",
        "here. A flat expression grammar with precedence climbing in the builder, and a lexer that",
        "matches the whole text with one regular expression, are the next steps.",
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
