"""`gandsl fmt`: one layout per spec, whitespace only, every comment kept.

Every shipped spec and every spec of docs/language.md is already in that layout; each spacing,
indentation, comment and blank-line rule is pinned by its input and exact output; randomly
re-spaced specs format back to themselves; the meaning check refuses a broken layout; and the
command rewrites, checks, diffs and reads stdin with the documented exit codes.
"""

from __future__ import annotations

import io
import random
import sys
from pathlib import Path

import pytest
from conftest import GAN_BLOCKS
from hypothesis import given, settings
from hypothesis import strategies as st

from gandsl.cli import main
from gandsl.diagnostics import GandslError
from gandsl.fmt import FormatterBug, format_source
from gandsl.fmt.lines import read
from gandsl.fmt.spacing import Spacing

ROOT = Path(__file__).resolve().parents[2]
SPECS = sorted((ROOT / "specs").glob("*.gan"))


def fmt(text: str) -> str:
    out = format_source(text)
    assert format_source(out) == out, "formatting must be idempotent"
    return out


def body(*lines: str) -> str:
    """A network whose body is these lines (the spec around them is already formatted)."""
    return ("network G(z: latent[8]) -> latent[8] {\n" + "".join(f"{x}\n" for x in lines)
            + "}\n")


@pytest.mark.parametrize("path", SPECS, ids=[p.stem for p in SPECS])
def test_every_spec_is_formatted(path):
    text = path.read_text(encoding="utf-8")
    assert format_source(text, str(path)) == text, f"run `gandsl fmt {path.name}`"


@pytest.mark.parametrize("line,code", GAN_BLOCKS, ids=[f"language.md:{n}" for n, _ in GAN_BLOCKS])
def test_every_spec_of_the_language_reference_is_formatted(line, code):
    assert format_source(code) == code


# ---- spacing ---------------------------------------------------------------------------------

@pytest.mark.parametrize("messy,clean", [
    ("h=z->linear( 8 )->relu", "h = z -> linear(8) -> relu"),                 # calls, chains
    ("h = z -> linear(8,bias = false)", "h = z -> linear(8, bias=false)"),   # keyword args
    ("h = z*2+ -z", "h = z * 2 + -z"),                                     # unary minus
    ("h = z - -z", "h = z - -z"),
    ("h = z -> linear(2 ^ 3)", "h = z -> linear(2^3)"),                     # power hugs
    ("h = z -> slice(0 , 8)", "h = z -> slice(0, 8)"),
    ("h = z -> linear(8 // 2 % 3)", "h = z -> linear(8 // 2 % 3)"),
    ("h = z -> linear( -8 * -1 )", "h = z -> linear(-8 * -1)"),
    ("a , b = z , z", "a, b = z, z"),
    ("return z->linear(8)", "return z -> linear(8)"),
    ("for i in 1 .. 2 { z = z -> linear(8) }", "for i in 1..2 { z = z -> linear(8) }"),
    ("for i in 2 .. 1 by - 1 {z = z->linear(8)}", "for i in 2..1 by -1 { z = z -> linear(8) }"),
    ("if not(1<2) and true { z = z }", "if not (1 < 2) and true { z = z }"),
])
def test_spacing_in_a_network(messy, clean):
    assert fmt(body(messy, "return z")) == body(f"  {clean}", "  return z")


def test_spacing_of_declarations_types_and_blocks():
    messy = ('gan  x   "title"\nparam n=8\nlet m =n*2\nblock b( ch ,k = 3 ){in->linear(ch)}\n'
             "network G( z : latent[ n ] , y: class[2] )->latent[ m ]{return z->b(m)}\n")
    assert fmt(messy) == (
        'gan x "title"\nparam n = 8\nlet m = n * 2\nblock b(ch, k=3) { in -> linear(ch) }\n'
        "network G(z: latent[n], y: class[2]) -> latent[m] { return z -> b(m) }\n")


