"""Compiler diagnostics: spans, codes, and rendering like a compiler.

Every problem in a spec becomes a `Diagnostic` with a code from `CODES`, a span into the source,
a message and an optional hint. Passes append to a `Diagnostics` collector so that independent
problems are all reported; the pipeline raises `GandslError` when a pass ends with errors.
Rendering follows rustc/clang: `path:line:col: error[E201]: message`, the source line, a caret.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

from . import limits

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Span:
    """A region of the source: 1-based line and column of its first and last character."""

    line: int
    col: int
    end_line: int
    end_col: int
    file: int = 0  # which file of the compilation: 0 the spec, k > 0 the k-th it imports

    @staticmethod
    def point(line: int, col: int, file: int = 0) -> Span:
        return Span(line, col, line, col, file)

    def to(self, other: Span) -> Span:
        """The span from the start of `self` to the end of `other` (of the same file)."""
        return Span(self.line, self.col, other.end_line, other.end_col, self.file)


@dataclass
class Sources:
    """The files of one compilation, by `Span.file`: the spec (0) and what it imports, as
    (path, text)."""

    files: list[tuple[str, str]] = field(default_factory=list)

    def add(self, path: str, text: str) -> int:
        self.files.append((path, text))
        return len(self.files) - 1

    def of(self, span: Span, source: str, path: str) -> tuple[str, str]:
        """(text, path) of the file `span` is in; `source` and `path` are the spec's."""
        if span.file and span.file < len(self.files):
            p, text = self.files[span.file]
            return text, p
        return source, path


# One line per code: what it means. `docs/errors.md` is generated from this table by a test.
CODES: dict[str, str] = {
    # syntax (parse.py)
    "E001": "unexpected token",
    "E002": "unexpected character",
    "E003": "unexpected end of file",
    "E004": "input too large or too deeply nested",
    "E005": "number literal out of range",
    # names (lower.py, check/names.py)
    "E101": "undefined name",
    "E102": "duplicate definition",
    "E103": "unknown layer, block or function",
    "E104": "unknown keyword argument",
    "E105": "wrong number of arguments",
    "E106": "dependency cycle",
    "E107": "unknown type",
    "E108": "a --param value of the wrong kind",
    "E109": "name shadows a builtin",
    "E110": "cannot import",
    "E111": "cannot use an extern",
    # compile-time evaluation (consteval.py, lower.py)
    "E150": "invalid compile-time value",
    "E151": "division by zero",
    "E152": "expansion too large",
    "E153": "value used where a compile-time number is needed",
    "E154": "compile-time number used where a tensor is needed",
    # types and shapes (check/shapes.py)
    "E201": "type mismatch",
    "E202": "shape mismatch",
    "E203": "invalid layer argument",
    "E204": "layer needs an input",
    "E205": "wrong return",
    "E206": "network called with wrong arguments",
    "E207": "no such output",
    # objective and train (lower.py, check/objective.py)
    "E301": "invalid objective statement",
    "E302": "player has no loss reaching its networks",
    "E303": "network belongs to two players",
    "E304": "invalid train statement",
    "E305": "invalid data declaration",
    "E306": "a frozen network is trained by a player",
    # warnings
    "W501": "unused value",
    "W502": "network not trained by any player",
    "W503": "batch norm in a critic trained with a gradient penalty",
    "W504": "sigmoid before a loss that expects logits",
    "W505": "WGAN critic ends in a sigmoid",
    "W506": "generator output seen by no discriminator",
    "W507": "player's loss does not reach every network of the player",
    "W508": "network too large to train",
    "W509": "loss term reaches none of its player's networks",
}


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: str
    message: str
    span: Span
    hint: str | None = None
    notes: tuple[tuple[str, Span], ...] = ()  # secondary places, e.g. the first definition

    @property
    def severity(self) -> Severity:
        return "warning" if self.code.startswith("W") else "error"


@dataclass
class Diagnostics:
    """Collects diagnostics of one compilation; passes keep going after an error where they can."""

    items: list[Diagnostic] = field(default_factory=list)
    _seen: set[Diagnostic] = field(default_factory=set)
    sources: Sources | None = None  # the imported files, when the spec imports some

    def error(
        self,
        code: str,
        message: str,
        span: Span,
        hint: str | Callable[[], str | None] | None = None,
        notes: Iterable[tuple[str, Span]] = (),
    ) -> None:
        """Record a diagnostic. A hint that takes work to find (a "did you mean" over every
        name of the spec) may be passed as a function: it is called only while fewer than
        `limits.REPORTED` diagnostics were recorded, so reporting N errors stays linear."""
        assert code in CODES, code
        if callable(hint):
            hint = hint() if len(self.items) < limits.REPORTED.value else None
        d = Diagnostic(code, message, span, hint, tuple(notes))
        if d not in self._seen:  # a block used n times would repeat its warnings n times
            self._seen.add(d)
            self.items.append(d)

    warn = error  # the code's letter says which it is

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == "warning"]

    def raise_if_errors(self, source: str, path: str) -> None:
        if self.errors:
            raise GandslError(self.sorted(), source, path, self.sources)

    def sorted(self) -> list[Diagnostic]:
        # Stable order: by place, then code, so output is deterministic.
        return sorted(self.items, key=lambda d: (d.span.file, d.span.line, d.span.col, d.code,
                                                 d.message))


