"""What a network computes, independent of how its class names its modules: for every spec at
its small configurations (`tests/gans/test_specs.py` SMALL), each network's parameter and buffer
shapes in `state_dict` order, and its outputs — for weights drawn in that order from a fixed
seed, on fixed inputs — projected onto fixed random directions; a progressive network's at
every half level of detail too (grown, fading in).

`layout_v1.json` holds these for the generated code before block classes and `nn.Sequential`
(gandsl at commit 32646cf); `tests/emit/test_layout_compat.py` checks that today's code computes
the same with the same weights given in the same order. That order is the documented mapping
from old checkpoints' names to new ones (docs/training.md, "Checkpoints across versions").
To rewrite the file from a checkout of that commit:

    PYTHONPATH=<checkout> python tests/reference/layout_probe.py <checkout> \
        tests/reference/layout_v1.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

PROJECTIONS = 4


# Sizes at which StyleGAN2's synthesis loop and the levels of PGGAN and StyleGAN run three
# times or more (a loop is kept as a loop from three iterations on), beside the small
# configurations of tests/gans/test_specs.py.
EXTRA = {
    "pggan": [{"S": 64, "nz": 16, "fbase": 64, "fmax": 16}],
    "stylegan": [{"S": 64, "fbase": 32, "fmax": 8, "z_dim": 8, "w_dim": 8, "map_layers": 2}],
    "stylegan2": [{"S": 32, "cbase": 256, "cmax": 8, "z_dim": 8, "w_dim": 8, "map_layers": 2}],
    "stylegan2_ada": [{"S": 32, "cbase": 256, "cmax": 8, "z_dim": 8, "w_dim": 8,
                       "map_layers": 2, "mbstd": 4}],
}


def _small(root: Path) -> dict:
    path = root / "tests" / "gans" / "test_specs.py"  # tests/test_specs.py before the split
    src = (path if path.exists() else root / "tests" / "test_specs.py").read_text()
    start = src.index("SMALL = {")
    ns: dict = {}
    exec(src[start:src.index("\n}\n", start) + 3], ns)  # our own test file's literal
    small = ns["SMALL"]
    return {name: [*small[name], *EXTRA.get(name, [])] for name in small}


def _example(t, batch: int) -> torch.Tensor:
    if t.kind == "class":
        return torch.randint(0, t.dims[0], (batch,))
    if t.kind == "label":
        return torch.randint(0, 2, (batch, *t.dims)).float()
    return torch.randn(batch, *t.dims)


def probe(root: Path) -> dict[str, dict]:
    import gandsl

    out = {}
    for name, configs in _small(root).items():
        for k, params in enumerate(configs):
            loaded = gandsl.load(root / "specs" / f"{name}.gan", **params)
            for net in loaded.spec.networks:
                module = loaded.networks[net.name].eval()
                state = module.state_dict()
                g = torch.Generator().manual_seed(1)
                weights = {}
                for key, v in state.items():
                    w = (torch.randn(v.shape, generator=g) * 0.1).to(v.dtype) \
                        if v.is_floating_point() else v
                    # variances and spectral norm's vectors positive: finite outputs
                    if "running_var" in key or key.endswith(("_u", "_v")):
                        w = w.abs() + 0.5
                    weights[key] = w
                module.load_state_dict(weights)
                torch.manual_seed(2)
                inputs = [_example(p.type, 3) for p in net.inputs]
                shapes = [list(v.shape) for v in state.values()]
                out[f"{name}/{k}/{net.name}"] = {
                    "shapes": shapes, "outputs": _outputs(net, module, inputs)}
                top = getattr(module, "level", None)  # a progressive network: every level
                for half in range(int(2 * top) if top is not None else 0):
                    module.level = half / 2
                    out[f"{name}/{k}/{net.name}@{half / 2}"] = {
                        "shapes": shapes, "outputs": _outputs(net, module, inputs)}
    return out


def _outputs(net, module, inputs) -> list[list[float]]:
    torch.manual_seed(3)
    with torch.no_grad():
        result = module(*inputs)
    outputs = result if not net.single_output else (result,)
    g = torch.Generator().manual_seed(4)
    projected = []
    for o in outputs:
        flat = o.double().flatten()
        dirs = torch.randn(PROJECTIONS, flat.numel(), generator=g, dtype=torch.double)
        projected.append((dirs @ flat).tolist())
    return projected


if __name__ == "__main__":
    checkout, target = Path(sys.argv[1]), Path(sys.argv[2])
    target.write_text(json.dumps(probe(checkout), indent=1) + "\n")
