"""Check and time the fused kernels against eager PyTorch and torch.compile, on a CUDA GPU.

    python benchmarks/kernels.py [--write docs/performance.md] [--quick]
    TRITON_INTERPRET=1 python benchmarks/kernels.py --dry-run      # CPU: the code paths only

For each shape and dtype (fp32, bf16) it first checks every variant against the reference
(values and gradients), then times forward + backward with `triton.testing.do_bench` (median,
L2 flushed between runs) and with CUDA graphs (`do_bench_cudagraph`), and prints time, GB/s
(the bytes the op must move at least, over time) and the fraction of the device's copy
bandwidth, measured here with `Tensor.copy_` on 1 GiB.

AdaIN (forward + backward, the pass a training step makes): naive eager (mean, var, the
arithmetic, as `adain_ref`), the strongest eager formulation (`F.batch_norm` over an
(1, N·C, H, W) view, one cuDNN/ATen kernel each way), `torch.compile` of the reference, and
the Triton op. Minimum traffic: x read and y written forward; x and dy read, dx written back.

Gradient penalty, its fused part: the interpolation and the norm penalty with its backward
(given the critic's input gradient g), eager ops against the kernels. And a whole WGAN-GP
critic step of StarGAN's D at 128×128, batch 16 (the critic's loss, the penalty's double
backward, Adam), eager penalty against fused.

`--dry-run` runs every code path at tiny shapes, timing with a wall clock, so that the script
is known to work before a GPU session spends its time on it (the test suite runs it).
"""

from __future__ import annotations

import argparse
import datetime
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

from gandsl.kernels import penalty as P  # noqa: E402
from gandsl.kernels.adain import adain_ref, fused_adain  # noqa: E402

ADAIN_SHAPES = [(32, 512, 4, 4), (32, 512, 8, 8), (32, 512, 32, 32), (32, 512, 64, 64),
                (8, 64, 256, 256)]
PENALTY_SHAPES = [(16, 3, 128, 128), (32, 3, 256, 256)]
DRY_ADAIN = [(2, 3, 4, 4), (1, 2, 91, 91)]
DRY_PENALTY = [(2, 3, 8, 8)]
DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}


class Timer:
    """Median time of a callable in ms: do_bench on a GPU (L2 flushed), or a wall clock."""

    def __init__(self, dry: bool) -> None:
        self.dry = dry

    def __call__(self, fn: Callable[[], object], graphs: bool = False) -> float:
        if self.dry:
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


def copy_bandwidth(timer: Timer, device: str) -> float:
    """GB/s of `dst.copy_(src)` over 1 GiB (256 MiB dry): read once, written once."""
    n = (1 << 28) if not timer.dry else (1 << 20)
    src = torch.empty(n, dtype=torch.float32, device=device)
    dst = torch.empty_like(src)
    ms = timer(lambda: dst.copy_(src))
    return 2 * src.numel() * 4 / ms / 1e6


# ---- AdaIN -----------------------------------------------------------------------------------


def adain_batch_norm(x, scale, bias, eps=1e-5):
    """The strongest eager AdaIN: instance statistics as batch norm over an (1, N·C, H, W)
    view (one fused ATen kernel forward and one backward), then the affine."""
    n, c, h, w = x.shape
    y = F.batch_norm(x.reshape(1, n * c, h, w), None, None, training=True, eps=eps)
    return torch.addcmul(bias[:, :, None, None], y.view(n, c, h, w), scale[:, :, None, None])


def adain_variants(dry: bool) -> dict[str, Callable]:
    variants = {"eager (naive)": adain_ref, "eager (batch_norm)": adain_batch_norm}
    if not dry:
        variants["torch.compile"] = torch.compile(adain_ref)
    variants["triton"] = lambda x, s, b: fused_adain(x, s, b, impl="triton")
    return variants


def adain_rows(timer: Timer, device: str, bandwidth: float, shapes, dry: bool) -> list[list]:
    variants = adain_variants(dry)
    return [row for shape in shapes for dname, dtype in DTYPES.items()
            for row in _adain_case(timer, device, bandwidth, variants, shape, dname, dtype, dry)]


