"""Problems found in review, each pinned by a test of the correct behaviour."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest
import torch
from conftest import ROOT, codes_at, compile_text, diagnostics

import gandsl
from gandsl.pipeline import check_source, compile_source


def _module(source: str) -> dict:
    namespace: dict = {}
    exec(compile(source, "gen.py", "exec"), namespace)  # noqa: S102 - our own output
    return namespace


def test_param_values_cannot_inject_code_into_the_header(tmp_path):
    spec = tmp_path / "inj.gan"
    spec.write_text('param s = "a"\nnetwork N(x: map[2, 4, 4]) -> map[2, 4, 4] { return x }\n')
    evil = 'a\nimport os; os.system("echo PWNED")'
    result = compile_source(spec.read_text(), str(spec), {"s": evil})
    lines = result.python.splitlines()
    assert all(line.startswith("#") for line in lines[:3])
    assert not any(line.startswith("import os") for line in lines)
    ast.parse(result.python)


def test_overrides_are_bounded_like_spec_values():
    src = "param lr = 0.2\nparam nz = 10\nnetwork N(x: latent[nz]) -> vector[4] " \
          "{ return x -> linear(4) -> leaky_relu(lr) }\n"
    assert [c for c, _, _ in codes_at(src, lr=float("inf"))] == ["E108"]
    assert [c for c, _, _ in codes_at(src, nz=10 ** 20)] == ["E108"]


def test_output_names_are_checked_and_safe():
    dup = "network N(x: map[2, 4, 4]) -> (a: scalar, a: scalar) " \
          "{ return x -> flatten -> linear(1), x -> flatten -> linear(1) }\n"
    assert [c for c, _, _ in codes_at(dup)] == ["E102"]
    odd = compile_text("network N(x: map[2, 4, 4]) -> (class: scalar, count: scalar) "
                       "{ return x -> flatten -> linear(1), x -> flatten -> linear(1) }\n")
    ns = _module(odd.python)
    out = ns["NETWORKS"]["N"]()(torch.randn(2, 2, 4, 4))
    assert out._fields == ("class_", "count_")


def test_a_local_cannot_shadow_the_output_class():
    result = compile_text("network D(x: map[4, 2, 2]) -> (a: map[4, 2, 2], b: map[4, 2, 2]) {\n"
                          "  DOutput = x -> relu\n  return DOutput, x\n}\n")
    out = _module(result.python)["NETWORKS"]["D"]()(torch.randn(1, 4, 2, 2))
    assert out.a.min() >= 0


def test_tuple_assignment_evaluates_before_binding():
    result = compile_text("network N(x: map[4, 3, 3]) -> map[8, 3, 3] {\n"
                          "  a = x -> conv(8, 1)\n  b = x\n  a, b = b, a\n  return b\n}\n")
    assert result.warnings == []
    assert _module(result.python)["NETWORKS"]["N"]()(torch.randn(1, 4, 3, 3)).shape[1] == 8


@pytest.mark.parametrize("body", ["return x -> conv_t(4, 1)", "hF = x -> conv(4, 1)\n"
                                  "  return hF -> flatten -> reshape(4, 2, 2)"])
def test_imports_are_exactly_those_used(body, tmp_path):
    result = compile_text(f"network N(x: map[4, 2, 2]) -> map[4, 2, 2] {{\n  {body}\n}}\n")
    path = tmp_path / "gen.py"
    path.write_text(result.python)
    out = subprocess.run([sys.executable, "-m", "ruff", "check", "--isolated", str(path)],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout


@pytest.mark.parametrize(("stage", "code"), [
    ("conv_t(3, 3, pad=1, groups=2)", "E202"),
    ("spade(x, kernel=2)", "E203"),
    ("pad(4, mode=\"circular\")", "E202"),
    ("self_attention(kind=\"biggan\")", "E202"),
    ("instance_norm", "E202"),
    ("conv(8, 1, eqlr=true, lr_mul=0)", "E203"),
    ("softplus(beta=0)", "E203"),
])
def test_layer_rules_refuse_what_torch_refuses(stage, code):
    size = 1 if "instance" in stage or "biggan" in stage else 3
    src = f"network N(x: map[8, {size}, {size}]) -> map[8, {size}, {size}] {{\n" \
          f"  return x -> {stage}\n}}\n"
    assert code in [c for c, _, _ in codes_at(src)]


def test_replicate_padding_larger_than_the_input_is_allowed():
    assert codes_at("network N(x: map[4, 2, 2]) -> map[4, 2, 2] {\n"
                    "  return x -> conv(4, 5, pad=2, pad_mode=\"replicate\")\n}\n") == []


def test_penalty_images_must_fit_the_critic():
    src = """\
    data a: image[1, 28, 28] = digits()
    network D(x: image[3, 32, 32]) -> scalar { return x -> flatten -> linear(1) }
    objective {
      x ~ a
      D minimizes gradient_penalty(D, x, x)
    }
    """
    assert codes_at(src) == [("E206", 5, 15)]


def test_indexed_names_read_with_whole_float_indices():
    assert codes_at("network N(x: map[2, 2, 2]) -> map[2, 2, 2] {\n  e[1] = x -> relu\n"
                    "  return e[2 / 2]\n}\n") == []


@pytest.mark.parametrize(("decl", "code"), [
    ("block b(a, a) { in }", "E102"),
    ("block b(in) { in }", "E109"),
    ("block repeat(n) { in }", "E109"),
])
def test_block_declarations(decl, code):
    assert [c for c, _, _ in codes_at(decl + "\n")] == [code]


def test_lines_are_counted_as_the_parser_counts_them():
    d = diagnostics("# a\x0c form feed\nlet a = b\n")[0]
    assert (d.code, d.span.line, d.span.col) == ("E101", 2, 9)
    from gandsl.diagnostics import render
    assert "2 | let a = b" in render(d, "# a\x0c form feed\nlet a = b\n", "t.gan")


def test_a_closed_pipe_is_not_a_traceback(tmp_path):
    cmd = f"{sys.executable} -m gandsl compile specs/cyclegan.gan -o {tmp_path} | head -1"
    out = subprocess.run(cmd, shell=True, capture_output=True, text=True, cwd=ROOT)
    assert "Traceback" not in out.stderr


def test_block_warnings_are_reported_once():
    src = "block r(c) {\n  t = in -> relu\n  in -> conv(c, 1)\n}\n" \
          "network N(x: map[4, 2, 2]) -> map[4, 2, 2] { return x -> repeat(3, r(4)) }\n"
    assert codes_at(src) == [("W501", 2, 13)]  # the dead `relu`, once for three instances


def test_arithmetic_errors_point_at_the_operation():
    src = "network N(x: map[4, 2, 2], y: map[4, 2, 2], z: map[2, 2, 2]) -> map[4, 2, 2] {\n" \
          "  return x + y + z\n}\n"
    d = [d for d in diagnostics(src) if d.code == "E202"][0]
    assert (d.span.col, d.span.end_col) == (14, 18)  # `y + z`


def test_division_by_a_number_stays_a_division():
    result = compile_text("network N(x: map[4, 2, 2]) -> map[4, 2, 2] { return x / 3 }\n")
    assert "out = x / 3  # (B, 4, 2, 2)" in result.python


def test_several_outputs_are_named_after_their_ports():
    result = check_source((ROOT / "specs" / "stargan.gan").read_text(), "s.gan")
    from gandsl.emit import emit
    source = emit(result.spec)
    assert "return DOutput(src=src, cls=cls.flatten(1))" in source


def test_cache_key_covers_the_compiler(monkeypatch):
    from gandsl import loader
    first = gandsl.load(ROOT / "specs" / "dcgan.gan", ngf=4).file
    loader._compiler_hash.cache_clear()
    monkeypatch.setattr(loader, "__version__", "changed")
    assert gandsl.load(ROOT / "specs" / "dcgan.gan", ngf=4).file != first
    loader._compiler_hash.cache_clear()
