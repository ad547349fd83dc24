"""`gandsl fmt PATH...`: rewrite specs in place, or report (`--check`) or show (`--diff`) what
would change. Files are found under directories (`*.gan`), `-` is standard input to standard
output. A file that does not parse gets its diagnostics and is left untouched; the others are
still formatted. Status lines go to stderr, so stdout carries only the formatted text or diff.
"""

from __future__ import annotations

import difflib
import sys
from pathlib import Path

from ..atomic import replace_text
from ..diagnostics import GandslError, render_all
from ..pipeline import UsageError, display, read_spec
from . import FormatterBug, format_source

STDIN = "-"


def spec_files(paths: list[str]) -> list[str]:
    """The files named, with each directory replaced by the specs under it (sorted)."""
    found: list[str] = []
    for p in paths:
        path = Path(p)
        if p == STDIN:
            found.append(p)
        elif path.is_dir():
            specs = sorted(str(f) for f in path.rglob("*.gan") if f.is_file() and _mine(f, path))
            if not specs:
                raise UsageError(f"no .gan files under `{p}`")
            found += specs
        elif path.exists():
            found.append(p)
        else:
            raise UsageError(f"no such file or directory: `{p}`")
    return found


def _mine(file: Path, root: Path) -> bool:
    """Whether a spec found under a directory is the user's to format: not inside a hidden
    folder (.venv, .git) and not a run's record of what it trained (runs/x/spec.gan)."""
    if any(part.startswith(".") for part in file.relative_to(root).parts[:-1]):
        return False
    return not (file.name == "spec.gan" and (file.parent / "config.json").is_file())


def run(paths: list[str], check: bool, diff: bool, color: bool) -> int:
    files = spec_files(paths)
    changed: list[str] = []
    failed = 0
    for name in files:
        text = sys.stdin.buffer.read().decode("utf-8-sig") if name == STDIN else \
            read_spec(name, keep_newlines=True)
        shown = "<stdin>" if name == STDIN else display(name)
        try:
            out = format_source(text, shown)
        except GandslError as e:
            print(render_all(e.diagnostics, e.source, e.path, color=color, sources=e.sources),
                  file=sys.stderr)
            failed += 1
            continue
        except FormatterBug as e:
            print(f"gandsl: error: {e}", file=sys.stderr)
            failed += 1
            continue
        if name == STDIN and not (check or diff):
            sys.stdout.write(out)
        if out == text:
            continue
        changed.append(shown)
        if diff:
            sys.stdout.writelines(difflib.unified_diff(
                text.splitlines(keepends=True), out.splitlines(keepends=True),
                f"{shown} (original)", f"{shown} (formatted)"))
        if check:
            print(f"would reformat {shown}", file=sys.stderr)
        elif not diff and name != STDIN:
            replace_text(Path(name), out, "spec", mode=Path(name).stat().st_mode & 0o7777)
            print(f"reformatted {shown}", file=sys.stderr)
    if files != [STDIN]:
        print(_summary(len(files), len(changed), failed, dry=check or diff), file=sys.stderr)
    return 1 if failed or (check and changed) else 0


def _summary(total: int, changed: int, failed: int, dry: bool) -> str:
    def files(n: int) -> str:
        return f"{n} file{'s' if n != 1 else ''}"

    kept = total - changed - failed
    verb = ("would be " if dry else "") + "reformatted"
    parts = [f"{files(changed)} {verb}", f"{files(kept)} {'would be ' if dry else ''}"
             "left unchanged"]
    if failed:
        parts.append(f"{files(failed)} with errors (left as they are)")
    return ", ".join(parts)
