"""What a classifier's heads say about a sample, in the terms of the spec's labels: a digit
class, a `shapes` class index of a `class[N]` layout, or `shapes` attributes of `label[N]`."""

from __future__ import annotations

import torch

from ..data.shapes import CLASS_LAYOUTS, class_kinds
from ..data.shapes_draw import KINDS
from ..data.shapes_scene import COLORS

_COLORS = list(COLORS)


def as_labels(source: str, pred: dict[str, torch.Tensor], kind: str, n: int,
              attributes: tuple[str, ...] = ()) -> torch.Tensor:
    """Predicted labels, shaped as the spec's: class indices (B,) for `class[n]`, multi-hot
    (B, n) for `label[n]`. A prediction the layout cannot express (a kind outside the
    layout's) is class −1: always wrong."""
    if "class" in pred:  # a classifier of classes (digits, Fashion-MNIST)
        cls = pred["class"]
        return cls if kind == "class" else torch.nn.functional.one_hot(cls, n).float()
    if kind == "class":
        return _class_index(pred, n)
    return torch.stack([_attribute(pred, a) for a in attributes], dim=1).float()


def _class_index(pred: dict[str, torch.Tensor], n: int) -> torch.Tensor:
    kinds = class_kinds(n)
    index = torch.zeros_like(pred["kind"])
    bad = torch.zeros_like(pred["kind"], dtype=torch.bool)
    for factor in CLASS_LAYOUTS[n]:
        if factor == "kind":
            names = [KINDS[k] for k in pred["kind"].tolist()]
            value = torch.tensor([kinds.index(x) if x in kinds else 0 for x in names])
            bad |= torch.tensor([x not in kinds for x in names])
            index = index * len(kinds) + value
        elif factor == "size":
            index = index * 2 + pred["size"]
        else:
            index = index * len(_COLORS) + pred["color"]
    return torch.where(bad, torch.full_like(index, -1), index)


def _attribute(pred: dict[str, torch.Tensor], name: str) -> torch.Tensor:
    if name in _COLORS:
        return pred["color"] == _COLORS.index(name)
    if name == "large":
        return pred["size"] == 1
    if name == "dark":
        return pred["dark"] == 1
    return pred["kind"] == KINDS.index(name)


def accuracy(pred: torch.Tensor, target: torch.Tensor, kind: str) -> dict[str, float]:
    """`overall`, and per class (class[N]) or per attribute (label[N])."""
    target = target.to(pred.device)
    if kind == "class":
        out = {"overall": float((pred == target).float().mean())}
        for c in target.unique().tolist():
            mask = target == c
            out[str(c)] = float((pred[mask] == c).float().mean())
        return out
    right = (pred == target.round()).float()  # (B, n)
    out = {"overall": float(right.mean())}
    out.update({str(i): float(right[:, i].mean()) for i in range(right.shape[1])})
    return out
