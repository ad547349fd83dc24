"""The language server's latency through a real client (pygls's), as an editor sees it:

1. an edit of specs/stargan.gan (alternating two versions, so every one is analysed anew):
   from sending `didChange` to having both its diagnostics (`publishDiagnostics` of that
   version) and its inlay hints, the server's debounce included;
2. hover on a chain step, and completion after `->`: request to answer.

Medians (and the slowest) of many, on one warm server. Usage:
python benchmarks/lsp_speed.py [--edits N] [--write docs/performance.md]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import statistics
import sys
import time
from pathlib import Path

from compile_speed import machine
from lsprotocol import types as T
from pygls.lsp.client import LanguageClient

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "specs" / "stargan.gan"
SECTION = "## Language server"


async def measure(edits: int, requests: int) -> dict[str, list[float]]:
    text = SPEC.read_text()
    other = text.replace("param g_ch = 64", "param g_ch = 32")
    lines = text.split("\n")
    row = next(i for i, line in enumerate(lines) if "h = concat(x, tile(c, like=x))" in line)
    step = T.Position(row, lines[row].index("conv"))
    after_arrow = T.Position(row, lines[row].index("-> conv") + 3)
    client = LanguageClient("gandsl-bench", "1")
    published: dict[int, asyncio.Event] = {}

    @client.feature(T.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def on_diagnostics(params: T.PublishDiagnosticsParams) -> None:
        if params.version in published:
            published[params.version].set()

    await client.start_io(sys.executable, "-m", "gandsl", "lsp")
    await client.initialize_async(T.InitializeParams(capabilities=T.ClientCapabilities()))
    client.initialized(T.InitializedParams())
    uri = SPEC.as_uri()
    doc = T.TextDocumentIdentifier(uri)
    published[1] = asyncio.Event()
    client.text_document_did_open(T.DidOpenTextDocumentParams(
        T.TextDocumentItem(uri=uri, language_id="gan", version=1, text=text)))
    await published[1].wait()
    whole = T.Range(T.Position(0, 0), T.Position(len(lines), 0))
    out: dict[str, list[float]] = {"edit": [], "hover": [], "completion": []}
    for k in range(edits):
        version = k + 2
        published[version] = asyncio.Event()
        t0 = time.perf_counter()
        client.text_document_did_change(T.DidChangeTextDocumentParams(
            T.VersionedTextDocumentIdentifier(uri=uri, version=version),
            [T.TextDocumentContentChangeWholeDocument(text=other if k % 2 == 0 else text)]))
        await published[version].wait()
        await client.text_document_inlay_hint_async(T.InlayHintParams(doc, whole))
        out["edit"].append(time.perf_counter() - t0)
    for _ in range(requests):
        t0 = time.perf_counter()
        await client.text_document_hover_async(T.HoverParams(doc, step))
        out["hover"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        await client.text_document_completion_async(T.CompletionParams(doc, after_arrow))
        out["completion"].append(time.perf_counter() - t0)
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return out


def table(results: dict[str, list[float]]) -> list[str]:
    rows = ["| measurement | median | slowest | target |", "|---|---:|---:|---:|"]
    what = {"edit": ("an edit of stargan.gan → its diagnostics and inlay hints (30 ms "
                     "debounce included)", 100),
            "hover": ("hover on a chain step", 30),
            "completion": ("completion after `->`", 30)}
    for key, (label, target) in what.items():
        values = results[key]
        rows.append(f"| {label} | {statistics.median(values) * 1e3:.1f} ms | "
                    f"{max(values) * 1e3:.1f} ms | < {target} ms |")
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--edits", type=int, default=40)
    ap.add_argument("--requests", type=int, default=100)
    ap.add_argument("--write", type=Path, help="replace the language server section of this file")
    args = ap.parse_args()
    rows = table(asyncio.run(measure(args.edits, args.requests)))
    print("\n".join(rows))
    if args.write:
        head = (f"{SECTION}\n\nMeasured {datetime.date.today()} on {machine()} with `python "
                f"benchmarks/lsp_speed.py` through pygls's client over stdio, one warm "
                f"server: {args.edits} edits, {args.requests} hovers and completions.\n\n")
        text = args.write.read_text()
        start = text.find(SECTION)
        if start < 0:
            text = text.rstrip("\n") + "\n\n" + head + "\n".join(rows) + "\n"
        else:
            end = text.find("\n## ", start + len(SECTION))
            end = len(text) if end < 0 else end + 1
            text = text[:start] + head + "\n".join(rows) + "\n\n" + text[end:].lstrip("\n")
        args.write.write_text(text.rstrip("\n") + "\n")


if __name__ == "__main__":
    main()
