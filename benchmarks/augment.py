"""gandsl's DiffAugment (`rt.Augment(rt.color, rt.translation(0.125), rt.cutout(0.5))`, what
`aug = augment(color, translation(1/8), cutout(1/2))` compiles to) against the reference
implementation, on the same tensors, side by side in one process (the augmentation issue's
speed target: gandsl / reference ≤ 1.05).

The reference is mit-han-lab/data-efficient-gans `DiffAugment_pytorch.py` (its top-level
file; `DiffAugment(x, "color,translation,cutout")`). It is not part of this repository: give
its path with `--reference PATH` or the environment variable DIFFAUGMENT_REFERENCE, e.g.

    git clone https://github.com/mit-han-lab/data-efficient-gans ../data-efficient-gans
    python benchmarks/augment.py --reference ../data-efficient-gans/DiffAugment_pytorch.py

Without it the baseline is `hand_diffaugment` below: the paper's operations (Zhao et al.
2020) written out in plain torch ops as a careful person would (translation as a gather from
a zero-padded copy, cutout as a mask from index comparisons), drawing the same random numbers
in the same order. With the reference, the hand-written version is timed as
well, as a third column. The output says which baseline the ratio is taken against.

Before timing, each baseline is run once against gandsl from the same torch seed, forward
and backward (upstream gradient fixed), on every shape and device: outputs and the
generators' states afterwards (the same draws) are compared exactly, input gradients by their
largest difference.

Timed: forward (an input without grad, as the reals) and forward + backward (an input that
requires grad, as the fakes; backward of a fixed upstream gradient), on a CIFAR-size batch
(64×3×32×32), a larger one (32×3×128×128) and a tiny one (4×3×8×8, where the time is the
per-call overhead that bounds a GPU at small sizes), on the CPU and, when there is one, on CUDA
(synchronized around each sample). The variants alternate call by call in a rotating order,
each sample a block of calls long enough to time; the table gives medians. A second table
splits the pipeline into its operations (color, translation, cutout) against the baseline's.
Where other processes share the cores, `--threads 1 --clock cpu` counts this process's CPU
time on one thread: the work each variant does, without the waits of a crowded machine.

Usage: python benchmarks/augment.py [--reference PATH] [--samples N] [--threads N]
                                    [--clock wall|cpu] [--write docs/performance.md]
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import importlib.util
import os
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import torch
import torch.nn.functional as F  # noqa: N812

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compile_speed import machine, publish  # noqa: E402

from gandsl import runtime as rt  # noqa: E402

# CIFAR-size, a larger batch, and a tiny one whose time is the per-call overhead (Python, the
# dispatcher, allocation): the regime of a GPU, whose kernels are short at these sizes
SHAPES = [(64, 3, 32, 32), (32, 3, 128, 128), (4, 3, 8, 8)]
POLICY = "color,translation,cutout"
TARGET = 1.05
ENV = "DIFFAUGMENT_REFERENCE"
DEFAULT_THREADS = torch.get_num_threads()

Fn = Callable[[torch.Tensor], torch.Tensor]


# ---- the hand-written baseline, from the paper's description -----------------------------

def _rand(x: torch.Tensor) -> torch.Tensor:
    return torch.rand(x.shape[0], 1, 1, 1, dtype=x.dtype, device=x.device)


def hand_color(x: torch.Tensor) -> torch.Tensor:
    """Brightness (add U(−½, ½)), saturation (scale the deviation from the channel mean by
    U(0, 2)), contrast (scale the deviation from the image mean by U(½, 3/2))."""
    x = x + (_rand(x) - 0.5)
    m = x.mean(1, keepdim=True)
    x = (x - m) * (_rand(x) * 2) + m
    m = x.mean((1, 2, 3), keepdim=True)
    return (x - m) * (_rand(x) + 0.5) + m


def hand_translation(x: torch.Tensor, ratio: float = 0.125) -> torch.Tensor:
    """Shift each image by whole pixels, up to ratio·size each way, zeros coming in: a gather
    from a copy padded with zeros."""
    b, c, h, w = x.shape
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    dy = torch.randint(-sh, sh + 1, size=[b, 1, 1], device=x.device)
    dx = torch.randint(-sw, sw + 1, size=[b, 1, 1], device=x.device)
    padded = F.pad(x, [sw, sw, sh, sh])
    rows = torch.arange(h, device=x.device).view(1, h, 1) + (dy + sh)
    cols = torch.arange(w, device=x.device).view(1, 1, w) + (dx + sw)
    index = (rows * (w + 2 * sw) + cols).view(b, 1, h * w).expand(b, c, h * w)
    return padded.flatten(2).gather(2, index).view(b, c, h, w)


def hand_cutout(x: torch.Tensor, ratio: float = 0.5) -> torch.Tensor:
    """Zero one ratio·size square per image, centred anywhere (it may hang over the edge)."""
    b, c, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    cy = torch.randint(0, h + (1 - ch % 2), size=[b, 1, 1], device=x.device)
    cx = torch.randint(0, w + (1 - cw % 2), size=[b, 1, 1], device=x.device)
    top, left = cy - ch // 2, cx - cw // 2
    rows = torch.arange(h, device=x.device).view(1, h, 1)
    cols = torch.arange(w, device=x.device).view(1, 1, w)
    hole = (rows >= top) & (rows < top + ch) & (cols >= left) & (cols < left + cw)
    return x * (~hole).unsqueeze(1).to(x.dtype)


def hand_diffaugment(x: torch.Tensor) -> torch.Tensor:
    return hand_cutout(hand_translation(hand_color(x)))


HANDWRITTEN = SimpleNamespace(name="hand-written", all=hand_diffaugment, color=hand_color,
                              translation=hand_translation, cutout=hand_cutout)


# ---- the reference, loaded at run time ---------------------------------------------------

def load_reference(path: Path) -> SimpleNamespace:
    spec = importlib.util.spec_from_file_location("diffaugment_reference", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"--reference {path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    # the reference calls torch.meshgrid without `indexing` (its default, "ij", is meant)
    warnings.filterwarnings("ignore", message=".*torch.meshgrid.*")

    def color(x):
        return module.rand_contrast(module.rand_saturation(module.rand_brightness(x)))

    return SimpleNamespace(
        name="reference", all=lambda x: module.DiffAugment(x, POLICY), color=color,
        translation=module.rand_translation, cutout=module.rand_cutout,
        sha=hashlib.sha256(path.read_bytes()).hexdigest()[:12])


def gandsl_ops() -> SimpleNamespace:
    translation, cutout = rt.translation(0.125), rt.cutout(0.5)
    return SimpleNamespace(
        name="gandsl", all=rt.Augment(rt.color, translation, cutout),
        color=rt.Augment(rt.color), translation=rt.Augment(translation),
        cutout=rt.Augment(cutout))


# ---- the check: the same numbers from the same seed --------------------------------------

def same_result(a: Fn, b: Fn, shape, device) -> tuple[bool, float]:
    """Forward and backward of `a` and `b` from the same seed: (outputs and generator states
    after equal, the largest difference of the input gradients)."""
    g = torch.Generator().manual_seed(1)
    x = (torch.rand(shape, generator=g) * 2 - 1).to(device)
    up = torch.randn(shape, generator=g).to(device)
    results = []
    for fn in (a, b):
        torch.manual_seed(123)
        xg = x.clone().requires_grad_(True)
        y = fn(xg)
        y.backward(up)
        state = torch.cuda.get_rng_state() if device == "cuda" else torch.get_rng_state()
        results.append((y.detach(), xg.grad, state))
    (ya, ga, sa), (yb, gb, sb) = results
    return torch.equal(ya, yb) and torch.equal(sa, sb), (ga - gb).abs().max().item()


def verdict(same: bool, grad_diff: float) -> str:
    if not same:
        return "outputs DIFFER"
    if grad_diff == 0:
        return "identical outputs and gradients"
    return f"identical outputs, gradients within {grad_diff:.2g}"


# ---- timing ------------------------------------------------------------------------------

CLOCK = time.perf_counter  # --clock cpu: time.process_time


def timed(fns: dict[str, Callable[[], object]], samples: int, device: str) -> dict[str, float]:
    """Median seconds per call of each function; the functions alternate in a rotating order,
    each sample a block of calls of about 2 ms or more."""
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    clock = CLOCK if device == "cpu" else time.perf_counter
    for fn in fns.values():  # warm-up
        fn(), fn()
    sync()
    t0 = clock()
    for fn in fns.values():
        fn()
    sync()
    block = max(1, int(2e-3 / max((clock() - t0) / len(fns), 1e-7)))
    names = list(fns)
    times: dict[str, list[float]] = {k: [] for k in names}
    for i in range(samples):
        for k in names[i % len(names):] + names[:i % len(names)]:
            fn = fns[k]
            sync()
            t0 = clock()
            for _ in range(block):
                fn()
            sync()
            times[k].append((clock() - t0) / block)
    return {k: statistics.median(v) for k, v in times.items()}


def measure(sides: list[SimpleNamespace], op: str, shape, device: str, samples: int,
            backward: bool) -> dict[str, float]:
    g = torch.Generator().manual_seed(0)
    x = (torch.rand(shape, generator=g) * 2 - 1).to(device)
    up = torch.randn(shape, generator=g).to(device)
    if backward:
        x.requires_grad_(True)

    def call(fn: Fn) -> Callable[[], object]:
        if not backward:
            return lambda: fn(x)

        def step():
            x.grad = None
            fn(x).backward(up)
        return step

    return timed({s.name: call(getattr(s, op)) for s in sides}, samples, device)


def _ms(t: float) -> str:
    return f"{t * 1e3:.3f} ms" if t < 0.01 else f"{t * 1e3:.2f} ms"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reference", type=Path, default=os.environ.get(ENV) or None,
                    help=f"path of DiffAugment_pytorch.py (or ${ENV}); without it the "
                         "hand-written baseline")
    ap.add_argument("--samples", type=int, default=61, help="timed blocks per measurement")
    ap.add_argument("--parts-samples", type=int, default=31,
                    help="timed blocks per measurement of one operation")
    ap.add_argument("--cpu-only", action="store_true", help="skip CUDA even when present")
    ap.add_argument("--threads", type=int, default=DEFAULT_THREADS,
                    help="CPU threads (default: torch's, one per core); 1 is steadier where "
                         "other processes share the cores")
    ap.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                    help="what the CPU rows count: wall time, or this process's CPU time "
                         "(with --threads 1, the work done, whoever else runs; CUDA rows are "
                         "always wall time)")
    ap.add_argument("--write", type=Path)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    global CLOCK
    CLOCK = time.process_time if args.clock == "cpu" else time.perf_counter

    load = f"{os.getloadavg()[0]:.1f}"  # other processes share the CPU: say how much
    ours = gandsl_ops()
    if args.reference is not None:
        if not args.reference.is_file():
            raise SystemExit(f"--reference {args.reference}: no such file")
        ref = load_reference(args.reference)
        baseline, sides = ref, [ours, ref, HANDWRITTEN]
        which = ("the reference, mit-han-lab/data-efficient-gans `DiffAugment_pytorch.py` "
                 f"(sha256 {ref.sha}…), loaded at run time from `--reference`; the "
                 "hand-written baseline of `benchmarks/augment.py` as a third column")
    else:
        baseline, sides = HANDWRITTEN, [ours, HANDWRITTEN]
        which = ("the hand-written baseline of `benchmarks/augment.py` (no `--reference` was "
                 "given: the reference implementation was not timed)")
    print(f"baseline: {which}", flush=True)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() and not args.cpu_only else [])

    checks, rounding = [], False
    for device in devices:
        for shape in SHAPES:
            for other in sides[1:]:
                same, diff = same_result(ours.all, other.all, shape, device)
                size = "×".join(map(str, shape))
                checks.append(f"{other.name}, {size}, {device}: {verdict(same, diff)}")
                rounding |= same and diff > 0
                print("check:", checks[-1], flush=True)

    names = [s.name for s in sides]
    head = ("| device | batch | pass | " + " | ".join(names) + " | gandsl / " + baseline.name +
            " | target" + (" | gandsl / hand-written" if baseline is not HANDWRITTEN else "") +
            " |")
    rows = [head, "|" + "---|" * 3 + "---:|" * (head.count("|") - 4)]
    ratios = [baseline.name] + (["hand-written"] if baseline is not HANDWRITTEN else [])
    parts = ["| device | batch | pass | operation | " + " | ".join(names) + "".join(
        f" | gandsl / {r}" for r in ratios) + " |",
        "|---|---|---|---|" + "---:|" * (len(names) + len(ratios))]
    worst = 0.0
    for device in devices:
        for shape in SHAPES:
            size = "×".join(map(str, shape))
            for backward in (False, True):
                what = "forward + backward" if backward else "forward"
                t = measure(sides, "all", shape, device, args.samples, backward)
                ratio = t["gandsl"] / t[baseline.name]
                worst = max(worst, ratio)
                cells = [_ms(t[n]) for n in names] + [f"{ratio:.3f}", f"≤ {TARGET}"]
                if baseline is not HANDWRITTEN:
                    cells.append(f"{t['gandsl'] / t['hand-written']:.3f}")
                rows.append(f"| {device} | {size} | {what} | " + " | ".join(cells) + " |")
                print(rows[-1], flush=True)
                for op in ("color", "translation", "cutout"):
                    t = measure(sides, op, shape, device, args.parts_samples, backward)
                    parts.append(f"| {device} | {size} | {what} | {op} | " +
                                 " | ".join(_ms(t[n]) for n in names) +
                                 "".join(f" | {t['gandsl'] / t[r]:.3f}" for r in ratios) + " |")
                    print(parts[-1], flush=True)

    command = "python benchmarks/augment.py" + (
        " --reference DiffAugment_pytorch.py" if baseline is not HANDWRITTEN else "") + (
        f" --threads {args.threads}" if args.threads != DEFAULT_THREADS else "") + (
        " --clock cpu" if args.clock == "cpu" else "")
    section = "\n".join([
        "## DiffAugment",
        "",
        f"Measured {datetime.date.today().isoformat()} on {machine()} with `{command}` "
        f"(median of {args.samples} alternating blocks of calls after warm-up; "
        f"{', '.join(devices)}; {args.threads} CPU thread{'s' if args.threads > 1 else ''}"
        f"{'; CPU rows in process CPU time' if args.clock == 'cpu' else ''}; "
        f"load average {load} when it started). Baseline: {which}.",
        "",
        "`rt.Augment(rt.color, rt.translation(0.125), rt.cutout(0.5))` (the spec's "
        "`augment(color, translation(1/8), cutout(1/2))`) against the baseline on the same "
        "tensors. Forward: an input without grad (the reals); forward + backward: an input "
        "that requires grad (the fakes) and a fixed upstream gradient.",
        "",
        *rows,
        "",
        "Checked first, from the same torch seed, forward and backward: " + "; ".join(checks) +
        ". Outputs and the generator's state afterwards (the same draws) are compared exactly, "
        "input gradients by their largest difference." + (
            " Where the gradients differ in the last bits it is the order of a sum: the "
            "reference's translation passes back a channels-last gradient (its `permute`), so "
            "color's backward reduces it in another order; made contiguous there, the "
            "reference's gradients equal gandsl's bit for bit." if rounding else ""),
        "",
        "### By operation",
        "",
        f"Each operation alone (median of {args.parts_samples} blocks): gandsl's `color`, "
        "`translation(0.125)`, `cutout(0.5)` against the baseline's.",
        "",
        *parts,
        "",
        ("The reference's translation permutes to channels-last, indexes with three index "
         "tensors and permutes back, and its cutout writes a mask by advanced indexing; "
         "gandsl's gathers along the flattened image and builds the mask from comparisons. "
         if baseline is not HANDWRITTEN else "") +
        "Against the hand-written baseline the difference is in `translation`: gandsl clamps "
        "the source indices and multiplies by an inside-the-image mask (about ten more small "
        "operations than a gather from a zero-padded copy, which needs no mask).",
        "",
    ])
    print(f"worst gandsl / {baseline.name}: {worst:.3f} (target ≤ {TARGET})")
    publish(section, "## DiffAugment", args.write)


if __name__ == "__main__":
    main()
