"""`idx(path, split)` and `fashion_mnist(split)`: images and class labels in the IDX format of
MNIST, Fashion-MNIST, KMNIST and EMNIST, read with numpy in one pass and held in memory.

A folder holds `train-images-idx3-ubyte` and `train-labels-idx1-ubyte` (the test split:
`t10k-…`), each possibly gzipped (`….gz`). An IDX file is a big-endian header — two zero
bytes, a type byte (0x08: unsigned bytes, the only type these datasets use) and the number of
dimensions — then each dimension's size as a 32-bit integer, then the values. Every way a
file can be wrong (not gzip, another magic number, fewer or more bytes than its header
promises, image and label counts that differ) is a `DataError` naming the file and what was
expected.

Fashion-MNIST ships offline as Debian's `dataset-fashion-mnist`, in
`/usr/share/datasets/fashion-mnist`; `GANDSL_DATA=DIR` looks in `DIR/fashion-mnist` first.

Images are uint8 (N, H, W) in memory (47 MB for Fashion-MNIST's 60,000); a batch is cast to
[-1, 1] and resized (bilinear, as `digits`) in one call (`batch`, which a stream without
worker processes calls instead of a DataLoader), so loading stays a small part of an
iteration.
"""

from __future__ import annotations

import gzip
import os
import zlib
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .base import ImageDataset, Request
from .errors import DataError, plural

SPLITS = {"train": "train", "test": "t10k"}
UNSIGNED_BYTE = 0x08
DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                         "Shirt", "Sneaker", "Bag", "Ankle boot")
INSTALL = ("Fashion-MNIST is not installed: `apt-get install dataset-fashion-mnist` (Debian "
           "and Ubuntu) puts it in {debian}; or download its four files "
           "(train-images-idx3-ubyte.gz, ...) into a folder and pass `--data idx:FOLDER`, or "
           "set GANDSL_DATA to a folder holding them in `fashion-mnist/`")


def read_idx(path: Path, ndim: int) -> np.ndarray:
    """The array of an IDX file of unsigned bytes with `ndim` dimensions. Raises DataError."""
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError, zlib.error) as e:  # BadGzipFile is an OSError
        raise DataError(f"{path}: cannot be read as {'gzip' if path.suffix == '.gz' else 'a'} "
                        f"file ({e})") from None
    what = "images (magic number 0x00000803)" if ndim == 3 else \
        "labels (magic number 0x00000801)"
    if len(raw) < 4 or raw[:2] != b"\0\0" or raw[2] != UNSIGNED_BYTE or raw[3] != ndim:
        magic = "0x" + raw[:4].hex().rjust(8, "0") if len(raw) >= 4 else f"{len(raw)} bytes"
        raise DataError(f"{path}: not an IDX file of {what}: it starts with {magic}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path}: truncated: {len(raw)} bytes, shorter than its header")
    dims = tuple(int(d) for d in np.frombuffer(raw, ">u4", ndim, 4))
    size = int(np.prod(dims, dtype=np.int64))
    if len(raw) - header != size:
        raise DataError(f"{path}: its header promises {' × '.join(map(str, dims))} = {size:,} "
                        f"bytes of values, the file holds {len(raw) - header:,}"
                        + (" (truncated)" if len(raw) - header < size else ""))
    return np.frombuffer(raw, np.uint8, size, header).reshape(dims)


def idx_file(folder: Path, split: str, part: str) -> Path:
    """`folder/train-images-idx3-ubyte[.gz]`: the file of a split's images or labels."""
    ndim = 3 if part == "images" else 1
    name = f"{SPLITS[split]}-{part}-idx{ndim}-ubyte"
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    raise DataError(f"{folder}: no {name} or {name}.gz (an IDX folder holds "
                    f"{SPLITS[split]}-images-idx3-ubyte and {SPLITS[split]}-labels-idx1-ubyte, "
                    "each possibly gzipped)")


@lru_cache(maxsize=4)
def load_split(folder: Path, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(images uint8 (N, H, W), labels int64 (N,)) of one split of an IDX folder."""
    images_path, labels_path = idx_file(folder, split, "images"), idx_file(folder, split, "labels")
    images, labels = read_idx(images_path, 3), read_idx(labels_path, 1)
    if len(images) != len(labels):
        raise DataError(f"{labels_path}: {plural(len(labels), 'label')} for "
                        f"{plural(len(images), 'image')} in {images_path.name}: expected one "
                        "label per image")
    return torch.from_numpy(images.copy()), torch.from_numpy(labels.astype(np.int64))


def fashion_mnist_folder() -> Path:
    """Where Fashion-MNIST's files are: `$GANDSL_DATA/fashion-mnist`, else Debian's folder."""
    root = os.environ.get("GANDSL_DATA")
    if root:
        mine = Path(root).expanduser() / "fashion-mnist"
        if mine.is_dir():
            return mine
    if DEBIAN_FASHION_MNIST.is_dir():
        return DEBIAN_FASHION_MNIST
    raise DataError(INSTALL.format(debian=DEBIAN_FASHION_MNIST))


class IdxDataset(ImageDataset):
    """The images of one split of an IDX folder, with their classes where the spec asks."""

    in_memory = True

    def __init__(self, req: Request, root: Path, folder: Path | None = None,
                 title: str = "idx") -> None:
        super().__init__(req)
        split = req.kwargs.get("split", "train")
        if split not in SPLITS:
            raise DataError(f"{req.what}: {title}(split={split!r}): expected \"train\" or "
                            "\"test\"")
        if folder is None:
            if "path" not in req.kwargs:
                raise DataError(f"{req.what}: `idx` needs the folder of its files: "
                                "`idx(\"data/mnist\")`")
            folder = (root / str(req.kwargs["path"])).expanduser().absolute()
        if not folder.is_dir():
            raise DataError(f"{req.what}: {folder} is not a folder (an IDX folder holds "
                            "train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz])")
        self.images, self.labels = load_split(folder, split)
        self.folder, self.split, self.title = folder, split, title
        self.n_classes = int(self.labels.max()) + 1 if len(self.labels) else 0
        if req.channels != 1:
            raise DataError(f"{req.what}: the images of {folder} have 1 channel (grey), the "
                            f"spec declares image[{req.channels}, {req.height}, {req.width}]")
        if req.label is not None and req.n_labels != self.n_classes:
            raise DataError(f"{req.what}: {folder} has {self.n_classes} classes (labels 0 to "
                            f"{self.n_classes - 1}), the spec declares "
                            f"{req.label}[{req.n_labels}]")

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple:
        return self.first(self.batch([index]))

    def batch(self, indices: list[int]) -> list[torch.Tensor]:
        """A whole batch, as the DataLoader would collate it, in one cast and one resize."""
        index = torch.as_tensor(indices, dtype=torch.long)
        images = self.images[index].unsqueeze(1).float().div_(127.5).sub_(1.0)
        if images.shape[-2:] != (self.req.height, self.req.width):
            images = F.interpolate(images, size=(self.req.height, self.req.width),
                                   mode="bilinear", align_corners=False)
        return self.with_labels(images, self.labels[index])

    def describe(self) -> str:
        return (f"{self.req.name}: {self.title}, {self.split} split, {len(self):,} images "
                f"({self.folder})")


def fashion_mnist(req: Request, root: Path) -> IdxDataset:
    return IdxDataset(req, root, fashion_mnist_folder(), title="fashion_mnist")
