"""`gandsl lsp`: the language server, over stdio, built on pygls.

Each open document is analysed once per version (`features.Document`): the compiler's own
passes, so the editor shows exactly what `gandsl check` reports. Changes are debounced; an
analysis that a newer version overtook is dropped, never published. A handler that fails is
logged and answered with an LSP error: the server goes on.
"""

from __future__ import annotations

import asyncio
import logging

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
DEBOUNCE_S = 0.03  # a burst of keystrokes is analysed once, after it
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
            doc = F.Document.of(uri, text, self.params)
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


server = GandslServer()


def _request(method: str, options: object = None):
    """Register a request about one document: the handler is given that document's analysis
    and the request's params. A handler that fails is logged and answered with an error;
    the server goes on."""
    def register(handler):
        # not functools.wraps: pygls reads the signature to see whether it passes the server
        def answer(ls: GandslServer, params):
            try:
                return handler(ls.analyse(params.text_document.uri), params)
            except JsonRpcException:
                raise
            except Exception:
                log.exception("%s failed", handler.__name__)
                raise
        answer.__name__ = answer.__qualname__ = handler.__name__
        server.feature(method, options)(answer)
        return handler
    return register


def _at(params) -> tuple[int, int]:
    return params.position.line, params.position.character


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


@_request(T.TEXT_DOCUMENT_INLAY_HINT)
def inlay_hint(doc: F.Document, params: T.InlayHintParams) -> list[T.InlayHint]:
    r = params.range
    return [h for h in F.inlay_hints(doc)
            if (r.start.line, r.start.character) <= (h.position.line, h.position.character)
            <= (r.end.line, r.end.character)]


@_request(T.TEXT_DOCUMENT_HOVER)
def hover(doc: F.Document, params: T.HoverParams) -> T.Hover | None:
    return F.hover(doc, *_at(params))


@_request(T.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
def document_symbol(doc: F.Document, params) -> list[T.DocumentSymbol]:
    return F.symbols(doc)


@_request(T.TEXT_DOCUMENT_FOLDING_RANGE)
def folding_range(doc: F.Document, params) -> list[T.FoldingRange]:
    return F.folding(doc)


@_request(T.TEXT_DOCUMENT_DEFINITION)
def definition(doc: F.Document, params: T.DefinitionParams) -> T.Location | None:
    return N.definition(doc, *_at(params))


@_request(T.TEXT_DOCUMENT_REFERENCES)
def references(doc: F.Document, params: T.ReferenceParams) -> list[T.Location]:
    return N.references(doc, *_at(params), params.context.include_declaration)


@_request(T.TEXT_DOCUMENT_FORMATTING)
def formatting(doc: F.Document, params) -> list[T.TextEdit]:
    """The whole document as `gandsl fmt` lays it out; nothing for one that does not parse."""
    try:
        formatted = format_source(doc.text, doc.path)
    except GandslError:
        return []
    if formatted == doc.text:
        return []
    lines = doc.text.split("\n")
    whole = T.Range(T.Position(0, 0), T.Position(len(lines) - 1, len(lines[-1])))
    return [T.TextEdit(range=whole, new_text=formatted)]


@_request(T.TEXT_DOCUMENT_RANGE_FORMATTING)
def range_formatting(doc: F.Document, params: T.DocumentRangeFormattingParams
                     ) -> list[T.TextEdit]:
    return E.range_formatting(doc, params.range.start.line, params.range.end.line)


@_request(T.TEXT_DOCUMENT_COMPLETION, T.CompletionOptions(trigger_characters=[">", "(", ",",
                                                                              " "]))
def completion(doc: F.Document, params: T.CompletionParams) -> T.CompletionList:
    return T.CompletionList(is_incomplete=False, items=E.completion(doc, *_at(params)))


@_request(T.TEXT_DOCUMENT_SIGNATURE_HELP, T.SignatureHelpOptions(trigger_characters=["(", ","]))
def signature_help(doc: F.Document, params: T.SignatureHelpParams) -> T.SignatureHelp | None:
    return E.signature_help(doc, *_at(params))


@_request(T.TEXT_DOCUMENT_PREPARE_RENAME)
def prepare_rename(doc: F.Document, params: T.PrepareRenameParams) -> T.Range | None:
    return E.prepare_rename(doc, *_at(params))


@_request(T.TEXT_DOCUMENT_RENAME)
def rename(doc: F.Document, params: T.RenameParams) -> T.WorkspaceEdit:
    try:
        return E.rename(doc, *_at(params), params.new_name)
    except ValueError as e:  # the refusal, shown by the editor
        raise JsonRpcException(str(e), code=REQUEST_FAILED) from None


@_request(T.TEXT_DOCUMENT_CODE_ACTION,
          T.CodeActionOptions(code_action_kinds=[T.CodeActionKind.QuickFix]))
def code_action(doc: F.Document, params: T.CodeActionParams) -> list[T.CodeAction]:
    return E.code_actions(doc, list(params.context.diagnostics))


def serve() -> None:
    """Serve one client over stdin/stdout until it exits."""
    logging.basicConfig(level=logging.WARNING)
    server.start_io()


__all__ = ["serve", "server"]
