"""`gandsl.load`: the generated file is the program that runs."""

from __future__ import annotations

import traceback

import pytest
import torch
from conftest import ROOT

import gandsl


def test_load_returns_networks_spec_source_and_objective():
    loaded = gandsl.load(ROOT / "specs" / "dcgan.gan", S=32, ngf=8, ndf=8)
    assert set(loaded.networks) == {"G", "D"}
    assert isinstance(loaded.networks["G"], torch.nn.Module)
    assert loaded.spec.name == "dcgan"
    assert {p.name: p.value for p in loaded.spec.params}["S"] == 32
    assert "class G(nn.Module):" in loaded.source
    assert loaded.file.read_text() == loaded.source  # the module was imported from this file
    assert type(loaded.networks["G"]).__module__ == loaded.module.__name__
    assert [p.name for p in loaded.objective.players] == ["D", "G"]
    z = torch.randn(2, 100)
    assert loaded.networks["G"](z).shape == (2, 3, 32, 32)


def test_cache_is_reused_and_keyed_by_params():
    a = gandsl.load(ROOT / "specs" / "dcgan.gan", ngf=8)
    b = gandsl.load(ROOT / "specs" / "dcgan.gan", ngf=8)
    c = gandsl.load(ROOT / "specs" / "dcgan.gan", ngf=16)
    assert a.file == b.file and a.module is b.module
    assert c.file != a.file


def test_traceback_shows_generated_lines(tmp_path):
    spec = tmp_path / "shape.gan"
    spec.write_text("gan shape\nnetwork N(x: map[4, 6, 6]) -> map[8, 6, 6] {\n"
                    "  return x -> conv(8, 3, pad=1)\n}\n")
    net = gandsl.load(spec).networks["N"]
    with pytest.raises(RuntimeError) as info:
        net(torch.randn(2, 5, 6, 6))  # wrong channel count at run time
    frames = traceback.extract_tb(info.value.__traceback__)
    ours = [f for f in frames if f.filename == str(gandsl.load(spec).file)]
    assert ours, "a frame of the generated file is in the traceback"
    assert ours[-1].line == "out = self.conv_1(x)  # (B, 8, 6, 6)"


def test_load_reports_spec_errors(tmp_path):
    spec = tmp_path / "bad.gan"
    spec.write_text("gan bad\n"
                    "network N(x: map[4, 6, 6]) -> map[4, 6, 6] { return x -> cnv(4, 3) }\n")
    with pytest.raises(gandsl.GandslError) as info:
        gandsl.load(spec)
    assert info.value.first.code == "E103"
