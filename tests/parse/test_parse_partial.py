"""`parse.parse_partial` (what an editor outlines in a spec with syntax errors) and
`pipeline.analyze` (what the language server shows: the checker's types beside every
diagnostic, without raising)."""

from __future__ import annotations

import pytest
from conftest import ROOT

from gandsl.diagnostics import GandslError
from gandsl.parse import parse, parse_partial
from gandsl.pipeline import analyze, check_source

STARGAN = (ROOT / "specs" / "stargan.gan").read_text()


def _names(module) -> list[str]:
    return [getattr(i, "name", type(i).__name__) for i in module.items]


def test_the_items_that_parse_alone_are_kept_at_their_places():
    broken = STARGAN.replace("network G(", "network G((")
    with pytest.raises(GandslError):
        parse(broken)
    partial, whole = parse_partial(broken), parse(STARGAN)
    assert _names(partial) == [n for n in _names(whole) if n != "G"]
    kept = [i for i in whole.items if getattr(i, "name", "") != "G"]
    assert [i.span for i in partial.items] == [i.span for i in kept]
    assert partial.header.name == "stargan"


@pytest.mark.parametrize("text", ["", "}}}{", "\x00\xff", "(" * 5000, "a" * 600_000,
                                  "network G( {\n"])
def test_nothing_raises(text):
    assert isinstance(parse_partial(text).items, list)


def test_analyze_types_what_it_can_beside_every_error():
    broken = STARGAN.replace("conv(g_ch, 7, pad=3", "conv(g_ch, 7, strid=2, pad=3")
    result = analyze(broken, "x.gan")
    with pytest.raises(GandslError) as raised:
        check_source(broken, "x.gan")
    assert [(d.code, d.span) for d in result.diagnostics] == \
        [(d.code, d.span) for d in raised.value.diagnostics]
    d = result.spec.network("D")  # the other network is whole and typed
    assert str(d.nodes[-1].type) == "map[5, 1, 1]"


def test_analyze_does_not_raise_for_syntax_errors_and_skips_undeclared_params():
    result = analyze(STARGAN.replace("network G(", "network G(("), "x.gan")
    assert result.spec is None and [d.code for d in result.diagnostics] == ["E001"]
    sized = analyze(STARGAN, "x.gan", {"S": 64, "nonsense": 1})
    assert sized.diagnostics == [] and sized.spec.params[0].value == 64
