"""The command line: compile writes the module and a summary, check and graph, exit codes."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from conftest import ROOT

from gandsl.cli import main, parse_value


def run(*args: str, cwd=ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gandsl", *args], capture_output=True,
                          text=True, cwd=cwd)


def test_compile_writes_module_and_prints_summary(tmp_path):
    out = run("compile", "specs/stargan.gan", "-o", str(tmp_path), "--param", "both=true")
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "stargan.py").exists()
    lines = out.stdout.splitlines()
    g = next(line for line in lines if line.startswith("G "))
    d = next(line for line in lines if line.startswith("D "))
    assert "x: image[3, 128, 128]" in g and "8,461,888" in g
    assert "src: map[1, 2, 2]" in d and "44,827,584" in d
    assert any("cls: logits[celeba | rafd]" in line for line in lines)
    assert any(line.startswith("D ") and "wgan_d + bce + 10·gradient_penalty" in line
               for line in lines)
    assert "--param both=true" in (tmp_path / "stargan.py").read_text().splitlines()[1]


def test_check_ok_and_warnings_as_errors(tmp_path):
    assert main(["check", str(ROOT / "specs" / "cyclegan.gan")]) == 0
    spec = tmp_path / "w.gan"
    spec.write_text("gan w\nnetwork N(x: map[4, 5, 5], y: map[4, 5, 5]) -> map[4, 5, 5] "
                    "{ return x }\n")
    out = run("check", str(spec))
    assert out.returncode == 0 and "warning[W501]" in out.stderr
    assert run("check", str(spec), "--warnings-as-errors").returncode == 1


@pytest.mark.parametrize(("args", "message"), [
    (["compile", "specs/missing.gan"], "cannot read spec"),
    (["compile", "specs/dcgan.gan", "--param", "S"], "expected NAME=VALUE"),
    (["compile", "specs/dcgan.gan", "--param", "SS=3"], "did you mean `S`?"),
    (["compile", "specs/dcgan.gan", "--param", "S=true"], "error[E108]"),
    (["graph", "specs/dcgan.gan", "--format", "png"], "invalid choice"),
    (["frobnicate"], "invalid choice"),
])
def test_usage_errors_exit_2_without_traceback(args, message):
    out = run(*args)
    assert out.returncode == 2, out.stderr
    assert message in out.stderr
    assert "Traceback" not in out.stderr


def test_spec_error_exits_1_with_location(tmp_path):
    spec = tmp_path / "bad.gan"
    spec.write_text("gan bad\nnetwork N(x: map[4, 5, 5]) -> map[4, 5, 5] {\n"
                    "  return x -> conv(4, 3, strid=2)\n}\n")
    out = run("check", str(spec))
    assert out.returncode == 1
    assert f"{spec}:3:26: error[E104]: `conv` has no argument `strid`" in out.stderr
    assert "3 |   return x -> conv(4, 3, strid=2)" in out.stderr
    assert "= hint: did you mean `stride`?" in out.stderr
    assert "Traceback" not in out.stderr


def test_graph_formats(tmp_path):
    dot = run("graph", "specs/dcgan.gan")
    assert dot.returncode == 0 and dot.stdout.startswith('digraph "dcgan"')
    assert 'label="conv_t\\nmap[512, 4, 4]"' in dot.stdout
    mermaid = run("graph", "specs/cyclegan.gan", "--format", "mermaid", "-o",
                  str(tmp_path / "g.mmd"))
    assert mermaid.returncode == 0
    text = (tmp_path / "g.mmd").read_text()
    assert text.startswith("flowchart TD") and 'subgraph net_D_b["D_b"]' in text
    assert run("graph", "specs/dcgan.gan", "-o", str(tmp_path / "s.mmd")).returncode == 0
    assert (tmp_path / "s.mmd").read_text().startswith("flowchart TD")  # from the suffix
    svg = run("graph", "specs/dcgan.gan", "--format", "svg")
    if shutil.which("dot"):
        assert svg.returncode == 0 and "<svg" in svg.stdout
    else:
        assert svg.returncode == 1 and "needs Graphviz's `dot` program" in svg.stderr


def test_compile_output_must_be_a_directory(tmp_path):
    (tmp_path / "file").write_text("x")
    out = run("compile", "specs/dcgan.gan", "-o", str(tmp_path / "file"))
    assert out.returncode == 2
    assert f"-o {tmp_path / 'file'}: that is a file; expected a directory for dcgan.py" in \
        out.stderr


def test_param_values():
    assert [parse_value(v) for v in ["64", "1e-4", "200k", "-3", "true", "relu"]] == [
        64, 1e-4, 200_000, -3, True, "relu"]
