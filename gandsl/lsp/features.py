"""What the language server shows, computed from one analysis of a document (`Document`):
diagnostics, inlay hints with shapes, hover, outline, folding, definitions and references.

Pure functions of the text and the compiler's passes (`pipeline.analyze`, `parse.tokens`,
the syntax tree): the server (`server.py`) only wires them to LSP requests. Spans are the
compiler's (1-based lines and columns, ends inclusive); LSP positions are 0-based with
exclusive ends. Columns count characters, as the compiler does.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from urllib.parse import unquote, urlparse

from lsprotocol import types as T

from .. import syntax as S
from ..diagnostics import Diagnostic, Span
from ..functions import FUNCTIONS
from ..ir import Spec
from ..layers import LAYERS
from ..parse import blanked, parse_partial, tokens
from ..pipeline import Analysis, analyze
from ..types import TensorType


def path_of(uri: str) -> str:
    """A document's URI as the compiler names its file: the path of a `file:` URI, else the
    URI itself (an unsaved buffer)."""
    parsed = urlparse(uri)
    return unquote(parsed.path) if parsed.scheme == "file" else uri


def lsp_range(span: Span) -> T.Range:
    return T.Range(T.Position(span.line - 1, span.col - 1),
                   T.Position(span.end_line - 1, span.end_col))


def contains(span: Span, line: int, col: int) -> bool:
    """Is the 1-based (line, col) inside the span?"""
    return (span.line, span.col) <= (line, col) <= (span.end_line, span.end_col)


def _size(span: Span) -> tuple[int, int]:
    return (span.end_line - span.line, span.end_col - span.col)


@dataclass
class Document:
    """One version of a document, analysed once: every feature reads this."""

    uri: str
    path: str  # the file as the compiler names it (`path_of(uri)`)
    text: str
    analysis: Analysis
    module: S.Module  # the syntax tree: of the items that parse alone, when not all do
    names: list[tuple[str, Span]] = field(default_factory=list)  # NAME tokens
    scopes: list | None = None  # `names.scopes`, found on first use
    imported: dict | None = None  # `names.imported`, found on first use
    params: dict | None = None  # the `--param`-style settings it was analysed with

    @classmethod
    def of(cls, uri: str, text: str, params: dict | None = None) -> Document:
        path = path_of(uri)
        analysis = analyze(text, path, params)
        if analysis.syntax is None:  # the items that parse alone still have their outline
            return cls(uri, path, text, analysis, parse_partial(text, path), [], params=params)
        names = [(str(t), Span(t.line, t.column, t.end_line, t.end_column - 1))
                 for t in tokens(text) if t.type == "NAME"]
        return cls(uri, path, text, analysis, analysis.syntax, names, params=params)

    @property
    def spec(self) -> Spec | None:
        return self.analysis.spec


# ---- diagnostics -------------------------------------------------------------------------

def diagnostics(doc: Document) -> list[T.Diagnostic]:
    """Every error and warning: at its place in this file, or, for one in a file it imports,
    at the top with that file's place in the message."""
    return [_diagnostic(doc, d) for d in doc.analysis.diagnostics]


def _diagnostic(doc: Document, d: Diagnostic) -> T.Diagnostic:
    message = d.message + (f"\nhint: {d.hint}" if d.hint else "")
    span = d.span
    if span.file:
        files = doc.analysis.sources.files if doc.analysis.sources else []
        where = files[span.file][0] if span.file < len(files) else "an imported file"
        message = f"in {where}:{span.line}:{span.col}: {message}"
        span = Span.point(1, 1)
    related = [T.DiagnosticRelatedInformation(T.Location(doc.uri, lsp_range(s)), note)
               for note, s in d.notes if not s.file]
    return T.Diagnostic(
        range=lsp_range(span), message=message, code=d.code, source="gandsl",
        severity=T.DiagnosticSeverity.Warning if d.severity == "warning"
        else T.DiagnosticSeverity.Error,
        related_information=related or None)


# ---- inlay hints -------------------------------------------------------------------------

def _shape(t: object) -> str | None:
    if not isinstance(t, TensorType):
        return None
    return t.shape_comment() if t.kind != "loss" else "loss"


def _shapes(types: list[str]) -> str:
    """One shape, or the first and last of a step that runs several times (a loop, a block
    used with different sizes)."""
    distinct = list(dict.fromkeys(types))
    return distinct[0] if len(distinct) == 1 else f"{distinct[0]} … {distinct[-1]}"


