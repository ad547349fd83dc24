"""Diagnostics for invalid specs: every error code, at the right line and column.

Each spec starts on the line after its opening `\"\"\"\\`, so line 1 is the first line of text.
Where a spec is built from `HEAD` (lines 1-10: a dataset, `G` and `D`), its own text starts on
line 11. Tests marked `xfail(strict=True)` describe the correct behaviour of a diagnostic that is
wrong today (see the reason of each).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from conftest import GROUP_SPEC, codes_at, diagnostics

from gandsl.diagnostics import CODES, GandslError
from gandsl.parse import MAX_SOURCE_BYTES
from gandsl.pipeline import UsageError, check_source

# Lines 1-10 of many specs below; the objective then starts on line 11.
HEAD = """\
data images: image[3, 32, 32] = image_folder("data/images")

network G(z: latent[64]) -> image[3, 32, 32] {
  return z -> linear(3 * 32 * 32) -> tanh -> reshape(3, 32, 32)
}

network D(x: image[3, 32, 32]) -> scalar {
  return x -> flatten -> linear(1)
}

"""

# The objective that HEAD's networks need, on lines 11-17, and a train section on 19-24.
OBJECTIVE = """\
objective {
  x ~ images
  z ~ normal(64)
  fake = G(z)
  D minimizes gan_d(D(x), D(fake))
  G minimizes gan_g(D(fake))
}

