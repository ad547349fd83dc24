"""`extern layer` / `extern function` (issue 15, item 3): the user's PyTorch in a spec. Shapes
and parameter counts come from running it on meta tensors; the generated module imports it;
values equal the user's code; nothing is imported unless its module is allowed; every wrong
declaration or use fails at its place."""

from __future__ import annotations

import sys
import textwrap

import pytest
import torch
from conftest import codes_at

import gandsl
from gandsl.cli import main
from gandsl.pipeline import compile_source

MODULE = '''\
import pathlib
import torch
from torch import nn

pathlib.Path("imported.txt").write_text("the module ran")  # a side effect to watch for


class Blur(nn.Module):
    """A depthwise box blur with a learned scale per channel."""

    def __init__(self, channels: int, k: int = 3):
        super().__init__()
        self.k = k
        self.scale = nn.Parameter(torch.linspace(0.5, 1.5, channels))
        self.register_buffer("kernel", torch.ones(channels, 1, k, k) / (k * k))

    def forward(self, x):
        y = nn.functional.conv2d(x, self.kernel, padding=self.k // 2, groups=x.shape[1])
        return y * self.scale.view(1, -1, 1, 1)


class Pool(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x):
        return x.mean((2, 3))


class Broken(nn.Module):
    def __init__(self):
        super().__init__()
        raise RuntimeError("no such thing on this machine")


def hinge_gap(real, fake, margin: float = 1.0):
    return torch.relu(margin - real).mean() + torch.relu(margin + fake).mean()


def per_sample(real):
    return real.reshape(real.shape[0], -1).sum(1)
'''

SPEC = """\
extern layer blur(x: map, channels: int = x.channels, k: int = 3) -> map = "userops:Blur"
extern layer pool(x: map) -> vector = "userops:Pool"
extern function gap(real: score, fake: score, margin: float = 1.0) -> loss = "userops:hinge_gap"
data d: image[1, 8, 8] = digits()
network G(z: latent[8]) -> image[1, 8, 8] {
  return z -> linear(64) -> reshape(1, 8, 8) -> blur(k=5) -> tanh
}
network D(x: image[1, 8, 8]) -> scalar {
  return x -> conv(4, 3, pad=1) -> blur -> pool -> linear(1)
}
objective {
  x ~ d
  z ~ normal(8)
  D minimizes gap(D(x), D(G(z)), margin=0.5)
  G minimizes gan_g(D(G(z)))
}
"""


@pytest.fixture
def project(tmp_path, monkeypatch):
    (tmp_path / "userops.py").write_text(MODULE)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GANDSL_EXTERN", "userops")
    monkeypatch.setattr(sys, "path", [str(tmp_path), *sys.path])
    sys.modules.pop("userops", None)
    yield tmp_path
    sys.modules.pop("userops", None)


def test_shapes_and_counts_come_from_the_module(project):
    result = compile_source(SPEC, "spec.gan")
    g, d = result.spec.network("G"), result.spec.network("D")
    blur_g = next(n for n in g.nodes if n.op == "extern")
    assert (blur_g.args["kwargs"], blur_g.params, str(blur_g.type)) == (
        (("channels", 1), ("k", 5)), 1, "map[1, 8, 8]")
    externs = [n for n in d.nodes if n.op == "extern"]
    assert [str(n.type) for n in externs] == ["map[4, 8, 8]", "vector[4]"]
    assert externs[0].params == 4  # its scale: channels defaults to the input's 4
    assert "from userops import Blur as blur_extern" in result.python
    assert "self.blur_1 = blur_extern(channels=4, k=3)" in result.python
    assert "gap = gap_extern(D_x, D_out, margin=0.5)" in result.python


def test_values_are_the_modules(project):
    (project / "spec.gan").write_text(SPEC)
    loaded = gandsl.load(project / "spec.gan")
    import userops

    torch.manual_seed(0)
    d = loaded.classes["D"]()
    x = torch.randn(3, 1, 8, 8)
    want = d.linear_1(userops.Blur(4)(d.conv_1(x)).mean((2, 3)))
    assert torch.allclose(d(x), want.view(-1), atol=1e-6)
    # the loss term is the function's value
    nets = {n: c() for n, c in loaded.classes.items()}
    terms = {}

    def update(player, loss, values):
        terms[player] = {k: v.detach() for k, v in values.items()}

    class Draw:
        def data(self, name):
            return (x,)

        def normal(self, n):
            return torch.randn(3, n, generator=torch.Generator().manual_seed(1))

    loaded.module.Objective(nets).iteration(0, Draw(), update)
    with torch.no_grad():
        fake = nets["G"](Draw().normal(8))
        want = userops.hinge_gap(nets["D"](x), nets["D"](fake), margin=0.5)
    assert torch.allclose(terms["D"]["gap"], want, atol=1e-6)


def test_training_with_externs(project):
    (project / "spec.gan").write_text(SPEC)
    assert main(["train", "spec.gan", "--steps", "2", "--batch", "4", "--out", "run",
                 "--no-progress"]) == 0
    assert (project / "run" / "metrics.csv").read_text().count("\n") == 3