def test_spacing_of_the_objective_and_train_sections():
    messy = ("objective{\nx~faces\nfake=G(x)\nG = {G_a , G_b}\n"
             "D minimizes gan_d(D(x).src,D(fake).src)+adv : 10*l1(fake,x) every 4\n}\n"
             "train{batch 64;steps 3k\nD steps 5 per G step if step<25\n"
             "adam G(lr=2e-4,betas=(0.5,0.999))\nema G( decay=0.5 ^ (32 / 10000) )\n"
             "lr linear_decay (start=1k,end=3k)\nlr G linear_decay (start=1k, end=3k)\n"
             "init G normal (std=0.02)\n}\n")
    assert fmt(messy) == (
        "objective {\n  x ~ faces\n  fake = G(x)\n  G = {G_a, G_b}\n"
        "  D minimizes gan_d(D(x).src, D(fake).src) + adv: 10 * l1(fake, x) every 4\n}\n"
        "train { batch 64; steps 3k\n  D steps 5 per G step if step < 25\n"
        "  adam G (lr=2e-4, betas=(0.5, 0.999))\n  ema G (decay=0.5^(32 / 10000))\n"
        "  lr linear_decay(start=1k, end=3k)\n  lr G linear_decay(start=1k, end=3k)\n"
        "  init G normal(std=0.02)\n}\n")
    # an option that does not begin its line is still an option
    assert fmt("train { adam G(lr=1); adam D(lr=1) }\n") == \
        "train { adam G (lr=1); adam D (lr=1) }\n"


def test_strings_and_numbers_are_kept_as_written():
    src = 'data d: image[3, 8, 8] = image_folder("a  #b" )\nparam lr = 2.5e-4\nparam n = 200k\n'
    assert fmt(src) == 'data d: image[3, 8, 8] = image_folder("a  #b")\nparam lr = 2.5e-4\n' \
        "param n = 200k\n"


# ---- indentation and continuation lines ------------------------------------------------------

def test_statements_are_indented_by_their_bodies():
    messy = ("network G(z: latent[8]) -> latent[8] {\n        h = z\n for i in 1..2 {\n"
             "h = h -> linear(8)\n      }\n  if true {\nh = h\n} else {\n h = h }\nreturn h\n}\n")
    assert fmt(messy) == (
        "network G(z: latent[8]) -> latent[8] {\n  h = z\n  for i in 1..2 {\n"
        "    h = h -> linear(8)\n  }\n  if true {\n    h = h\n  } else {\n    h = h }\n"
        "  return h\n}\n")


def test_a_continuation_keeps_its_alignment_when_the_line_above_is_respaced():
    messy = body("h=z->linear(8)",        # `->` at column 3 before, 4 after
                 "   ->relu",            # aligned under `->`
                 "  + z",                 # under the first term, `z`
                 "return h")
    assert fmt(messy) == body("  h = z -> linear(8)",
                              "        -> relu",
                              "      + z",
                              "  return h")


def test_a_continuation_aligned_on_its_operand():
    # `+ 10 * ...` hangs two columns left of the first term: it follows that term
    messy = ("objective {\n  x ~ faces\n  D  minimizes  gan_d(D(x), D(x))\n"
             "              + 10 * l1(x, x)\n}\n")
    assert fmt(messy) == ("objective {\n  x ~ faces\n  D minimizes gan_d(D(x), D(x))\n"
                          "            + 10 * l1(x, x)\n}\n")


def test_a_sum_continues_under_its_first_term():
    src = "block res(ch) {\n  in -> linear(ch)\n     -> relu\n  + in\n}\n"
    assert fmt(src) == src


def test_an_unaligned_continuation_moves_with_its_statement_and_stays_deeper():
    messy = ('data d: image[3, 8, 8] = celeba("x",\n    attrs=["Male"])\n'
             "network G(z: latent[8]) -> latent[8] {\nh = z -> linear(8)\n     -> relu\n"
             "h = h -> linear(8)\n-> relu\nreturn h\n}\n")
    assert fmt(messy) == ('data d: image[3, 8, 8] = celeba("x",\n    attrs=["Male"])\n'
                          "network G(z: latent[8]) -> latent[8] {\n  h = z -> linear(8)\n"
                          "       -> relu\n  h = h -> linear(8)\n    -> relu\n  return h\n}\n")


def test_arguments_and_returned_values_align_with_their_first():
    messy = ("network G(z: latent[8],\n          y: class[2]) -> (a: latent[8], b: latent[8]) {\n"
             "  return  z -> linear( 8 ),\n          z\n}\n")
    assert fmt(messy) == ("network G(z: latent[8],\n          y: class[2]) -> "
                          "(a: latent[8], b: latent[8]) {\n  return z -> linear(8),\n"
                          "         z\n}\n")


# ---- comments and blank lines ----------------------------------------------------------------

def test_comments_on_their_own_lines_take_the_indentation_of_the_code_after_them():
    messy = ("# spec\nnetwork G(z: latent[8]) -> latent[8] {\n# first\n      h = z\n"
             "h = h -> linear(8)\n       # continues\n      -> relu\n      # last\n"
             "return h\n # after the body\n}\n     # end\n")
    assert fmt(messy) == (
        "# spec\nnetwork G(z: latent[8]) -> latent[8] {\n  # first\n  h = z\n"
        "  h = h -> linear(8)\n        # continues\n        -> relu\n  # last\n  return h\n"
        "  # after the body\n}\n# end\n")


