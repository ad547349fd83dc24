"""Names in a spec: which definition a name refers to (the innermost scope that defines it:
a body's own names, then the spec's declarations, then the names its imports bring), and
from that go to definition and find references. Scopes come from the syntax tree, names and
their places from the parser's tokens (`features.Document`)."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types as T

from .. import syntax as S
from ..diagnostics import GandslError, Span
from ..parse import parse
from .features import Document, contains, lsp_range, top_items, word_at


def scopes(doc: Document) -> list[tuple[Span, dict[str, Span]]]:
    if doc.scopes is None:
        doc.scopes = _find_scopes(doc)
    return doc.scopes


def _find_scopes(doc: Document) -> list[tuple[Span, dict[str, Span]]]:
    """(span, name → its first definition) of the whole spec (declarations) and of each
    body that has names of its own (a network's inputs and variables, a block's parameters
    and variables, the objective's values), outermost first."""
    if doc.module is None:
        return []
    top: dict[str, Span] = {}
    scopes = []
    for item in top_items(doc.module.items):
        span = getattr(item, "name_span", None)
        if span is not None and not span.file:
            top.setdefault(item.name, span)
        local: dict[str, Span] = {}
        for i in getattr(item, "inputs", []):
            local.setdefault(i.name, i.span)
        for p in getattr(item, "params", []) if isinstance(item, S.BlockDecl) else []:
            local.setdefault(p.name, p.span)
        for stmt in _statements(getattr(item, "body", [])):
            for target in getattr(stmt, "targets", []):
                if isinstance(target, S.Name):
                    local.setdefault(target.id, target.span)
            if isinstance(stmt, S.For):
                local.setdefault(stmt.var, stmt.var_span)
        if local and not item.span.file:
            scopes.append((item.span, local))
    return [(Span(1, 1, 10 ** 9, 10 ** 9), top), *scopes]


def _statements(body: list) -> list:
    out = []
    for stmt in body:
        out.append(stmt)
        if isinstance(stmt, S.For):
            out += _statements(stmt.body)
        elif isinstance(stmt, S.If):
            out += _statements([*stmt.then, *(stmt.orelse or [])])
    return out


def resolve(doc: Document, name: str, at: Span) -> Span | None:
    """The definition a name at a place refers to: the innermost scope that defines it."""
    found = None
    for span, names in scopes(doc):
        if contains(span, at.line, at.col) and name in names:
            found = names[name]
    return found


def imported(doc: Document) -> dict[str, tuple[str, Span, str]]:
    """The names the spec's imports bring: name → (file URI, its declaration, the path as
    the spec's folder sees it)."""
    if doc.imported is None:
        doc.imported = {}
        a = doc.analysis
        base = Path(doc.path).parent
        for k, rel in sorted(a.imports.items()):
            path, text = a.sources.files[k]
            try:
                module = parse(text, path, file=k)
            except GandslError:
                continue
            uri = (base / rel).resolve().as_uri()
            for item in top_items(module.items):
                span = getattr(item, "name_span", None)
                if span is not None:
                    doc.imported.setdefault(item.name, (uri, span, rel))
    return doc.imported


def definition(doc: Document, line: int, character: int) -> T.Location | None:
    """Where the name under the cursor is defined: in this spec, or in a file it imports."""
    word = word_at(doc, line + 1, character + 1)
    if word is None:
        return None
    target = resolve(doc, *word)
    if target is None and word[0] in imported(doc):
        uri, span, _ = imported(doc)[word[0]]
        return T.Location(uri, lsp_range(span))
    return T.Location(doc.uri, lsp_range(target)) if target is not None else None


def references(doc: Document, line: int, character: int,
               include_declaration: bool = True) -> list[T.Location]:
    """Every use of the name under the cursor that refers to the same definition."""
    word = word_at(doc, line + 1, character + 1)
    if word is None:
        return []
    target = resolve(doc, *word)
    if target is None and word[0] in imported(doc):  # the spec's uses of an imported name
        uri, span, _ = imported(doc)[word[0]]
        return [*([T.Location(uri, lsp_range(span))] if include_declaration else []),
                *(T.Location(doc.uri, lsp_range(s)) for name, s in doc.names
                  if name == word[0] and resolve(doc, name, s) is None)]
    if target is None:
        return []
    return [T.Location(doc.uri, lsp_range(span)) for name, span in doc.names
            if name == word[0] and resolve(doc, name, span) == target
            and (include_declaration or span != target)]