def test_nothing_is_imported_unless_allowed(project, monkeypatch):
    monkeypatch.delenv("GANDSL_EXTERN")
    assert codes_at(SPEC)[:3] == [("E111", 1, 76), ("E111", 2, 39), ("E111", 3, 78)]
    assert not (project / "imported.txt").exists() and "userops" not in sys.modules
    # another module being allowed does not allow this one
    monkeypatch.setenv("GANDSL_EXTERN", "userops_other,user")
    assert codes_at(SPEC)[:1] == [("E111", 1, 76)]
    assert not (project / "imported.txt").exists()


def test_the_command_line_flag_allows(project, monkeypatch, capsys):
    monkeypatch.delenv("GANDSL_EXTERN")
    (project / "spec.gan").write_text(SPEC)
    assert main(["check", "spec.gan"]) == 1
    assert "--allow-extern userops" in capsys.readouterr().err
    assert main(["check", "spec.gan", "--allow-extern", "userops"]) == 0


HEAD = """\
data d: image[1, 8, 8] = digits()
network D(x: image[1, 8, 8]) -> scalar {
  return x -> conv(4, 3, pad=1) -> %s -> flatten -> linear(1)
}
"""


@pytest.mark.parametrize("decl, stage, error", [
    # the target is not importable, or has no such callable, or fails on meta tensors
    ('extern layer b(x: map) -> map = "nomodule_here:B"', "b", ("E111", 1, 33)),
    ('extern layer b(x: map) -> map = "userops:Nope"', "b", ("E111", 4, 36)),
    ('extern layer b(x: map) -> map = "userops:Broken"', "b", ("E111", 4, 36)),
    ('extern layer b(x: map) -> map = "userops.py"', "b", ("E111", 1, 33)),
    # what it returns is not what is declared
    ('extern layer b(x: map) -> map = "userops:Pool"', "b", ("E205", 4, 36)),
    # an input of the wrong family
    ('extern layer b(x: vector) -> map = "userops:Pool"', "b", ("E201", 4, 36)),
    # declarations
    ('extern layer conv(x: map) -> map = "userops:Pool"', "b", ("E109", 1, 14)),
    ('extern layer b(x: map, k: integer) -> map = "userops:Pool"', "b", ("E107", 1, 27)),
    ('extern layer b(x: map) -> mapp = "userops:Pool"', "b", ("E107", 1, 27)),
    ('extern layer b() -> map = "userops:Pool"', "b", ("E105", 1, 14)),
    ('extern layer b(x: map, k: int) -> map = "userops:Blur"', "b(true)", ("E203", 4, 38)),
])
def test_wrong_layers(project, decl, stage, error):
    assert codes_at(decl + "\n" + HEAD % stage)[:1] == [error]


OBJ = """\
data d: image[1, 8, 8] = digits()
network G(z: latent[8]) -> image[1, 8, 8] { return z -> linear(64) -> reshape(1, 8, 8) }
network D(x: image[1, 8, 8]) -> scalar { return x -> flatten -> linear(1) }
objective {
  x ~ d
  z ~ normal(8)
  D minimizes %s
  G minimizes gan_g(D(G(z)))
}
"""


@pytest.mark.parametrize("decl, loss, error", [
    # a per-sample value declared a loss
    ('extern function f(a: score) -> loss = "userops:per_sample"', "f(D(x))", ("E205", 8, 15)),
    # ... is fine as a score, reduced
    ('extern function f(a: score) -> score = "userops:per_sample"', "mean(f(D(x)))", None),
    # a loss where a score is declared
    ('extern function f(a: score, b: score) -> loss = "userops:hinge_gap"',
     "f(mean(D(x)), D(x))", ("E201", 8, 15)),
    ('extern function f(a: score, m: float) -> loss = "userops:hinge_gap"',
     'f(D(x), "a")', ("E203", 8, 23)),
    ('extern function gan_d(a: score) -> loss = "userops:per_sample"', "gan_d(D(x), D(x))",
     ("E109", 1, 17)),
])
def test_wrong_functions(project, decl, loss, error):
    found = codes_at(decl + "\n" + OBJ % loss)
    assert found[:1] == ([error] if error else [])


def test_declaration_syntax_in_the_docs_form(project):
    spec = textwrap.dedent(SPEC)
    assert codes_at(spec) == []


def test_an_objective_variable_cannot_hide_a_functions_import(project):
    """The generated module imports `gap` as `gap_extern`; a value the spec names `gap_extern`
    gets another local name, so the call still reaches the function."""
    spec = SPEC.replace("D minimizes gap(D(x), D(G(z)), margin=0.5)",
                        "gap_extern = D(x)\n  D minimizes gap(gap_extern, D(G(z)), margin=0.5)")
    python = compile_source(spec, "spec.gan").python
    assert "gap_extern_ = D(x)" in python
    assert "gap = gap_extern(gap_extern_, D_out, margin=0.5)" in python
