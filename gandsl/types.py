"""Value types of the language: a kind, per-sample dimensions, and (for labels) the label set.

The batch dimension is implicit everywhere: `image[3, 64, 64]` is a (B, 3, 64, 64) tensor.
Kinds come in families that layers accept: spatial (image, map), flat (latent, label, logits,
vector), index (class) and scalar (one number per sample, shape (B,)).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

# "loss" is internal: a number per batch (what a loss function returns), never declared.
Kind = Literal["image", "map", "latent", "label", "class", "logits", "vector", "scalar", "loss"]
KINDS: tuple[str, ...] = ("image", "map", "latent", "label", "class", "logits", "vector", "scalar")
SPATIAL = frozenset({"image", "map"})
FLAT = frozenset({"latent", "label", "logits", "vector"})
RANK = {"image": 3, "map": 3, "latent": 1, "label": 1, "class": 1, "logits": 1, "vector": 1,
        "scalar": 0}


class LabelPart(BaseModel):
    """One dataset's labels inside a label set: `celeba` has 5 attributes, `rafd` 8 classes."""

    model_config = ConfigDict(frozen=True)
    dataset: str
    size: int
    kind: Literal["attributes", "classes"]


class LabelSet(BaseModel):
    """The structure of a label vector built from one or more datasets.

    With several datasets (StarGAN's CelebA + RaFD) a `label` carries every dataset's labels
    side by side and a one-hot mask naming the sample's dataset; `logits` carry no mask.
    """

    model_config = ConfigDict(frozen=True)
    parts: tuple[LabelPart, ...]

    @property
    def masked(self) -> bool:
        return len(self.parts) > 1

    @property
    def n_labels(self) -> int:
        return sum(p.size for p in self.parts)

    def __str__(self) -> str:
        return " | ".join(p.dataset for p in self.parts)


class TensorType(BaseModel):
    model_config = ConfigDict(frozen=True)
    kind: Kind
    dims: tuple[int, ...]
    labels: LabelSet | None = None

    @property
    def family(self) -> str:
        if self.kind in SPATIAL:
            return "spatial"
        if self.kind in FLAT:
            return "flat"
        return self.kind  # "class" or "scalar"

    @property
    def numel(self) -> int:
        n = 1
        for d in self.dims:
            n *= d
        return n

    def __str__(self) -> str:
        if self.kind in ("scalar", "loss"):
            return self.kind
        if self.labels is not None:
            return f"{self.kind}[{self.labels}]"
        return f"{self.kind}[{', '.join(str(d) for d in self.dims)}]"

    def sized(self) -> str:
        """The type with its size spelled out when it is given by datasets:
        `label[celeba | rafd] (15)`, for messages about sizes."""
        return f"{self} ({self.dims[0]})" if self.labels is not None else str(self)

    def shape_comment(self) -> str:
        """The tensor shape with the batch dimension, as written in generated code."""
        if self.kind in ("scalar", "class"):
            return "(B,)"
        return "(B, " + ", ".join(str(d) for d in self.dims) + ")"

    def with_kind(self, kind: Kind) -> TensorType:
        return TensorType(kind=kind, dims=self.dims, labels=self.labels if kind in (
            "label", "logits", "class") else None)


def spatial(c: int, h: int, w: int, kind: Kind = "map") -> TensorType:
    return TensorType(kind=kind, dims=(c, h, w))


def flat(n: int, kind: Kind = "vector") -> TensorType:
    return TensorType(kind=kind, dims=(n,))


SCALAR = TensorType(kind="scalar", dims=())
LOSS = TensorType(kind="loss", dims=())


def assignable(value: TensorType, declared: TensorType) -> bool:
    """May a value of type `value` be used where `declared` is expected (network in/outputs)?

    Kinds within a family are interchangeable only in the direction that loses no meaning:
    any spatial value may be declared `image` or `map`, any flat value may be declared as any
    flat kind; label sets must agree when both sides have one.
    """
    if value.family != declared.family:
        return False
    if value.dims != declared.dims:
        return False
    if value.labels is not None and declared.labels is not None:
        return value.labels == declared.labels
    return True


def conversion(value: TensorType, declared: TensorType) -> str | None:
    """How a network's returned value becomes its declared output type.

    "same": no change; "flatten": a 1×1 map to a vector (StarGAN's class head);
    "scalar": one number per sample to shape (B,) (DCGAN's D); None: not convertible.
    """
    if assignable(value, declared):
        return "same"
    if declared.kind == "scalar" and value.family in ("spatial", "flat") and value.numel == 1:
        return "scalar"
    if declared.family == "flat" and value.family == "spatial" and value.dims[1:] == (1, 1) \
            and value.dims[0] == declared.dims[0]:
        return "flatten"
    return None
