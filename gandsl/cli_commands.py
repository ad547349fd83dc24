"""The commands of the `gandsl` command line, one function each: `cmd_compile`, `cmd_check`,
`cmd_graph`, `cmd_fmt`, `cmd_train`, `cmd_bench`, `cmd_sample` and `cmd_eval`. Each takes the
parsed arguments (`gandsl.cli.build_parser`) and returns the exit status; `gandsl.cli.main`
turns the errors they raise into messages and statuses.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

from .diagnostics import render_all
from .pipeline import UsageError, check_source, compile_source, display, read_spec
from .train.launch import say_error


def color(stream) -> bool:
    return stream.isatty() and not os.environ.get("NO_COLOR")


def params_of(args) -> dict[str, Any]:
    """The `--param NAME=VALUE` flags as a dict; a name given twice is an error."""
    params: dict[str, Any] = {}
    for name, value in args.param or []:
        if name in params:
            raise UsageError(f"--param {name} is given twice")
        params[name] = value
    return params


def _print_warnings(result) -> None:
    if result.warnings:
        print(render_all(result.warnings, result.text, result.path, color=color(sys.stderr),
                         sources=result.sources), file=sys.stderr)


def cmd_compile(args) -> int:
    text = read_spec(args.spec)
    t0 = time.perf_counter()
    result = compile_source(text, args.spec, params_of(args), display_path=display(args.spec))
    out_dir = Path(args.output)
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"-o {out_dir}: that is a file; expected a directory for "
                         f"{Path(args.spec).stem}.py")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        out = out_dir / f"{Path(args.spec).stem}.py"
        out.write_text(result.python, encoding="utf-8")
    except OSError as e:
        raise UsageError(f"cannot write to {out_dir}: {e.strerror or e}") from None
    elapsed = (time.perf_counter() - t0) * 1000
    _print_warnings(result)
    if not args.quiet:
        from .summary import summary

        print(f"{display(args.spec)} → {display(out)}  ({elapsed:.0f} ms)\n")
        print(summary(result.spec))
    return 0


def cmd_check(args) -> int:
    text = read_spec(args.spec)
    result = check_source(text, args.spec, params_of(args))
    _print_warnings(result)
    n = len(result.warnings)
    nets = len(result.spec.networks)
    players = len(result.spec.objective.players) if result.spec.objective else 0
    print(f"{display(args.spec)}: ok — {nets} network{'s' if nets != 1 else ''}, {players} "
          f"player{'s' if players != 1 else ''}, {n} warning{'s' if n != 1 else ''}")
    return 1 if n and args.warnings_as_errors else 0


_GRAPH_SUFFIXES = {".svg": "svg", ".dot": "dot", ".gv": "dot", ".mmd": "mermaid",
                   ".mermaid": "mermaid"}


def cmd_graph(args) -> int:
    from .graph import FORMATS, GraphvizMissing

    text = read_spec(args.spec)
    result = check_source(text, args.spec, params_of(args))
    # without --format, the output file's suffix says which (g.svg, g.mmd), else DOT
    fmt = args.format or _GRAPH_SUFFIXES.get(Path(args.output or "").suffix.lower(), "dot")
    try:
        drawing = FORMATS[fmt](result.spec)
    except GraphvizMissing as e:
        print(f"gandsl: error: {e}", file=sys.stderr)
        return 1
    if args.output:
        try:
            Path(args.output).write_text(drawing, encoding="utf-8")
        except OSError as e:
            raise UsageError(f"cannot write {args.output}: {e.strerror or e}") from None
    else:
        sys.stdout.write(drawing)
    return 0


def cmd_fmt(args) -> int:
    from .fmt.command import run

    return run(args.paths, check=args.check, diff=args.diff, color=color(sys.stderr))


def _default_out(spec: str) -> Path:
    """runs/<spec>, or runs/<spec>-2, -3, ... when that holds a run already."""
    from .train.config import run_files

    base = Path("runs") / Path(spec).stem
    out, k = base, 1
    while run_files(out):
        k += 1
        out = base.with_name(f"{base.name}-{k}")
    return out


def cmd_train(args) -> int:
    from .train import distributed, launch

    if args.nproc > 1 and not distributed.launched():
        # the shortcut: torchrun starts the processes, each one runs this command without
        # --nproc; under torchrun already, the launcher has said how many there are
        return launch.relaunch(args.nproc, launch.without_nproc(args.argv))
    from .train.config import RunConfig
    from .train.trainer import Trainer

    resume = Path(args.resume) if args.resume else None
    if resume is not None and args.out:
        from .train import checkpoint as ckpt

        run_dir = ckpt.find(resume).parent.parent
        if Path(args.out).resolve() != run_dir.resolve():
            raise UsageError(f"--out {args.out}: a resumed run continues in its own directory, "
                             f"{run_dir}; leave --out out")
    if resume is None and args.out and distributed.restarted() and \
            (Path(args.out) / "checkpoints" / "latest.json").is_file():
        # torchrun restarted the processes after a failure, with the same command line: the
        # run continues from its last checkpoint rather than refusing a directory in use
        resume = Path(args.out)
    restarted = resume is None and args.out is not None and distributed.restarted()
    config = RunConfig(
        spec=args.spec, params=params_of(args), data=args.data, steps=args.steps,
        batch=args.batch, out=Path(args.out) if args.out else _default_out(args.spec),
        resume=resume, device=args.device,
        seed=args.seed, sample_every=args.sample_every, checkpoint_every=args.checkpoint_every,
        log_every=args.log_every, workers=args.workers, bf16=args.bf16,
        channels_last=args.channels_last, progress=not args.no_progress, restarted=restarted,
        kernels=args.kernels, threads=args.threads, print_every=args.print_every)
    t0 = time.perf_counter()
    trainer = None
    try:
        trainer = Trainer(config)
        out = trainer.run()
    except KeyboardInterrupt:
        if trainer is not None and trainer.main:
            say_error(f"gandsl: interrupted at iteration {trainer.step:,}; "
                      f"{_resume_hint(trainer.out)}", 130)
        raise
    finally:
        distributed.destroy()
    if not trainer.main:  # rank 0 speaks for the run
        return 0
    grids = sorted((out / "samples").glob("step_*.png"))
    processes = f" on {trainer.world} processes" if trainer.world > 1 else ""
    print(f"trained {trainer.step} iterations{processes} in {time.perf_counter() - t0:.0f} s "
          f"→ {out}")
    if grids:
        print(f"samples: {grids[-1]}")
    return 0


def cmd_bench(args) -> int:
    from .train.bench import bench, table
    from .train.config import RunConfig

    config = RunConfig(spec=args.spec, params=params_of(args), data=args.data, steps=args.steps,
                       batch=args.batch, device=args.device, seed=args.seed, bf16=args.bf16,
                       channels_last=args.channels_last, progress=False,
                       kernels=args.kernels, threads=args.threads)
    print(table(bench(config, iters=args.iters, warmup=args.warmup, at_step=args.at_step)))
    return 0


def _resume_hint(out: Path) -> str:
    from .train import checkpoint as ckpt
    from .train.checkpoint import CheckpointError

    try:
        return f"the last checkpoint is {ckpt.find(out)}: continue with --resume {out}"
    except CheckpointError:
        return "no checkpoint had been written yet"


def cmd_sample(args) -> int:
    from .train.sample import sample

    out = sample(Path(args.run), n=args.n, labels=args.label, out=Path(args.output)
                 if args.output else None, truncation=args.truncation, device=args.device,
                 data=args.data, seed=args.seed, per_class=args.per_class)
    print(out)
    return 0


def cmd_eval(args) -> int:
    from .eval.run import evaluate, table

    which = tuple(m.strip() for m in args.metrics.split(",") if m.strip())
    options = dict(data=args.data, n=args.n, which=which, device=args.device, seed=args.seed,
                   inception=args.inception)
    if args.curve:
        from .eval.curve import curve

        data, image = curve(Path(args.run), **options)
        print(f"→ {data}\n→ {image}")
        return 0
    result = evaluate(Path(args.run), **options)
    print(table(result))
    print(f"→ {Path(result['run']) / 'eval.json'}")
    return 0


def cmd_export(args) -> int:
    from .export import export
    from .train import checkpoint as ckpt

    run = Path(args.run)
    out = args.out or (ckpt.find(run).parent.parent / "export")
    export(run, args.format, out, networks=args.network, ema=args.ema)
    return 0


def cmd_lsp(args) -> int:
    from .lsp import serve

    serve()
    return 0