def inlay_hints(doc: Document) -> list[T.InlayHint]:
    """The shape after every chain step and definition, and each network's parameters."""
    spec = doc.spec
    if spec is None:
        return []
    at: dict[tuple[int, int], list[str]] = defaultdict(list)
    for net in spec.networks:
        for node in net.nodes:
            shape = _shape(node.type)
            if node.op != "input" and shape and not node.span.file:
                at[(node.span.end_line, node.span.end_col)].append(shape)
        for inst in net.blocks:  # a block's result where the network calls it
            shape = _shape(net.nodes[inst.result].type)
            if inst.depth == 0 and inst.call is not None and not inst.call.file and shape:
                at[(inst.call.end_line, inst.call.end_col)].append(shape)
    labels = {pos: _shapes(shapes) for pos, shapes in at.items()}
    if spec.objective is not None:  # its named values; a draw of several, each by name
        named: dict[tuple[int, int], dict[str, str]] = defaultdict(dict)
        for onode in spec.objective.nodes:
            shape = _shape(onode.type)
            if onode.var and shape and not onode.span.file:
                named[(onode.span.end_line, onode.span.end_col)].setdefault(onode.var, shape)
        for pos, values in named.items():
            labels[pos] = next(iter(values.values())) if len(values) == 1 else \
                ", ".join(f"{var}: {shape}" for var, shape in values.items())
    hints = [T.InlayHint(position=T.Position(line - 1, col), label=label,
                         kind=T.InlayHintKind.Type, padding_left=True)
             for (line, col), label in sorted(labels.items())]
    for net in spec.networks:
        if net.span.file or not net.complete:
            continue
        total = sum(n.params for n in net.nodes)
        hints.append(T.InlayHint(position=T.Position(net.span.end_line - 1, _name_end(doc, net)),
                                 label=f"{total:,} params", padding_left=True))
    return sorted(hints, key=lambda h: (h.position.line, h.position.character))


def _name_end(doc: Document, net) -> int:
    """The column (0-based) just after a network's name on its header line."""
    line = doc.text.split("\n")[net.span.line - 1]
    m = re.compile(rf"\b{re.escape(net.name)}\b").search(line, net.span.col - 1)
    return m.end() if m else net.span.end_col


# ---- hover -------------------------------------------------------------------------------

def hover(doc: Document, line: int, character: int) -> T.Hover | None:
    """The value under the cursor (its type, shapes and parameters), else the layer,
    function or declaration its name stands for."""
    pos = (line + 1, character + 1)
    word = word_at(doc, *pos)
    value = _value_at(doc, *pos)
    parts = []
    if value is not None:
        op, types, params, span = value
        text = f"```\n{op} → {types[0]}\n```\n{_shapes([t.shape_comment() for t in types])}"
        if params:
            text += f" · {params:,} parameters"
        parts.append(text)
    if word is not None:
        name, span = word
        parts += [p for p in (_catalog_doc(name), _declaration(doc, name)) if p]
        if value is None and not parts:
            return None
    if not parts:
        return None
    return T.Hover(contents=T.MarkupContent(T.MarkupKind.Markdown, "\n\n---\n\n".join(parts)))


def _value_at(doc: Document, line: int, col: int):
    """(op, types, params, span) of the smallest network step or objective value at a
    position; a step that runs several times has a type per run."""
    if doc.spec is None:
        return None
    best = None
    for net in doc.spec.networks:
        groups: dict[Span, list] = defaultdict(list)
        for node in net.nodes:
            if node.op != "input" and not node.span.file and contains(node.span, line, col):
                groups[node.span].append(node)
        for span, nodes in groups.items():
            types = [n.type for n in nodes if isinstance(n.type, TensorType)]
            if types and (best is None or _size(span) < _size(best[3])):
                best = (nodes[0].op, types, sum(n.params for n in nodes), span)
    if doc.spec.objective is not None:
        for n in doc.spec.objective.nodes:
            if isinstance(n.type, TensorType) and not n.span.file and \
                    contains(n.span, line, col) and (best is None or _size(n.span) <
                                                      _size(best[3])):
                best = (n.name or n.op, [n.type], 0, n.span)
    return best


def word_at(doc: Document, line: int, col: int) -> tuple[str, Span] | None:
    return next(((name, span) for name, span in doc.names if contains(span, line, col)),
                None)


def _catalog_doc(name: str) -> str | None:
    """A layer's or function's signature and documentation line, from the catalog."""
    sig = signature(name)
    return f"```\n{sig[0]}\n```\n{sig[2]}" if sig else None


