"""`gandsl export`'s choices and errors: which networks a generator's export holds, the noise
and truncation ψ it takes as arguments, EMA or trained weights, label names, the file's own
safetensors reader, and exit 2 with the thing named for a bad run, network, folder or layer."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from conftest import EVERY_SPEC_SMALL, ROOT
from safetensors.torch import load_file

from gandsl.cli import main
from gandsl.export import export
from gandsl.export.units import units
from gandsl.loader import import_file
from gandsl.train import checkpoint as ckpt
from gandsl.train.config import RunConfig
from gandsl.train.sample import restore
from gandsl.train.trainer import Trainer


def _train(out: Path, name: str, steps: int = 2, spec: Path | None = None, **params) -> Path:
    small, data = EVERY_SPEC_SMALL.get(name, ({}, "digits"))
    Trainer(RunConfig(spec=str(spec or ROOT / "specs" / f"{name}.gan"),
                      params={**small, **params}, data=data, steps=steps, batch=4, out=out,
                      progress=False, sample_every=1000, checkpoint_every=1000,
                      log_every=5)).run()
    return out


@pytest.fixture(scope="module")
def stylegan2(tmp_path_factory) -> Path:
    return _train(tmp_path_factory.mktemp("runs") / "stylegan2", "stylegan2", psi=0.7)


def _import(path: Path):
    return import_file(path, f"exported_{path.stem}_{abs(hash(str(path)))}")


def test_stylegan2_exports_its_mapping_then_synthesis_with_psi_and_noise(stylegan2, tmp_path):
    (unit,) = units(restore(stylegan2).spec, None)
    assert (unit.networks, [n for n, _ in unit.inputs]) == (["G_mapping", "G_synthesis"], ["z"])
    export(stylegan2, "python", tmp_path, log=lambda _: None)
    meta = json.loads((tmp_path / "G_synthesis.json").read_text())
    assert meta["truncation"] == {"layers": ["G_mapping.truncation_1"], "psi": 0.7}
    assert meta["weights"] == {"G_mapping": "ema", "G_synthesis": "ema"}
    model = _import(tmp_path / "G_synthesis.py").Model.load(tmp_path / "G_synthesis.safetensors")
    noise_layers = [p for p, m in model.named_modules() if type(m).__name__ == "NoiseInjection"]
    assert list(meta["noise"]) == noise_layers and len(noise_layers) == 5
    z = torch.randn(2, 8)
    noise = [torch.randn(2, *s) for s in meta["noise"].values()]
    with torch.no_grad():
        a, b = model(z, noise=noise), model(z, noise=noise)
        fresh = model(z)
        half = model(z, psi=0.5, noise=noise)
        spec_psi = model(z, psi=0.7, noise=noise)
    assert torch.equal(a, b) and not torch.equal(a, fresh)  # given noise: deterministic
    assert torch.equal(a, spec_psi) and not torch.equal(a, half)  # None is the spec's ψ
    assert model.G_mapping.truncation_1.psi == 0.7  # ψ given for one call only


def test_ema_is_the_default_and_no_ema_takes_the_trained_weights(stylegan2, tmp_path):
    tensors, _ = ckpt.load(stylegan2)
    for flag, prefix in (([], "ema"), (["--no-ema"], "net")):
        out = tmp_path / prefix
        assert main(["export", str(stylegan2), "-o", str(out), *flag]) == 0
        saved = load_file(str(out / "G_synthesis.safetensors"))
        key = next(k for k in saved if k.startswith("G_synthesis."))
        name = key.removeprefix("G_synthesis.")
        assert torch.equal(saved[key], tensors[f"{prefix}/G_synthesis/{name}"])
    ema, net = (load_file(str(tmp_path / p / "G_synthesis.safetensors")) for p in ("ema", "net"))
    assert any(not torch.equal(ema[k], net[k]) for k in ema)


def test_the_files_own_reader_reads_what_safetensors_reads(stylegan2, tmp_path):
    export(stylegan2, "python", tmp_path, log=lambda _: None)
    mine = _import(tmp_path / "G_synthesis.py").read_safetensors(tmp_path /
                                                                  "G_synthesis.safetensors")
    theirs = load_file(str(tmp_path / "G_synthesis.safetensors"))
    assert mine.keys() == theirs.keys()
    assert all(torch.equal(mine[k], theirs[k]) and mine[k].dtype == theirs[k].dtype
               for k in theirs)


def test_the_exported_file_is_lint_clean(stylegan2, tmp_path):
    export(stylegan2, "python", tmp_path, log=lambda _: None)
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated",
                           "--line-length", "100", "--select", "E,F,W,I",
                           str(tmp_path / "G_synthesis.py")], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout


def test_network_flag_exports_that_network_alone(stylegan2, tmp_path, capsys):
    assert main(["export", str(stylegan2), "--network", "D", "-o", str(tmp_path)]) == 0
    meta = json.loads((tmp_path / "D.json").read_text())
    assert (meta["networks"], [i["name"] for i in meta["inputs"]]) == (["D"], ["x"])
    assert meta["inputs"][0]["shape"] == [None, 3, 16, 16]
    assert "D: " in capsys.readouterr().out


def test_class_inputs_carry_the_datasets_label_names(tmp_path):
    run = _train(tmp_path / "cgan", "cgan")
    export(run, "python", tmp_path / "out", log=lambda _: None)
    meta = json.loads((tmp_path / "out" / "G.json").read_text())
    assert meta["labels"] == [str(d) for d in range(10)]
    assert [(i["name"], i["dtype"], i["shape"]) for i in meta["inputs"]] == [
        ("z", "float32", [None, 8]), ("y", "int64", [None])]


@pytest.mark.parametrize(("args", "message"), [
    (["nowhere"], "no checkpoint in nowhere"),
    (["RUN", "--network", "Q"], "--network Q: the spec has no such network; its networks "
                                "are G_mapping, G_synthesis, D"),
    (["RUN", "-o", "FILE"], "that is a file; expected a folder"),
])
def test_bad_runs_networks_and_folders_exit_2(stylegan2, tmp_path, monkeypatch, capsys, args,
                                               message):
    monkeypatch.chdir(tmp_path)
    Path("FILE").write_text("")
    args = [str(stylegan2) if a == "RUN" else a for a in args]
    assert main(["export", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


USEROPS = '''
import torch
from torch import nn


class SingularValues(nn.Module):
    """Each sample's singular values as an 8x8 matrix: ONNX has no SVD."""

    def forward(self, x):
        return torch.linalg.svdvals(x.reshape(-1, 8, 8))
