"""`image_folder(path, labels)`: every image under a folder; class subfolders give `class[N]`.

Labels are read only when the declaration has a label field (or `labels=true` insists): the
classes are the immediate subfolders in sorted order, as torchvision's ImageFolder numbers
them, so a folder prepared for the reference code gets the same class indices. A `label[N]`
field gets the class one-hot. Every image is decoded once into a cached array
(`decoded.py`; a folder too large for it has every file's header read instead), so an
unreadable image stops the run before training, naming the file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .base import ImageDataset, Request
from .decoded import decoded
from .errors import DataError, plural
from .images import EXTENSIONS, check_readable, list_images, load_image
from .paths import existing_folder, path_arg


def class_folders(folder: Path) -> list[Path]:
    """The class subfolders of an image folder, in the order that numbers them (sorted, as
    torchvision's ImageFolder; hidden ones are not classes)."""
    return sorted(d for d in folder.iterdir() if d.is_dir() and not d.name.startswith("."))


class ImageFolderDataset(ImageDataset):
    def __init__(self, req: Request, root: Path) -> None:
        super().__init__(req)
        self.mode = req.mode
        self.folder = existing_folder(req, path_arg(req, root), req.kwargs["path"])
        labels = req.kwargs.get("labels", req.label is not None)
        if not isinstance(labels, bool):
            raise DataError(f"{req.what}: image_folder(labels={labels!r}): expected true or "
                            "false")
        if labels and req.label is None:
            raise DataError(f"{req.what}: image_folder(labels=true) reads class subfolders, "
                            "but the declaration has no label field: declare "
                            "`image[...], class[N]`")
        if not labels and req.label is not None:
            raise DataError(f"{req.what}: image_folder(labels=false) yields no labels, the "
                            f"spec declares {req.label}[{req.n_labels}]")
        self.classes: list[str] = []
        if req.label is None:
            self.files = list_images(self.folder)
            self.targets: list[int] = []
            if not self.files:
                raise DataError(f"{req.what}: no images ({', '.join(EXTENSIONS)}) under "
                                f"{self.folder}")
        else:
            self.files, self.targets = self._classes()
        self.pixels = decoded(self.files, self.mode, req.height, req.width, req.what)
        self.in_memory = self.pixels is not None
        if self.pixels is None:
            for f in self.files:
                check_readable(f, req.what)

    def _classes(self) -> tuple[list[Path], list[int]]:
        req = self.req
        subdirs = class_folders(self.folder)
        if len(subdirs) != req.n_labels:
            shown = ", ".join(d.name for d in subdirs[:12]) + (", ..." if len(subdirs) > 12
                                                                 else "")
            found = plural(len(subdirs), "class subfolder")
            raise DataError(f"{req.what}: {self.folder} has {found}"
                            f"{' (' + shown + ')' if subdirs else ''}, the spec declares "
                            f"{req.label}[{req.n_labels}]: expected {req.n_labels} subfolders, "
                            "one per class")
        loose = [p for p in sorted(self.folder.iterdir()) if p.is_file() and
                 p.suffix.lower() in EXTENSIONS and not p.name.startswith(".")]
        if loose:
            raise DataError(f"{req.what}: {loose[0]} is not inside a class subfolder of "
                            f"{self.folder} (labels come from the subfolders)")
        files: list[Path] = []
        targets: list[int] = []
        for k, d in enumerate(subdirs):
            found = list_images(d)
            if not found:
                raise DataError(f"{req.what}: class subfolder {d} has no images "
                                f"({', '.join(EXTENSIONS)})")
            files.extend(found)
            targets.extend([k] * len(found))
        self.classes = [d.name for d in subdirs]
        return files, targets

    def __len__(self) -> int:
        return len(self.files)

    def batch(self, indices: list[int]) -> list[torch.Tensor]:
        """Samples from the decoded array, as a DataLoader would collate them."""
        pixels = torch.from_numpy(np.ascontiguousarray(self.pixels[np.asarray(indices)]))
        images = pixels.permute(0, 3, 1, 2).float().div_(127.5).sub_(1.0).contiguous()
        return self.with_labels(images, self._classes_of(indices))

    def __getitem__(self, index: int) -> tuple:
        if self.pixels is not None:
            return self.first(self.batch([index]))
        req = self.req
        img = load_image(self.files[index], self.mode, req.height, req.width, req.what)
        return self.first(self.with_labels(img[None], self._classes_of([index])))

    def _classes_of(self, indices: list[int]) -> torch.Tensor:
        """The samples' classes (zeros for a folder read without labels: never used)."""
        return torch.tensor([self.targets[i] for i in indices] if self.targets
                            else [0] * len(indices), dtype=torch.long)

    def describe(self) -> str:
        classes = f", {len(self.classes)} classes" if self.classes else ""
        return f"{self.req.name}: {len(self)} images in {self.folder}{classes}"