def _adain_case(timer, device, bandwidth, variants, shape, dname, dtype, dry) -> list[list]:
    x = torch.randn(shape, device=device, dtype=dtype).requires_grad_(True)
    scale = (1 + torch.randn(shape[:2], device=device, dtype=dtype)).requires_grad_(True)
    bias = torch.randn(shape[:2], device=device, dtype=dtype).requires_grad_(True)
    dy = torch.randn_like(x)
    want = _adain_grads(adain_ref, x, scale, bias, dy)
    moved = 5 * x.numel() * x.element_size()  # x, y forward; x, dy, dx backward
    times = {}
    for name, fn in variants.items():
        got = _adain_grads(fn, x, scale, bias, dy)
        error = max(_relative(g, w) for g, w in zip(got, want, strict=True))
        limit = 1e-5 if dtype == torch.float32 else 2e-2
        if error > limit:
            raise SystemExit(f"AdaIN {name} {shape} {dname}: relative error {error:.2e} > "
                             f"{limit:.0e}")

        def step(fn=fn):
            x.grad = scale.grad = bias.grad = None
            fn(x, scale, bias).backward(dy)

        times[name] = (timer(step), None if dry else timer(step, graphs=True))
    return _rows("AdaIN fwd+bwd", shape, dname, times, moved, bandwidth)


def _adain_grads(fn, x, scale, bias, dy):
    x.grad = scale.grad = bias.grad = None
    y = fn(x, scale, bias)
    y.backward(dy)
    return [y.detach(), x.grad.clone(), scale.grad.clone(), bias.grad.clone()]


# ---- gradient penalty ----------------------------------------------------------------------


def penalty_rows(timer: Timer, device: str, bandwidth: float, shapes, dry: bool) -> list[list]:
    """The fused part: interpolation, and the norm penalty forward + backward given g."""
    return [row for shape in shapes for dname, dtype in DTYPES.items()
            for row in _penalty_case(timer, device, bandwidth, shape, dname, dtype, dry)]


def _penalty_case(timer, device, bandwidth, shape, dname, dtype, dry) -> list[list]:
    real = torch.randn(shape, device=device, dtype=dtype)
    fake = torch.randn_like(real)
    alpha = torch.rand(shape[0], device=device)
    g = torch.randn_like(real).requires_grad_(True)

    def part(fused: bool):
        def run():
            x_hat = P._interpolate(real, fake, alpha, fused=fused)
            g.grad = None
            P._penalty(g, 10.0, 1.0, fused=fused).backward()
            return x_hat
        return run

    eager, fused = part(False), part(True)
    results = [(fn().float(), g.grad.float().clone()) for fn in (eager, fused)]
    for a, b in zip(*results, strict=True):
        error = _relative(b, a)
        if error > (1e-5 if dtype == torch.float32 else 2e-2):
            raise SystemExit(f"penalty {shape} {dname}: relative error {error:.2e}")
    # real, fake read and x̂ written; g read twice (norms, gradient), dg written
    moved = 6 * real.numel() * real.element_size()
    times = {name: (timer(fn), None if dry else timer(fn, graphs=True))
             for name, fn in (("eager", eager), ("triton", fused))}
    return _rows("GP fused part", shape, dname, times, moved, bandwidth)


def critic_step_rows(timer: Timer, device: str, dry: bool) -> list[list]:
    """A whole WGAN-GP critic step of StarGAN's D: loss, penalty (double backward), Adam."""
    import gandsl

    size, batch = (128, 16) if not dry else (16, 2)
    params = {"S": size} if not dry else {"S": size, "d_ch": 4, "d_layers": 3, "g_ch": 4,
                                          "g_res": 1}
    loaded = gandsl.load(ROOT / "specs" / "stargan.gan", **params)
    torch.manual_seed(0)
    D = loaded.classes["D"]().to(device)
    opt = torch.optim.Adam(D.parameters(), lr=1e-4, betas=(0.5, 0.999))
    x = torch.randn(batch, 3, size, size, device=device)
    fake = torch.randn_like(x)
    with torch.no_grad():
        labels = (torch.rand_like(D(x).cls) < 0.5).float()  # multi-hot attributes

    def step(impl):
        def run():
            opt.zero_grad(set_to_none=True)
            out_real, out_fake = D(x), D(fake)
            loss = (out_fake.src.mean() - out_real.src.mean()
                    + F.binary_cross_entropy_with_logits(out_real.cls, labels)
                    + P.gradient_penalty(lambda v: D(v).src, x, fake, weight=10.0, impl=impl))
            loss.backward()
            opt.step()
        return run

    times = {"eager": (timer(step("ref")), None), "triton": (timer(step("triton")), None)}
    return _rows("WGAN-GP critic step (StarGAN D)", (batch, 3, size, size), "fp32", times,
                 None, None)


