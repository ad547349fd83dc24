"""`aligned_folder(path)`: pix2pix's aligned pairs, each file holding image A on its left half
and image B on its right (pytorch-CycleGAN-and-pix2pix's `AlignedDataset` and the facades,
maps and edges2shoes archives).

Each half is read as its own image: the declared channels, resized to cover the declared
size and center-cropped, values in [-1, 1]. The two halves of a file are always returned
together, so a batch of A and the batch of B are pairs. Every file's header is read when the
dataset is built, so an unreadable file stops the run before training, naming it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from .base import ImageDataset, Request
from .errors import DataError
from .images import EXTENSIONS, MODES, check_readable, list_images, mode_for, resize_crop, to_tensor
from .paths import existing_folder, path_arg


class AlignedFolderDataset(ImageDataset):
    def __init__(self, req: Request, root: Path) -> None:
        super().__init__(req)
        if req.pair is None:
            raise DataError(f"{req.what}: aligned_folder yields pairs of images: declare two "
                            "image fields")
        self.folder = existing_folder(req, path_arg(req, root), req.kwargs["path"])
        self.files = list_images(self.folder)
        if not self.files:
            raise DataError(f"{req.what}: no images ({', '.join(EXTENSIONS)}) under "
                            f"{self.folder}")
        for f in self.files:
            check_readable(f, req.what)
        self.modes = (req.mode, mode_for(req.pair[0], req.what))

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        req, path = self.req, self.files[index]
        try:
            with Image.open(path) as img:
                w, h = img.size
                if w < 2:
                    raise DataError(f"{req.what}: {path} is {w} pixel wide: an aligned file "
                                    "holds A and B side by side")
                halves = (img.crop((0, 0, w // 2, h)), img.crop((w // 2, 0, w, h)))
                a, b = (resize_crop(half.convert(mode), hh, ww) for half, mode, (hh, ww)
                        in zip(halves, self.modes, ((req.height, req.width), req.pair[1:]),
                               strict=True))
                arrays = np.array(a, dtype=np.uint8), np.array(b, dtype=np.uint8)
        except (OSError, UnidentifiedImageError, ValueError) as e:
            raise DataError(f"{req.what}: cannot read image {path}: {e or type(e).__name__}") \
                from None
        return to_tensor(arrays[0]), to_tensor(arrays[1])

    def describe(self) -> str:
        b = self.req.pair
        return (f"{self.req.name}: {len(self)} aligned pairs in {self.folder} "
                f"(A {MODES.get(self.req.channels)}, B {MODES.get(b[0]) if b else '?'})")
