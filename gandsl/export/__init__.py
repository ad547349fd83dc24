"""`gandsl export`: a trained run's generators as files other programs can use.

For each exported callable (`units.py`: a generator with the networks that feed it, or a
network named with `--network`) it writes, into the output folder:

- `python`: `NAME.py` (needs only torch: `standalone.py`), `NAME.safetensors` (its weights)
  and `NAME.json` (params, inputs, noise, label names);
- `onnx`: `NAME.onnx` and `NAME.json`, checked against the network with onnxruntime;
- `torchscript`: `NAME.pt` and `NAME.json`, checked against the network.

Every format is made from the standalone module, which is checked first to give exactly the
run's outputs: the Python file is the program the other formats are exported from.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from ..errors import UserError
from ..loader import import_file
from ..naming import RESERVED, attribute_namespace, comment, sanitize
from ..pipeline import module_paths
from ..runtime.layers import NoiseInjection
from ..runtime.style import Truncation
from ..train.sample import Restored, class_row_names, restore
from ..version import __version__
from .model_support import given
from .standalone import Layout, python_module
from .units import Unit, example_inputs, units

FORMATS = ("python", "onnx", "torchscript")


class ExportError(UserError):
    """A network that cannot be written in the asked format; the message names it."""


def export(source: Path, fmt: str, out: Path, networks: list[str] | None = None,
           ema: bool = True, log: Callable[[str], None] = print) -> list[Path]:
    """Write the run's generators (or `networks`) in `fmt` into the folder `out`; the files
    written. Raises UserError (exit 2) for a bad run, name, folder or network."""
    if fmt not in FORMATS:
        raise UserError(f"--format {fmt}: expected one of {', '.join(FORMATS)}")
    if out.exists() and not out.is_dir():
        raise UserError(f"-o {out}: that is a file; expected a folder for the exported files")
    r = restore(source, device="cpu", ema=ema)
    for net in r.nets.values():
        net.eval()
    todo = units(r.spec, networks)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for unit in todo:
        written += _export(r, unit, fmt, out, log)
    return written


def _export(r: Restored, unit: Unit, fmt: str, out: Path, log) -> list[Path]:
    """Write one unit's files: made in a folder of their own inside `out`, each moved into
    place only once all are whole, so a failure leaves no half-written file behind."""
    layout = _layout(r, unit)
    try:
        text = python_module(r.loaded.source, unit, layout, _header(r, unit),
                             sanitize(r.spec.name), _types_doc(unit, r))
    except ValueError as e:  # a spec's class named like a runtime class it needs
        raise ExportError(f"cannot write {layout.stem}.py: {e}; rename the spec's block or "
                          "network") from None
    with tempfile.TemporaryDirectory(dir=out, prefix=".export-") as tmp:
        work = Path(tmp)
        py = work / f"{layout.stem}.py"
        py.write_text(text, encoding="utf-8")
        model = import_file(py, f"gandsl_export_{abs(hash(str(py.resolve())))}").Model()
        for name in dict.fromkeys(unit.networks):
            getattr(model, layout.attrs[name]).load_state_dict(r.nets[name].state_dict())
        model.eval()
        _check_python(r, unit, layout, model)
        meta = _meta(r, unit, layout)
        if fmt == "python":
            from safetensors.torch import save_file

            weights = {k: v.detach().clone().contiguous()
                       for k, v in model.state_dict().items()}
            save_file(weights, str(work / f"{layout.stem}.safetensors"))
            made = [py, work / f"{layout.stem}.safetensors"]
            note = "needs only torch, with its weights"
        else:
            from .formats import write

            target = work / f"{layout.stem}.{'onnx' if fmt == 'onnx' else 'pt'}"
            inputs, kwargs = _arguments(unit, layout, model, batch=2, seed=1)
            error = write(fmt, model, inputs, kwargs, target, [n for n, _ in unit.inputs],
                          _where(r, unit, layout))
            meta["check"] = {"max_abs_error": error}
            made = [target]
            note = f"checked against the network: max abs error {error:.2e}"
        made.append(work / f"{layout.stem}.json")
        made[-1].write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
        files = [out / f.name for f in made]
        for f, final in zip(made, files, strict=True):
            os.replace(f, final)
    log(f"{layout.stem}: {files[0]} ({note}; {files[-1].name})")
    return files


def _layout(r: Restored, unit: Unit) -> Layout:
    attrs = attribute_namespace()
    names = list(dict.fromkeys(unit.networks))
    # a file named like a module it imports (`json.py`, `torch.py`) would import itself
    stem = sanitize(unit.name, RESERVED | frozenset(sys.stdlib_module_names))
    layout = Layout(stem=stem, attrs={n: attrs.create(n) for n in names},
                    classes={n: r.loaded.classes[n].__name__ for n in names})
    for n in names:
        net = r.nets[n]
        if hasattr(net, "level"):
            layout.levels[n] = float(net.level)
        for path, m in net.named_modules():
            where = f"{layout.attrs[n]}.{path}"
            if isinstance(m, NoiseInjection):
                layout.noise[where] = ()
            elif isinstance(m, Truncation):
                layout.truncations.append(where)
                layout.psi = m.psi if layout.psi is None else layout.psi
    if layout.noise:  # each layer's noise is (1, H, W) of the map it is added to
        holder = _holder(r, layout)
        shapes: dict[str, tuple[int, ...]] = {}

        def record(path: str):
            def hook(module, args) -> None:
                shapes.setdefault(path, (1, *args[0].shape[2:]))
            return hook
        hooks = [holder.get_submodule(p).register_forward_pre_hook(record(p))
                 for p in layout.noise]
        with torch.no_grad():
            _run(holder, unit, layout, example_inputs(unit.inputs, 1, 0))
        for hook in hooks:
            hook.remove()
        # a layer of a level of detail not grown yet does not run: it takes no noise
        layout.noise = {p: shapes[p] for p in layout.noise if p in shapes}
    return layout


def _holder(r: Restored, layout: Layout) -> nn.Module:
    """The run's networks under the attributes the exported `Model` gives them."""
    holder = nn.Module()
    for name, attr in layout.attrs.items():
        holder.add_module(attr, r.nets[name])
    return holder


