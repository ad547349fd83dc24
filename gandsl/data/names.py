"""The names of a dataset's classes, in index order, without reading its images: what a grid
of samples by class writes beside each row (`gandsl sample --per-class K`)."""

from __future__ import annotations

from pathlib import Path

from .factory import FLAG_SOURCES
from .folder import class_folders
from .idx import FASHION_MNIST_CLASSES
from .shapes import CLASS_LAYOUTS, class_names


def names_of_classes(override: str | None, declared: str | None, n: int,
                     path: object = None) -> list[str] | None:
    """For `--data override` (else the declaration's source `declared`, reading `path`):
    the names of its `n` classes; None where they are only numbers or cannot be known."""
    source = FLAG_SOURCES.get(override or "", override) or declared
    if source == "fashion_mnist" and n == len(FASHION_MNIST_CLASSES):
        return list(FASHION_MNIST_CLASSES)
    if source == "digits" and n == 10:
        return [str(d) for d in range(10)]
    if source == "shapes" and n in CLASS_LAYOUTS:
        return class_names(n)
    folder = Path(override) if override and source == override else \
        Path(str(path)) if source == "image_folder" and path is not None else None
    if folder is not None and folder.is_dir():  # an image folder: its class subfolders
        subdirs = [d.name for d in class_folders(folder)]
        if len(subdirs) == n:
            return subdirs
    return None
