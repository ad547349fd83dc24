"""Helpers of an exported module's `Model`, copied into every `--format python` file: reading
its weights with torch alone, and giving noise and truncation ψ to the layers that use them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch
from torch import Tensor, nn

# safetensors' dtype names → torch's
SAFETENSORS_DTYPES = {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16,
                      "BF16": torch.bfloat16, "I64": torch.int64, "I32": torch.int32,
                      "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
                      "BOOL": torch.bool}


def read_safetensors(path: str | Path) -> dict[str, Tensor]:
    """The tensors of a `.safetensors` file, read without the safetensors package: the file
    is an 8-byte little-endian header size, a JSON header (name → dtype, shape and byte
    range) and the tensors' little-endian bytes."""
    data = Path(path).read_bytes()
    size = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + size])
    body = data[8 + size:]
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        start, end = entry["data_offsets"]
        dtype = SAFETENSORS_DTYPES[entry["dtype"]]
        flat = torch.frombuffer(bytearray(body[start:end]), dtype=dtype) if end > start \
            else torch.empty(0, dtype=dtype)
        tensors[name] = flat.reshape(entry["shape"])
    return tensors


@contextmanager
def given(model: nn.Module, noise_layers: list[str], noise: list[Tensor] | None,
          truncations: list[str], psi: float | Tensor | None) -> Iterator[None]:
    """Inside: each noise layer (by path) uses its tensor of `noise` instead of a fresh draw,
    and each truncation layer uses `psi`; as before afterwards. None leaves them as they are."""
    if noise is not None and len(noise) != len(noise_layers):
        raise ValueError(f"expected {len(noise_layers)} noise tensors (one per noise layer, "
                         f"in the order of NOISE), got {len(noise)}")
    noisy = [model.get_submodule(p) for p in noise_layers] if noise is not None else []
    truncating = [model.get_submodule(p) for p in truncations] if psi is not None else []
    saved = [m.psi for m in truncating]
    for layer, tensor in zip(noisy, noise or [], strict=True):
        layer.fixed = tensor
    for layer in truncating:
        layer.psi = psi
    try:
        yield
    finally:
        for layer in noisy:
            layer.fixed = None
        for layer, value in zip(truncating, saved, strict=True):
            layer.psi = value