# ---- reporting -----------------------------------------------------------------------------


def _relative(got: torch.Tensor, want: torch.Tensor) -> float:
    want = want.double()
    return ((got.double() - want).abs().max() / want.abs().max().clamp_min(1e-30)).item()


def _rows(op, shape, dtype, times, moved, bandwidth) -> list[list]:
    base = next(iter(times.values()))[0]
    out = []
    for name, (ms, graph_ms) in times.items():
        gbs = moved / ms / 1e6 if moved else None
        out.append([op, "×".join(map(str, shape)), dtype, name, f"{ms:.3f}",
                    f"{graph_ms:.3f}" if graph_ms is not None else "—",
                    f"{gbs:.0f}" if gbs else "—",
                    f"{gbs / bandwidth:.0%}" if gbs and bandwidth else "—",
                    f"{base / ms:.2f}×"])
    return out


HEADER = ["op", "shape", "dtype", "variant", "ms", "ms (CUDA graph)", "GB/s", "of copy",
          "speed-up vs first"]


def table(rows: list[list]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def write_section(path: Path, text: str) -> None:
    """Replace (or append) the section `## Kernels` of docs/performance.md."""
    doc = path.read_text(encoding="utf-8")
    head = "## Kernels"
    if head in doc:
        before, _, rest = doc.partition(head)
        after = rest[rest.find("\n## "):] if "\n## " in rest else ""
        doc = before + text + after
    else:
        doc = doc.rstrip() + "\n\n" + text
    path.write_text(doc, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", type=Path, help="replace the Kernels section of this file")
    parser.add_argument("--quick", action="store_true", help="the issue's shapes only")
    parser.add_argument("--dry-run", action="store_true",
                        help="tiny shapes, wall-clock timing: check the script on a CPU")
    args = parser.parse_args(argv)
    if not args.dry_run and not torch.cuda.is_available():
        print("benchmarks/kernels.py times CUDA kernels and needs a CUDA GPU; on a CPU, "
              "`TRITON_INTERPRET=1 python benchmarks/kernels.py --dry-run` checks the script",
              file=sys.stderr)
        return 2
    device = "cuda" if torch.cuda.is_available() else "cpu"
    timer = Timer(args.dry_run)
    bandwidth = copy_bandwidth(timer, device)
    adain_shapes = DRY_ADAIN if args.dry_run else (
        [(32, 512, 64, 64)] if args.quick else ADAIN_SHAPES)
    penalty_shapes = DRY_PENALTY if args.dry_run else (
        [(32, 3, 256, 256)] if args.quick else PENALTY_SHAPES)
    rows = adain_rows(timer, device, bandwidth, adain_shapes, args.dry_run)
    rows += penalty_rows(timer, device, bandwidth, penalty_shapes, args.dry_run)
    rows += critic_step_rows(timer, device, args.dry_run)
    import triton

    where = (torch.cuda.get_device_name() if device == "cuda" else platform.processor() or "CPU")
    text = (f"## Kernels\n\nMeasured {datetime.date.today()} on {where} with torch "
            f"{torch.__version__}, triton {triton.__version__}: `python benchmarks/kernels.py`"
            f"{' --dry-run (CPU, interpreter: not a measurement)' if args.dry_run else ''}. "
            f"Copy bandwidth (`copy_`, 1 GiB): {bandwidth:.0f} GB/s. Times are medians of "
            "`triton.testing.do_bench` with L2 flushed, forward + backward; \"speed-up\" is "
            "against the first variant of each group.\n\n" + table(rows) + "\n")
    print(text)
    if args.write:
        write_section(args.write, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
