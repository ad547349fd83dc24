"""The language server's help while typing: completion, signature help, rename, quick fixes
and range formatting. Like `features.py`, pure functions of a `Document`: the catalog says
what a layer, function or data source takes; the document's scopes say which names exist.
"""

from __future__ import annotations

import difflib
import keyword
import re

from lsprotocol import types as T

from ..catalog import DATA_SOURCES
from ..diagnostics import GandslError, Span
from ..fmt import format_source
from ..functions import FUNCTIONS
from ..layers import LAYERS
from ..parse import RESERVED as SPEC_RESERVED
from ..parse import blanked
from .features import Document, contains, lsp_range, signature, spec_literal, word_at
from .names import imported, resolve, scopes

_CALL = re.compile(r"([A-Za-z_]\w*)\s*\($")
_IDENT = re.compile(r"[A-Za-z_]\w*\Z")


# ---- completion --------------------------------------------------------------------------

def completion(doc: Document, line: int, character: int) -> list[T.CompletionItem]:
    """What may be written at the cursor: after `->` a layer; inside a call its keyword
    arguments (with their defaults) and the names in scope; after `data x: ... =` a data
    source; elsewhere the names in scope, the layers and the functions."""
    before = doc.text.split("\n")[line][:character] if line < doc.text.count("\n") + 1 else ""
    before = before[:len(before) - len(re.search(r"\w*$", before).group())]  # the word typed
    if re.search(r"->\s*$", before):
        return [_catalog_item(name) for name in sorted(LAYERS)]
    if re.match(r"\s*data\s+\w+.*=\s*$", before):
        return [T.CompletionItem(name, kind=T.CompletionItemKind.Module, detail="data source",
                                 documentation=s.doc) for name, s in sorted(DATA_SOURCES.items())]
    items = _in_scope(doc, line, character)
    call = _open_call(doc, line, character)
    if call is not None:
        items = _keywords(call[0]) + items
    return items + [_catalog_item(n) for n in sorted(LAYERS)] + \
        [_catalog_item(n) for n in sorted(FUNCTIONS)]


def _in_scope(doc: Document, line: int, character: int) -> list[T.CompletionItem]:
    seen: dict[str, T.CompletionItem] = {}
    for span, names in scopes(doc):
        if contains(span, line + 1, character + 1):
            for name in names:
                seen[name] = T.CompletionItem(name, kind=T.CompletionItemKind.Variable,
                                              detail=_what(doc, name))
    return list(seen.values())


def _what(doc: Document, name: str) -> str | None:
    spec = doc.spec
    if spec is None:
        return None
    for p in spec.params:
        if p.name == name:
            return f"param = {spec_literal(p.value)}"
    for n in spec.networks:
        if n.name == name:
            return "network"
    for d in spec.datasets:
        if d.name == name:
            return "data: " + ", ".join(map(str, d.fields))
    return None


def _catalog_item(name: str) -> T.CompletionItem:
    """A layer or function of the catalog, with its signature and documentation line."""
    label, _, doc = signature(name)
    return T.CompletionItem(name, kind=T.CompletionItemKind.Function, detail=label,
                            documentation=doc)


def _keywords(name: str) -> list[T.CompletionItem]:
    """`stride=` and the other keyword arguments of a layer or function, with defaults."""
    sig = signature(name)
    if sig is None:
        return []
    return [T.CompletionItem(f"{p.split('=')[0]}=", kind=T.CompletionItemKind.Property,
                             detail=p, documentation=d, sort_text=f"0{k:03d}")
            for k, (p, d) in enumerate(sig[1])]


def _open_call(doc: Document, line: int, character: int) -> tuple[str, int, str] | None:
    """(name, index of the argument the cursor is in, that argument's text so far) of the
    innermost call still open at the cursor, strings and comments left out."""
    lines = doc.text.split("\n")
    text = "\n".join([*lines[:line], lines[line][:character] if line < len(lines) else ""])
    text = blanked(text)
    depth, commas, current = 0, 0, None
    for i in range(len(text) - 1, -1, -1):
        ch = text[i]
        if ch in ")]}":
            depth += 1
        elif ch in "([{":
            if depth == 0:
                if ch != "(":
                    return None
                m = _CALL.search(text[:i + 1])
                return (m.group(1), commas, text[i + 1:] if current is None else current) \
                    if m else None
            depth -= 1
        elif ch == "," and depth == 0:
            current = text[i + 1:] if current is None else current
            commas += 1
        elif ch == "\n" and depth == 0 and text[:i].rstrip().endswith("{"):
            return None
    return None