def _run(holder: nn.Module, unit: Unit, layout: Layout, inputs: list[torch.Tensor]):
    values = dict(zip((n for n, _ in unit.inputs), inputs, strict=True))
    for call in unit.calls:
        net = getattr(holder, layout.attrs[call.network])
        values[call.target] = net(*(values[a] for a in call.args))
    return values[unit.result]


def _arguments(unit: Unit, layout: Layout, model: nn.Module, batch: int, seed: int
               ) -> tuple[list[torch.Tensor], dict]:
    """Example inputs of `Model.forward`, with its noise explicit and ψ as the spec's."""
    inputs = example_inputs(unit.inputs, batch, seed)
    kwargs: dict = {}
    if layout.truncations:
        kwargs["psi"] = torch.tensor(float(layout.psi))
    if layout.noise:
        g = torch.Generator().manual_seed(seed + 1)
        kwargs["noise"] = [torch.randn(batch, *s, generator=g) for s in layout.noise.values()]
    return inputs, kwargs


def _check_python(r: Restored, unit: Unit, layout: Layout, model: nn.Module) -> None:
    """The standalone module gives exactly the run's outputs (same inputs and noise)."""
    inputs, kwargs = _arguments(unit, layout, model, batch=3, seed=0)
    holder = _holder(r, layout)
    with torch.no_grad():
        got = model(*inputs, **kwargs)
        with given(holder, list(layout.noise), kwargs.get("noise"), layout.truncations,
                   kwargs.get("psi")):
            want = _run(holder, unit, layout, inputs)
    if not torch.equal(got, want):  # pragma: no cover - the copied code is the run's code
        raise ExportError(f"{layout.stem}: the exported module's output differs from the "
                          f"run's by {(got - want).abs().max().item():.3g}; please report it")


def _header(r: Restored, unit: Unit) -> list[str]:
    step = int(r.state.get("step", 0))
    weights = "EMA" if set(unit.networks) <= r.ema and r.ema else "trained"
    params = ", ".join(f"{k}={v}" for k, v in r.loaded.module.PARAMS.items())
    return [comment(line) for line in (
        f"Exported by gandsl {__version__} from the run {r.run_dir} (step {step:,}, {weights} "
        "weights).",
        f"Spec {r.spec.name}, params {params}.")]


def _types_doc(unit: Unit, r: Restored) -> str:
    ins = ", ".join(f"{n}: {t}" for n, t in unit.inputs)
    net = r.spec.network(unit.calls[-1].network)
    return f"({ins}) -> {net.outputs[0].type}"


def _where(r: Restored, unit: Unit, layout: Layout) -> Callable[[str | None], str]:
    """Module path of the exported `Model` → the spec's layer there, with its line."""
    paths = {net: {p: node for node, p in of.items()}
             for net, of in module_paths(r.spec).items()}
    network_of = {attr: name for name, attr in layout.attrs.items()}
    spec_file = r.run_dir / "spec.gan"

    def describe(path: str | None) -> str:
        attr, _, rest = (path or "").partition(".")
        name = network_of.get(attr, unit.calls[-1].network)
        net = r.spec.network(name)
        inverse = paths.get(name, {})
        parts = rest.split(".") if rest else []
        for k in range(len(parts), 0, -1):  # the longest prefix that is a layer's module
            node = next((n for n in net.nodes if n.name == inverse.get(".".join(parts[:k]))),
                        None)
            if node is not None:
                layer = node.args.get("extern", node.op) if node.op == "extern" else node.op
                return (f"layer `{layer}` of network {name} (line {node.span.line} of "
                        f"{spec_file}, module {path})")
        return f"network {name} (line {net.span.line} of {spec_file})"
    return describe


def _label_names(r: Restored, unit: Unit) -> list[str] | None:
    """The names of the classes a `class[N]` input takes, in index order, where the run's
    data has them."""
    if not any(t.kind == "class" for _, t in unit.inputs):
        return None
    try:
        return class_row_names(r, None)
    except UserError:  # no condition the sample grids know, or data that is not here
        return None


def _meta(r: Restored, unit: Unit, layout: Layout) -> dict:
    return {
        "gandsl": __version__,
        "spec": r.spec.name,
        "run": str(r.run_dir),
        "step": int(r.state.get("step", 0)),
        "weights": {n: "ema" if n in r.ema else "trained" for n in dict.fromkeys(unit.networks)},
        "networks": list(dict.fromkeys(unit.networks)),
        "params": dict(r.loaded.module.PARAMS),
        "inputs": [{"name": n, "type": str(t), "shape": [None, *t.dims] if t.kind != "class"
                    else [None], "dtype": "int64" if t.kind == "class" else "float32"}
                   for n, t in unit.inputs],
        "output": str(r.spec.network(unit.calls[-1].network).outputs[0].type),
        "noise": {k: list(v) for k, v in layout.noise.items()},
        "truncation": {"layers": layout.truncations, "psi": layout.psi}
        if layout.truncations else None,
        "labels": _label_names(r, unit),
    }