def spec_literal(value: object) -> str:
    """A default as a spec writes it: `true`, `"zeros"`, `0.2`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)


def signature(name: str) -> tuple[str, list[tuple[str, str]], str] | None:
    """(label, [(parameter label, its documentation)], documentation) of a layer or a
    function of the catalog, its defaults as a spec writes them."""
    if name in LAYERS:
        layer = LAYERS[name]
        params = [(p.name if p.required or p.default is None else
                   f"{p.name}={spec_literal(p.default)}", p.doc or p.kind)
                  for p in layer.all_params]
        return f"{name}({', '.join(p for p, _ in params)})", params, layer.doc
    if name in FUNCTIONS:
        fn = FUNCTIONS[name]
        params = [(a.name if a.default is None else f"{a.name}={spec_literal(a.default)}",
                   a.kind) for a in fn.args]
        return f"{name}({', '.join(p for p, _ in params)})", params, fn.doc
    return None


def _declaration(doc: Document, name: str) -> str | None:
    """`param S = 128` for a param (with the value it has in this analysis)."""
    spec = doc.spec
    if spec is None:
        return None
    param = next((p for p in spec.params if p.name == name), None)
    if param is not None:
        return f"```\nparam {name} = {spec_literal(param.value)}\n```"
    net = next((n for n in spec.networks if n.name == name), None)
    if net is not None:
        ins = ", ".join(f"{p.name}: {p.type}" for p in net.inputs)
        outs = ", ".join(f"{p.name}: {p.type}" if p.name else str(p.type) for p in net.outputs)
        total = sum(n.params for n in net.nodes)
        return f"```\nnetwork {name}({ins}) -> {outs}\n```\n{total:,} parameters"
    data = next((d for d in spec.datasets if d.name == name), None)
    if data is not None:
        return f"```\ndata {name}: {', '.join(map(str, data.fields))}\n```"
    value = next((n for n in (spec.objective.nodes if spec.objective else [])
                  if n.var == name and isinstance(n.type, TensorType)), None)
    if value is not None:  # a value of the objective
        return f"```\n{name}: {value.type}\n```\n{_shape(value.type)}"
    return None


# ---- outline and folding -----------------------------------------------------------------

_KINDS = {S.ParamDecl: ("param", T.SymbolKind.Constant), S.Let: ("let", T.SymbolKind.Variable),
          S.DataDecl: ("data", T.SymbolKind.Field), S.BlockDecl: ("block", T.SymbolKind.Function),
          S.NetworkDecl: ("network", T.SymbolKind.Class),
          S.NetworkCopy: ("network", T.SymbolKind.Class)}


def symbols(doc: Document) -> list[T.DocumentSymbol]:
    """The spec's declarations, networks with their inputs, and its objective."""
    if doc.module is None:
        return []
    out = []
    for item in top_items(doc.module.items):
        if isinstance(item, S.ObjectiveDecl):
            out.append(T.DocumentSymbol("objective", T.SymbolKind.Module, lsp_range(item.span),
                                        lsp_range(Span.point(item.span.line, item.span.col))))
            continue
        kind = _KINDS.get(type(item))
        if kind is None or item.name_span.file:
            continue
        children = [T.DocumentSymbol(i.name, T.SymbolKind.Variable, lsp_range(i.span),
                                     lsp_range(i.span), detail=f"input: {_type_text(i.type)}")
                    for i in getattr(item, "inputs", [])]
        out.append(T.DocumentSymbol(item.name, kind[1], lsp_range(item.span),
                                    lsp_range(item.name_span), detail=kind[0],
                                    children=children or None))
    return out


def _type_text(t: S.TypeExpr) -> str:
    return t.kind + ("[…]" if t.dims else "")


def top_items(items: list) -> list:
    """Top-level items, those of top-level `if`s included."""
    out = []
    for item in items:
        out.append(item)
        if isinstance(item, S.If):
            out += top_items([*item.then, *(item.orelse or [])])
    return out


def folding(doc: Document) -> list[T.FoldingRange]:
    """Every `{ … }` over more than one line (strings and comments left out)."""
    ranges, stack = [], []
    for lineno, line in enumerate(doc.text.split("\n")):
        for ch in blanked(line):
            if ch == "{":
                stack.append(lineno)
            elif ch == "}" and stack:
                start = stack.pop()
                if lineno > start:
                    ranges.append(T.FoldingRange(start_line=start, end_line=lineno))
    return sorted(ranges, key=lambda r: (r.start_line, r.end_line))
