"""`gandsl lsp`: the language server, over stdio, built on pygls.

Each open document is analysed once per version (`features.Document`): the compiler's own
passes, so the editor shows exactly what `gandsl check` reports. Changes are debounced; an
analysis that a newer version overtook is dropped, never published. A handler that fails is
logged and answered with an LSP error: the server goes on.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from urllib.parse import unquote, urlparse

from lsprotocol import types as T
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer

from ..diagnostics import GandslError
from ..fmt import format_source
from ..version import __version__
from . import editing as E
from . import features as F
from . import names as N

REQUEST_FAILED = -32803  # LSP's RequestFailed: a request understood and refused
DEBOUNCE_S = 0.05  # a burst of keystrokes is analysed once, after it
log = logging.getLogger("gandsl.lsp")


class GandslServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("gandsl", __version__)
        self.docs: dict[str, F.Document] = {}  # uri → its latest analysis
        self.versions: dict[str, int] = {}  # uri → the latest version received
        self.params: dict = {}  # `--param`-style overrides from the client's settings

    def analyse(self, uri: str) -> F.Document:
        text = self.workspace.get_text_document(uri).source
        doc = self.docs.get(uri)
        if doc is None or doc.text != text:
            doc = F.Document.of(uri, text, _path(uri), self.params)
            self.docs[uri] = doc
        return doc

    async def refresh(self, uri: str, version: int) -> None:
        """Analyse and publish, unless a newer version arrives first."""
        self.versions[uri] = version
        await asyncio.sleep(DEBOUNCE_S)
        if self.versions.get(uri) != version:
            return  # a newer change will publish
        doc = self.analyse(uri)
        if self.versions.get(uri) != version:
            return
        self.text_document_publish_diagnostics(T.PublishDiagnosticsParams(
            uri=uri, version=version, diagnostics=F.diagnostics(doc)))


def _path(uri: str) -> str:
    parsed = urlparse(uri)
    return unquote(parsed.path) if parsed.scheme == "file" else uri


server = GandslServer()


def _guarded(handler):
    """A failing handler is logged and answered with an error; the server keeps serving."""
    @functools.wraps(handler)
    def wrapped(ls: GandslServer, params):
        try:
            return handler(ls, params)
        except Exception:
            log.exception("%s failed", handler.__name__)
            raise
    return wrapped


@server.feature(T.TEXT_DOCUMENT_DID_OPEN)
async def did_open(ls: GandslServer, params: T.DidOpenTextDocumentParams) -> None:
    await ls.refresh(params.text_document.uri, params.text_document.version)


@server.feature(T.TEXT_DOCUMENT_DID_CHANGE)
async def did_change(ls: GandslServer, params: T.DidChangeTextDocumentParams) -> None:
    await ls.refresh(params.text_document.uri, params.text_document.version)


@server.feature(T.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: GandslServer, params: T.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    ls.docs.pop(uri, None)
    ls.versions.pop(uri, None)
    ls.text_document_publish_diagnostics(T.PublishDiagnosticsParams(uri=uri, diagnostics=[]))


@server.feature(T.WORKSPACE_DID_CHANGE_CONFIGURATION)
def did_change_configuration(ls: GandslServer, params: T.DidChangeConfigurationParams) -> None:
    """`{"gandsl": {"params": {"S": 64}}}`: the values hover and hints compute with."""
    settings = params.settings if isinstance(params.settings, dict) else {}
    given = settings.get("gandsl", {}).get("params", {}) if isinstance(
        settings.get("gandsl"), dict) else {}
    ls.params = dict(given) if isinstance(given, dict) else {}
    ls.docs.clear()  # analysed with the old values
    for uri, version in list(ls.versions.items()):
        asyncio.ensure_future(ls.refresh(uri, version))


@server.feature(T.TEXT_DOCUMENT_INLAY_HINT)
@_guarded
def inlay_hint(ls: GandslServer, params: T.InlayHintParams) -> list[T.InlayHint]:
    doc = ls.analyse(params.text_document.uri)
    r = params.range
    return [h for h in F.inlay_hints(doc)
            if (r.start.line, r.start.character) <= (h.position.line, h.position.character)
            <= (r.end.line, r.end.character)]


@server.feature(T.TEXT_DOCUMENT_HOVER)
@_guarded
def hover(ls: GandslServer, params: T.HoverParams) -> T.Hover | None:
    doc = ls.analyse(params.text_document.uri)
    return F.hover(doc, params.position.line, params.position.character)


@server.feature(T.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
@_guarded
def document_symbol(ls: GandslServer, params: T.DocumentSymbolParams
                    ) -> list[T.DocumentSymbol]:
    return F.symbols(ls.analyse(params.text_document.uri))


@server.feature(T.TEXT_DOCUMENT_FOLDING_RANGE)
@_guarded
def folding_range(ls: GandslServer, params: T.FoldingRangeParams) -> list[T.FoldingRange]:
    return F.folding(ls.analyse(params.text_document.uri))


@server.feature(T.TEXT_DOCUMENT_DEFINITION)
@_guarded
def definition(ls: GandslServer, params: T.DefinitionParams) -> T.Location | None:
    doc = ls.analyse(params.text_document.uri)
    return N.definition(doc, params.position.line, params.position.character)


@server.feature(T.TEXT_DOCUMENT_REFERENCES)
@_guarded
def references(ls: GandslServer, params: T.ReferenceParams) -> list[T.Location]:
    doc = ls.analyse(params.text_document.uri)
    return N.references(doc, params.position.line, params.position.character,
                        params.context.include_declaration)


@server.feature(T.TEXT_DOCUMENT_FORMATTING)
@_guarded
def formatting(ls: GandslServer, params: T.DocumentFormattingParams) -> list[T.TextEdit]:
    """The whole document as `gandsl fmt` lays it out; nothing for one that does not parse."""
    text = ls.workspace.get_text_document(params.text_document.uri).source
    try:
        formatted = format_source(text, _path(params.text_document.uri))
    except GandslError:
        return []
    if formatted == text:
        return []
    lines = text.split("\n")
    whole = T.Range(T.Position(0, 0), T.Position(len(lines) - 1, len(lines[-1])))
    return [T.TextEdit(range=whole, new_text=formatted)]


@server.feature(T.TEXT_DOCUMENT_COMPLETION,
                T.CompletionOptions(trigger_characters=[">", "(", ",", " "]))
@_guarded
def completion(ls: GandslServer, params: T.CompletionParams) -> T.CompletionList:
    doc = ls.analyse(params.text_document.uri)
    items = E.completion(doc, params.position.line, params.position.character)
    return T.CompletionList(is_incomplete=False, items=items)


@server.feature(T.TEXT_DOCUMENT_SIGNATURE_HELP,
                T.SignatureHelpOptions(trigger_characters=["(", ","]))
@_guarded
def signature_help(ls: GandslServer, params: T.SignatureHelpParams) -> T.SignatureHelp | None:
    doc = ls.analyse(params.text_document.uri)
    return E.signature_help(doc, params.position.line, params.position.character)


@server.feature(T.TEXT_DOCUMENT_PREPARE_RENAME)
@_guarded
def prepare_rename(ls: GandslServer, params: T.PrepareRenameParams) -> T.Range | None:
    doc = ls.analyse(params.text_document.uri)
    return E.prepare_rename(doc, params.position.line, params.position.character)


@server.feature(T.TEXT_DOCUMENT_RENAME)
@_guarded
def rename(ls: GandslServer, params: T.RenameParams) -> T.WorkspaceEdit:
    doc = ls.analyse(params.text_document.uri)
    try:
        return E.rename(doc, params.position.line, params.position.character, params.new_name)
    except ValueError as e:  # the refusal, shown by the editor
        raise JsonRpcException(str(e), code=REQUEST_FAILED) from None


@server.feature(T.TEXT_DOCUMENT_CODE_ACTION,
                T.CodeActionOptions(code_action_kinds=[T.CodeActionKind.QuickFix]))
@_guarded
def code_action(ls: GandslServer, params: T.CodeActionParams) -> list[T.CodeAction]:
    doc = ls.analyse(params.text_document.uri)
    return E.code_actions(doc, list(params.context.diagnostics))


@server.feature(T.TEXT_DOCUMENT_RANGE_FORMATTING)
@_guarded
def range_formatting(ls: GandslServer, params: T.DocumentRangeFormattingParams
                     ) -> list[T.TextEdit]:
    doc = ls.analyse(params.text_document.uri)
    return E.range_formatting(doc, params.range.start.line, params.range.end.line)


def serve() -> None:
    """Serve one client over stdin/stdout until it exits."""
    logging.basicConfig(level=logging.WARNING)
    server.start_io()


__all__ = ["serve", "server"]
