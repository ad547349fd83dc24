"""`load NET ("file.safetensors")`: pretrained weights for a network, such as the frozen VGG19
of SRGAN's and SPADE's perceptual losses. Nothing is downloaded: the user supplies the file.

By name (the default) the file's keys are the network's `state_dict` keys, all of them, with
the same shapes. With `order=true` the network's parameters take the file's tensors whose
keys start with `prefix`, in the natural order of their keys (`features.2` before
`features.10`), shapes checked one by one: torchvision's `vgg19(...).state_dict()` saved with
safetensors, with `prefix="features."`, fits a spec's VGG written layer by layer; tensors left
over at the end (the layers past relu5_1) are not used. `prefix` applies to both ways.
"""

from __future__ import annotations

import re
from pathlib import Path

import torch
from torch import nn

from .config import RunError


def load_weights(net: nn.Module, path: Path, order: bool, what: str, prefix: str = "") -> str:
    """Copy the file's tensors into `net`; a line for the log. Raises RunError."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    if not path.is_file():
        raise RunError(f"{what}: {path} is not there: expected a safetensors file of the "
                       "network's weights (nothing is downloaded; pass its path, or \"\" to "
                       "train with random weights)")
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as e:
        raise RunError(f"{what}: cannot read {path} as safetensors ({e})") from None
    tensors = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
    if not tensors:
        raise RunError(f"{what}: no tensor of {path} has a key starting with {prefix!r}")
    with torch.no_grad():
        if order:
            return _by_order(net, tensors, path, what)
        return _by_name(net, tensors, path, what)


def _by_name(net: nn.Module, tensors: dict[str, torch.Tensor], path: Path, what: str) -> str:
    state = net.state_dict()
    missing = sorted(set(state) - set(tensors))
    extra = sorted(set(tensors) - set(state))
    wrong = [f"{k} {tuple(tensors[k].shape)} for {tuple(state[k].shape)}" for k in state
             if k in tensors and tensors[k].shape != state[k].shape]
    if missing or extra or wrong:
        parts = [f"missing {', '.join(missing[:4])}" if missing else "",
                 f"unexpected {', '.join(extra[:4])}" if extra else "",
                 f"shapes differ: {', '.join(wrong[:4])}" if wrong else ""]
        raise RunError(f"{what}: {path} does not fit the network: "
                       f"{'; '.join(p for p in parts if p)} (with order=true its tensors are "
                       "taken in order instead)")
    net.load_state_dict(tensors)
    return f"{len(tensors)} tensors from {path}"


def _by_order(net: nn.Module, tensors: dict[str, torch.Tensor], path: Path, what: str) -> str:
    params = list(net.named_parameters())
    keys = sorted(tensors, key=_natural)
    if len(keys) < len(params):
        raise RunError(f"{what}: {path} holds {len(keys)} tensors, the network has "
                       f"{len(params)} parameters")
    for (name, p), key in zip(params, keys, strict=False):
        if tensors[key].shape != p.shape:
            raise RunError(f"{what}: {path}: tensor {key} {tuple(tensors[key].shape)} would "
                           f"go into {name} {tuple(p.shape)}; the shapes differ")
        p.copy_(tensors[key])
    unused = len(keys) - len(params)
    return f"{len(params)} tensors from {path} in order" + (f", {unused} left unused"
                                                            if unused else "")


def _natural(key: str) -> tuple:
    """Layer by layer (`features.10` after `features.2`: numbers compare as numbers), and in
    a layer its weight, then its bias, as PyTorch registers them."""
    layer, _, leaf = key.rpartition(".")
    return ([int(t) if t.isdigit() else t for t in re.split(r"(\d+)", layer)],
            {"weight": 0, "bias": 1}.get(leaf, 2), leaf)
