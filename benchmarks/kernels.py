"""Check and time the fused kernels against eager PyTorch and torch.compile, on a CUDA GPU.

    python benchmarks/kernels.py --quick                           # the issue's shapes first
    python benchmarks/kernels.py [--write docs/performance.md]     # every shape
    python benchmarks/kernels.py --dry-run                         # CPU: the code paths only

For each shape and dtype (fp32, bf16) every variant is first checked against the reference
(values and gradients; a miss is recorded in the table as FAILED, the run goes on), then timed
forward + backward with `triton.testing.do_bench` (median, L2 flushed before each run) and
with CUDA graphs (`do_bench_cudagraph`, which does not flush L2: for tensors of a few MB that
column is L2-resident). Each row is printed as soon as it is measured, so that a run cut short
keeps what it measured. GB/s is the bytes the op must move at least, over the time; "of copy"
compares it with the device's copy bandwidth, measured in the same run (`Tensor.copy_`, 1 GiB).

AdaIN (forward + backward, the pass a training step makes): naive eager (mean, var, the
arithmetic: `adain_ref`), the strongest eager formulation (`F.batch_norm` over an
(1, N·C, H, W) view, one ATen kernel each way, then the affine), `torch.compile` of the
reference (compiled afresh for each shape and dtype, static shapes), and the Triton op.
Minimum traffic: x read and y written forward; x and dy read, dx written backward.

Gradient penalty, its fused part: the interpolation and the norm penalty with its backward
(given the critic's input gradient g), eager ops against the kernels. The eager bf16 path
computes in fp32 as the reference must, so the fp32 rows are the fair comparison. And a whole
WGAN-GP critic step of StarGAN's D at 128×128, batch 16 (the critic's loss, the penalty's
double backward, Adam), eager penalty against fused, checked to give the same loss and
gradients first.

`--dry-run` runs every code path at tiny shapes on the CPU, under Triton's interpreter,
timing with a wall clock, so that the script is known to work before a GPU session spends its
time on it (the test suite runs it).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from compile_speed import publish  # noqa: E402

from gandsl.kernels import dispatch  # noqa: E402
from gandsl.kernels import penalty as P  # noqa: E402
from gandsl.kernels.adain import adain_ref, fused_adain  # noqa: E402

ADAIN_SHAPES = [(32, 512, 4, 4), (32, 512, 8, 8), (32, 512, 32, 32), (32, 512, 64, 64),
                (8, 64, 256, 256)]
PENALTY_SHAPES = [(16, 3, 128, 128), (32, 3, 256, 256)]
DRY_ADAIN = [(2, 3, 4, 4), (1, 2, 91, 91)]
DRY_PENALTY = [(2, 3, 8, 8)]
DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}
HEADER = ["op", "shape", "dtype", "variant", "ms", "ms (CUDA graph)", "GB/s", "of copy",
          "speed-up vs first", "check"]


class Timer:
    """Median time of a callable in ms: do_bench on a GPU (L2 flushed), or a wall clock."""

    def __init__(self, dry: bool) -> None:
        self.dry = dry

    def __call__(self, fn: Callable[[], object], graphs: bool = False) -> float | None:
        if self.dry:
            if graphs:
                return None
            times = []
            for _ in range(3):
                start = time.perf_counter()
                fn()
                times.append((time.perf_counter() - start) * 1e3)
            return statistics.median(times)
        from triton.testing import do_bench, do_bench_cudagraph

        if graphs:
            return do_bench_cudagraph(fn, rep=100, return_mode="median")
        return do_bench(fn, warmup=25, rep=100, return_mode="median")


class Report:
    """Rows of the table, each printed as it is measured."""

    def __init__(self, bandwidth: float) -> None:
        self.bandwidth, self.rows, self.failed = bandwidth, [], 0
        print("| " + " | ".join(HEADER) + " |", flush=True)

    def add(self, op: str, shape, dtype: str, results: dict, moved: int | None) -> None:
        """results: variant → (ms, CUDA-graph ms or None, check text)."""
        base = next(iter(results.values()))[0]
        for name, (ms, graph_ms, check) in results.items():
            gbs = moved / ms / 1e6 if moved else None
            row = [op, "×".join(map(str, shape)), dtype, name, f"{ms:.3f}",
                   f"{graph_ms:.3f}" if graph_ms is not None else "—",
                   f"{gbs:.0f}" if gbs else "—",
                   f"{gbs / self.bandwidth:.0%}" if gbs else "—", f"{base / ms:.2f}×", check]
            self.failed += check.startswith("FAILED")
            self.rows.append(row)
            print("| " + " | ".join(row) + " |", flush=True)

    def table(self) -> str:
        lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
        return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in self.rows])


def checked(error: float, limit: float) -> str:
    return f"{error:.1e}" if error <= limit else f"FAILED: {error:.1e} > {limit:.0e}"


def relative(got: torch.Tensor, want: torch.Tensor) -> float:
    want = want.double()
    return ((got.double() - want).abs().max() / want.abs().max().clamp_min(1e-30)).item()


def copy_bandwidth(timer: Timer, device: str) -> float:
    """GB/s of `dst.copy_(src)`: 1 GiB read once and written once (4 MiB in a dry run)."""
    n = (1 << 28) if not timer.dry else (1 << 20)
    src = torch.empty(n, dtype=torch.float32, device=device)
    dst = torch.empty_like(src)
    return 2 * src.numel() * 4 / timer(lambda: dst.copy_(src)) / 1e6


# ---- AdaIN -----------------------------------------------------------------------------------


def adain_batch_norm(x, scale, bias, eps=1e-5):
    """The strongest eager AdaIN: instance statistics as batch norm over an (1, N·C, H, W)
    view (one fused ATen kernel forward and one backward), then the affine."""
    n, c, h, w = x.shape
    y = F.batch_norm(x.reshape(1, n * c, h, w), None, None, training=True, eps=eps)
    return torch.addcmul(bias[:, :, None, None], y.view(n, c, h, w), scale[:, :, None, None])


def adain_variants(dry: bool) -> dict[str, Callable]:
    variants: dict[str, Callable] = {"eager (naive)": adain_ref,
                                     "eager (batch_norm)": adain_batch_norm}
    if not dry:  # compiled afresh for each shape and dtype: static shapes, no recompiles
        torch._dynamo.reset()
        variants["torch.compile"] = torch.compile(adain_ref, dynamic=False)
    variants["triton"] = lambda x, s, b: fused_adain(x, s, b, impl="triton")
    return variants


def adain_case(report: Report, timer: Timer, device: str, shape, dname: str, dtype) -> None:
    torch.manual_seed(0)  # the same inputs every run: each check is one fixed comparison
    x = torch.randn(shape, device=device, dtype=dtype).requires_grad_(True)
    scale = (1 + torch.randn(shape[:2], device=device, dtype=dtype)).requires_grad_(True)
    bias = torch.randn(shape[:2], device=device, dtype=dtype).requires_grad_(True)
    dy = torch.randn_like(x)
    want = adain_grads(adain_ref, x, scale, bias, dy)
    limit = 1e-5 if dtype == torch.float32 else 2e-2
    results = {}
    for name, fn in adain_variants(timer.dry).items():
        got = adain_grads(fn, x, scale, bias, dy)
        check = checked(max(relative(g, w) for g, w in zip(got, want, strict=True)), limit)

        def step(fn=fn):
            x.grad = scale.grad = bias.grad = None
            fn(x, scale, bias).backward(dy)

        results[name] = (timer(step), timer(step, graphs=True), check)
    report.add("AdaIN fwd+bwd", shape, dname, results, 5 * x.numel() * x.element_size())


def adain_grads(fn, x, scale, bias, dy) -> list[torch.Tensor]:
    x.grad = scale.grad = bias.grad = None
    y = fn(x, scale, bias)
    y.backward(dy)
    return [y.detach(), x.grad.clone(), scale.grad.clone(), bias.grad.clone()]


# ---- gradient penalty ----------------------------------------------------------------------


def penalty_case(report: Report, timer: Timer, device: str, shape, dname: str, dtype) -> None:
    """The fused part: interpolation, and the norm penalty forward + backward given g."""
    torch.manual_seed(0)
    real = torch.randn(shape, device=device, dtype=dtype)
    fake = torch.randn_like(real)
    alpha = torch.rand(shape[0], device=device)
    g = torch.randn_like(real).requires_grad_(True)

    def part(fused: bool):
        def run():
            x_hat = P._interpolate(real, fake, alpha, fused=fused)
            g.grad = None
            loss = P._penalty(g, 10.0, 1.0, fused=fused)
            loss.backward()
            return x_hat, loss
        return run

    eager, fused = part(False), part(True)
    outputs = []
    for fn in (eager, fused):
        x_hat, loss = fn()
        outputs.append((x_hat.float(), loss.detach(), g.grad.float().clone()))
    error = max(relative(b, a) for a, b in zip(*outputs, strict=True))
    check = checked(error, 1e-5 if dtype == torch.float32 else 2e-2)
    results = {"eager": (timer(eager), timer(eager, graphs=True), "reference"),
               "triton": (timer(fused), timer(fused, graphs=True), check)}
    # real and fake read, x̂ written; g read twice (norms, gradient), dg written
    report.add("GP fused part", shape, dname, results, 6 * real.numel() * real.element_size())


def critic_step_case(report: Report, timer: Timer, device: str) -> None:
    """A whole WGAN-GP critic step of StarGAN's D: loss, penalty (double backward), Adam."""
    import gandsl

    dry = timer.dry
    size, batch = (16, 2) if dry else (128, 16)
    params = {"S": size, "d_ch": 4, "d_layers": 3, "g_ch": 4, "g_res": 1} if dry else {}
    D = gandsl.load(ROOT / "specs" / "stargan.gan", **params).classes["D"]().to(device)
    opt = torch.optim.Adam(D.parameters(), lr=1e-4, betas=(0.5, 0.999))
    x = torch.randn(batch, 3, size, size, device=device)
    fake = torch.randn_like(x)
    with torch.no_grad():
        labels = (torch.rand_like(D(x).cls) < 0.5).float()  # multi-hot attributes

    def loss_of(impl: str) -> torch.Tensor:
        gen = torch.Generator(device=device).manual_seed(0)  # the same α on both sides
        out_real, out_fake = D(x), D(fake)
        return (out_fake.src.mean() - out_real.src.mean()
                + F.binary_cross_entropy_with_logits(out_real.cls, labels)
                + P.gradient_penalty(lambda v: D(v).src, x, fake, 10.0, impl=impl,
                                     generator=gen))

    outputs = []
    for impl in ("ref", "triton"):
        D.zero_grad(set_to_none=True)
        loss = loss_of(impl)
        loss.backward()
        outputs.append([loss.detach()] + [p.grad.clone() for p in D.parameters()
                                          if p.grad is not None])
    check = checked(max(relative(b, a) for a, b in zip(*outputs, strict=True)), 1e-4)

    def step(impl: str):
        def run():
            opt.zero_grad(set_to_none=True)
            loss_of(impl).backward()
            opt.step()
        return run

    results = {"eager": (timer(step("ref")), None, "reference"),
               "triton": (timer(step("triton")), None, check)}
    report.add("WGAN-GP critic step (StarGAN D)", (batch, 3, size, size), "fp32", results, None)


