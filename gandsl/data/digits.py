"""`digits(split)`: scikit-learn's 8×8 handwritten digits, so a spec trains with no download.

1797 grey images of 10 classes, values 0–16, shipped inside scikit-learn. "train" is the first
1500, "test" the other 297: a fixed split, so runs are comparable. Images are upsampled
bilinearly to the declared H×W per sample (cheap at 8×8, and no cache grows with H×W).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F

from .base import ImageDataset, Request
from .errors import DataError

SPLITS = {"train": slice(0, 1500), "test": slice(1500, None)}
N_CLASSES = 10


@lru_cache(maxsize=1)
def _load() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return bunch.images.astype(np.float32), bunch.target.astype(np.int64)


class DigitsDataset(ImageDataset):
    def __init__(self, req: Request) -> None:
        super().__init__(req)
        split = req.kwargs.get("split", "train")
        if split not in SPLITS:
            raise DataError(f"{req.what}: digits(split={split!r}): expected \"train\" (the first "
                            "1500 images) or \"test\" (the other 297)")
        if req.channels != 1:
            raise DataError(f"{req.what}: digits images have 1 channel (grey), the spec "
                            f"declares image[{req.channels}, {req.height}, {req.width}]")
        if req.label is not None and req.n_labels != N_CLASSES:
            raise DataError(f"{req.what}: digits has {N_CLASSES} classes, the spec declares "
                            f"{req.label}[{req.n_labels}]")
        images, targets = _load()
        self.split = split
        # 0..16 → [-1, 1], as (N, 1, 8, 8) so each sample is one interpolate call.
        self.images = torch.from_numpy(images[SPLITS[split]] / 8.0 - 1.0).unsqueeze(1)
        self.targets = targets[SPLITS[split]].tolist()

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, index: int) -> tuple:
        img = self.images[index]
        if img.shape[-2:] != (self.req.height, self.req.width):
            img = F.interpolate(img[None], size=(self.req.height, self.req.width),
                                mode="bilinear", align_corners=False)[0]
        target = self.targets[index]
        if self.req.label is None:
            return (img,)
        if self.req.label == "label":
            return (img, F.one_hot(torch.tensor(target), N_CLASSES).float())
        return (img, target)

    def describe(self) -> str:
        return f"{self.req.name}: digits, {self.split} split, {len(self)} images"