train {
  batch 64
  steps 1k
  adam G (lr=2e-4)
  adam D (lr=2e-4)
}
"""


def spec(body: str) -> str:
    """HEAD followed by `body` (which then starts on line 11)."""
    return HEAD + textwrap.dedent(body)


def only(text: str, **params):
    """The single diagnostic of a spec (fails when there is not exactly one)."""
    ds = diagnostics(text, **params)
    assert len(ds) == 1, [(d.code, d.span.line, d.span.col, d.message) for d in ds]
    return ds[0]


def test_head_and_objective_are_clean():
    assert codes_at(HEAD + OBJECTIVE) == []


# ---- syntax: E001-E004 ------------------------------------------------------------------


def test_e001_missing_arrow_before_output_type():
    src = """\
    network G(z: latent[64]) image[3, 32, 32] {
      return z -> linear(3 * 32 * 32) -> tanh -> reshape(3, 32, 32)
    }
    """
    d = only(src)
    assert (d.code, d.span.line, d.span.col) == ("E001", 1, 26)
    assert (d.span.end_line, d.span.end_col) == (1, 30)  # the whole name `image`
    assert "unexpected name `image`" in d.message
    assert d.hint is not None and "-> image" in d.hint


def test_e001_missing_arrow_says_arrow_is_expected():
    src = """\
    network G(z: latent[64]) image[3, 32, 32] {
      return z -> linear(3 * 32 * 32) -> tanh -> reshape(3, 32, 32)
    }
    """
    d = only(src)
    assert d.message == "unexpected name `image`; expected `->`"


def test_e001_missing_comma_between_arguments():
    src = spec("""\
    objective {
      x ~ images
      z ~ normal(64)
      fake = G(z)
      D minimizes gan_d(D(x) D(fake))
      G minimizes gan_g(D(fake))
    }
    """)
    d = only(src)
    assert (d.code, d.span.line, d.span.col) == ("E001", 15, 26)
    assert d.message == "unexpected name `D`; expected `)`, `,`"


def test_e001_eq_instead_of_compare_has_hint():
    src = """\
    param S = 64
    if S = 64 {
      let n = 3
    }
    """
    d = only(src)
    assert (d.code, d.span.line, d.span.col) == ("E001", 2, 6)
    assert "compare with `==`" in d.hint


def test_e002_unexpected_character_with_hint():
    src = """\
    param S = 64
    param big = S > 32 & S < 128
    """
    d = only(src)
    assert (d.code, d.span.line, d.span.col) == ("E002", 2, 20)
    assert d.message == "unexpected character `&`"
    assert d.hint == "use `and`"


def test_e002_single_quoted_string():
    src = """\
    data images: image[3, 32, 32] = image_folder('data/images')
    """
    d = only(src)
    assert (d.code, d.span.line, d.span.col) == ("E002", 1, 46)
    assert d.hint == "strings use double quotes"


def test_e002_unterminated_string():
    d = only('gan x "no end\nparam a = 1\n')
    assert (d.code, d.span.line, d.span.col) == ("E002", 1, 7)
    assert d.message == 'unterminated string: this `"` has no closing `"` on its line'


def test_e002_invisible_characters_are_named_by_code_point():
    d = only("param a = 1\u200b\n")
    assert (d.code, d.span.line, d.span.col) == ("E002", 1, 12)
    assert d.message == "unexpected character U+200B (zero width space)"
    assert d.hint == "an invisible character: delete it (and retype the space around it)"
    d = only("param a = 1\nparam b = \ufeff2\n")
    assert d.message == "unexpected character U+FEFF (zero width no-break space)"
    assert d.hint == "a byte order mark: save the file as UTF-8 without one"


def test_a_byte_order_mark_at_the_start_of_a_file_is_accepted(tmp_path):
    from gandsl.pipeline import read_spec

    spec = tmp_path / "bom.gan"
    spec.write_bytes("\ufeffparam a = 1\n".encode())
    assert read_spec(spec) == "param a = 1\n"


def test_e003_unclosed_brace_at_end_of_file_points_at_the_brace():
    src = """\
    param S = 32

    network G(z: latent[64]) -> image[3, S, S] {
      h = z -> linear(3 * S * S) -> tanh
      return h -> reshape(3, S, S)
    """
    d = only(src)
    assert (d.code, d.span.line, d.span.col) == ("E003", 3, 44)
    assert d.message == "unexpected end of file; this `{` is never closed"


def test_e001_unclosed_brace_before_next_network():
    src = """\
    network G(z: latent[64]) -> image[3, 32, 32] {
      return z -> linear(3 * 32 * 32) -> tanh -> reshape(3, 32, 32)

    network D(x: image[3, 32, 32]) -> scalar {
      return x -> flatten -> linear(1)
    }
    """
    d = only(src)
    assert (d.code, d.span.line, d.span.col) == ("E001", 4, 1)
    assert d.message.startswith("unexpected `network`; expected `}`")


def test_e001_expression_cut_short_by_next_item():
    src = """\
    param S = 64
    param T = S +
    param U = 3
    """
    assert codes_at(src) == [("E001", 3, 1)]


def test_e004_nesting_too_deep():
    src = "param T = " + "-" * 150 + "1\n"
    d = only(src)
    # Reported where the expression that nests too deep starts.
    assert (d.code, d.span.line, d.span.col) == ("E004", 1, 11)
    assert d.message == "nesting deeper than 100 levels"
    assert d.hint == "split the expression into named steps"


def test_e004_nested_lists_too_deep():
    src = "param S = 64\nlet T = " + "[" * 3000 + "]" * 3000 + "\n"
    d = only(src)
    assert (d.code, d.span.line) == ("E004", 2)


def test_e004_file_too_large():
    src = "param S = 64\n" + ("# " + "x" * 97 + "\n") * (MAX_SOURCE_BYTES // 100 + 10)
    d = only(src)
    assert (d.code, d.span.line, d.span.col) == ("E004", 1, 1)
    assert f"the limit is {MAX_SOURCE_BYTES:,}" in d.message


def test_syntax_errors_in_two_items_are_both_reported():
    src = """\
    network G(z: latent[64]) -> image[3, 32, 32] {
      h = z -> linear(10) ->
    }

    network D(x: image[3, 32, 32]) -> scalar {
      return x -> flatten -> linear(1))
    }
    """
    assert codes_at(src) == [("E001", 3, 1), ("E001", 6, 35)]


# ---- names: E101-E109 -------------------------------------------------------------------


def test_e101_undefined_local_with_did_you_mean():
    src = """\
    param S = 32

    network G(z: latent[64]) -> image[3, S, S] {
      h = z -> linear(3 * S * S)
      return hh -> tanh -> reshape(3, S, S)
    }
    """
    d = only(src)
    assert (d.code, d.span.line, d.span.col) == ("E101", 5, 10)
    assert d.message == "undefined name `hh`"
    assert d.hint == "did you mean `h`?"


def test_e101_undefined_in_objective_with_did_you_mean():
    src = spec("""\
    objective {
      x ~ images
      z ~ normal(64)
      fake = G(z)
      D minimizes gan_d(D(x), D(fakee))
      G minimizes gan_g(D(fake))
    }
    """)
    d = only(src)
    assert (d.code, d.span.line, d.span.col) == ("E101", 15, 29)
    assert d.hint == "did you mean `fake`?"


def test_e101_undefined_size_in_type():
    src = """\
    param S = 32
    network G(z: latent[64]) -> image[3, SS, S] {
      return z -> linear(3 * S * S) -> tanh -> reshape(3, S, S)
    }
    """
    d = only(src)
    assert (d.code, d.span.line, d.span.col) == ("E101", 2, 38)
    assert d.hint == "did you mean `S`?"


def test_e101_unknown_dataset_in_sample():
    src = spec(OBJECTIVE.replace("x ~ images", "x ~ imges"))
    d = only(src)
    assert (d.code, d.span.line, d.span.col) == ("E101", 12, 7)
    assert d.hint == "did you mean `images`?"


def test_e101_network_copy_of_unknown_network():
    src = HEAD + "network G2 = Gx\n"
    d = only(src)
    assert (d.code, d.span.line, d.span.col) == ("E101", 11, 14)
    assert d.hint == "did you mean `G`?"


def test_e102_duplicate_network_notes_first_definition():
    src = """\
    network G(z: latent[64]) -> vector[10] {
      return z -> linear(10)
    }

    network G(z: latent[64]) -> vector[20] {
      return z -> linear(20)
    }
    """
    d = only(src)
    assert (d.code, d.span.line, d.span.col) == ("E102", 5, 9)
    assert d.message == "network `G` is already defined"
    assert len(d.notes) == 1
    text, first = d.notes[0]
    assert text == "first defined here"
    assert (first.line, first.col) == (1, 9)


def test_e102_duplicate_param_and_let():
    src = """\
    param S = 32
    param nz = 100
    param S = 64
    let nz = 3
    """
    ds = diagnostics(src)
    assert [(d.code, d.span.line, d.span.col) for d in ds] == [("E102", 3, 7), ("E102", 4, 5)]
    assert [(n.line, n.col) for d in ds for _, n in d.notes] == [(1, 7), (2, 7)]


def test_e102_objective_value_defined_twice():
    src = spec(OBJECTIVE.replace("fake = G(z)", "fake = G(z)\n  fake = G(z)"))
    d = only(src)
    assert (d.code, d.span.line, d.span.col) == ("E102", 15, 3)
    assert [(n.line, n.col) for _, n in d.notes] == [(14, 3)]


def test_e102_player_minimizes_twice():
    src = spec("""\
    objective {
      x ~ images
      z ~ normal(64)
      fake = G(z)
      D minimizes gan_d(D(x), D(fake))
      G minimizes gan_g(D(fake))
      D minimizes wgan_d(D(x), D(fake))
    }
    """)
    d = only(src)
    assert (d.code, d.span.line, d.span.col) == ("E102", 17, 3)
    assert [(n.line, n.col) for _, n in d.notes] == [(15, 3)]


def test_e102_network_input_declared_twice():
    src = """\
    network G(x: image[3, 8, 8], x: image[3, 8, 8]) -> image[3, 8, 8] {
      return x
    }
    """
    d = only(src)
    assert (d.code, d.span.line, d.span.col) == ("E102", 1, 30)
    assert [(n.line, n.col) for _, n in d.notes] == [(1, 11)]


def test_e103_unknown_layer_with_hint():
    src = """\
    network G(z: latent[64]) -> vector[10] {
      return z -> lienar(10)
    }
    """
    d = only(src)
    assert (d.code, d.span.line, d.span.col) == ("E103", 2, 15)
    assert d.message == "unknown layer or block `lienar`"
    assert d.hint == "did you mean `linear`?"


def test_e103_unknown_data_source_with_hint():
    src = 'data images: image[3, 32, 32] = imagefolder("data/images")\n'
    d = only(src)
    assert (d.code, d.span.line, d.span.col) == ("E103", 1, 33)
    assert d.hint == "did you mean `image_folder`?"


def test_e103_unknown_loss_function_with_hint():
    src = spec(OBJECTIVE.replace("gan_g(D(fake))", "gan_gg(D(fake))"))
    d = only(src)
    assert (d.code, d.span.line, d.span.col) == ("E103", 16, 15)
    assert d.hint == "did you mean `gan_g`?"


def test_e104_unknown_layer_keyword_with_hint():
    src = """\
    network G(x: image[3, 32, 32]) -> map[8, 16, 16] {
      return x -> conv(8, 4, strde=2, pad=1)
    }
    """
    d = only(src)
    assert (d.code, d.span.line, d.span.col) == ("E104", 2, 26)
    assert d.message == "`conv` has no argument `strde`"
    assert d.hint == "did you mean `stride`?"


def test_e104_unknown_distribution_and_function_keywords():
    src = spec(OBJECTIVE.replace("normal(64)", "normal(64, sd=2)")
               .replace("gan_g(D(fake))", "gan_g(fak=D(fake))"))
    ds = diagnostics(src)
    assert [(d.code, d.span.line, d.span.col) for d in ds] == [("E104", 13, 18),
                                                                 ("E104", 16, 21)]
    assert [d.hint for d in ds] == ["did you mean `std`?", "did you mean `fake`?"]


def test_e105_too_many_positional_arguments():
    src = """\
    network G(z: latent[64]) -> vector[10] {
      return z -> linear(10, true, 3)
    }
    """
    d = only(src)
    assert (d.code, d.span.line, d.span.col) == ("E105", 2, 32)
    assert d.message == "`linear` takes at most 2 positional arguments (out, bias), got 3"
    assert d.hint == "signature: linear(out, bias=…, *, sn=…, eqlr=…, lr_mul=…, gain=…, init=…)"


def test_e105_missing_argument():
    src = """\
    network G(x: image[3, 32, 32]) -> map[8, 16, 16] {
      return x -> conv(8)
    }
    """
    d = only(src)
    assert (d.code, d.span.line, d.span.col) == ("E105", 2, 15)
    assert d.message == "`conv` is missing argument `k`"


def test_e105_loss_function_arity_and_repeated_input():
    src = spec(OBJECTIVE.replace("G(z)", "G(z, z=z)").replace("gan_g(D(fake))",
                                                           "gan_g(D(fake), D(x))"))
    ds = diagnostics(src)
    assert [(d.code, d.span.line, d.span.col) for d in ds] == [("E105", 14, 15),
                                                                 ("E105", 16, 30)]
    assert ds[1].message == "`gan_g` takes 1 argument (fake), got 2"


def test_e106_param_cycle_of_two():
    src = """\
    param a = b + 1
    param b = a * 2
    param c = 4
    """
    d = only(src)
    assert (d.code, d.span.line, d.span.col) == ("E106", 1, 7)
    assert d.message == "params depend on each other in a cycle: a → b → a"
    assert [(n.line, n.col) for _, n in d.notes] == [(2, 7)]


def test_e106_param_cycle_is_printed_in_dependency_order():
    src = """\
    param a = b + 1
    param b = c * 2
    param c = a
    param d = 4
    """
    d = only(src)
    assert (d.code, d.span.line, d.span.col) == ("E106", 1, 7)
    assert d.message == "params depend on each other in a cycle: a → b → c → a"
    assert [(n.line, n.col) for _, n in d.notes] == [(2, 7), (3, 7)]


def test_e106_objective_cycle_of_two():
    src = spec("""\
    objective {
      x ~ images
      a = G(b)
      b = G(a)
      z ~ normal(64)
      fake = G(z)
      D minimizes gan_d(D(x), D(fake))
      G minimizes gan_g(D(fake))
    }
    """)
    d = only(src)
    assert (d.code, d.span.line, d.span.col) == ("E106", 13, 3)
    assert d.message == "objective values depend on each other in a cycle: a → b → a"
    assert [(n.line, n.col) for _, n in d.notes] == [(14, 3)]


OBJECTIVE_CYCLE_OF_THREE = """\
data images: image[3, 32, 32] = image_folder("data/images")

network G(x: image[3, 32, 32]) -> image[3, 32, 32] {
  return x -> conv(3, 3, pad=1) -> tanh
}

network D(x: image[3, 32, 32]) -> scalar {
  return x -> flatten -> linear(1)
}

objective {
  x ~ images
  p = G(q)
  q = G(r)
  r = G(p)
  D minimizes gan_d(D(x), D(p))
  G minimizes gan_g(D(p))
}
"""


def test_e106_objective_cycle_is_printed_in_dependency_order():
    d = diagnostics(OBJECTIVE_CYCLE_OF_THREE)[0]
    assert (d.code, d.span.line, d.span.col) == ("E106", 13, 3)
    assert d.message == "objective values depend on each other in a cycle: p → q → r → p"


def test_e106_objective_cycle_does_not_cascade():
    assert codes_at(OBJECTIVE_CYCLE_OF_THREE) == [("E106", 13, 3)]


def test_e107_unknown_type_with_hint():
    src = """\
    network G(z: latnt[64]) -> vector[10] {
      return z -> linear(10)
    }
    """
    d = only(src)
    assert (d.code, d.span.line, d.span.col) == ("E107", 1, 14)
    assert d.message == "unknown type `latnt`"
    assert d.hint == "did you mean `latent`?"


def test_e107_wrong_number_of_sizes():
    src = """\
    network G(z: latent[8, 8]) -> scalar[1] {
      return z -> flatten
    }
    """
    ds = diagnostics(src)
    assert [(d.code, d.span.line, d.span.col) for d in ds] == [("E107", 1, 14),
                                                                 ("E107", 1, 31)]
    assert ds[0].message == "`latent` takes 1 size (latent[N]), got 2"
    assert ds[1].message == "`scalar` takes 0 sizes (scalar), got 1"


def test_e107_dataset_as_size_of_an_image_type():
    src = """\
    data images: image[3, 32, 32], label[5] = celeba("data/celeba")
    network G(z: latent[images]) -> vector[10] {
      return z -> linear(10)
    }
    """
    d = only(src)
    assert (d.code, d.span.line, d.span.col) == ("E107", 2, 21)


def test_e108_param_of_the_wrong_kind():
    src = """\
    param S = 64
    network G(z: latent[S]) -> vector[10] {
      return z -> linear(10)
    }
    """
    d = only(src, S="big")
    assert (d.code, d.span.line, d.span.col) == ("E108", 1, 7)
    assert d.message == "--param S=big: expected an integer, like the default `64`"
    assert codes_at(src, S=True) == [("E108", 1, 7)]
    assert codes_at(src, S=32.0) == []  # an integral float is an integer


def test_e108_says_how_to_declare_a_float():
    """A truncation ψ declared `1` is an integer param: 0.7 is refused with the fix."""
    d = only("param psi = 1\n", psi=0.7)
    assert d.message == "--param psi=0.7: expected an integer, like the default `1`"
    assert d.hint == ("an integer default makes `psi` an integer; declare it "
                      "`param psi = 1.0` to take any number")
    assert codes_at("param psi = 1.0\n", psi=0.7) == []


def test_specs_declare_weights_and_truncation_as_numbers():
    """Loss weights, R1 γ, margins and ψ take any number: none is declared an integer."""
    from conftest import SPECS

    from gandsl.pipeline import check_source, read_spec

    for path in SPECS:
        for p in check_source(read_spec(path), str(path)).spec.params:
            if p.name in ("psi", "gamma", "pl_weight", "margin") or p.name.startswith(
                    ("lambda", "lam")) or p.name.endswith("_w"):
                assert isinstance(p.default, float), f"{path.name}: param {p.name}"


def test_e108_description_matches_its_use():
    assert "unknown" not in CODES["E108"] and "value" in CODES["E108"]


def test_unknown_param_is_a_usage_error():
    src = "param S = 64\nparam nz = 100\n"
    with pytest.raises(UsageError, match=r"--param Ss: the spec has no param `Ss` "
                       r"\(did you mean `S`\?\)"):
        check_source(src, "t.gan", {"Ss": 32})
    with pytest.raises(UsageError, match="its params are S, nz"):
        check_source(src, "t.gan", {"width": 32})


def test_e109_network_named_like_a_layer():
    src = """\
    network conv(z: latent[8]) -> vector[10] {
      return z -> linear(10)
    }
    """
    d = only(src)
    assert (d.code, d.span.line, d.span.col) == ("E109", 1, 9)



@pytest.mark.parametrize("old, new, at", [
    ("G minimizes gan_g(D(fake))", "G minimizes loss: gan_g(D(fake))", (16, 15)),
    ("fake = G(z)\n", "fake = G(z)\n  loss = gan_g(D(fake))\n", (17, 15)),
])
def test_e109_a_term_called_loss(old, new, at):
    """Metrics name each player's total `P/loss`; a term of that name would overwrite it."""
    src = spec(OBJECTIVE.replace(old, new).replace("G minimizes gan_g(D(fake))",
                                                   "G minimizes loss"))
    d = only(src)
    assert (d.code, d.span.line, d.span.col) == ("E109", *at)
    assert "`loss`" in d.message

# ---- compile-time values: E150-E154 ------------------------------------------------------


def test_e150_size_must_be_positive():
    src = """\
    param S = 0
    network G(z: latent[S]) -> vector[10] {
      return z -> linear(10)
    }
    """
    d = only(src)
    assert (d.code, d.span.line, d.span.col) == ("E150", 2, 21)
    assert d.message == "sizes must be positive, got 0"


def test_e150_param_inside_if_and_for_over_a_number():
    src = """\
    param both = true
    if both {
      param x = 3
    }
    network G(x: image[3, 8, 8]) -> image[3, 8, 8] {
      for i in 5 { x = x -> relu }
      return x
    }
    """
    ds = diagnostics(src)
    assert [(d.code, d.span.line, d.span.col) for d in ds] == [("E150", 3, 3),
                                                                 ("E150", 6, 12)]
    assert ds[1].message == "`for` needs a range `a..b` or a list, got `5`"


def test_e153_param_cannot_be_a_dataset():
    src = """\
    data images: image[3, 32, 32] = image_folder("data/images")
    param S = images
    """
    assert codes_at(src) == [("E153", 2, 11)]
    assert "`images` is a dataset" in diagnostics(src)[0].message


def test_e150_power_with_no_real_value():
    src = "param S = (-8) ^ 0.5\n"
    assert codes_at(src) == [("E150", 1, 11)]


def test_e151_division_by_zero():
    src = """\
    param S = 64
    let n = S / (S - 64)
    network G(x: image[3, 8, 8]) -> image[3, 8, 8] {
      return x / 0
    }
    """
    assert codes_at(src) == [("E151", 2, 9), ("E151", 4, 14)]


def test_e152_loop_too_long():
    src = """\
    network G(x: image[3, 32, 32]) -> image[3, 32, 32] {
      h = x
      for i in 1..100000 { h = h -> relu }
      return h
    }
    """
    d = only(src)
    assert (d.code, d.span.line, d.span.col) == ("E152", 3, 12)
    assert d.message == "this loop runs 100,000 times; the limit is 20,000"


def test_e152_repeat_too_long():
    src = """\
    network G(x: image[3, 32, 32]) -> image[3, 32, 32] {
      return x -> repeat(1000000, relu)
    }
    """
    assert codes_at(src) == [("E152", 2, 22)]


def test_e152_block_recursion():
    src = """\
    block r(n) { in -> relu -> r(n) }
    network G(x: image[3, 32, 32]) -> image[3, 32, 32] {
      return x -> r(1)
    }
    """
    d = only(src)
    assert (d.code, d.span.line, d.span.col) == ("E152", 1, 28)
    assert "does `r` call itself" in d.hint


def test_e153_tensor_where_a_number_is_needed():
    src = """\
    network G(z: latent[64]) -> vector[10] {
      n = z -> linear(10)
      return z -> linear(n)
    }
    """
    d = only(src)
    assert (d.code, d.span.line, d.span.col) == ("E153", 3, 22)
    assert d.message == "`out` of `linear` is a compile-time number, got a tensor"


def test_e153_tensor_as_loop_bound():
    src = """\
    network G(z: latent[64]) -> vector[10] {
      h = z -> linear(10)
      for i in 1..h { h = h -> relu }
      return h
    }
    """
    assert codes_at(src) == [("E153", 3, 15)]


def test_e153_tensor_as_distribution_size():
    src = spec(OBJECTIVE.replace("normal(64)", "normal(x)"))
    assert codes_at(src) == [("E153", 13, 14)]


def test_e154_number_where_a_tensor_is_needed():
    src = """\
    network G(z: latent[64]) -> vector[10] {
      let n = 4
      h = n -> linear(10)
      return 3
    }
    """
    ds = diagnostics(src)
    assert [(d.code, d.span.line, d.span.col) for d in ds] == [("E154", 3, 7),
                                                                 ("E154", 4, 10)]
    assert ds[0].message == "a chain starts from a tensor, got `4`"
    assert ds[1].message == "a network returns tensors, got `3`"


# ---- types and shapes: E201-E207 ---------------------------------------------------------


def test_e201_class_index_into_conv_suggests_embedding():
    src = """\
    network G(y: class[10]) -> map[8, 30, 30] {
      return y -> conv(8, 3)
    }
    """
    d = only(src)
    assert (d.code, d.span.line, d.span.col) == ("E201", 2, 15)
    assert d.message == "`conv` takes a map or image, got class[10]"
    assert "embedding" in d.hint


def test_e201_map_into_linear_suggests_flatten():
    src = """\
    network D(x: image[3, 32, 32]) -> scalar {
      return x -> conv(8, 4, stride=2, pad=1) -> linear(1)
    }
    """
    d = only(src)
    assert (d.code, d.span.line, d.span.col) == ("E201", 2, 46)
    assert "map[8, 16, 16]" in d.message
    assert "flatten" in d.hint


def test_e201_quotient_of_tensors_and_unreduced_loss():
    src = """\
    data images: image[3, 32, 32] = image_folder("data/images")

    network G(z: latent[64]) -> image[3, 32, 32] {
      h = z -> linear(3 * 32 * 32) -> tanh -> reshape(3, 32, 32)
      return h / h
    }
    """
    d = only(src)
    assert (d.code, d.span.line, d.span.col) == ("E201", 5, 10)
    assert d.message == "`/` between a tensor and a tensor is not defined"

    src = spec(OBJECTIVE.replace("gan_g(D(fake))", "D(fake)"))
    d = only(src)
    assert (d.code, d.span.line, d.span.col) == ("E201", 16, 15)
    assert d.message == "a loss term is one number per batch; this is scalar"


def test_e202_add_of_different_shapes_names_both():
    src = """\
    network G(x: image[3, 32, 32]) -> map[8, 32, 32] {
      h = x -> conv(8, 3, pad=1)
      return h + x
    }
    """
    d = only(src)
    assert (d.code, d.span.line, d.span.col) == ("E202", 3, 10)
    assert "map[8, 32, 32]" in d.message and "image[3, 32, 32]" in d.message


def test_e202_product_of_different_shapes_names_both():
    src = """\
    network G(z: latent[64], y: class[10]) -> vector[64] {
      h = z * (y -> embedding(32))
      return h
    }
    """
    d = only(src)
    assert (d.code, d.span.line, d.span.col) == ("E202", 2, 7)
    assert d.message == "cannot multiply latent[64] and vector[32]: shapes must be equal"


def test_e202_concat_of_different_sizes_names_both():
    src = """\
    network G(x: image[3, 32, 32]) -> map[11, 32, 32] {
      h = x -> conv(8, 4, stride=2, pad=1)
      return concat(x, h)
    }
    """
    d = only(src)
    assert (d.code, d.span.line, d.span.col) == ("E202", 3, 20)
    assert "image[3, 32, 32]" in d.message and "map[8, 16, 16]" in d.message


def test_e202_conv_on_a_map_smaller_than_its_kernel():
    src = """\
    network D(x: image[3, 8, 8]) -> map[1, 1, 1] {
      h = x -> conv(8, 4, stride=2, pad=1) -> conv(16, 4, stride=2, pad=1)
      return h -> conv(1, 4)
    }
    """
    d = only(src)
    assert (d.code, d.span.line, d.span.col) == ("E202", 3, 23)  # at the kernel size
    assert "map[16, 2, 2]" in d.message and "-1×-1" in d.message


def test_e202_reshape_and_l1_shapes():
    src = """\
    network G(z: latent[64]) -> image[3, 32, 32] {
      return z -> linear(3 * 32 * 32) -> tanh -> reshape(3, 32, 16)
    }
    """
    d = only(src)
    assert (d.code, d.span.line, d.span.col) == ("E202", 2, 54)
    assert "vector[3072]" in d.message and "[3, 32, 16]" in d.message

    src = spec(OBJECTIVE.replace("gan_g(D(fake))", "gan_g(D(fake)) + l1(fake, z)"))
    d = only(src)
    assert (d.code, d.span.line, d.span.col) == ("E202", 16, 32)
    assert "image[3, 32, 32]" in d.message and "latent[64]" in d.message


DIGITS_WITH_CLASSIFIER = """\
data digits: image[1, 28, 28], class[10] = digits()

network G(z: latent[64]) -> image[1, 28, 28] {
  return z -> linear(784) -> tanh -> reshape(1, 28, 28)
}

network D(x: image[1, 28, 28]) -> (src: scalar, cls: logits[9]) {
  h = x -> flatten
  return h -> linear(1), h -> linear(9)
}

objective {
  x, y ~ digits
  z ~ normal(64)
  fake = G(z)
  D minimizes gan_d(D(x).src, D(fake).src) + ce(D(x).cls, y)
  G minimizes gan_g(D(fake).src)
}
"""


def test_e202_cross_entropy_with_the_wrong_class_count():
    assert codes_at(DIGITS_WITH_CLASSIFIER) == [("E202", 16, 46)]


def test_e202_cross_entropy_message_shows_both_counts():
    d = only(DIGITS_WITH_CLASSIFIER)
    assert "logits[9]" in d.message and "10" in d.message


def test_e203_invalid_layer_arguments():
    src = """\
    network G(x: image[3, 32, 32]) -> map[8, 32, 32] {
      a = x -> conv(8, 3, stride=0, pad=1)
      b = x -> conv(8, 3, pad=1, pad_mode="reflct")
      c = x -> conv(8, 3, pad=1, bias=1)
      return x -> conv(8, 3, pad=1) -> dropout(1.5)
    }
    """
    ds = diagnostics(src)
    assert [(d.code, d.span.line, d.span.col) for d in ds] == [
        ("E203", 2, 30), ("E203", 3, 39), ("E203", 4, 35), ("E203", 5, 44)]
    assert ds[0].message == "`stride` of `conv` must be at least 1, got 0"
    assert ds[1].hint == "did you mean `reflect`?"
    assert ds[2].message == "`bias` of `conv` is `true` or `false`, got `1`"
    assert ds[3].message == "`p` of `dropout` must be at most 1, got 1.5"


def test_e204_layer_without_input():
    src = """\
    network G(z: latent[64]) -> vector[10] {
      h = relu
      g = linear(10)
      return z -> linear(10)
    }
    """
    ds = diagnostics(src)
    assert [(d.code, d.span.line, d.span.col) for d in ds] == [("E204", 2, 7), ("E204", 3, 7)]
    assert ds[0].message == "`relu` needs an input: write `x -> relu`"


def test_e205_wrong_return_type_notes_the_declaration():
    src = """\
    network G(z: latent[64]) -> image[3, 32, 32] {
      return z -> linear(10)
    }
    """
    d = only(src)
    assert (d.code, d.span.line, d.span.col) == ("E205", 2, 10)
    assert d.message == ("network `G` declares its output as image[3, 32, 32] but returns "
                         "vector[10]")
    assert [(n.line, n.col) for _, n in d.notes] == [(1, 29)]


def test_e205_dropped_value_after_missing_arrow():
    src = """\
    network G(z: latent[64]) -> vector[10] {
      h = z -> linear(10) relu
      return h
    }
    """
    d = only(src)
    assert (d.code, d.span.line, d.span.col) == ("E205", 2, 23)
    assert d.message == "this value is computed and then dropped"
    assert d.hint == "is a `->` missing before it?"


def test_e205_statements_after_return():
    src = """\
    network G(z: latent[64]) -> vector[10] {
      return z -> linear(10)
      h = z -> relu
    }
    """
    assert codes_at(src) == [("E205", 3, 3)]


def test_e205_missing_return():
    src = """\
    block b(ch) { h = in -> conv(ch, 3, pad=1) }

    network G(z: latent[64]) -> vector[10] {
      h = z -> linear(10)
    }

    network F(x: image[3, 8, 8]) -> map[3, 8, 8] {
      return x -> b(3)
    }
    """
    ds = diagnostics(src)
    assert [(d.code, d.span.line, d.span.col) for d in ds] == [("E205", 1, 7), ("E205", 3, 9)]
    assert ds[0].message == "block `b` does not produce a value"
    assert ds[1].message == "network `G` never returns a value"


def test_e205_wrong_number_of_outputs():
    src = """\
    network D(x: image[3, 32, 32]) -> (src: scalar, cls: logits[5]) {
      return x -> flatten -> linear(1)
    }
    """
    d = only(src)
    assert (d.code, d.span.line, d.span.col) == ("E205", 2, 10)
    assert d.message == "network `D` declares 2 outputs (src, cls) but returns 1"


def test_e206_network_call_arguments():
    cases = {  # the extra argument is pointed at; otherwise the call
        "G(z, x)": (15, "`G` takes 1 input (z), got 2"),
        "G()": (10, "`G` is missing input `z`"),
        "G(x)": (10, "input 1 (`z`) of `G` is latent[64], got image[3, 32, 32]"),
        "G": (10, "network `G` must be called: `G(...)`"),
    }
    for call, (col, message) in cases.items():
        d = only(spec(OBJECTIVE.replace("fake = G(z)", f"fake = {call}")))
        assert (d.code, d.span.line, d.span.col, d.message) == ("E206", 14, col, message)
    d = only(spec(OBJECTIVE.replace("fake = G(z)", "fake = G(3)")))
    assert (d.code, d.span.line, d.span.col) == ("E206", 14, 12)


def test_e206_wrong_input_type_notes_the_port():
    d = only(spec(OBJECTIVE.replace("normal(64)", "normal(32)")))
    assert (d.code, d.span.line, d.span.col) == ("E206", 14, 10)
    assert "latent[64]" in d.message and "latent[32]" in d.message
    assert [(n.line, n.col) for _, n in d.notes] == [(3, 11)]


def test_e206_penalty_on_a_critic_with_two_inputs():
    src = """\
    data digits: image[1, 28, 28], class[10] = digits()
    network G(z: latent[64], y: class[10]) -> image[1, 28, 28] {
      return concat(z, y -> one_hot) -> linear(784) -> tanh -> reshape(1, 28, 28)
    }
    network D(x: image[1, 28, 28], y: class[10]) -> scalar {
      return concat(x -> flatten, y -> one_hot) -> linear(1)
    }
    objective {
      x, y ~ digits
      z ~ normal(64)
      fake = G(z, y)
      D minimizes wgan_d(D(x, y), D(fake, y)) + 10 * gradient_penalty(D, x, fake)
      G minimizes wgan_g(D(fake, y))
    }
    """
    d = only(src)
    assert (d.code, d.span.line, d.span.col) == ("E206", 12, 50)
    assert "`D` takes 2 inputs" in d.message


STARGAN_LIKE = """\
data faces: image[3, 32, 32], label[5] = celeba("data/celeba")

network G(x: image[3, 32, 32], c: label[5]) -> image[3, 32, 32] {
  return concat(x, tile(c, like=x)) -> conv(3, 3, pad=1) -> tanh
}

network D(x: image[3, 32, 32]) -> (src: map[1, 2, 2], cls: logits[5]) {
  h = x -> conv(8, 4, stride=4) -> conv(8, 4, stride=4)
  return h -> conv(1, 1), h -> conv(5, 2)
}

objective {
  x, c ~ faces
  fake = G(x, c)
  D minimizes wgan_d(D(x).src, D(fake).src) + bce(D(x).cls, c)
  G minimizes wgan_g(D(fake).src) + bce(D(fake).cls, c)
}
"""


def test_multi_output_spec_is_clean():
    assert codes_at(STARGAN_LIKE) == []


def test_e207_selecting_outputs():
    d = only(STARGAN_LIKE.replace("wgan_g(D(fake).src)", "wgan_g(D(fake).scr)"))
    assert (d.code, d.span.line, d.span.col) == ("E207", 16, 22)
    assert d.message == "`D` has no output `scr`"
    assert d.hint == "did you mean `src`?"

    d = only(STARGAN_LIKE.replace("wgan_g(D(fake).src)", "wgan_g(D(fake))"))
    assert (d.code, d.span.line, d.span.col) == ("E207", 16, 15)
    assert "several outputs" in d.message

    d = only(STARGAN_LIKE.replace("wgan_g(D(fake).src)", "wgan_g(fake.src)"))
    assert (d.code, d.span.line, d.span.col) == ("E207", 16, 22)
    assert d.message == "`G` has a single output; use the call itself"


# ---- objective, players, train and data: E301-E305 --------------------------------------


def test_e301_objective_statements_in_a_network():
    src = """\
    network F(z: latent[64]) -> vector[10] {
      return z -> linear(10)
    }
    network G(z: latent[64]) -> vector[10] {
      e ~ normal(64)
      return F(z)
    }
    """
    ds = diagnostics(src)
    assert [(d.code, d.span.line, d.span.col) for d in ds] == [("E301", 5, 3), ("E301", 6, 10)]
    assert ds[0].message == "`~` samples only in the objective section"
    assert ds[1].message == "networks are called in the objective, not inside a network"


def test_e301_sample_yields_another_number_of_values():
    d = only(spec(OBJECTIVE.replace("x ~ images", "x, y ~ images")))
    assert (d.code, d.span.line, d.span.col) == ("E301", 12, 3)
    assert d.message == "`images` yields 1 value (image[3, 32, 32]) but 2 names are given"


def test_e301_constant_loss_term():
    d = only(spec(OBJECTIVE.replace("gan_g(D(fake))", "gan_g(D(fake)) + 3")))
    assert (d.code, d.span.line, d.span.col) == ("E301", 16, 32)


BARE_EXPRESSION = spec("""\
objective {
  x ~ images
  z ~ normal(64)
  fake = G(z)
  gan_d(D(x), D(fake))
  G minimizes gan_g(D(fake))
}
""")


def test_e301_bare_expression_in_objective():
    errors = [d for d in diagnostics(BARE_EXPRESSION) if d.code.startswith("E")]
    assert [(d.code, d.span.line, d.span.col) for d in errors] == [("E301", 15, 3)]
    assert errors[0].hint == "is `minimizes` missing?"


def test_e301_bare_expression_does_not_cascade_into_warnings():
    assert codes_at(BARE_EXPRESSION) == [("E301", 15, 3)]


def test_e302_loss_never_reaches_the_player():
    d = only(spec(OBJECTIVE.replace("gan_g(D(fake))", "l1(x, x)")))
    assert (d.code, d.span.line, d.span.col) == ("E302", 16, 3)
    assert d.message == "the loss of `G` never reaches `G`, so its step would change nothing"


def test_e303_network_in_two_players():
    src = spec("""\
    objective {
      x ~ images
      z ~ normal(64)
      fake = G(z)
      GD = {G, D}
      D minimizes gan_d(D(x), D(fake))
      GD minimizes gan_g(D(fake))
    }
    """)
    d = only(src)
    assert (d.code, d.span.line, d.span.col) == ("E303", 17, 3)
    assert d.message == "network `D` is trained by `D` and by `GD`"


def test_e304_invalid_train_statements():
    src = spec(OBJECTIVE.replace("batch 64", "batch 0")
               .replace("adam D (lr=2e-4)", "adam D (lr=2e-4)\n  adam Q (lr=2e-4)\n"
                        "  lr sawtooth(start=1)"))
    ds = diagnostics(src)
    assert [(d.code, d.span.line, d.span.col) for d in ds] == [
        ("E304", 20, 9), ("E304", 24, 8), ("E304", 25, 6)]  # 24:8 is the player `Q`
    assert ds[0].message == "`batch` must be at least 1, got 0"
    assert ds[1].message == "`Q` is not a player"
    assert ds[2].message == "unknown learning-rate schedule `sawtooth`"


def test_states_are_named_numbers_with_a_next_value():
    src = spec("""\
    objective {
      x ~ images
      z ~ normal(64)
      fake = G(z)
      k = state(0)
      j = state("a", next=k)
      D minimizes gan_d(D(x), D(fake)) + state(0, next=1)
      G minimizes gan_g(D(fake))
    }
    """)
    assert [(d.code, d.span.line, d.span.col, d.message) for d in diagnostics(src)] == [
        ("E105", 15, 7, "`state` is missing argument `next`"),
        ("E201", 16, 13, "a state starts at a number, got the string 'a'"),
        ("E301", 17, 38, "`state(...)` defines a named value of its own: "
                         "`k = state(0, next=...)`"),
    ]
    src = spec("""\
    objective {
      x ~ images
      z ~ normal(64)
      fake = G(z)
      q = state(0, next=D(x))
      D minimizes gan_d(D(x), D(fake))
      G minimizes gan_g(D(fake))
    }
    """)
    d = only(src)
    assert (d.code, d.span.line, d.span.col) == ("E201", 15, 7)
    assert d.message == ("the next value of state `q` must be one number per batch computed "
                         "from the objective; this is scalar")


@pytest.mark.parametrize("extra, state, message", [
    ("  D steps 3 per G step\n", "k = state(0, next=k + 0.1 * gl)",
     "the next value of state `k` uses a value of `G`'s step, but `D` steps after it on "
     "draws of its own: a state is computed from the last draw of the iteration"),
    ("  D steps 2 per G step\n", "k = state(0, next=k + pen)",
     "the next value of state `k` uses a lazy term of `D`, which steps several times per "
     "iteration"),
])
def test_e304_states_the_step_order_cannot_give(extra, state, message):
    src = spec(f"""\
    objective {{
      x ~ images
      z ~ normal(64)
      fake = G(z)
      gl = wgan_g(D(fake))
      pen = r1(D, x)
      {state}
      G minimizes gl
      D minimizes wgan_d(D(x), D(fake)) + 10 * pen every 4
    }}

    train {{
      adam G (lr=2e-4)
      adam D (lr=2e-4)
    {extra}}}
    """)
    d = only(src)
    assert (d.code, d.span.line, d.span.col) == ("E304", 17, 11)  # at `state(`
    assert d.message == message


def test_e304_momentum_schedules():
    src = spec(OBJECTIVE.replace("adam D (lr=2e-4)", "sgd D (lr=0.1)\n"
                                 "  momentum D ramp(to=0.7, end=100)\n"
                                 "  momentum G ramp(to=0.7, end=100)\n"
                                 "  momentum ramp(to=1.5, end=10)\n"
                                 "  momentum D ramp(end=10)\n"
                                 "  momentum D linear_decay(end=10)"))
    ds = diagnostics(src)
    assert [(d.code, d.span.line, d.span.col, d.message) for d in ds] == [
        ("E304", 25, 3, "a momentum schedule moves the momentum of rmsprop or sgd; `G` uses "
                        "`adam`"),
        ("E304", 26, 20, "`to` of `ramp` must be a momentum in [0, 1), got `1.5`"),
        ("E304", 27, 3, "`ramp` needs `to`: the momentum it reaches at step `end`"),
        ("E304", 28, 14, "unknown momentum schedule `linear_decay`"),
    ]
    assert ds[0].hint == "e.g. `sgd G (lr=0.1, momentum=0.5)`"


def test_e304_a_schedule_names_a_player_not_one_of_its_networks():
    src = GROUP_SPEC + textwrap.dedent("""\
    train {
      adam G (lr=1e-3)
      adam D (lr=1e-3)
      ema S (decay=0.9)
      lr S linear_decay(start=0)
    }
    """)
    d = diagnostics(src)[0]
    assert (d.code, d.span.line, d.span.col) == ("E304", 17, 6)
    assert d.message == "`S` is not a player: a learning-rate schedule belongs to a player's " \
                        "optimizer"
    assert d.hint == "`S` is trained by `G`: schedule `G`"


@pytest.mark.parametrize("line, code, at, message", [
    ("  D steps 9 per G step if step < 3\n", "E304", (24, 3),
     "`D` steps 9 times if step < 3, but how many times otherwise?"),
    ("  D steps 5 per G step\n  D steps 9 per G step if 2 < 3\n", "E304", (25, 27),
     "this condition does not depend on `step`, so it is always true or always false"),
    ("  D steps 5 per G step\n  D steps 9 per G step if step + 1\n", "E304", (25, 27),
     "a condition is a comparison of `step`"),
    ("  D steps 5 per G step\n  D steps 9 per G step if step < D\n", "E153", (25, 34),
     "`D` is not a compile-time value"),
    ("  D steps 5 per G step\n  D steps 5 per G step if step < 2\n  D steps 9 per G step\n",
     "E102", (26, 3), "the steps of `D` are set twice"),
])
def test_conditional_step_counts(line, code, at, message):
    src = spec(OBJECTIVE.replace("  adam D (lr=2e-4)\n", "  adam D (lr=2e-4)\n" + line))
    d = diagnostics(src)[0]
    assert (d.code, d.span.line, d.span.col) == (code, *at)
    assert d.message == message


def test_e304_every_with_a_varying_count_of_steps():
    src = spec(OBJECTIVE.replace("D minimizes gan_d(D(x), D(fake))",
                                 "D minimizes gan_d(D(x), D(fake)) + r1(D, x) every 4")
               .replace("  adam D (lr=2e-4)\n", "  adam D (lr=2e-4)\n  D steps 5 per G step\n"
                        "  D steps 9 per G step if step < 3\n"))
    d = only(src)
    assert (d.code, d.span.line, d.span.col) == ("E304", 15, 38)
    assert d.message == "`every 4` counts `D`'s steps, and their number varies"


def test_e304_unknown_train_setting_with_hint():
    d = diagnostics(spec(OBJECTIVE.replace("adam D", "adma D")))[-1]
    assert (d.code, d.span.line, d.span.col) == ("E304", 23, 3)
    assert d.message == "unknown train setting `adma`"
    assert d.hint == "did you mean `adam`?"


def test_e304_bad_optimizer_line_does_not_cascade():
    assert codes_at(spec(OBJECTIVE.replace("adam D", "adma D"))) == [("E304", 23, 3)]


def test_e304_unknown_player_in_step_ratio_points_at_it():
    src = spec(OBJECTIVE.replace("steps 1k", "steps 1k\n  D steps 5 per X step"))
    assert codes_at(src) == [("E304", 22, 17)]


def test_e305_invalid_data_declarations():
    src = """\
    data a: latent[3] = image_folder("data/a")
    data b: image[3, 32, 32] = "data/b"
    data c: image[3, 32, 32] = image_folder("data/c")
    data d: image[3, 64, 64] = image_folder("data/d")
    data e = c | d
    """
    ds = diagnostics(src)
    assert [(d.code, d.span.line, d.span.col) for d in ds] == [
        ("E305", 1, 9), ("E305", 2, 28), ("E305", 5, 10)]
    assert "image[3, 32, 32]" in ds[2].message and "image[3, 64, 64]" in ds[2].message


def test_e305_aligned_pairs_come_from_pair_sources():
    src = """\
    data a: image[3, 32, 32], image[3, 32, 32] = image_folder("data/a")
    data b: image[3, 32, 32] = aligned_folder("data/b")
    data c: image[3, 32, 32], image[1, 32, 32] = aligned_folder("data/c")
    data d: image[3, 32, 32], image[1, 32, 32], class[3] = shapes()
    """
    ds = diagnostics(src)
    assert [(d.code, d.span.line, d.span.col) for d in ds] == [
        ("E305", 1, 46), ("E305", 2, 28), ("E305", 4, 9)]
    assert ds[0].message == ("`image_folder` yields single images; a pair of images comes "
                             "from `aligned_folder` or `shapes`")
    assert "declare two image fields" in ds[1].message


def test_e305_labels_of_a_dataset_without_labels():
    src = """\
    data images: image[3, 32, 32] = image_folder("data/images")
    network G(c: label[images]) -> vector[10] {
      return c -> linear(10)
    }
    """
    d = only(src)
    assert (d.code, d.span.line, d.span.col) == ("E305", 2, 20)
    assert d.message == "dataset `images` has no labels"


# ---- several errors, and no cascades ----------------------------------------------------


def test_errors_in_two_networks_are_all_reported_without_a_cascade():
    src = """\
    data images: image[3, 32, 32] = image_folder("data/images")

    network G(z: latent[64]) -> image[3, 32, 32] {
      return z -> linear(3 * 32 * 32) -> tanh -> reshape(3, 32, 16)
    }

    network D(x: image[3, 32, 32]) -> scalar {
      return x -> flaten -> linear(1)
    }

    objective {
      x ~ images
      z ~ normal(64)
      fake = G(z)
      D minimizes gan_d(D(x), D(fake))
      G minimizes gan_g(D(fake))
    }
    """
    assert codes_at(src) == [("E202", 4, 54), ("E103", 8, 15)]


def test_network_shape_error_does_not_flood_the_objective():
    src = """\
    data images: image[3, 32, 32] = image_folder("data/images")

    network G(z: latent[64]) -> image[3, 32, 32] {
      h = z -> linear(3 * 32 * 32) -> tanh
      return h -> reshape(3, 32, 32) + z
    }

    network D(x: image[3, 32, 32]) -> scalar {
      return x -> conv(8, 4, stride=2, pad=1) -> linear(1)
    }

    objective {
      x ~ images
      z ~ normal(64)
      fake = G(z)
      D minimizes gan_d(D(x), D(fake))
      G minimizes gan_g(D(fake)) + l1(fake, x)
    }
    """
    assert codes_at(src) == [("E202", 5, 10), ("E201", 9, 46)]


def test_objective_error_is_reported_next_to_a_network_error():
    src = spec(OBJECTIVE.replace("D(fake))\n  G", "D(fakee))\n  G"))
    src = src.replace("-> flatten ->", "-> flaten ->")
    assert codes_at(src) == [("E103", 8, 15), ("E101", 15, 29)]


def test_failed_loop_range_does_not_cascade():
    src = """\
    network D(x: image[3, 32, 32]) -> map[8, 8, 8] {
      let n = 2.5
      h = x
      for i in 1..n { h = h -> conv(8, 4, stride=2, pad=1) }
      return h
    }
    """
    assert codes_at(src) == [("E150", 4, 15)]


def test_bad_tuple_assignment_does_not_cascade():
    src = """\
    network G(x: image[3, 8, 8]) -> image[3, 8, 8] {
      a, b = x
      return a
    }
    """
    assert codes_at(src) == [("E301", 2, 3)]


MISSPELLED_PLAYER = spec(OBJECTIVE.split("\n\n")[0].replace("G minimizes", "GG minimizes"))


def test_e101_misspelled_player_with_hint():
    errors = [d for d in diagnostics(MISSPELLED_PLAYER) if d.code.startswith("E")]
    assert [(d.code, d.span.line, d.span.col) for d in errors] == [("E101", 16, 3)]
    assert errors[0].message == "player `GG` is not a network or a group"
    assert errors[0].hint == "did you mean `G`?"


def test_misspelled_player_does_not_cascade_into_warnings():
    assert codes_at(MISSPELLED_PLAYER) == [("E101", 16, 3)]


# ---- messages ----------------------------------------------------------------------------


def test_len_of_a_string_says_what_is_wrong():
    d = only('param S = len("abc")\n')
    assert (d.code, d.span.line, d.span.col) == ("E150", 1, 11)
    assert "abc" in d.message or "list" in d.message


def test_float_overflow_message_is_readable():
    d = only("param S = 2.0 ^ 10000\n")
    assert (d.code, d.span.line, d.span.col) == ("E150", 1, 11)
    assert "(34," not in d.message and "too large" in d.message


def test_every_code_has_a_description():
    assert all(CODES[c] for c in CODES)
    assert sorted(c for c in CODES if c.startswith("E")) == sorted(
        [*(f"E00{i}" for i in range(1, 6)), *(f"E10{i}" for i in range(1, 10)), "E110", "E111",
         *(f"E15{i}" for i in range(5)), *(f"E20{i}" for i in range(1, 8)),
         *(f"E30{i}" for i in range(1, 7))])


def test_gandsl_error_renders_like_a_compiler():
    src = "network G(z: latent[64]) -> vector[10] {\n  return z -> lienar(10)\n}\n"
    with pytest.raises(GandslError) as info:
        check_source(src, "g.gan", {})
    assert str(info.value).splitlines() == [
        "g.gan:2:15: error[E103]: unknown layer or block `lienar`",
        "  |",
        "2 |   return z -> lienar(10)",
        "  |               ^^^^^^",
        "  = hint: did you mean `linear`?",
        "",
        "1 error in g.gan",
    ]


# ---- the command line ------------------------------------------------------------------


def _gandsl(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gandsl", *args], capture_output=True,
                          text=True, timeout=60, cwd=cwd)


def test_cli_check_bad_spec_exits_1_with_a_rendered_error(tmp_path):
    path = tmp_path / "bad.gan"
    path.write_text(spec(OBJECTIVE.replace("gan_g(D(fake))", "gan_g(D(fakee))")))
    proc = _gandsl("check", str(path))
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert f"{path}:16:23: error[E101]: undefined name `fakee`" in out
    assert "16 |   G minimizes gan_g(D(fakee))" in out
    assert "   |                       ^^^^^" in out
    assert "hint: did you mean `fake`?" in out
    assert "Traceback" not in out


def test_cli_bad_param_flags_exit_2_without_traceback(tmp_path):
    path = tmp_path / "ok.gan"
    path.write_text("param S = 64\n" + spec(OBJECTIVE))
    for flags, expected in [
        (["--param", "S"], "expected NAME=VALUE, got 'S'"),
        (["--param", "Q=3"], "the spec has no param `Q`"),
        (["--param", "S=big"], "error[E108]"),
    ]:
        proc = _gandsl("check", str(path), *flags)
        out = proc.stdout + proc.stderr
        assert proc.returncode == 2, (flags, out)
        assert expected in out
        assert "Traceback" not in out


def test_cli_complex_param_value_is_an_error_not_a_traceback(tmp_path):
    path = tmp_path / "cx.gan"
    path.write_text("param S = (-8) ^ 0.5\n")
    proc = _gandsl("check", str(path))
    out = proc.stdout + proc.stderr
    assert "Traceback" not in out
    assert proc.returncode == 1
    assert "error[E150]" in out


# ---- found while documenting the language ------------------------------------------------

def test_param_using_a_failed_param_is_quiet_not_a_crash():
    assert codes_at("param a = zz\nparam b = a + 1\n") == [("E101", 1, 11)]


def test_failed_top_level_if_silences_its_declarations():
    src = """\
    param both = 0
    data celeba: image[3, 8, 8], label[5] = celeba("d")
    if both == "x" + 1 {
      data faces = celeba
    } else {
      data faces = celeba
    }
    network G(x: image[3, 8, 8], c: label[faces]) -> image[3, 8, 8] {
      return concat(x, tile(c, like=x)) -> conv(3, 1)
    }
    """
    assert [c for c, _, _ in codes_at(src)] == ["E150"]


def test_frozen_network_cannot_be_trained():
    src = """\
    data images: image[1, 4, 4] = digits()
    frozen network F(x: image[1, 4, 4]) -> scalar { return x -> flatten -> linear(1) }
    objective {
      x ~ images
      F minimizes mean(F(x))
    }
    """
    assert codes_at(src) == [("E306", 5, 3)]


@pytest.mark.parametrize(("setting", "col", "message"), [
    ('adam G (lr="x")', 14, "`lr` of `adam` must be a positive number, got the string 'x'"),
    ("adam G (lr=1e-4, betas=5)", 26, "`betas` of `adam` must be two numbers in [0, 1)"),
    ("ema G (decay=5)", 16, "`decay` of `ema` must be a number in (0, 1)"),
    ("clip G (-1)", 11, "`clip` takes a positive number, got `-1`"),
    ("lr linear_decay(start=200, end=100)", 3, "`start` (200) must come before `end` (100)"),
    ("G steps 2 per G step", 17, "`G` cannot take steps per its own step"),
    ("init G normal(0.5, 0.02)", 17, "`normal` takes keyword options"),
])
def test_train_values_are_checked(setting, col, message):
    src = f"""\
    data images: image[1, 4, 4] = digits()
    network G(x: image[1, 4, 4]) -> scalar {{ return x -> flatten -> linear(1) }}
    objective {{
      x ~ images
      G minimizes mean(G(x))
    }}
    train {{
      adam G (lr=1e-4)
      {setting}
    }}
    """
    ds = [d for d in diagnostics(src) if d.span.line == 9]
    assert [(d.code, d.span.col) for d in ds] == [("E304", col)]
    assert ds[0].message.startswith(message)


def test_power_limit_is_the_documented_one():
    assert codes_at("let a = 2 ^ 33\nlet b = 2 * 2 ^ 32\nlet c = 2 ^ 53\n") == []
    assert codes_at("let a = 2 ^ 54\n") == [("E150", 1, 9)]


def test_param_messages_and_integral_float_override():
    d = only('param mode = "small"\n', mode=3)
    assert d.message == '--param mode=3: expected a string, like the default `"small"`'
    result = check_source("param S = 64\nlet n = S\n", "t.gan", {"S": 1.28e2})
    assert [(p.name, p.value, type(p.value)) for p in result.spec.params] == [("S", 128, int)]


def test_missing_arrow_after_return_gets_the_hint():
    d = only("network G(z: latent[4]) -> latent[4] {\n  return z linear(8)\n}\n")
    assert (d.code, d.span.line, d.span.col) == ("E205", 2, 12)
    assert d.hint == "is a `->` missing before it?"


def test_union_of_unlabelled_datasets_is_images_only():
    src = """\
    data a: image[3, 8, 8] = image_folder("a")
    data b: image[3, 8, 8] = image_folder("b")
    data both = a | b
    network D(x: image[3, 8, 8]) -> scalar { return x -> flatten -> linear(1) }
    objective {
      x ~ both
      D minimizes mean(D(x))
    }
    """
    assert codes_at(src) == []


def test_param_choices():
    spec = 'param loss: ["hinge", "ns"] = "hinge"\nparam k: [1, k_max] = 1\nparam k_max = 5\n'
    assert codes_at(spec) == []
    assert codes_at(spec, loss="hnige") == [("E108", 1, 7)]
    assert codes_at(spec, k=5) == []  # a choice may be another param
    assert codes_at(spec, k=4) == [("E108", 2, 7)]
    assert codes_at(spec.replace('= "hinge"', '= "wgan"')) == [("E150", 1, 31)]
    assert codes_at(spec.replace("[1, k_max]", "1")) == [("E150", 2, 10)]
    # a block's final expression may start with `in` (the choices' syntax takes no keyword)
    assert codes_at("block res(c) {\n  h = in -> conv(c, 3, pad=1)\n  in + h\n}\n") == []
    with pytest.raises(GandslError) as e:
        check_source(spec, "t.gan", {"loss": "hnige"})
    text = str(e.value)
    assert 'expected one of "hinge", "ns"' in text and "did you mean `hinge`?" in text
