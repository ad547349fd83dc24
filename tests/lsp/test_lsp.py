"""`gandsl lsp` driven by a real client (pytest-lsp) over stdio, on specs/stargan.gan and a
broken copy of it: the exact ranges, messages and hint texts an editor shows."""

from __future__ import annotations

import pytest
from conftest import ROOT
from lsprotocol import types as T
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

pytestmark = pytest.mark.asyncio(loop_scope="module")

STARGAN = (ROOT / "specs" / "stargan.gan").read_text()
LINES = STARGAN.split("\n")


def at(line: int, word: str, nth: int = 0) -> T.Position:
    """The position of the nth `word` on 1-based `line` of stargan.gan."""
    col = -1
    for _ in range(nth + 1):
        col = LINES[line - 1].index(word, col + 1)
    return T.Position(line - 1, col)


def line_of(text: str) -> int:
    return next(i for i, line in enumerate(LINES, 1) if text in line)


async def open_doc(client: LanguageClient, name: str, text: str) -> str:
    uri = (ROOT / "tests" / "lsp" / name).as_uri()  # open in the editor only, never saved
    client.text_document_did_open(T.DidOpenTextDocumentParams(
        T.TextDocumentItem(uri=uri, language_id="gan", version=1, text=text)))
    await client.wait_for_notification(T.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    return uri


async def test_a_good_spec_has_no_diagnostics(client):
    uri = await open_doc(client, "stargan.gan", STARGAN)
    assert list(client.diagnostics[uri]) == []


async def test_errors_have_their_code_span_and_hint_and_the_rest_still_checks(client):
    broken = STARGAN.replace("conv(g_ch, 7, pad=3", "conv(g_ch, 7, strid=2, pad=3")
    uri = await open_doc(client, "broken.gan", broken)
    (d,) = client.diagnostics[uri]
    line = line_of("h = concat(x, tile(c, like=x))")
    col = broken.split("\n")[line - 1].index("strid")
    assert (d.code, d.severity, d.source) == ("E104", T.DiagnosticSeverity.Error, "gandsl")
    assert d.range == T.Range(T.Position(line - 1, col), T.Position(line - 1, col + 5))
    assert d.message.startswith("`conv` has no argument `strid`")
    # the networks around the error still have their shapes
    hints = await client.text_document_inlay_hint_async(T.InlayHintParams(
        T.TextDocumentIdentifier(uri), T.Range(T.Position(0, 0), T.Position(len(LINES), 0))))
    assert "(B, 3, 128, 128)" in [h.label for h in hints]


async def test_an_unparseable_spec_gets_its_syntax_error_and_the_server_goes_on(client):
    uri = await open_doc(client, "syntax.gan", STARGAN.replace("network G(", "network G(("))
    (d,) = client.diagnostics[uri]
    assert d.code == "E001" and d.range.start.line == line_of("network G(") - 1
    hover = await client.text_document_hover_async(T.HoverParams(
        T.TextDocumentIdentifier(uri), at(line_of("network G("), "G")))
    assert hover is None
    # the outline keeps every item that parses on its own: all but the broken network
    symbols = await client.text_document_document_symbol_async(T.DocumentSymbolParams(
        T.TextDocumentIdentifier(uri)))
    names = [s.name for s in symbols]
    assert "G" not in names and {"S", "res", "D", "objective"} <= set(names)


async def test_edits_are_analysed_and_the_newest_version_wins(client):
    uri = await open_doc(client, "edited.gan", STARGAN)
    bad = STARGAN.replace("leaky_relu(0.01)", "leaky_relu(-1)", 1)
    for version, text in ((2, bad), (3, STARGAN), (4, bad)):
        client.text_document_did_change(T.DidChangeTextDocumentParams(
            T.VersionedTextDocumentIdentifier(uri=uri, version=version),
            [T.TextDocumentContentChangeWholeDocument(text=text)]))
    await client.wait_for_notification(T.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert [d.code for d in client.diagnostics[uri]] == ["E203"]


async def test_inlay_hints_give_each_steps_shape_and_each_networks_parameters(client):
    uri = await open_doc(client, "hints.gan", STARGAN)
    hints = await client.text_document_inlay_hint_async(T.InlayHintParams(
        T.TextDocumentIdentifier(uri), T.Range(T.Position(0, 0), T.Position(len(LINES), 0))))
    found = {(h.position.line + 1, h.position.character): h.label for h in hints}
    g = line_of("network G(")
    assert found[(g, at(g, "G").character + 1)] == "8,430,528 params"
    first = line_of("h = concat(x, tile(c, like=x))")
    conv_end = LINES[first - 1].index("bias=false)") + len("bias=false)")
    assert found[(first, conv_end)] == "(B, 64, 128, 128)"
    down = line_of("h = h -> conv(g_ch * 2^i")  # a loop: its first and last shapes
    assert found[(down, LINES[down - 1].index("bias=false)") + len("bias=false)"))] == \
        "(B, 128, 64, 64) … (B, 256, 32, 32)"
    # a block's result where the network calls it: `-> norm_relu`, `repeat(g_res, res(…))`
    assert found[(first, len(LINES[first - 1].rstrip()))] == "(B, 64, 128, 128)"
    blocks = line_of("repeat(g_res, res(g_ch * 4))")
    assert found[(blocks, LINES[blocks - 1].index("res(g_ch * 4)") + len("res(g_ch * 4)"))] \
        == "(B, 256, 32, 32)"
    draw = line_of("x, c_org ~ faces")
    assert found[(draw, len(LINES[draw - 1].rstrip()))] == "x: (B, 3, 128, 128), c_org: (B, 5)"


async def test_hover_shows_the_values_type_and_the_layers_docs(client):
    uri = await open_doc(client, "hover.gan", STARGAN)
    line = line_of("h = concat(x, tile(c, like=x))")
    hover = await client.text_document_hover_async(T.HoverParams(
        T.TextDocumentIdentifier(uri), at(line, "conv")))
    text = hover.contents.value
    assert "conv → map[64, 128, 128]" in text and "(B, 64, 128, 128) · 25,088 parameters" in text
    assert "conv(out, k, stride=1, pad=0, dilation=1, groups=1, bias=true" in text
    assert "2-D convolution (`nn.Conv2d`)" in text
    param = await client.text_document_hover_async(T.HoverParams(
        T.TextDocumentIdentifier(uri), at(line_of("h = x -> conv(d_ch"), "d_ch")))
    assert "param d_ch = 64" in param.contents.value


async def test_definition_and_references_follow_the_specs_scopes(client):
    uri = await open_doc(client, "refs.gan", STARGAN)
    use = at(line_of("h = h -> conv(g_ch * 2^i"), "g_ch")
    target = await client.text_document_definition_async(T.DefinitionParams(
        T.TextDocumentIdentifier(uri), use))
    decl = line_of("param g_ch")
    assert target.range == T.Range(T.Position(decl - 1, 6), T.Position(decl - 1, 10))
    refs = await client.text_document_references_async(T.ReferenceParams(
        text_document=T.TextDocumentIdentifier(uri), position=use,
        context=T.ReferenceContext(include_declaration=True)))
    uses = [i for i, line in enumerate(LINES, 1) if "g_ch" in line and i != decl]
    assert [r.range.start.line + 1 for r in refs] == [decl, *uses] and len(uses) == 4


async def test_symbols_folding_and_formatting(client):
    uri = await open_doc(client, "outline.gan", STARGAN)
    symbols = await client.text_document_document_symbol_async(T.DocumentSymbolParams(
        T.TextDocumentIdentifier(uri)))
    names = [s.name for s in symbols]
    assert names[:2] == ["S", "c_dim"] and {"G", "D", "res", "objective"} <= set(names)
    g = next(s for s in symbols if s.name == "G")
    assert (g.kind, [c.name for c in g.children]) == (T.SymbolKind.Class, ["x", "c"])
    folds = await client.text_document_folding_range_async(T.FoldingRangeParams(
        T.TextDocumentIdentifier(uri)))
    # G's body: from its header to its closing brace, the line after its `return`
    assert (line_of("network G(") - 1, line_of("return h -> conv(3, 7")) in [
        (f.start_line, f.end_line) for f in folds]
    messy = STARGAN.replace("param S = 128 ", "param   S=128 ")
    uri2 = await open_doc(client, "messy.gan", messy)
    edits = await client.text_document_formatting_async(T.DocumentFormattingParams(
        T.TextDocumentIdentifier(uri2), T.FormattingOptions(tab_size=2, insert_spaces=True)))
    assert [e.new_text for e in edits] == [STARGAN]


async def test_names_an_import_brings_lead_to_the_imported_file(client):
    path = ROOT / "specs" / "biggan.gan"
    text = path.read_text()
    lines = text.split("\n")
    client.text_document_did_open(T.DidOpenTextDocumentParams(
        T.TextDocumentItem(uri=path.as_uri(), language_id="gan", version=1, text=text)))
    await client.wait_for_notification(T.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    row = next(i for i, line in enumerate(lines) if "-> gblock(" in line)
    use = T.Position(row, lines[row].index("gblock"))
    doc = T.TextDocumentIdentifier(path.as_uri())
    target = await client.text_document_definition_async(T.DefinitionParams(doc, use))
    lib = (ROOT / "specs" / "lib" / "biggan.gan")
    decl = next(i for i, line in enumerate(lib.read_text().split("\n"))
                if line.startswith("block gblock"))
    assert target.uri == lib.as_uri()
    assert target.range == T.Range(T.Position(decl, 6), T.Position(decl, 12))
    refs = await client.text_document_references_async(T.ReferenceParams(
        text_document=doc, position=use, context=T.ReferenceContext(include_declaration=True)))
    assert [(r.uri == lib.as_uri(), r.range.start.line) for r in refs] == [
        (True, decl), *((False, i) for i, line in enumerate(lines)
                        if "gblock(" in line and not line.lstrip().startswith("#"))]
    with pytest.raises(JsonRpcException, match="is defined in lib/biggan.gan: rename it there"):
        await client.text_document_rename_async(T.RenameParams(doc, use, "up_block"))