def test_aligned_trailing_comments_stay_aligned_and_lone_ones_keep_their_gap():
    messy = ("param a = 1     # one\nparam bb=2      # two\nparam ccc = 300 # three\n\n"
             "param d   =  4      # lone: its gap is kept\nparam e = 5# tight\n")
    assert fmt(messy) == ("param a = 1      # one\nparam bb = 2     # two\n"
                          "param ccc = 300  # three\n\nparam d = 4      # lone: its gap is kept\n"
                          "param e = 5  # tight\n")


def test_blank_lines():
    messy = ("\n\n\nparam a = 1\n\n\n\nparam b = 2\nnetwork G(z: latent[8]) -> latent[8] {\n\n"
             "  h = z\n\n\n  return h\n\n}\n\n\n")
    assert fmt(messy) == ("param a = 1\n\nparam b = 2\nnetwork G(z: latent[8]) -> latent[8] {\n"
                          "  h = z\n\n  return h\n}\n")


def test_windows_line_endings_are_kept_and_tabs_become_spaces():
    assert fmt("param a\t=  1\r\n\tparam b = 2 # x\r\n") == \
        "param a = 1\r\nparam b = 2  # x\r\n"
    assert fmt("param a = 1\n\tparam b = 2\r\n") == "param a = 1\nparam b = 2\n"


# ---- safety ----------------------------------------------------------------------------------

def test_a_syntax_error_is_reported_not_formatted():
    with pytest.raises(GandslError) as e:
        format_source("param a = 1\nparam b = (2\n", "x.gan")
    assert e.value.first.code == "E003"


def test_a_layout_that_would_change_the_meaning_is_refused(monkeypatch):
    # No spaces at all would glue `adam G` into one name: the check must catch it.
    monkeypatch.setattr(Spacing, "before", lambda self, i: 0)
    with pytest.raises(FormatterBug, match="would change what it means"):
        format_source("train {\n  adam G (lr=1e-4)\n}\n", "x.gan")


def _respace(text: str, rnd: random.Random) -> str:
    """The spec with random spaces between the tokens of its one-line statements, random
    indentation of those, and extra blank lines where the layout removes them."""
    src = read(text)
    lines = text.split("\n")
    code = [k for k, line in enumerate(src.lines) if line.toks]
    nxt = {a: b for a, b in zip(code, code[1:], strict=False)}
    for k in code:
        line = src.lines[k]
        after = src.lines[nxt[k]] if k in nxt else None
        if not line.starts_statement or line.comment is not None or (
                after is not None and not after.starts_statement
                and src.toks[after.toks[0]].value not in ("}", "else")):
            continue  # lines that carry alignment or comments keep theirs
        words = [src.toks[i].value for i in line.toks]
        gaps = [" " * rnd.randint(1, 3) for _ in words]
        lines[k] = " " * rnd.randint(0, 6) + "".join(w + g for w, g in zip(words, gaps,
                                                                         strict=True))
    out: list[str] = []
    for s in lines:
        out.append(s)
        if s.rstrip().endswith("{") and rnd.random() < 0.5:
            out.append("   ")
        if s == "" and rnd.random() < 0.5:
            out.append("")
    return "\n".join(out)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(SPECS), st.integers(0, 2**32 - 1))
def test_respaced_specs_format_back_to_themselves(path, seed):
    text = path.read_text(encoding="utf-8")
    assert format_source(_respace(text, random.Random(seed))) == text


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(SPECS), st.integers(0, 2**32 - 1))
def test_specs_broken_across_lines_anywhere_format_to_a_fixed_point(path, seed):
    """Line breaks, indentation and comments put before random tokens, and random lines
    re-indented: the layout keeps the meaning (`format_source` checks it) and formatting again
    changes nothing."""
    rnd = random.Random(seed)
    text = path.read_text(encoding="utf-8")
    src = read(text)
    offsets = [0]
    for line in text.split("\n"):
        offsets.append(offsets[-1] + len(line) + 1)
    starts = sorted(rnd.sample([offsets[t.line - 1] + t.col for t in src.toks[1:]], 8))
    pieces, prev = [], 0
    for p in starts:
        pieces += [text[prev:p], rnd.choice(["\n", "\n\n", "   ", "\n" + " " * rnd.randint(0, 30),
                                             "\n  # c\n", " # t\n" + " " * rnd.randint(0, 9)])]
        prev = p
    lines = ("".join(pieces) + text[prev:]).split("\n")
    lines = [" " * rnd.randint(0, 12) + s.lstrip(" ") if rnd.random() < 0.2 else s
             for s in lines]
    out = format_source("\n".join(lines))
    assert format_source(out) == out


