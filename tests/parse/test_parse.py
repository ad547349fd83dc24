"""The parser: precedence, number syntax, statements, and limits on hostile input."""

from __future__ import annotations

import pytest

from gandsl import syntax as S
from gandsl.diagnostics import GandslError
from gandsl.parse import parse


def expr(text: str) -> S.Expr:
    return parse(f"let v = {text}").items[0].value


def test_numbers():
    assert [expr(t).value for t in ["64", "200k", "1.5M", "2e-4", "0.5", "1e3"]] == [
        64, 200_000, 1_500_000, 2e-4, 0.5, 1000.0]
    assert isinstance(expr("200k").value, int)


def test_chain_binds_tighter_than_plus():
    e = expr("in -> conv(4, 3) -> relu + in")
    assert isinstance(e, S.BinOp) and e.rest[0][0] == "+"
    chain = e.first
    assert isinstance(chain, S.Chain) and [s.name for s in chain.stages] == ["conv", "relu"]


def test_arithmetic_precedence_and_power():
    e = expr("64 * 2^i - 1")
    assert isinstance(e, S.BinOp) and e.rest[0][0] == "-"
    prod = e.first
    assert isinstance(prod, S.BinOp) and prod.rest[0][0] == "*"
    assert isinstance(prod.rest[0][1], S.BinOp) and prod.rest[0][1].rest[0][0] == "^"


def test_chains_continue_on_the_next_line():
    m = parse("block b() {\n  in -> conv(4, 3)\n     -> relu\n  + in\n}\n")
    body = m.items[0].body
    assert len(body) == 1 and isinstance(body[0].expr, S.BinOp)


def test_objective_statements():
    m = parse("objective {\n  x, c ~ faces\n  G2 = {A, B}\n"
              "  D minimizes gan: 2 * f(x) + 5 * r1(D, x) every 16\n  G maximizes g(x)\n}")
    sample, group, mini, maxi = m.items[0].body
    assert isinstance(sample, S.Sample) and [t.id for t in sample.targets] == ["x", "c"]
    assert isinstance(group.value, S.GroupLit) and [n.id for n in group.value.names] == ["A", "B"]
    assert isinstance(mini, S.Minimize) and not mini.maximize
    first, rest = mini.loss.first, mini.loss.rest
    assert isinstance(first, S.Labeled) and first.label == "gan"
    assert isinstance(rest[0][1], S.Every)
    assert maxi.maximize


def test_train_statements():
    m = parse("train { batch 16; steps 200k\n D steps 5 per G step\n"
              " adam G (lr=1e-4, betas=(0.5, 0.999))\n lr G linear_decay(start=1)\n"
              " lr constant()\n init D normal(std=0.02) }")
    kinds = [(s.kind, [w for w, _ in s.words]) for s in m.items[0].stmts]
    assert kinds == [("batch", []), ("steps", []), ("ratio", ["D", "G"]),
                     ("option", ["adam", "G"]), ("player_fn", ["lr", "G", "linear_decay"]),
                     ("option", ["lr", "constant"]), ("player_fn", ["init", "D", "normal"])]


def test_keywords_are_names_where_no_keyword_fits():
    m = parse("block b(in2) { h = in -> conv(in2, 3)\n for i in 1..2 { h = h }\n h }")
    assert isinstance(m.items[0].body[1], S.For)


@pytest.mark.parametrize("text", [
    "let v = " + "-" * 5000 + "1",
    "let v = " + "f(" * 400 + "1" + ")" * 400,
    "let v = " + "[" * 3000 + "]" * 3000,
])
def test_deep_nesting_is_an_error_not_a_crash(text):
    with pytest.raises(GandslError) as info:
        parse(text)
    assert info.value.first.code == "E004"


def test_huge_input_is_refused_quickly():
    with pytest.raises(GandslError) as info:
        parse("let v = 1\n" * 100_000)
    assert info.value.first.code == "E004"


def test_long_flat_chains_are_fine():
    m = parse("network N(x: map[1, 1, 1]) -> map[1, 1, 1] { return x" + " -> relu" * 5000
              + " }")
    assert len(m.items[0].body[0].values[0].stages) == 5000


def test_compile_time_logic():
    from gandsl.consteval import evaluate

    def value(text):
        return evaluate(expr(text), lambda name, span: {"a": 2, "b": 0}[name])

    assert [value(t) for t in ["a > 1 and b == 0", "b or a", "b and a", "not b", "a or b",
                               "2 ^ 10 // 3 % 7", "-a + 1", "min(a, 5) * max(1, b)"]] == [
        True, True, False, True, True, 5, -1, 2]


SOFT = ["gan", "import", "extern", "layer", "function", "in", "by", "minimizes", "maximizes",
        "batch", "steps", "per", "step", "grid"]


@pytest.mark.parametrize("word", SOFT)
def test_words_of_the_grammar_are_names_where_it_does_not_expect_them(word):
    """After a statement that ends in an expression the lexer may read them as keywords (LALR
    merges the contexts that follow an expression); the parser hands them back as names."""
    src = f"""\
network G(z: latent[8]) -> vector[8] {{
  h = z -> linear(8)
  {word} = h -> relu
  return h + {word}
}}
objective {{
  x = G(z)
  {word} = x * 2
}}
"""
    module = parse(src)
    body = module.items[0].body
    assert isinstance(body[1], S.Assign) and body[1].targets[0].id == word


def test_every_after_an_expression_continues_it():
    with pytest.raises(GandslError) as e:
        parse("network G(z: latent[8]) -> vector[8] {\n  h = z\n  every = h\n  return h\n}\n")
    d = e.value.diagnostics[0]
    assert (d.code, d.span.line, d.span.col, d.span.end_col) == ("E001", 3, 3, 7)
    assert d.message == "`every` after an expression makes it a lazy term; it cannot name " \
        "a value here"


def test_a_reserved_word_before_equals_says_so():
    with pytest.raises(GandslError) as e:
        parse("network G(z: latent[8]) -> vector[8] {\n  h = z\n  param = h\n  return h\n}\n")
    d = e.value.diagnostics[0]
    assert (d.code, d.span.line, d.span.col) == ("E001", 3, 3)
    assert d.hint == "`param` is a reserved word and cannot name a value"
