"""`gandsl export` on every spec of specs/: each generator leaves a 2-step run as a Python file
that runs with torch alone, as ONNX and as TorchScript, and each gives the run's own outputs
(Python exactly, ONNX within 1e-4) on inputs and noise the test draws itself."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pytest
import torch
from conftest import EVERY_SPEC_SMALL, ROOT
from torch import nn

from gandsl.export import export
from gandsl.export.model_support import given
from gandsl.export.units import Unit, example_inputs, units
from gandsl.train.config import RunConfig
from gandsl.train.sample import restore
from gandsl.train.trainer import Trainer

SPECS = list(EVERY_SPEC_SMALL)
ONNX_TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def run_of(tmp_path_factory):
    """A spec's 2-step run, trained on first use."""
    root = tmp_path_factory.mktemp("runs")
    done: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in done:
            params, data = EVERY_SPEC_SMALL[name]
            out = root / name
            Trainer(RunConfig(spec=str(ROOT / "specs" / f"{name.split('-')[0]}.gan"),
                              params=dict(params), data=data, steps=2, batch=4, out=out,
                              progress=False, sample_every=1000, checkpoint_every=1000,
                              log_every=5)).run()
            done[name] = out
        return done[name]
    return get


def _reference(run: Path, unit: Unit, meta: dict, inputs: list[torch.Tensor],
               noise: list[torch.Tensor] | None, psi: float | None) -> torch.Tensor:
    """The run's own networks, called as the objective calls them, with the given noise."""
    r = restore(run, device="cpu")
    holder = nn.Module()
    for name in meta["networks"]:
        holder.add_module(name, r.nets[name].eval())
    values = dict(zip((n for n, _ in unit.inputs), inputs, strict=True))
    layers = list(meta["noise"])
    truncations = meta["truncation"]["layers"] if meta["truncation"] else []
    with torch.no_grad(), given(holder, layers, noise, truncations, psi):
        for call in unit.calls:
            values[call.target] = getattr(holder, call.network)(*(values[a]
                                                                   for a in call.args))
    return values[unit.result]


def _draws(unit: Unit, meta: dict, batch: int, seed: int):
    inputs = example_inputs(unit.inputs, batch, seed)
    g = torch.Generator().manual_seed(seed + 100)
    noise = [torch.randn(batch, *shape, generator=g) for shape in meta["noise"].values()] \
        or None
    psi = 0.5 if meta["truncation"] else None  # not the spec's: the argument must reach it
    return inputs, noise, psi


def _units(run: Path) -> list[Unit]:
    return units(restore(run, device="cpu").spec, None)


def _exported(run: Path, folder: Path, fmt: str):
    """(index, unit, its JSON) of each callable the run exports in `fmt` into `folder`."""
    export(run, fmt, folder, log=lambda _: None)
    for k, unit in enumerate(_units(run)):
        yield k, unit, json.loads((folder / f"{unit.name}.json").read_text())


def test_every_spec_has_a_small_version():
    assert {n.split("-")[0] for n in SPECS} == {p.stem for p in (ROOT / "specs").glob("*.gan")}


@pytest.mark.parametrize("name", SPECS)
def test_python_export_runs_with_torch_alone_and_gives_the_runs_outputs(run_of, tmp_path,
                                                                         name):
    run = run_of(name)
    out = tmp_path / "out"
    export(run, "python", out, log=lambda _: None)
    cases = []
    for k, unit in enumerate(_units(run)):
        meta = json.loads((out / f"{unit.name}.json").read_text())
        inputs, noise, psi = _draws(unit, meta, batch=3, seed=k)
        kwargs = {**({"noise": noise} if noise else {}), **({"psi": psi} if psi else {})}
        torch.save({"inputs": inputs, "kwargs": kwargs}, tmp_path / f"{unit.name}.in.pt")
        cases.append((unit, _reference(run, unit, meta, inputs, noise, psi)))
    # gandsl made unimportable: the file must hold everything it needs
    script = textwrap.dedent(f"""
        import sys
        sys.modules["gandsl"] = None
        sys.path.insert(0, {str(out)!r})
        import importlib, torch
        for stem in {[u.name for u, _ in cases]!r}:
            weights = {str(out)!r} + f"/{{stem}}.safetensors"
            model = importlib.import_module(stem).Model.load(weights)
            args = torch.load({str(tmp_path)!r} + f"/{{stem}}.in.pt")
            with torch.no_grad():
                torch.save(model(*args["inputs"], **args["kwargs"]),
                           {str(tmp_path)!r} + f"/{{stem}}.out.pt")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    for unit, want in cases:
        got = torch.load(tmp_path / f"{unit.name}.out.pt")
        assert torch.equal(got, want), f"{name} {unit.name}: {(got - want).abs().max()}"


@pytest.mark.parametrize("name", SPECS)
def test_onnx_export_gives_the_runs_outputs_at_another_batch_size(run_of, tmp_path, name):
    import onnxruntime

    run = run_of(name)
    for k, unit, meta in _exported(run, tmp_path, "onnx"):
        assert meta["check"]["max_abs_error"] <= ONNX_TOLERANCE
        inputs, noise, psi = _draws(unit, meta, batch=5, seed=10 + k)
        session = onnxruntime.InferenceSession(str(tmp_path / f"{unit.name}.onnx"),
                                               providers=["CPUExecutionProvider"])
        values = [*inputs, *([torch.tensor(psi)] if psi else []), *(noise or [])]
        names = [i.name for i in session.get_inputs()]
        assert names[:len(inputs)] == [i["name"] for i in meta["inputs"]]
        got = session.run(None, {n: v.numpy() for n, v in zip(names, values, strict=True)})[0]
        want = _reference(run, unit, meta, inputs, noise, psi)
        err = (torch.from_numpy(got) - want).abs().max().item()
        assert err <= ONNX_TOLERANCE, f"{name} {unit.name}: {err}"


@pytest.mark.parametrize("name", SPECS)
def test_torchscript_export_gives_the_runs_outputs(run_of, tmp_path, name):
    run = run_of(name)
    for k, unit, meta in _exported(run, tmp_path, "torchscript"):
        inputs, noise, psi = _draws(unit, meta, batch=2, seed=20 + k)
        with warnings.catch_warnings():  # torch.jit is deprecated; still what it checks
            warnings.simplefilter("ignore", DeprecationWarning)
            loaded = torch.jit.load(str(tmp_path / f"{unit.name}.pt"))
        extra = [*([torch.tensor(psi)] if psi else []), *([noise] if noise else [])]
        with torch.no_grad():
            got = loaded(*inputs, *extra)
        want = _reference(run, unit, meta, inputs, noise, psi)
        assert (got - want).abs().max().item() <= 1e-5, name