# ---- the command -----------------------------------------------------------------------------

MESSY = "param a=1\n"
CLEAN = "param a = 1\n"


def test_fmt_rewrites_files_in_place_and_leaves_formatted_ones_alone(tmp_path, capsys):
    (tmp_path / "sub").mkdir()
    messy, clean = tmp_path / "sub" / "m.gan", tmp_path / "c.gan"
    messy.write_text(MESSY)
    clean.write_text(CLEAN)
    messy.chmod(0o640)
    assert main(["fmt", str(tmp_path)]) == 0
    assert messy.read_text() == CLEAN and clean.read_text() == CLEAN
    assert messy.stat().st_mode & 0o777 == 0o640
    assert list(tmp_path.rglob("*.tmp")) == []
    err = capsys.readouterr().err
    assert f"reformatted {messy}" in err
    assert "1 file reformatted, 1 file left unchanged" in err


def test_fmt_keeps_crlf_follows_symlinks_and_skips_runs_and_hidden_folders(tmp_path):
    crlf = tmp_path / "w.gan"
    crlf.write_bytes(b"param a=1\r\nparam b = 2\r\n")
    real, link = tmp_path / "real.gan", tmp_path / "link.gan"
    real.write_text(MESSY)
    link.symlink_to(real)
    run_copy, hidden = tmp_path / "runs" / "x" / "spec.gan", tmp_path / ".venv" / "h.gan"
    for f in (run_copy, hidden):
        f.parent.mkdir(parents=True)
        f.write_text(MESSY)
    (run_copy.parent / "config.json").write_text("{}")
    assert main(["fmt", str(tmp_path)]) == 0
    assert crlf.read_bytes() == b"param a = 1\r\nparam b = 2\r\n"
    assert link.is_symlink() and real.read_text() == CLEAN
    assert run_copy.read_text() == MESSY and hidden.read_text() == MESSY


def test_fmt_check_changes_nothing_and_exits_1(tmp_path, capsys):
    f = tmp_path / "m.gan"
    f.write_text(MESSY)
    assert main(["fmt", "--check", str(f)]) == 1
    assert f.read_text() == MESSY
    assert f"would reformat {f}" in capsys.readouterr().err
    f.write_text(CLEAN)
    assert main(["fmt", "--check", str(f)]) == 0


def test_fmt_diff_prints_a_unified_diff(tmp_path, capsys):
    f = tmp_path / "m.gan"
    f.write_text(MESSY)
    assert main(["fmt", "--diff", str(f)]) == 0
    assert f.read_text() == MESSY
    out = capsys.readouterr().out
    assert f"--- {f} (original)\n+++ {f} (formatted)\n" in out
    assert "-param a=1\n+param a = 1\n" in out


def test_fmt_reads_stdin_and_writes_stdout(monkeypatch, capsys):
    # bytes, as a pipe gives them: a byte order mark is dropped like a file's
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"\xef\xbb\xbf" +
                                                                  MESSY.encode())))
    assert main(["fmt", "-"]) == 0
    captured = capsys.readouterr()
    assert captured.out == CLEAN and captured.err == ""


def test_fmt_reports_a_bad_spec_and_still_formats_the_others(tmp_path, capsys):
    bad, good = tmp_path / "a.gan", tmp_path / "b.gan"
    bad.write_text("param a = 1\nparam = 2\n")
    good.write_text(MESSY)
    assert main(["fmt", str(bad), str(good)]) == 1
    assert bad.read_text() == "param a = 1\nparam = 2\n"
    assert good.read_text() == CLEAN
    err = capsys.readouterr().err
    assert f"{bad}:2:7: error[E001]: unexpected `=`" in err
    assert "1 file with errors (left as they are)" in err


@pytest.mark.parametrize("make,message", [
    (lambda d: d / "missing.gan", "no such file or directory"),
    (lambda d: d, "no .gan files under"),
])
def test_fmt_bad_paths_are_usage_errors(tmp_path, capsys, make, message):
    assert main(["fmt", str(make(tmp_path))]) == 2
    assert message in capsys.readouterr().err


def test_words_of_the_grammar_as_names_format():
    """`batch`, `steps`, `grid`, `import` name values where the grammar expects no keyword;
    the formatter reads them as the parser does."""
    src = ("network G(z: latent[8]) -> vector[8] {\n  h = z -> linear(8)\n  batch = h -> relu\n"
           "  steps = batch\n  return h + steps\n}\n")
    assert format_source(src) == src
