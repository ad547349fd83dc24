"""The language and error references stay true to the compiler.

- Every ```gan block of docs/language.md is a complete spec that compiles without warnings. A
  block is compiled after as many blank lines as there are lines above it, so the line numbers
  in a failure are those of docs/language.md.
- docs/language.md names every layer (with a row in the layer table), every objective function
  and distribution, every type kind and every train keyword.
- docs/errors.md has one section per diagnostic code, headed with the code's meaning from
  `gandsl.diagnostics.CODES`, and the example of each section triggers that code.
"""

from __future__ import annotations

import re
import shlex

import pytest
from conftest import GAN_BLOCKS, LANGUAGE, LANGUAGE_TEXT, ROOT, fenced_blocks

from gandsl.catalog import DATA_SOURCES, INITS, MOMENTUM_SCHEDULES, OPTIMIZERS, OPTIONS, SCHEDULES
from gandsl.cli import parse_param
from gandsl.diagnostics import CODES, GandslError, render_all
from gandsl.functions import (
    ADA_OPERATIONS,
    ADA_SETTINGS,
    AUGMENTATIONS,
    DISTRIBUTIONS,
    FUNCTIONS,
)
from gandsl.layers import LAYERS
from gandsl.pipeline import check_source, compile_source
from gandsl.types import KINDS

ERRORS = ROOT / "docs" / "errors.md"



# ---- docs/language.md ----------------------------------------------------------------------


def test_language_reference_has_gan_blocks():
    assert len(GAN_BLOCKS) >= 20


@pytest.mark.parametrize(("line", "code"), GAN_BLOCKS,
                         ids=[f"language.md:{line}" for line, _ in GAN_BLOCKS])
def test_gan_block_compiles_without_warnings(line: int, code: str):
    source = "\n" * (line - 1) + code  # positions in messages are those of the docs file
    try:
        result = compile_source(source, "docs/language.md")
    except GandslError as e:
        error = str(e)  # failed outside the `except`, so pytest shows no chained traceback
    else:
        error = None
    if error is not None:
        pytest.fail(f"the ```gan block at docs/language.md:{line} does not compile:\n{error}",
                    pytrace=False)
    if result.warnings:
        shown = render_all(result.warnings, source, "docs/language.md")
        pytest.fail(f"the ```gan block at docs/language.md:{line} has warnings:\n{shown}",
                    pytrace=False)
    assert result.python


def _missing(names, pattern: str) -> list[str]:
    return [n for n in names
            if not re.search(pattern.format(re.escape(n)), LANGUAGE_TEXT, re.M)]


def test_every_layer_has_a_row_in_the_layer_table():
    assert _missing(LAYERS, r"^\| `{}` \|") == []


def _row(name: str, section: str = "") -> str:
    """The table row of `name`, in the part of the reference from `section` on (a layer and
    an objective function may share a name: `softplus`)."""
    text = LANGUAGE_TEXT[LANGUAGE_TEXT.index(section):] if section else LANGUAGE_TEXT
    m = re.search(rf"^\| `{re.escape(name)}` \|(.*)$", text, re.M)
    return m.group(1) if m else ""


def test_layer_and_function_rows_list_every_argument():
    """The tables were generated from the catalogs; a new or renamed argument needs a new
    table (with its default, choices and formulas)."""
    stale = [f"{name}({p.name})" for name, layer in LAYERS.items() for p in layer.params
             if not re.search(rf"`{re.escape(p.name)}[`=.]", _row(name, "## Layer reference"))]
    stale += [f"{name}({a.name})" for name, fn in FUNCTIONS.items() for a in fn.args
              if not re.search(rf"`{re.escape(a.name)}[`=]", _row(name))]
    assert stale == []


def test_every_augmentation_has_a_row_with_its_arguments():
    rows = {name: _row(name, "### Augmentation") for name in AUGMENTATIONS}
    assert [n for n, row in rows.items() if not row] == []
    stale = [f"{name}({p.name}={p.default!r})" for name, params in AUGMENTATIONS.items()
             for p in params if not p.keyword_only
             if f"`{p.name}={p.default!r}".replace("'", '"') not in rows[name]]
    assert stale == []
    # ADA's keyword-only arguments: each operation in its row, each setting in the table of
    # settings with its default
    assert [op for op in ADA_OPERATIONS if f"`{op}`" not in rows["ada"]] == []
    text = LANGUAGE.read_text()
    for name, default in ADA_SETTINGS.items():
        shown = f"`{list(map(_number, default))}`".replace("'", "") \
            if isinstance(default, tuple) else _number(default)
        assert f"| `{name}` | {shown} |" in text, name


