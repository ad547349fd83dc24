"""`import "lib/x.gan"` (issue 15, item 4): another file's params, lets, blocks and networks,
its params set by the importer; errors in an imported file at its own lines; cycles, clashes
and paths out of the spec's folder refused with their codes; a run keeps the imported files,
so its copy of the spec compiles, samples and resumes on its own, and a changed import stops
a resume."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gandsl.cli import main
from gandsl.diagnostics import GandslError
from gandsl.pipeline import check_source, compile_source

LIB = """\
param width = 32
block res(c=in.channels) {
  h = in -> conv(c, 3, pad=1) -> relu -> conv(in.channels, 3, pad=1, init=zeros)
  return in + h
}
network Critic(x: image[1, 8, 8]) -> scalar {
  return x -> conv(width, 3, pad=1) -> res -> flatten -> linear(1)
}
network Other(x: image[1, 8, 8]) -> scalar { return x -> flatten -> linear(1) }
data ignored: image[3, 4, 4] = shapes(size=4)
objective { x ~ ignored }
"""

MAIN = """\
import "lib/blocks.gan" (width=16)
data d: image[1, 8, 8] = digits()
network G(z: latent[8]) -> image[1, 8, 8] {
  return z -> linear(64) -> reshape(1, 8, 8) -> res -> tanh
}
network D = Critic
objective {
  x ~ d
  z ~ normal(8)
  D minimizes gan_d(D(x), D(G(z)))
  G minimizes gan_g(D(G(z)))
}
"""


@pytest.fixture
def project(tmp_path, monkeypatch):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "blocks.gan").write_text(LIB)
    (tmp_path / "main.gan").write_text(MAIN)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def check(path: Path, text: str | None = None):
    """Check the spec at `path` (or `text` as if it were there), named as a user names it:
    relative to the working directory, the project."""
    return check_source(text if text is not None else path.read_text(), os.path.relpath(path))


def errors(path: Path, text: str) -> list[tuple[str, str, int, int]]:
    """(code, file, line, col) of each error, the file as the message shows it."""
    path.write_text(text)
    with pytest.raises(GandslError) as e:
        check(path)
    out = []
    for d in e.value.diagnostics:
        where = e.value.sources.files[d.span.file][0] if d.span.file else path.name
        out.append((d.code, where, d.span.line, d.span.col))
    return out


def test_imported_definitions_with_the_importers_params(project):
    result = compile_source(MAIN, str(project / "main.gan"))
    spec = result.spec
    # a copy of an imported network the spec uses no other way becomes that network; the
    # library's other network, its data and its objective are not imported
    assert [n.name for n in spec.networks] == ["G", "D"]
    d = spec.network("D")
    convs = [n for n in d.nodes if n.op == "conv"]
    assert [n.params for n in convs] == [1 * 16 * 9 + 16, 16 * 16 * 9 + 16, 16 * 16 * 9 + 16]
    assert [ds.name for ds in spec.datasets] == ["d"]
    assert {p.name: p.value for p in spec.params} == {"width": 16}
    # places in the generated code name the file they come from
    assert "`block res` (line 2 of lib/blocks.gan), 2 uses" in result.python
    assert "`network D` (line 6 of the spec)" in result.python


def test_an_error_in_an_imported_file_points_at_its_line(project):
    (project / "lib" / "blocks.gan").write_text(LIB.replace("-> res -> flatten",
                                                            "-> res -> linear(3)"))
    with pytest.raises(GandslError) as e:
        check(project / "main.gan")
    text = str(e.value)
    assert text.startswith("lib/blocks.gan:7:47: error[E201]: `linear` takes a vector")
    assert "7 |   return x -> conv(width, 3, pad=1) -> res -> linear(3) -> linear(1)" in text


def test_a_syntax_error_in_an_imported_file_says_where_it_was_imported(project):
    (project / "lib" / "broken.gan").write_text("param q =\n")
    assert errors(project / "b.gan", 'import "lib/broken.gan"\n') == [
        ("E003", "lib/broken.gan", 2, 1)]
    with pytest.raises(GandslError) as e:
        check(project / "b.gan")
    assert "note: imported here (at b.gan:1:1)" in str(e.value)


@pytest.mark.parametrize("line, error", [
    ('import "../x.gan"', ("E110", 1, 8)),
    ('import "/etc/passwd.gan"', ("E110", 1, 8)),
    ('import "lib/blocks.txt"', ("E110", 1, 8)),
    ('import "nope.gan"', ("E110", 1, 8)),
    ('import "lib"', ("E110", 1, 8)),
    ('import "lib/blocks.gan" (widht=3)', ("E104", 1, 26)),
    ('import "lib/blocks.gan" (3)', ("E105", 1, 26)),
    ('import "lib/blocks.gan"\nparam width = 3', ("E102", 2, 7)),
    ('if true { import "lib/blocks.gan" }', ("E110", 1, 11)),
])
def test_wrong_imports(project, line, error):
    found = errors(project / "t.gan", line + "\n")
    assert [(c, ln, col) for c, _, ln, col in found][:1] == [error]


def test_a_directory_or_device_is_not_imported(project):
    (project / "dir.gan").mkdir()
    assert errors(project / "t.gan", 'import "dir.gan"\n')[0][0] == "E110"
    if hasattr(os, "mkfifo"):  # a pipe would block the reader forever
        os.mkfifo(project / "pipe.gan")
        assert errors(project / "t.gan", 'import "pipe.gan"\n')[0][0] == "E110"


def test_a_link_out_of_the_folder_is_not_followed(project, tmp_path_factory):
    secret = tmp_path_factory.mktemp("elsewhere") / "secret.gan"
    secret.write_text("password = hunter2\n")
    (project / "link.gan").symlink_to(secret)
    found = errors(project / "t.gan", 'import "link.gan"\n')
    assert found == [("E110", "t.gan", 1, 8)]
    with pytest.raises(GandslError) as e:
        check(project / "t.gan")
    assert "hunter2" not in str(e.value)


def test_cycles_and_a_file_imported_twice(project):
    (project / "a.gan").write_text('import "b.gan"\nparam a = 1\n')
    (project / "b.gan").write_text('import "a.gan"\nparam b = 1\n')
    assert errors(project / "c.gan", 'import "a.gan"\n') == [("E106", "b.gan", 1, 8)]
    with pytest.raises(GandslError) as e:
        check(project / "c.gan")
    assert "import cycle: a.gan → b.gan → a.gan" in str(e.value)
    # a diamond is fine: the shared file is imported once
    (project / "x.gan").write_text('import "lib/blocks.gan"\n')
    (project / "y.gan").write_text('import "lib/blocks.gan"\n')
    check(project / "d.gan", 'import "x.gan"\nimport "y.gan"\n')
    # ... but its params are set where it is first imported
    (project / "y.gan").write_text('import "lib/blocks.gan" (width=8)\n')
    assert errors(project / "d.gan", 'import "x.gan"\nimport "y.gan"\n') == [
        ("E102", "y.gan", 1, 26)]


def test_the_standard_library_is_found_from_anywhere(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = tmp_path / "s.gan"
    spec.write_text('import "lib/biggan.gan"\n')
    result = check(spec)
    assert result.spec.imports and result.spec.imports[0].endswith("specs/lib/biggan.gan")


def test_a_run_keeps_its_imports_and_a_changed_import_stops_a_resume(project):
    run = project / "run"
    assert main(["train", "main.gan", "--steps", "2", "--batch", "4", "--out", str(run),
                 "--checkpoint-every", "1", "--no-progress"]) == 0
    assert (run / "lib" / "blocks.gan").read_text() == LIB
    # the run's own copy compiles alone, wherever the library is now
    (project / "lib" / "blocks.gan").rename(project / "lib" / "moved.gan")
    assert main(["sample", str(run), "-n", "2", "-o", str(project / "s.png")]) == 0
    assert main(["train", str(run / "spec.gan"), "--steps", "3", "--resume", str(run),
                 "--no-progress"]) == 0
    (project / "lib" / "blocks.gan").write_text(LIB.replace("init=zeros", "init=ones"))
    assert main(["train", "main.gan", "--steps", "4", "--resume", str(run),
                 "--no-progress"]) == 2
