"""What a spec asks of one (non-union) dataset, and the interface every dataset implements.

Datasets return samples in their own label format (a class index or an attribute vector);
laying labels out for unions (`[celeba | rafd | mask]`) is the loader's job, so a dataset
never needs to know which unions it belongs to.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch.utils.data import Dataset as TorchDataset
from torch.utils.data import default_collate

from ..ir import Dataset
from .errors import DataError, where
from .images import mode_for

LabelKind = Literal["class", "label"]


@dataclass(frozen=True)
class Request:
    """One data declaration as the data layer needs it: image shape and label kind/size."""

    name: str
    what: str  # "specs/x.gan:12: data `name`", the prefix of messages
    channels: int
    height: int
    width: int
    label: LabelKind | None  # None: images only (or a pair of images)
    n_labels: int  # 0 when `label` is None
    source: str
    kwargs: dict[str, Any]  # positional arguments bound to their keyword names
    pair: tuple[int, int, int] | None = None  # (C, H, W) of the second image of a pair

    @property
    def mode(self) -> str:
        return mode_for(self.channels, self.what)


def request(ds: Dataset, spec_path: str, keywords: tuple[str, ...]) -> Request:
    """Read a declaration; positional source arguments take the keywords' order."""
    what = where(ds, spec_path)
    if len(ds.args) > len(keywords):
        raise DataError(f"{what}: `{ds.source}` takes at most {len(keywords)} positional "
                        f"arguments ({', '.join(keywords)}), got {len(ds.args)}")
    kwargs = dict(zip(keywords, ds.args, strict=False))
    for key, value in ds.kwargs.items():
        if key in kwargs:
            raise DataError(f"{what}: `{key}` is given both by position and by name")
        kwargs[key] = value
    c, h, w = ds.fields[0].dims
    second = ds.fields[1] if len(ds.fields) > 1 else None
    pair = tuple(second.dims) if second is not None and second.kind == "image" else None
    label = second if pair is None else None
    return Request(name=ds.name, what=what, channels=c, height=h, width=w,
                   label=None if label is None else label.kind,  # type: ignore[arg-type]
                   n_labels=0 if label is None else label.dims[0],
                   source=ds.source or "", kwargs=kwargs, pair=pair)  # type: ignore[arg-type]


class ImageDataset(TorchDataset, ABC):
    """A map-style dataset of `(image,)`, `(image, label)` or `(image, image)` samples.

    image: float32 (C, H, W) in [-1, 1], except a segmentation pair's first image: its one-hot
    label map, float32 (N, H, W) of 0/1; label: an `int` class index for `class[N]`, a float32
    (N,) tensor of 0/1 for `label[N]`. `order_key` names the sampling order: two datasets with
    the same key and length are shuffled identically (how paired `shapes` domains stay paired).
    """

    def __init__(self, req: Request, order_key: str | None = None) -> None:
        self.req = req
        self.order_key = order_key or f"data:{req.name}"

    @abstractmethod
    def __len__(self) -> int:
        """How many samples."""

    @abstractmethod
    def __getitem__(self, index: int) -> tuple[Any, ...]:
        """Sample `index`: `(image,)`, `(image, label)` or a pair `(a, b)`."""

    # A dataset held in memory makes a whole batch at once (`batch`): a stream without worker
    # processes then calls it instead of a DataLoader's one call per sample and its collate.
    in_memory = False

    def batch(self, indices: list[int]) -> list[Any]:
        """Samples `indices` as a DataLoader collates them: here one sample at a time; a
        dataset held in memory makes them at once."""
        return list(default_collate([self[i] for i in indices]))

    def with_labels(self, images: torch.Tensor, classes: torch.Tensor) -> list[torch.Tensor]:
        """A batch as the declaration asks for it: the images alone, with their class
        indices (`class[N]`), or with them one-hot (`label[N]`)."""
        if self.req.label is None:
            return [images]
        if self.req.label == "label":
            return [images, F.one_hot(classes, self.req.n_labels).float()]
        return [images, classes]

    def first(self, batch: list[torch.Tensor]) -> tuple:
        """The sample of a one-sample `batch`, as `__getitem__` returns it (a class as an
        `int`)."""
        return (batch[0][0], *(t[0] if self.req.label == "label" else int(t[0])
                               for t in batch[1:]))

    def describe(self) -> str:
        """One line for the trainer's log: where the images come from."""
        return f"{self.req.name}: {len(self)} images"
