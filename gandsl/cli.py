"""The `gandsl` command line: compile, check, graph, format, train, bench, sample and evaluate.

Exit status: 0 success, 1 the spec has errors, 2 a usage error (a bad flag or file). A bad
spec or flag never prints a Python traceback.

This module is the arguments (`build_parser` and the parsers of flag values) and `main`; the
commands themselves are in `gandsl.cli_commands`.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from . import extern
from .cli_commands import (
    cmd_bench,
    cmd_check,
    cmd_compile,
    cmd_eval,
    cmd_export,
    cmd_fmt,
    cmd_graph,
    cmd_lsp,
    cmd_sample,
    cmd_train,
    color,
)
from .diagnostics import GandslError, render_all
from .errors import TrainingStopped, UserError
from .train.launch import say_error
from .version import __version__

# `--kernels`: which implementation the fused ops (AdaIN, gradient penalties) run
KERNEL_CHOICES = ("triton", "ref", "auto")


def parse_param(text: str) -> tuple[str, Any]:
    """`NAME=VALUE` → (name, value); numbers, `true`/`false` and strings are understood."""
    name, sep, raw = text.partition("=")
    if not sep or not name.isidentifier():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, parse_value(raw)


def parse_value(raw: str) -> Any:
    low = raw.strip()
    if low in ("true", "false"):
        return low == "true"
    import re

    from .parse import number_value  # the language's own number syntax: 64, 1e-4, 200k
    if re.fullmatch(r"-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?[kM]?", low):
        try:
            value = number_value(low.lstrip("-"))
        except ValueError as e:
            raise argparse.ArgumentTypeError(str(e)) from None
        return -value if low.startswith("-") else value
    return raw


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gandsl", description="A typed language for GANs: compile specs to PyTorch.")
    parser.add_argument("--version", action="version", version=f"gandsl {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def trust(p: argparse.ArgumentParser) -> None:
        p.add_argument("--allow-extern", action="append", default=[], metavar="MODULE",
                       help="let the spec's `extern`s import MODULE (and its submodules), "
                       "which runs its code (repeatable)")

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("spec", help="the .gan file")
        p.add_argument("--param", action="append", type=parse_param, metavar="NAME=VALUE",
                       help="override a `param` of the spec (repeatable)")
        trust(p)

    def workload(p: argparse.ArgumentParser) -> None:
        """The flags of `train` that change the work of an iteration (`bench` takes them)."""
        p.add_argument("--data", metavar="NAME|PATH", help="data instead of the spec's "
                       "sources: digits, shapes, fashion-mnist, idx:FOLDER (MNIST's format) "
                       "or an image folder")
        p.add_argument("--batch", type=_positive, metavar="N",
                       help="batch size (default: the spec's)")
        p.add_argument("--threads", type=_positive, metavar="N",
                       help="torch's CPU threads (default: torch's choice; see docs/training.md "
                       "on sharing a machine)")
        p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
        p.add_argument("--bf16", action="store_true", help="CUDA: bf16 autocast")
        p.add_argument("--channels-last", action="store_true",
                       help="CUDA: channels-last tensors")
        p.add_argument("--kernels", choices=KERNEL_CHOICES, default=None,
                       help="the fused ops (AdaIN, gradient penalties): triton the kernels "
                       "wherever Triton can run, ref their PyTorch references, auto Triton on "
                       "CUDA (default: $GANDSL_KERNELS, else auto)")

    p = sub.add_parser("compile", help="emit the PyTorch module of a spec and print a summary")
    common(p)
    p.add_argument("-o", "--output", default="generated", metavar="DIR",
                   help="directory for <spec>.py (default: generated)")
    p.add_argument("-q", "--quiet", action="store_true", help="do not print the summary")
    p.set_defaults(func=cmd_compile)

    p = sub.add_parser("check", help="report the spec's errors and warnings only")
    common(p)
    p.add_argument("--warnings-as-errors", action="store_true",
                   help="exit with status 1 when there are warnings")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("graph", help="draw the networks (dot, mermaid, or svg via Graphviz)")
    common(p)
    p.add_argument("--format", choices=["dot", "mermaid", "svg"],
                   help="default: from -o's suffix (.svg, .mmd, .dot), else dot")
    p.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    p.set_defaults(func=cmd_graph)

    p = sub.add_parser("fmt", help="lay specs out canonically, in place; comments and "
                       "meaning are kept")
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help=".gan files or directories of them; - reads stdin, writes stdout")
    p.add_argument("--check", action="store_true",
                   help="change nothing; exit with status 1 when a file would change")
    p.add_argument("--diff", action="store_true", help="print the changes as a diff instead")
    p.set_defaults(func=cmd_fmt)

    p = sub.add_parser("train", help="train a spec: progress, sample grids, metrics, "
                       "checkpoints, exact resume")
    common(p)
    workload(p)
    p.add_argument("--steps", type=_positive, metavar="N", help="iterations (default: the spec's)")
    p.add_argument("--out", metavar="DIR", help="run directory (default: runs/<spec>)")
    p.add_argument("--resume", metavar="DIR", help="continue the run in DIR where it stopped")
    p.add_argument("--seed", type=_seed, metavar="N",
                   help="random seed (default 0; a resumed run keeps its own)")
    p.add_argument("--sample-every", type=_positive, default=500, metavar="N")
    p.add_argument("--checkpoint-every", type=_positive, default=1000, metavar="N")
    p.add_argument("--log-every", type=_positive, default=10, metavar="N")
    p.add_argument("--workers", type=_at_least(0), default=0, metavar="N",
                   help="data-loading processes (default 0: in the main process)")
    p.add_argument("--no-progress", action="store_true",
                   help="no progress bar: a line every --print-every iterations instead (as "
                   "when stderr is not a terminal)")
    p.add_argument("--print-every", type=_positive, default=100, metavar="N",
                   help="iterations between progress lines without a bar (default 100)")
    p.add_argument("--nproc", type=_positive, default=1, metavar="N",
                   help="data-parallel processes on this machine, launched through torchrun "
                   "(the batch is split among them)")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("bench", help="time training iterations of a spec here: per player, "
                       "data, and the whole run's estimate")
    common(p)
    workload(p)
    p.add_argument("--steps", type=_positive, metavar="N",
                   help="iterations of the run to estimate (default: the spec's)")
    p.add_argument("--iters", type=_positive, default=20, metavar="N",
                   help="iterations timed (default 20)")
    p.add_argument("--warmup", type=_at_least(0), default=3, metavar="N",
                   help="iterations run first, untimed (default 3)")
    p.add_argument("--seed", type=_seed, default=0, metavar="N")
    p.add_argument("--at-step", type=_at_least(0), default=0, metavar="N",
                   help="time the iterations at this step of the run (a progressive spec's "
                   "stage, the schedules; default 0)")
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("sample", help="images from a trained run: a PNG grid or an .npz")
    p.add_argument("run", metavar="RUN_DIR|CHECKPOINT")
    p.add_argument("-n", type=_positive, default=64, help="how many samples")
    p.add_argument("--label", action="append", metavar="K",
                   help="class index (or 0/1 multi-hot string) for conditional specs; repeatable")
    p.add_argument("--per-class", type=_positive, metavar="K",
                   help="a conditional generator's grid: K samples of every class, one row per "
                   "class with its name (replaces -n and --label)")
    p.add_argument("-o", "--output", metavar="FILE", help="a .png grid or an .npz of raw samples")
    p.add_argument("--truncation", type=_positive_float, metavar="T",
                   help="truncation trick: redraw latent values beyond ±T")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    p.add_argument("--data", metavar="NAME|PATH", help="data for translation specs")
    p.add_argument("--seed", type=_seed, default=0)
    trust(p)
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser("eval", help="sample quality of a trained run against its real data")
    p.add_argument("run", metavar="RUN_DIR|CHECKPOINT")
    p.add_argument("--n", type=_at_least(10), default=1000, help="how many samples (1000)")
    p.add_argument("--data", metavar="NAME|PATH", help="digits, shapes or fashion-mnist: "
                   "whose classifier measures (default: the run's data)")
    p.add_argument("--metrics", default="fd,kid,pr,cond", metavar="LIST",
                   help="of fd, kid, pr (precision and recall), cond (conditional accuracy)")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="cpu")
    p.add_argument("--seed", type=_seed, default=0)
    p.add_argument("--curve", action="store_true", help="every checkpoint of the run, and a "
                   "plot of the figures against the step (eval_curve.png)")
    p.add_argument("--inception", type=Path, metavar="WEIGHTS", help="also Inception FID and "
                   "IS, with this Inception-v3 weights file of torch-fidelity (never "
                   "downloaded; needs pip install 'gandsl[inception]')")
    trust(p)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("lsp", help="the language server for editors, over stdio "
                       "(docs/editor.md)")
    trust(p)
    p.set_defaults(func=cmd_lsp)

    p = sub.add_parser("export", help="a trained run's generators as a standalone PyTorch "
                       "file with safetensors weights, ONNX or TorchScript")
    p.add_argument("run", metavar="RUN_DIR|CHECKPOINT")
    p.add_argument("--format", choices=["python", "onnx", "torchscript"], default="python")
    p.add_argument("-o", "--out", type=Path, metavar="DIR",
                   help="folder for the files (default: RUN_DIR/export)")
    p.add_argument("--network", action="append", metavar="NAME",
                   help="export this network alone (repeatable); default: every generator, "
                   "with the networks that feed it (StyleGAN's mapping)")
    p.add_argument("--no-ema", dest="ema", action="store_false",
                   help="the trained weights, not their moving average (EMA is the default "
                   "where the run keeps one)")
    trust(p)
    p.set_defaults(func=cmd_export)
    return parser


def _at_least(low: int):
    what = "a positive integer" if low == 1 else f"an integer ≥ {low}"

    def parse(text: str) -> int:
        try:
            value = parse_value(text)
        except argparse.ArgumentTypeError:  # a number literal out of range
            value = None
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # 2e3
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return value
    return parse


_positive = _at_least(1)


def _seed(text: str) -> int:
    """A seed torch, numpy and Python all take: a whole number from 0 to 2^63 − 1."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value < 2 ** 63:
        raise argparse.ArgumentTypeError(f"expected a whole number from 0 to 2^63 - 1, got "
                                         f"{text!r}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # `train --nproc` passes it on
    if getattr(args, "allow_extern", None):  # for this process and those it starts
        extern.allow(*args.allow_extern)
    try:
        return args.func(args)
    except GandslError as e:
        status = 2 if any(d.code == "E108" for d in e.diagnostics) else 1
        say_error(render_all(e.diagnostics, e.source, e.path, color=color(sys.stderr),
                             sources=e.sources), status)
        return status
    except UserError as e:  # a bad flag, file, dataset, run directory or checkpoint
        say_error(f"gandsl: error: {e}", 2)
        return 2
    except TrainingStopped as e:
        say_error(f"gandsl: training stopped: {e}", 1)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `gandsl compile ... | head`: stop quietly, as Unix tools do
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