# ---- the run -------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", type=Path, help="replace the Kernels section of this file")
    parser.add_argument("--quick", action="store_true", help="the issue's shapes only")
    parser.add_argument("--dry-run", action="store_true",
                        help="tiny shapes, wall-clock timing, Triton's interpreter: on a CPU")
    args = parser.parse_args(argv)
    if args.dry_run:
        os.environ["TRITON_INTERPRET"] = "1"  # before the first launch imports a kernel
        if not dispatch.interpreting():
            raise SystemExit("--dry-run needs Triton's interpreter")
    elif not torch.cuda.is_available():
        print("benchmarks/kernels.py times CUDA kernels and needs a CUDA GPU; on a CPU, "
              "`python benchmarks/kernels.py --dry-run` checks the script", file=sys.stderr)
        return 2
    device = "cpu" if args.dry_run else "cuda"
    timer = Timer(args.dry_run)
    report = Report(copy_bandwidth(timer, device))
    adain_shapes = DRY_ADAIN if args.dry_run else (
        [(32, 512, 64, 64)] if args.quick else ADAIN_SHAPES)
    penalty_shapes = DRY_PENALTY if args.dry_run else (
        [(32, 3, 256, 256)] if args.quick else PENALTY_SHAPES)
    for shape in adain_shapes:
        for dname, dtype in DTYPES.items():
            adain_case(report, timer, device, shape, dname, dtype)
    for shape in penalty_shapes:
        for dname, dtype in DTYPES.items():
            penalty_case(report, timer, device, shape, dname, dtype)
    critic_step_case(report, timer, device)

    import triton

    where = torch.cuda.get_device_name() if device == "cuda" else (platform.processor() or "CPU")
    how = "--dry-run (CPU, interpreter: not a measurement)" if args.dry_run else ""
    text = (f"## Kernels\n\nMeasured {datetime.date.today()} on {where} with torch "
            f"{torch.__version__}, triton {triton.__version__}: `python benchmarks/kernels.py"
            f"{' ' + how if how else ''}`. Copy bandwidth (`copy_`, 1 GiB): "
            f"{report.bandwidth:.0f} GB/s. Times are medians of `triton.testing.do_bench` with "
            "L2 flushed, forward + backward; the CUDA-graph column does not flush L2. "
            "\"speed-up\" is against the first variant of each group; \"check\" is the "
            "largest relative error against the reference.\n\n" + report.table() + "\n")
    print()
    publish(text, "## Kernels", None if args.dry_run else args.write)
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
