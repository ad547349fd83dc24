"""Fuzzing the compiler (issue 14, item 6): whatever text it is given, `check` and `compile`
end in a result or a `GandslError`, never another exception, and what compiles is a module
that only defines (`safety.definitions_only`).

- The grammar fuzzer draws programs from the real grammar (`hypothesis.extra.lark`), every
  token spaced from the next and names taken from the language's own vocabulary, so most
  parse and the later passes see them.
- The mutation fuzzer takes the tokens of every spec in `specs/` and deletes, repeats, swaps,
  replaces and inserts a few: near-misses of real specs, which reach deep into lowering,
  checking and emitting.

`make test` runs a fixed, derandomized sample (300 programs, 40 near-misses of each spec: under
a minute); `make fuzz` runs `GANDSL_FUZZ_EXAMPLES` of each (`make fuzz FUZZ_EXAMPLES=N`,
default 2,000: about 15 minutes here) with fresh randomness.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark
from lark import Lark
from safety import definitions_only

from gandsl.diagnostics import GandslError
from gandsl.functions import DISTRIBUTIONS, FUNCTIONS
from gandsl.layers import LAYERS
from gandsl.parse import tokens
from gandsl.pipeline import compile_source

ROOT = Path(__file__).resolve().parents[2]
SPECS = sorted((ROOT / "specs").glob("*.gan"))
EXAMPLES = int(os.environ.get("GANDSL_FUZZ_EXAMPLES", "0")) or None
FUZZ = settings(max_examples=EXAMPLES or 300, deadline=None, derandomize=EXAMPLES is None,
                suppress_health_check=list(HealthCheck), database=None)


def compiles_or_reports(text: str) -> None:
    """The property: a result or a `GandslError`; a result is a module that only defines."""
    try:
        result = compile_source(text, "fuzz.gan")
    except GandslError:
        return
    problems = definitions_only(result.python)
    assert not problems, "\n".join(problems) + "\n" + text


# ---- programs of the grammar ------------------------------------------------------------

def _grammar() -> Lark:
    return Lark((ROOT / "gandsl" / "grammar.lark").read_text(), parser="lalr",
                maybe_placeholders=True)


GRAMMAR = _grammar()
VOCABULARY = sorted({*LAYERS, *FUNCTIONS, *DISTRIBUTIONS, "digits", "shapes", "image_folder",
                     "x", "h", "z", "c", "G", "D", "E", "fake", "real", "in", "S", "n", "i",
                     "step", "adam", "sgd", "lr", "ema", "init", "normal", "image", "map",
                     "latent", "label", "class", "logits", "vector", "scalar", "repeat",
                     "state", "src", "cls"})
NUMBERS = ["0", "1", "2", "3", "4", "8", "16", "64", "0.5", "1e-4", "2k", "1e9", "-1"]


def _token(value: str) -> st.SearchStrategy[str]:
    return st.just(f" {value} ")


def _explicit() -> dict[str, st.SearchStrategy[str]]:
    """A strategy per terminal, each token with a space around it (the lexer needs one
    between names), names from the vocabulary, small numbers and strings."""
    explicit: dict[str, st.SearchStrategy[str]] = {}
    for term in GRAMMAR.terminals:
        if term.pattern.type == "str":
            explicit[term.name] = _token(term.pattern.value)
    explicit["NAME"] = st.sampled_from(VOCABULARY).map(lambda n: f" {n} ")
    explicit["NUMBER"] = st.sampled_from(NUMBERS[:-1]).map(lambda n: f" {n} ")
    explicit["STRING"] = st.sampled_from(['"a"', '"data/x"', '""', '"\\""']).map(
        lambda s: f" {s} ")
    explicit["COMP_OP"] = st.sampled_from(["==", "!=", "<", ">", "<=", ">="]).map(
        lambda s: f" {s} ")
    explicit["FROZEN"] = _token("frozen")
    return explicit


@FUZZ
@given(from_lark(GRAMMAR, start="start", explicit=_explicit()))
def test_programs_of_the_grammar(text):
    compiles_or_reports(text)


# ---- near-misses of the real specs ------------------------------------------------------

SPEC_TOKENS = {p.stem: [(t.type, str(t)) for t in tokens(p.read_text())] for p in SPECS}
BY_TYPE: dict[str, list[str]] = {}
for _toks in SPEC_TOKENS.values():
    for _type, _value in _toks:
        BY_TYPE.setdefault(_type, [])
        if _value not in BY_TYPE[_type]:
            BY_TYPE[_type].append(_value)
BY_TYPE["NUMBER"] += [n for n in NUMBERS if n not in BY_TYPE["NUMBER"]]
POOL = sorted({v for values in BY_TYPE.values() for v in values})


@st.composite
def mutated(draw, name: str) -> str:
    """A spec with a few tokens changed: mostly a name for another name or a number for
    another number (still a spec, meaning something else), sometimes a token deleted,
    repeated, swapped or inserted (a syntax error somewhere inside)."""
    toks = list(SPEC_TOKENS[name])
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(toks) - 1))
        kind, _ = toks[i]
        op = draw(st.sampled_from(["same kind"] * 6 + ["delete", "repeat", "swap", "insert"]))
        if op == "same kind":
            toks[i] = (kind, draw(st.sampled_from(BY_TYPE.get(kind, POOL))))
        elif op == "delete":
            del toks[i]
        elif op == "repeat":
            toks.insert(i, toks[i])
        elif op == "swap" and i + 1 < len(toks):
            toks[i], toks[i + 1] = toks[i + 1], toks[i]
        else:
            toks.insert(i, ("?", draw(st.sampled_from(POOL))))
    return " ".join(value for _, value in toks)


NEAR_MISSES = settings(FUZZ, max_examples=EXAMPLES or 40)  # per spec


@pytest.mark.parametrize("name", sorted(SPEC_TOKENS))
@NEAR_MISSES
@given(data=st.data())
def test_near_misses_of_the_specs(name, data):
    compiles_or_reports(data.draw(mutated(name)))


def test_unmutated_specs_compile():
    """The mutation fuzzer starts from specs that compile when their tokens are re-joined."""
    for name, toks in SPEC_TOKENS.items():
        # at the spec's own path, so that its imports (`import "stylegan2.gan"`) resolve
        result = compile_source(" ".join(value for _, value in toks),
                                str(ROOT / "specs" / f"{name}.gan"))
        assert not definitions_only(result.python)