def _number(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)


def test_every_function_and_distribution_is_documented():
    assert _missing(FUNCTIONS, r"^\| `{}` \|") == []
    assert _missing(DISTRIBUTIONS, r"^\| `{}\(N\)` \|") == []
    for d in DISTRIBUTIONS.values():  # each row as its catalog entry
        shaped = " (with `like=x`: x's type)" if d.shaped else ""
        settings = [f"`{k}` ({v})" for k, v in d.defaults] + (["`like`"] if d.shaped else [])
        row = f"| `{d.name}(N)` | `{d.kind}[N]`{shaped} | {', '.join(settings) or '—'} |"
        assert row in LANGUAGE_TEXT.splitlines(), d.name


def test_every_type_kind_is_documented():
    assert _missing(KINDS, r"^\| `{}(\[[^`]*\])?` \|") == []  # a row of the types table


def _catalog_row(entry, note: str = "") -> str:
    options = ", ".join(f"`{k}`" for k in entry.keywords) or "—"
    return f"| `{entry.name}` | {options} | {entry.doc}{note} |"


@pytest.mark.parametrize("table", [DATA_SOURCES, OPTIMIZERS, SCHEDULES, MOMENTUM_SCHEDULES,
                                   OPTIONS, INITS],
                         ids=["data", "optimizers", "schedules", "momentum", "options", "inits"])
def test_the_tables_of_data_sources_and_train_settings_are_the_catalogs(table):
    """Each row is its `gandsl.catalog` entry: name, keyword arguments in order, what it is."""
    note = " (a momentum schedule)" if table is MOMENTUM_SCHEDULES else ""
    lines = LANGUAGE_TEXT.splitlines()
    for entry in table.values():
        assert _catalog_row(entry, note) in lines, entry.name


# ---- docs/errors.md ------------------------------------------------------------------------


ERRORS_TEXT = ERRORS.read_text(encoding="utf-8")
HEADING = re.compile(r"^## ([EW]\d{3}): (.+)$", re.M)


def sections() -> dict[str, tuple[str, str]]:
    """code → (meaning in the heading, text of the section)."""
    found = list(HEADING.finditer(ERRORS_TEXT))
    out: dict[str, tuple[str, str]] = {}
    for m, nxt in zip(found, [*found[1:], None], strict=True):
        end = nxt.start() if nxt else len(ERRORS_TEXT)
        assert m.group(1) not in out, f"{m.group(1)} has two sections in docs/errors.md"
        out[m.group(1)] = (m.group(2).strip(), ERRORS_TEXT[m.end():end])
    return out


SECTIONS = sections()


def test_errors_reference_lists_every_code_with_its_meaning():
    missing = [c for c in CODES if c not in SECTIONS]
    assert missing == [], f"docs/errors.md has no section for {missing}"
    wrong = {c: (SECTIONS[c][0], m) for c, m in CODES.items() if SECTIONS[c][0] != m}
    assert wrong == {}, "section headings must read `## CODE: meaning` as in CODES"
    stale = [c for c in SECTIONS if c not in CODES]
    assert stale == [], f"docs/errors.md documents codes that no longer exist: {stale}"


# Codes without a section fail `test_errors_reference_lists_every_code_with_its_meaning`.
@pytest.mark.parametrize("code", [c for c in CODES if c in SECTIONS])
def test_errors_reference_example_triggers_its_code(code: str):
    blocks = [(tag, body) for tag, _, body in fenced_blocks(SECTIONS[code][1]) if tag == "text"]
    assert len(blocks) >= 2, f"the {code} section needs an example spec and its output"
    spec, output = blocks[0][1], blocks[1][1]
    command = output.splitlines()[0]
    assert command.startswith("$ gandsl check spec.gan"), command
    words = shlex.split(command)[4:]
    params = dict(parse_param(v) for k, v in zip(words[::2], words[1::2], strict=True)
                  if k == "--param")
    assert f"[{code}]" in output, f"the shown output of the {code} example lacks {code}"
    try:
        found = check_source(spec, "spec.gan", params).warnings
    except GandslError as e:
        found = e.diagnostics
    assert code in [d.code for d in found], \
        f"the {code} example of docs/errors.md gives {[d.code for d in found]}"


def test_limits_table_is_the_compilers():
    """docs/language.md lists every limit of `gandsl.limits` with its value and code."""
    from gandsl.limits import ALL

    section = LANGUAGE_TEXT.split("## Limits and untrusted specs", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "---" not in
            line][1:]
    assert rows == [f"| {lim.what} | {lim.value:,} | {lim.code or '—'} |"
                    for lim in ALL.values()]
