"""`gandsl lsp` while typing, driven by a real client (pytest-lsp): completion, signature
help, rename (and its refusals), "did you mean" quick fixes, range formatting, settings, and
a server that keeps answering after a failed handler, a syntax error and a 1 MB document."""

from __future__ import annotations

import pytest
from conftest import ROOT
from lsprotocol import types as T
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

pytestmark = pytest.mark.asyncio(loop_scope="module")

STARGAN = (ROOT / "specs" / "stargan.gan").read_text()
LINES = STARGAN.split("\n")


def line_of(text: str, lines: list[str] = LINES) -> int:
    return next(i for i, line in enumerate(lines) if text in line)  # 0-based


async def open_doc(client: LanguageClient, name: str, text: str) -> T.TextDocumentIdentifier:
    uri = (ROOT / "tests" / "lsp" / name).as_uri()  # open in the editor only, never saved
    client.text_document_did_open(T.DidOpenTextDocumentParams(
        T.TextDocumentItem(uri=uri, language_id="gan", version=1, text=text)))
    await client.wait_for_notification(T.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    return T.TextDocumentIdentifier(uri)


async def test_completion_offers_layers_after_an_arrow_and_keywords_in_a_call(client):
    doc = await open_doc(client, "complete.gan", STARGAN)
    line = line_of("h = concat(x, tile(c, like=x))")
    arrow = LINES[line].index("-> conv") + 3
    result = await client.text_document_completion_async(T.CompletionParams(
        doc, T.Position(line, arrow)))
    labels = [i.label for i in result.items]
    assert labels[:3] == ["adain", "avg_pool", "batch_norm"] and "conv" in labels
    assert all(i.kind == T.CompletionItemKind.Function for i in result.items)
    conv = next(i for i in result.items if i.label == "conv")
    assert conv.detail.startswith("conv(out, k, stride=1, pad=0,")
    inside = LINES[line].index("pad=3")
    result = await client.text_document_completion_async(T.CompletionParams(
        doc, T.Position(line, inside)))
    items = {i.label: i for i in result.items}
    assert [i.label for i in result.items][:4] == ["out=", "k=", "stride=", "pad="]
    assert items["pad_mode="].detail == 'pad_mode="zeros"'
    assert {"g_ch", "S", "x", "c", "h"} <= set(items)  # params and G's own names
    assert items["g_ch"].detail == "param = 64"


async def test_signature_help_follows_the_argument_being_written(client):
    doc = await open_doc(client, "signature.gan", STARGAN)
    line = line_of("h = concat(x, tile(c, like=x))")
    for where, active in ((LINES[line].index(", 7") + 2, 1), (LINES[line].index("pad=3") + 4, 3)):
        help_ = await client.text_document_signature_help_async(T.SignatureHelpParams(
            doc, T.Position(line, where)))
        (sig,) = help_.signatures
        assert sig.label.startswith("conv(out, k, stride=1, pad=0, dilation=1, groups=1, "
                                    'bias=true, pad_mode="zeros"')
        assert help_.active_parameter == active


async def test_rename_changes_every_reference_and_refuses_what_would_break(client):
    doc = await open_doc(client, "rename.gan", STARGAN)
    decl = line_of("param g_ch")
    edit = await client.text_document_rename_async(T.RenameParams(
        doc, T.Position(decl, 7), "width"))
    edits = edit.changes[doc.uri]
    assert [e.range.start.line for e in edits] == [
        i for i, line in enumerate(LINES) if "g_ch" in line]
    assert {e.new_text for e in edits} == {"width"}
    for new, why in (("d_ch", "would change what other names refer to"),
                     ("conv", "is a reserved word, a layer or a function"),
                     ("2x", "is not a name")):
        with pytest.raises(Exception, match=why):
            await client.text_document_rename_async(T.RenameParams(
                doc, T.Position(decl, 7), new))


async def test_did_you_mean_becomes_a_quick_fix(client):
    broken = STARGAN.replace("conv(g_ch, 7, pad=3", "conv(g_ch, 7, strid=2, pad=3")
    doc = await open_doc(client, "fix.gan", broken)
    (d,) = client.diagnostics[doc.uri]
    assert "did you mean `stride`?" in d.message
    actions = await client.text_document_code_action_async(T.CodeActionParams(
        doc, d.range, T.CodeActionContext(diagnostics=[d])))
    (action,) = actions
    assert action.title == "Change to `stride`" and action.kind == T.CodeActionKind.QuickFix
    assert list(action.edit.changes[doc.uri]) == [T.TextEdit(d.range, "stride")]


async def test_range_formatting_touches_only_the_lines_asked_for(client):
    messy = STARGAN.replace("param S = 128 ", "param   S=128 ").replace(
        "param d_ch = 64 ", "param  d_ch=64 ")
    doc = await open_doc(client, "range.gan", messy)
    first = line_of("param   S=128", messy.split("\n"))
    edits = await client.text_document_range_formatting_async(
        T.DocumentRangeFormattingParams(doc, T.Range(T.Position(first, 0), T.Position(first, 5)),
                                        T.FormattingOptions(tab_size=2, insert_spaces=True)))
    assert [(e.range.start.line, e.range.end.line) for e in edits] == [(first, first + 1)]
    assert edits[0].new_text == LINES[first] + "\n"


async def test_settings_params_set_the_shapes_hover_shows(client):
    doc = await open_doc(client, "settings.gan", STARGAN)
    client.workspace_did_change_configuration(T.DidChangeConfigurationParams(
        settings={"gandsl": {"params": {"S": 64, "unknown": 1}}}))
    await client.wait_for_notification(T.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    line = line_of("h = concat(x, tile(c, like=x))")
    hover = await client.text_document_hover_async(T.HoverParams(
        doc, T.Position(line, LINES[line].index("conv"))))
    assert "(B, 64, 64, 64)" in hover.contents.value
    client.workspace_did_change_configuration(T.DidChangeConfigurationParams(settings={}))
    await client.wait_for_notification(T.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)


async def test_the_server_answers_after_a_failed_handler_and_a_huge_document(client):
    # a document the server was never given, not on disk: the handler fails, and says so
    with pytest.raises(JsonRpcException, match="all.gan"):
        await client.text_document_hover_async(T.HoverParams(
            T.TextDocumentIdentifier("file:///nowhere/at/all.gan"), T.Position(0, 0)))
    huge = await open_doc(client, "huge.gan", STARGAN + "#" * 1_000_000 + "\n")
    (d,) = client.diagnostics[huge.uri]
    assert d.code == "E004" and "the limit is 524,288" in d.message
    doc = await open_doc(client, "after.gan", STARGAN)
    line = line_of("h = concat(x, tile(c, like=x))")
    hover = await client.text_document_hover_async(T.HoverParams(
        doc, T.Position(line, LINES[line].index("conv"))))
    assert "conv → map[64, 128, 128]" in hover.contents.value