'''

SVD_SPEC = """\
extern layer svals(x: vector) -> vector = "userops_svd:SingularValues"
data d: image[1, 8, 8] = digits()
network G(z: latent[8]) -> image[1, 8, 8] {
  h = z -> linear(64)
  return h -> svals -> linear(64) -> reshape(1, 8, 8) -> tanh
}
network D(x: image[1, 8, 8]) -> scalar {
  return x -> flatten -> linear(1)
}
objective {
  x ~ d
  z ~ normal(8)
  D minimizes gan_d(D(x), D(G(z)))
  G minimizes gan_g(D(G(z)))
}
"""


def test_a_layer_onnx_cannot_hold_is_named_with_its_line(tmp_path, monkeypatch, capsys):
    (tmp_path / "userops_svd.py").write_text(USEROPS)
    (tmp_path / "svd.gan").write_text(SVD_SPEC)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GANDSL_EXTERN", "userops_svd")
    monkeypatch.setattr(sys, "path", [str(tmp_path), *sys.path])
    run = _train(tmp_path / "run", "svd", steps=1, spec=tmp_path / "svd.gan")
    assert main(["export", str(run), "--format", "onnx"]) == 2
    err = capsys.readouterr().err
    assert "cannot export layer `svals` of network G (line 5 of " in err
    assert "module G.svals_1) to onnx" in err and "aten._linalg_svd" in err
    assert "Traceback" not in err
    assert list((run / "export").iterdir()) == []  # nothing half-written is left behind
    # the Python file keeps the user's module as an import; TorchScript traces through it
    assert main(["export", str(run), "--format", "torchscript"]) == 0
    assert main(["export", str(run)]) == 0
    assert "from userops_svd import SingularValues as svals_extern" in \
        (run / "export" / "G.py").read_text()


def test_a_spec_class_named_like_a_runtime_class_it_needs_is_refused():
    """Both would be top-level in the one file: the closure says which two collide."""
    from gandsl.export.closure import Closure, Index

    source = ("from torch import nn\n\nfrom gandsl import runtime as rt\n\n\n"
              "class Bias(nn.Module):\n    def __init__(self) -> None:\n"
              "        super().__init__()\n        self.bias = rt.Bias(3)\n")
    with pytest.raises(ValueError, match="`Bias` would be defined twice in one export"):
        Closure().add(Index.of(source), "Bias")
    closure = Closure()
    closure.add(Index.of(source.replace("class Bias", "class Offset")), "Offset")
    assert [name for _, name, _ in closure.definitions] == ["Bias", "Offset"]
    assert closure.namespaces == {"rt": ["Bias"]} and "nn" in closure.imports
