"""Any dataset with classes as the ground of `gandsl eval`'s classifier (`grounds.Ground`): an
IDX folder (`idx:/abs/dir`) or an image folder with one subfolder per class
(`folder:/abs/dir`), beside the datasets that ship (`grounds.SHIPPED`).

The held-out images are the IDX folder's test files (`t10k-…`) where it has them; otherwise
every tenth sample, in the folder's sorted order, is held out and the classifier never sees
it. A classifier is cached under the data's identity: the files with their sizes and
modification times, so a changed folder trains a new one.
"""

from __future__ import annotations

import functools
from pathlib import Path

from ..data.decoded import files_digest
from ..data.folder import class_folders
from ..data.idx import SPLITS, load_split
from ..data.images import list_images
from .grounds import Ground

PREFIXES = ("idx:", "folder:")


def is_labelled(source: str) -> bool:
    return source.startswith(PREFIXES)


def folder_of(source: str) -> Path:
    return Path(source.split(":", 1)[1])


def _idx_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and "-idx" in p.name)


def _has_test(folder: Path) -> bool:
    return any(p.name.startswith(SPLITS["test"] + "-images") for p in _idx_files(folder))


@functools.lru_cache(maxsize=8)
def classes_of(source: str) -> int:
    folder = folder_of(source)
    if source.startswith("idx:"):
        return int(load_split(folder, "train")[1].max()) + 1
    return len(class_folders(folder))


def identity(source: str) -> str:
    """A digest of the data's files, their sizes and modification times."""
    folder = folder_of(source)
    files = _idx_files(folder) if source.startswith("idx:") else list_images(folder)
    return files_digest(source, files)[:16]


def labelled_ground(source: str) -> Ground:
    """The classifier's ground of a labelled folder: one head, the class; the IDX folder's
    test files held out where it has them, else every tenth sample."""
    folder = folder_of(source)
    kind = source.split(":", 1)[0]
    name = f"{kind}-{identity(source)}"
    if kind == "idx":
        held = f'idx({_quoted(folder)}, split="test")' if _has_test(folder) else None
        return Ground(name, {"class": classes_of(source)},
                      f'idx({_quoted(folder)}, split="train")', held)
    return Ground(name, {"class": classes_of(source)}, f"image_folder({_quoted(folder)})", None)


def _quoted(path: Path) -> str:
    return '"' + str(path).replace("\\", "\\\\").replace('"', '\\"') + '"'
