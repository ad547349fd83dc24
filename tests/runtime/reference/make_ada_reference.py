"""Write ada_reference.safetensors: the official ADA pipeline's outputs on fixed inputs and
seeds, which tests/runtime/test_runtime_ada_reference.py compares gandsl's `rt.ada` with.

The reference is NVlabs/stylegan2-ada-pytorch `training/augment.py` (AugmentPipe), which is
not part of this repository (NVIDIA Source Code License): only its outputs are kept here.
Regenerate them with a checkout of it:

    git clone https://github.com/NVlabs/stylegan2-ada-pytorch ../stylegan2-ada-pytorch
    python tests/runtime/reference/make_ada_reference.py ../stylegan2-ada-pytorch

(its `dnnlib` imports `requests` at import time; install it or put an empty `requests.py`
on PYTHONPATH). Every case is one call of AugmentPipe on the CPU (the reference falls back to
its pure-torch `upfirdn2d` and `grid_sample` there), from `torch.manual_seed(seed)`:

- `x/<shape>`: the input images, uniform in [−1, 1);
- `out/<case>`: the augmented images;
- `grad/<case>`: the input's gradient for the upstream gradient `up/<shape>`;
- `after/<case>`: `torch.rand(8)` drawn after the call: the generator's state afterwards,
  so the test also checks that gandsl draws exactly what the reference draws.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
from safetensors.torch import save_file

GROUPS = {"blit": {"xflip": 1, "rotate90": 1, "xint": 1},
          "geom": {"scale": 1, "rotate": 1, "aniso": 1, "xfrac": 1},
          "color": {"brightness": 1, "contrast": 1, "lumaflip": 1, "hue": 1, "saturation": 1},
          "filter": {"imgfilter": 1}, "noise": {"noise": 1}, "cutout": {"cutout": 1}}


def _preset(*groups: str) -> dict[str, float]:
    return {op: m for g in groups for op, m in GROUPS[g].items()}


PRESETS = {**GROUPS, "bg": _preset("blit", "geom"), "bgc": _preset("blit", "geom", "color"),
           "bgcfnc": _preset("blit", "geom", "color", "filter", "noise", "cutout")}
SHAPES = {"rgb": (4, 3, 16, 16), "gray": (3, 1, 16, 16), "wide": (2, 3, 12, 20),
          "big": (2, 3, 24, 24), "bigwide": (2, 1, 24, 28)}
# image-space filtering reflects 21 pixels of padding: images of 22 pixels and more
FILTERED = {"filter", "bgcfnc"}
# R3GAN's pipeline (brownvc/R3GAN train.py): bgc with the colour operations at ½, and cutout
R3GAN = {"brightness": 0.5, "contrast": 0.5, "lumaflip": 0.5, "hue": 0.5, "saturation": 0.5,
         "cutout": 1}
# other settings than the defaults
SETTINGS = {"xint_max": 0.25, "scale_std": 0.3, "rotate_max": 0.5, "aniso_std": 0.1,
            "xfrac_std": 0.2, "brightness_std": 0.3, "contrast_std": 0.4, "hue_max": 0.5,
            "saturation_std": 0.7, "imgfilter_bands": [0, 1, 0.5, 1], "imgfilter_std": 0.8,
            "noise_std": 0.2, "cutout_size": 0.3}
# (tag, preset, options, p, shape, seed): every preset at a middle and a full probability on
# RGB, colour on one channel (the reference's mean of the RGB rows), geometry on non-square
# images, R3GAN's multipliers, and every setting changed.
CASES = [(preset, preset, {}, p, "big" if preset in FILTERED else "rgb", 10 + i)
         for i, preset in enumerate(PRESETS) for p in (0.4, 1.0)]
CASES += [("color", "color", {}, 1.0, "gray", 30), ("bgc", "bgc", {}, 0.7, "gray", 31),
          ("bg", "bg", {}, 1.0, "wide", 32), ("bgcfnc", "bgcfnc", {}, 0.8, "bigwide", 33),
          ("r3gan", "bgc", R3GAN, 0.6, "rgb", 34),
          ("settings", "bgcfnc", SETTINGS, 0.9, "big", 35)]


def case_name(tag: str, preset: str, options: dict, p: float, shape: str, seed: int) -> str:
    return f"{tag}-p{p}-{shape}-s{seed}"


def main(reference: str) -> None:
    sys.path.insert(0, reference)
    from training.augment import AugmentPipe  # noqa: PLC0415 (the reference, from its path)

    g = torch.Generator().manual_seed(2020)
    tensors = {}
    for shape, size in SHAPES.items():
        tensors[f"x/{shape}"] = torch.rand(size, generator=g) * 2 - 1
        tensors[f"up/{shape}"] = torch.randn(size, generator=g)
    for case in CASES:
        _, preset, options, p, shape, seed = case
        name = case_name(*case)
        pipe = AugmentPipe(**(PRESETS[preset] | options))
        pipe.p.copy_(torch.tensor(p))
        x = tensors[f"x/{shape}"].clone().requires_grad_(True)
        torch.manual_seed(seed)
        out = pipe(x)
        tensors[f"after/{name}"] = torch.rand(8)
        (out * tensors[f"up/{shape}"]).sum().backward()
        tensors[f"out/{name}"] = out.detach().contiguous()
        tensors[f"grad/{name}"] = x.grad.contiguous()
    save_file(tensors, str(Path(__file__).with_name("ada_reference.safetensors")),
              metadata={"reference": "NVlabs/stylegan2-ada-pytorch training/augment.py",
                        "torch": torch.__version__})


if __name__ == "__main__":
    main(sys.argv[1])
