"""Label vectors of unions: `[part 1 | part 2 | ... | mask]`, the mask naming the dataset.

StarGAN's mask vector (section 3.2): a CelebA sample of `celeba | rafd` has its 5 attributes,
8 zeros where RaFD's one-hot class would be, and the mask [1, 0]. The layout is the union's
`LabelSet`, the same one the compiler sized the networks with.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..types import TensorType


@dataclass(frozen=True)
class Slot:
    """Where one member's labels go in the union's vector."""

    offset: int
    size: int
    classes: bool  # a class index, written one-hot
    mask: int | None  # index of this member's mask entry; None when the union has no mask


def slots(field: TensorType) -> list[Slot]:
    """One slot per member, in member order, for the union's label field."""
    assert field.labels is not None
    parts = field.labels.parts
    masked = field.labels.masked
    out: list[Slot] = []
    offset = 0
    mask0 = field.labels.n_labels
    for k, part in enumerate(parts):
        out.append(Slot(offset, part.size, part.kind == "classes", mask0 + k if masked else None))
        offset += part.size
    return out


def place(labels: torch.Tensor, slot: Slot, width: int) -> torch.Tensor:
    """A member's batch of labels ((B,) classes or (B, N) attributes) in the union's layout."""
    if slot.mask is None:  # an alias of one dataset: its labels as they are
        return labels
    out = torch.zeros(labels.shape[0], width, dtype=torch.float32)
    if slot.classes:
        out[torch.arange(labels.shape[0]), slot.offset + labels.long()] = 1.0
    else:
        out[:, slot.offset:slot.offset + slot.size] = labels.float()
    out[:, slot.mask] = 1.0
    return out