class GandslError(Exception):
    """One or more diagnostics for one spec. `str()` renders them all, compiler style."""

    def __init__(self, diagnostics: list[Diagnostic], source: str, path: str,
                 sources: Sources | None = None) -> None:
        self.diagnostics = diagnostics
        self.source = source
        self.path = path
        self.sources = sources
        super().__init__(render_all(diagnostics, source, path, color=False, sources=sources))

    @property
    def first(self) -> Diagnostic:
        return self.diagnostics[0]


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """A hint naming the closest candidate, or None when nothing is close."""
    close = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.6)
    return f"did you mean `{close[0]}`?" if close else None


_COLORS = {"error": "\x1b[1;31m", "warning": "\x1b[1;33m", "note": "\x1b[1;36m", "bold": "\x1b[1m"}
_RESET = "\x1b[0m"


def render(d: Diagnostic, source: str, path: str, color: bool = False,
           sources: Sources | None = None) -> str:
    """`path:line:col: error[E201]: message`, the source line, a caret line, notes and hint.
    A place in an imported file is shown with that file's path and line (`sources`)."""

    def paint(text: str, style: str) -> str:
        return f"{_COLORS[style]}{text}{_RESET}" if color else text

    def file_of(span: Span) -> tuple[list[str], str]:
        text, where = sources.of(span, source, path) if sources else (source, path)
        return text.split("\n"), where  # as Lark counts lines: a form feed is no break

    lines, where = file_of(d.span)
    out = [f"{paint(f'{where}:{d.span.line}:{d.span.col}:', 'bold')} "
           f"{paint(f'{d.severity}[{d.code}]:', d.severity)} {d.message}"]
    out += _excerpt(lines, d.span, d.severity, paint)
    for text, span in d.notes:
        lines, where = file_of(span)
        out.append(f"{paint('note:', 'note')} {text} (at {where}:{span.line}:{span.col})")
        out += _excerpt(lines, span, "note", paint)
    if d.hint:
        out.append(f"  = {paint('hint:', 'note')} {d.hint}")
    return "\n".join(out)


EXCERPT_WIDTH = 100  # a longer source line is shown as a window around the caret


def _excerpt(lines: list[str], span: Span, style: str, paint) -> list[str]:
    if not 1 <= span.line <= len(lines):
        return []
    text = lines[span.line - 1].expandtabs(1)
    gutter = " " * len(str(span.line))
    end = span.end_col if span.end_line == span.line else len(text)
    width = max(1, end - span.col + 1)
    col = span.col
    if len(text) > EXCERPT_WIDTH:  # a window of the line, the caret inside it
        start = 0 if col <= EXCERPT_WIDTH * 3 // 4 else \
            max(0, min(col - 1 - EXCERPT_WIDTH // 4, len(text) - EXCERPT_WIDTH))
        shown = text[start:start + EXCERPT_WIDTH]
        head = "…" if start else ""
        tail = "…" if start + EXCERPT_WIDTH < len(text) else ""
        col = col - start + len(head)
        width = min(width, EXCERPT_WIDTH - (col - 1 - len(head)))
        text = head + shown + tail
    caret = " " * (col - 1) + "^" * min(width, max(1, len(text) - col + 1))
    return [f"{gutter} |", f"{span.line} | {text}", f"{gutter} | {paint(caret, style)}"]


def render_all(diags: Iterable[Diagnostic], source: str, path: str, color: bool = False,
               sources: Sources | None = None) -> str:
    """Every diagnostic, up to `limits.REPORTED` of them; the rest are counted."""
    items = list(diags)
    shown = items[:limits.REPORTED.value]
    body = "\n\n".join(render(d, source, path, color, sources) for d in shown)
    if len(items) > len(shown):
        body += f"\n\n… and {_count(items[len(shown):], 'more ')}, not shown"
    summary = _count(items)
    return body + (f"\n\n{summary} in {path}" if summary else "")


def _count(items: list[Diagnostic], more: str = "") -> str:
    """`3 errors, 1 warning` (`3 more errors, ...` with `more`)."""
    n_err = sum(d.severity == "error" for d in items)
    counts = ((n_err, "error"), (len(items) - n_err, "warning"))
    return ", ".join(f"{n:,} {more}{word}{'s' if n != 1 else ''}" for n, word in counts if n)
