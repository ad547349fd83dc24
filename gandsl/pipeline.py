"""The only place that orders the passes: parse → lower → check → emit.

`GANDSL_DEBUG=1` prints each pass and its time to stderr, `=2` also the IR, `=3` also the
generated source.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import imports
from . import syntax as S
from .check import check
from .diagnostics import Diagnostic, Diagnostics, GandslError, Sources
from .errors import UserError
from .ir import Spec
from .lower import lower
from .parse import parse
from .syntax import meaning

RECURSION_LIMIT = 3_000


@dataclass
class Result:
    spec: Spec
    warnings: list[Diagnostic]
    text: str  # the spec's source
    path: str
    # the files the spec imports: index (`Span.file`) → path relative to the spec's folder,
    # and every file's text (`sources.files[k]`, the spec's at 0)
    imports: dict[int, str] = field(default_factory=dict)
    sources: Sources | None = None
    python: str | None = None  # the generated module, when emitted
    timings: dict[str, float] = field(default_factory=dict)


def _debug_level() -> int:
    try:
        return int(os.environ.get("GANDSL_DEBUG", "0"))
    except ValueError:
        return 0


@contextmanager
def _compiling():
    """How the passes run: with room on Python's stack for what the limits allow
    (`gandsl.limits`: 100 levels of expression and 100 of bodies, each a few frames deep in
    the passes), and without the cyclic garbage collector, whose full collections walk every
    live object (a large spec's syntax tree and IR) again and again; both restored after."""
    before = sys.getrecursionlimit()
    collecting = gc.isenabled()
    sys.setrecursionlimit(max(before, RECURSION_LIMIT))
    gc.disable()
    try:
        yield
    finally:
        sys.setrecursionlimit(before)
        if collecting:
            gc.enable()


def check_source(text: str, path: str = "<spec>", params: dict[str, Any] | None = None) -> Result:
    """Parse, lower and check. Raises `GandslError` when there is any error."""
    with _compiling():
        return _check_source(text, path, params)


def _check_source(text: str, path: str, params: dict[str, Any] | None) -> Result:
    diags = Diagnostics()
    timings: dict[str, float] = {}

    def overrides(module: S.Module) -> dict[str, Any]:
        _check_overrides(module, params or {})
        return dict(params or {})
    t0 = time.perf_counter()
    syntax = parse(text, path)
    timings["parse"] = time.perf_counter() - t0
    imported, spec = _passes(syntax, text, path, overrides, diags, timings)
    if _debug_level():
        for name, t in timings.items():
            print(f"[gandsl] {name:6s} {t * 1000:7.2f} ms", file=sys.stderr)
        if _debug_level() >= 2:
            print(spec.model_dump_json(indent=2), file=sys.stderr)
    diags.raise_if_errors(text, path)
    return Result(spec=spec, warnings=diags.sorted(), text=text, path=path, timings=timings,
                  imports=imported.relative, sources=diags.sources)


def _passes(syntax: S.Module, text: str, path: str,
            params: Callable[[S.Module], dict[str, Any]], diags: Diagnostics,
            timings: dict[str, float]) -> tuple[imports.Imported, Spec]:
    """(the imports spliced in, the checked IR) of a parsed spec; raises `GandslError` for a
    missing import, and leaves the other errors in `diags`. `params(module)`: the overrides
    to lower with, given the spliced tree. Import resolution counts as parsing in `timings`."""
    t0 = time.perf_counter()
    imported = imports.resolve(syntax, text, path, diags)
    diags.raise_if_errors(text, path)  # a missing file would only echo as undefined names
    timings["parse"] = timings.get("parse", 0.0) + time.perf_counter() - t0
    given = params(imported.module)
    t0 = time.perf_counter()
    spec = lower(imported.module, text, path, given, diags)
    spec.imports = [p for p, _ in imported.sources.files[1:]]
    timings["lower"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    check(spec, diags)
    timings["check"] = time.perf_counter() - t0
    return imported, spec


@dataclass
class Analysis:
    """What the checker knows of a spec, errors or not (for the language server)."""

    spec: Spec | None  # None when the text does not parse or an import is missing
    diagnostics: list[Diagnostic]  # every error and warning, in source order
    sources: Sources | None = None  # the imported files' texts, when it imports some
    # imported file index (`Span.file`) → its path relative to the spec's folder
    imports: dict[int, str] = field(default_factory=dict)
    syntax: S.Module | None = None  # the spec's own syntax tree, when it parses


def analyze(text: str, path: str = "<spec>", params: dict[str, Any] | None = None) -> Analysis:
    """Parse, lower and check without raising for the spec's errors: the IR, typed wherever
    the checker could type it, beside every diagnostic. Params that the spec does not declare
    are left out (a language server's setting may name another spec's)."""
    diags = Diagnostics()

    def declared(module: S.Module) -> dict[str, Any]:
        names = _declared_params(module)
        return {k: v for k, v in (params or {}).items() if k in names}
    with _compiling():
        syntax = None
        try:
            syntax = parse(text, path)
            imported, spec = _passes(syntax, text, path, declared, diags, {})
        except GandslError as e:
            return Analysis(None, list(e.diagnostics), e.sources, syntax=syntax)
    return Analysis(spec, diags.sorted(), diags.sources, dict(imported.relative), syntax)


def compile_source(text: str, path: str = "<spec>", params: dict[str, Any] | None = None,
                   display_path: str | None = None) -> Result:
    """Check, then emit Python. Raises `GandslError` when there is any error."""

    return emit_checked(check_source(text, path, params), display_path)


def emit_checked(result: Result, display_path: str | None = None) -> Result:
    """Emit the Python of a checked spec (`result.python`)."""
    from .emit import emit

    t0 = time.perf_counter()
    with _compiling():
        result.python = emit(result.spec, display_path)
    result.timings["emit"] = time.perf_counter() - t0
    if _debug_level() >= 1:
        print(f"[gandsl] emit   {result.timings['emit'] * 1000:7.2f} ms", file=sys.stderr)
    if _debug_level() >= 3:
        print(result.python, file=sys.stderr)
    return result


def module_paths(spec: Spec) -> dict[str, dict[str, str]]:
    """Network → its layers' node names → their module paths in the network's generated
    class (`main.3`, `blocks.0.conv`): where a layer's weights live."""
    from .emit import classes

    sources, class_of, _ = classes(spec)
    paths = {c.name: c.paths for c in sources}
    return {net: dict(paths.get(cls, {})) for net, cls in class_of.items()}


def spec_identity(text: str, params: dict[str, Any], path: str | None = None) -> str:
    """What a checkpoint must match to be resumed (`gandsl train --resume`): the spec's syntax
    tree (so comments and layout may change), with the files it imports spliced in, and its
    params."""
    module = parse(text, path or "<spec>")
    if path is not None:
        try:
            module = imports.resolve(module, text, str(path), Diagnostics()).module
        except GandslError:  # compiling it reports this properly
            pass
    tree = repr(meaning(module))
    return hashlib.sha256(json.dumps(["tree", tree, sorted(params.items())], default=str)
                          .encode()).hexdigest()


def read_spec(path: str | Path, keep_newlines: bool = False) -> str:
    """The spec's text. Line endings become "\\n" unless `keep_newlines` (`gandsl fmt` keeps a
    Windows file's CRLF)."""
    try:  # utf-8-sig: a byte order mark, which some editors write, is not part of the text
        with open(path, encoding="utf-8-sig", newline="" if keep_newlines else None) as f:
            return f.read()
    except OSError as e:
        raise SpecFileError(f"cannot read spec `{path}`: {e.strerror or e}") from None
    except UnicodeDecodeError as e:
        raise SpecFileError(f"spec `{path}` is not UTF-8 text ({e.reason} at byte "
                            f"{e.start})") from None


class SpecFileError(UserError):
    """The spec file itself cannot be read."""


class UsageError(UserError):
    """A bad flag or argument (exit status 2)."""


def _declared_params(module: S.Module) -> list[str]:
    """The params `--param` may set: those the spec declares at its top level."""
    return [i.name for i in module.items if isinstance(i, S.ParamDecl)]


def _check_overrides(module, params: dict[str, Any]) -> None:
    from .diagnostics import did_you_mean

    declared = _declared_params(module)
    for name in params:
        if name not in declared:
            hint = did_you_mean(name, declared)
            known = f"; its params are {', '.join(declared)}" if declared else \
                "; it declares no params"
            raise UsageError(f"--param {name}: the spec has no param `{name}`"
                             f"{' (' + hint + ')' if hint else known}")


def display(path: str | Path) -> str:
    """The path as it should appear in generated files: relative to the working directory
    when inside it, so the same spec gives the same bytes wherever the repo lives."""
    p = Path(path)
    try:
        return p.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return p.as_posix()


__all__ = ["Result", "check_source", "compile_source", "read_spec", "SpecFileError",
           "UsageError", "GandslError", "display", "spec_identity"]