def signature_help(doc: Document, line: int, character: int) -> T.SignatureHelp | None:
    call = _open_call(doc, line, character)
    sig = signature(call[0]) if call else None
    if sig is None:
        return None
    label, params, documentation = sig
    named = re.match(r"\s*(\w+)\s*=", call[2])  # `pad=`: that parameter, wherever it is
    names = [p.split("=")[0] for p, _ in params]
    active = names.index(named.group(1)) if named and named.group(1) in names else call[1]
    return T.SignatureHelp(
        signatures=[T.SignatureInformation(
            label, documentation=documentation,
            parameters=[T.ParameterInformation(p, documentation=d) for p, d in params])],
        active_signature=0, active_parameter=min(active, max(len(params) - 1, 0)))


# ---- rename ------------------------------------------------------------------------------

def rename(doc: Document, line: int, character: int, new_name: str) -> T.WorkspaceEdit:
    """Every reference of the name under the cursor renamed; `ValueError` saying why when
    the new name would break the spec: not a name, a reserved word, a layer's or a
    function's name, or a name that would change what another name refers to (checked by
    resolving every name of the renamed text again) or add an error."""
    word = word_at(doc, line + 1, character + 1)
    target = resolve(doc, *word) if word else None
    if target is None and word and word[0] in imported(doc):
        raise ValueError(f"`{word[0]}` is defined in {imported(doc)[word[0]][2]}: rename it "
                         "there, where the other specs that import it see it too")
    if target is None:
        raise ValueError("nothing to rename here: put the cursor on a name the spec defines")
    if not _IDENT.match(new_name) or keyword.iskeyword(new_name):
        raise ValueError(f"`{new_name}` is not a name: letters, digits and `_`, not first a "
                         "digit")
    if new_name in SPEC_RESERVED or new_name in LAYERS or new_name in FUNCTIONS:
        raise ValueError(f"`{new_name}` is a reserved word, a layer or a function of gandsl")
    renamed = [k for k, (name, span) in enumerate(doc.names)
               if name == word[0] and resolve(doc, name, span) == target]
    edits = [T.TextEdit(lsp_range(doc.names[k][1]), new_name) for k in renamed]
    after = Document.of(doc.uri, _applied(doc.text, [doc.names[k][1] for k in renamed],
                                          new_name), doc.params)
    if _meanings(after) != _meanings(doc):
        raise ValueError(f"renaming to `{new_name}` would change what other names refer to")
    if len(after.analysis.diagnostics) > len(doc.analysis.diagnostics):
        raise ValueError(f"renaming to `{new_name}` would make the spec wrong: "
                         f"{after.analysis.diagnostics[0].message}")
    return T.WorkspaceEdit(changes={doc.uri: edits})


def _meanings(doc: Document) -> list[int | None]:
    """For each name of the document, in order, the index of the name that defines it."""
    index = {span: k for k, (_, span) in enumerate(doc.names)}
    return [index.get(resolve(doc, name, span)) for name, span in doc.names]


def _applied(text: str, spans: list[Span], new: str) -> str:
    """`text` with each (one-line) span replaced by `new`, the last first."""
    lines = text.split("\n")
    for span in sorted(spans, key=lambda s: (s.line, s.col), reverse=True):
        row = lines[span.line - 1]
        lines[span.line - 1] = row[:span.col - 1] + new + row[span.end_col:]
    return "\n".join(lines)


def prepare_rename(doc: Document, line: int, character: int) -> T.Range | None:
    word = word_at(doc, line + 1, character + 1)
    if word is None or resolve(doc, *word) is None:
        return None
    return lsp_range(word[1])


# ---- quick fixes and range formatting ----------------------------------------------------

_MEAN = re.compile(r"did you mean `([^`]+)`\?")


def code_actions(doc: Document, diagnostics: list[T.Diagnostic]) -> list[T.CodeAction]:
    """A quick fix for every diagnostic whose hint says "did you mean `x`?": the range it
    marks replaced by `x`."""
    out = []
    for d in diagnostics:
        m = _MEAN.search(d.message)
        if m is None:
            continue
        out.append(T.CodeAction(
            title=f"Change to `{m.group(1)}`", kind=T.CodeActionKind.QuickFix,
            diagnostics=[d], is_preferred=True,
            edit=T.WorkspaceEdit(changes={doc.uri: [T.TextEdit(d.range, m.group(1))]})))
    return out


def range_formatting(doc: Document, first: int, last: int) -> list[T.TextEdit]:
    """`gandsl fmt`'s changes to the lines `first`..`last` (0-based): the document is laid
    out whole, and only the changed runs of lines that touch the range are kept."""
    try:
        formatted = format_source(doc.text, doc.path)
    except GandslError:
        return []
    old, new = doc.text.split("\n"), formatted.split("\n")
    edits = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new,
                                                      autojunk=False).get_opcodes():
        if tag == "equal" or i2 - 1 < first or i1 > last:
            continue
        text = "".join(line + "\n" for line in new[j1:j2])
        edits.append(T.TextEdit(T.Range(T.Position(i1, 0), T.Position(i2, 0)), text))
    return edits


__all__ = ["completion", "signature_help", "rename", "prepare_rename", "code_actions",
           "range_formatting"]
