"""The VS Code extension's TextMate grammar (editors/vscode), tested with vscode-tmgrammar-test
(installed by `make test`, and so by CI, from the extension's package-lock.json; without it
the two tests that run it are skipped, saying how to install it): scope assertions on a file
of every construct, a reviewed snapshot of every spec of specs/, no text left unscoped, and
the grammar's keywords the parser's own."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest
from conftest import ROOT

from gandsl.parse import RESERVED, SOFT_KEYWORDS

EDITOR = ROOT / "editors" / "vscode"
TOOLS = EDITOR / "node_modules" / ".bin"
GRAMMAR = EDITOR / "syntaxes" / "gan.tmLanguage.json"
SNAP = EDITOR / "tests" / "snap"
SPECS = sorted([*(ROOT / "specs").glob("*.gan"), *(ROOT / "specs" / "lib").glob("*.gan")])


def _tool(name: str, *args: str) -> subprocess.CompletedProcess:
    if not (TOOLS / name).exists():  # `make test` (and so CI) installs them first
        pytest.skip(f"the grammar tools are not installed ({TOOLS / name} is missing): "
                    "`make test` installs them, or run `npm ci --prefix editors/vscode`")
    return subprocess.run([str(TOOLS / name), "-g", str(GRAMMAR.relative_to(EDITOR)), *args],
                          cwd=EDITOR, capture_output=True, text=True)


def _copy_specs() -> list[str]:
    """Every spec copied beside its snapshot (`lib/x.gan` as `lib_x.gan`)."""
    names = []
    for spec in SPECS:
        name = f"lib_{spec.name}" if spec.parent.name == "lib" else spec.name
        shutil.copyfile(spec, SNAP / name)
        names.append(name)
    return names


def test_every_construct_gets_its_scope():
    done = _tool("vscode-tmgrammar-test", "tests/*.gan")
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_spec_matches_its_reviewed_snapshot():
    names = _copy_specs()
    update = os.environ.get("GANDSL_UPDATE_SNAPSHOTS") == "1"
    missing = [n for n in names if not (SNAP / f"{n}.snap").exists()]
    assert update or not missing, f"no snapshot for {missing}: run `make grammar-snapshots`"
    done = _tool("vscode-tmgrammar-snap", *(["--updateSnapshot"] if update else []),
                 "tests/snap/*.gan")
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


def test_no_text_of_any_spec_is_left_unscoped():
    """Every character that is not a space has a scope of its own (beyond `source.gan`)."""
    bare = []
    for snap in sorted(SNAP.glob("*.snap")):
        source = ""
        for line in snap.read_text().split("\n"):
            if line.startswith(">"):
                source = line[1:]
            elif line.startswith("#") and line.rstrip().endswith(" source.gan"):
                m = re.match(r"#( *)(\^+) source\.gan$", line.rstrip())
                text = source[len(m.group(1)):len(m.group(1)) + len(m.group(2))]
                if text.strip():
                    bare.append(f"{snap.name}: {text!r} in {source.strip()!r}")
    assert not bare, "\n".join(bare[:20])


def test_the_grammar_knows_the_parsers_keywords():
    grammar = GRAMMAR.read_text()
    words = set(re.findall(r"[a-z_]+", grammar))
    assert RESERVED <= words and SOFT_KEYWORDS <= words, (RESERVED | SOFT_KEYWORDS) - words


def test_the_extension_declares_the_language_and_starts_the_server():
    package = json.loads((EDITOR / "package.json").read_text())
    (language,) = package["contributes"]["languages"]
    (grammar,) = package["contributes"]["grammars"]
    assert (language["id"], language["extensions"]) == ("gan", [".gan"])
    assert (EDITOR / grammar["path"]).resolve() == GRAMMAR
    assert json.loads(GRAMMAR.read_text())["scopeName"] == grammar["scopeName"] == "source.gan"
    assert package["contributes"]["configuration"]["properties"]["gandsl.command"][
        "default"] == ["gandsl", "lsp"]
    assert '"lsp"' in (EDITOR / "extension.js").read_text() or "get(\"command\")" in (
        EDITOR / "extension.js").read_text()
