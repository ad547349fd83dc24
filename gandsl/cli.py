"""The `gandsl` command line: compile, check and graph a spec.

Exit status: 0 success, 1 the spec has errors, 2 a usage error (a bad flag or file). A bad
spec or flag never prints a Python traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from . import __version__
from .diagnostics import GandslError, render_all
from .pipeline import SpecFileError, UsageError, check_source, compile_source, display, read_spec


def _color(stream) -> bool:
    return stream.isatty() and not os.environ.get("NO_COLOR")


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

    from .parse import _number  # the language's own number syntax: 64, 1e-4, 200k
    if re.fullmatch(r"-?\d+(\.\d+)?([eE][+-]?\d+)?[kM]?", low):
        neg = low.startswith("-")
        value = _number(low.lstrip("-"))
        return -value if neg else value
    return raw


def _params(args) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for name, value in args.param or []:
        if name in params:
            raise UsageError(f"--param {name} is given twice")
        params[name] = value
    return params


def _print_diags(result_or_error, path: str, text: str) -> None:
    items = result_or_error
    if items:
        print(render_all(items, text, path, color=_color(sys.stderr)), file=sys.stderr)


def cmd_compile(args) -> int:
    text = read_spec(args.spec)
    t0 = time.perf_counter()
    result = compile_source(text, args.spec, _params(args), display_path=display(args.spec))
    out_dir = Path(args.output)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        out = out_dir / f"{Path(args.spec).stem}.py"
        out.write_text(result.python, encoding="utf-8")
    except OSError as e:
        raise UsageError(f"cannot write to {out_dir}: {e.strerror or e}") from None
    elapsed = (time.perf_counter() - t0) * 1000
    _print_diags(result.warnings, args.spec, text)
    if not args.quiet:
        from .summary import summary

        print(f"{display(args.spec)} → {display(out)}  ({elapsed:.0f} ms)\n")
        print(summary(result.spec))
    return 0


def cmd_check(args) -> int:
    text = read_spec(args.spec)
    result = check_source(text, args.spec, _params(args))
    _print_diags(result.warnings, args.spec, text)
    n = len(result.warnings)
    nets = len(result.spec.networks)
    players = len(result.spec.objective.players) if result.spec.objective else 0
    print(f"{display(args.spec)}: ok — {nets} network{'s' if nets != 1 else ''}, {players} "
          f"player{'s' if players != 1 else ''}, {n} warning{'s' if n != 1 else ''}")
    return 1 if n and args.warnings_as_errors else 0


def cmd_graph(args) -> int:
    from .graph import FORMATS, GraphvizMissing

    text = read_spec(args.spec)
    result = check_source(text, args.spec, _params(args))
    try:
        drawing = FORMATS[args.format](result.spec)
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gandsl", description="A typed language for GANs: compile specs to PyTorch.")
    parser.add_argument("--version", action="version", version=f"gandsl {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("spec", help="the .gan file")
        p.add_argument("--param", action="append", type=parse_param, metavar="NAME=VALUE",
                       help="override a `param` of the spec (repeatable)")

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
    p.add_argument("--format", choices=["dot", "mermaid", "svg"], default="dot")
    p.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    p.set_defaults(func=cmd_graph)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except GandslError as e:
        print(render_all(e.diagnostics, e.source, e.path, color=_color(sys.stderr)),
              file=sys.stderr)
        return 2 if any(d.code == "E108" for d in e.diagnostics) else 1
    except (UsageError, SpecFileError) as e:
        print(f"gandsl: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `gandsl compile ... | head`: stop quietly, as Unix tools do
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
