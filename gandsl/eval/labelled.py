"""Any dataset with classes as the ground of `gandsl eval`: an IDX folder (`idx:/abs/dir`) or
an image folder with one subfolder per class (`folder:/abs/dir`), beside the datasets that
ship (`classifier.SOURCES`).

The held-out images are the IDX folder's test files (`t10k-…`) where it has them; otherwise
every tenth sample, in the folder's sorted order, is held out and the classifier never sees
it. A classifier is cached under the data's identity: the files with their sizes and
modification times, so a changed folder trains a new one.
"""

from __future__ import annotations

import functools
from pathlib import Path

import torch

from ..data import build_dataset
from ..data.decoded import files_digest
from ..data.folder import class_folders
from ..data.idx import SPLITS, load_split
from ..data.images import list_images

PREFIXES = ("idx:", "folder:")
HOLD_OUT_EVERY = 10


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


def labelled_split(source: str, channels: int, size: int,
                   held_out: bool) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """(images (N, C, S, S) in [−1, 1], {"class": (N,)}) of one side of the split."""
    from ..pipeline import check_source

    folder, n = folder_of(source), classes_of(source)
    set_aside = True  # every tenth sample held out, the others to train on
    if source.startswith("idx:"):
        set_aside = not _has_test(folder)  # else the test files are the held-out set
        split = "test" if held_out and not set_aside else "train"
        decl = f'idx({_quoted(folder)}, split="{split}")'
    else:
        decl = f"image_folder({_quoted(folder)})"
    spec = check_source(f"gan judge\ndata d: image[{channels}, {size}, {size}], class[{n}] = "
                        f"{decl}\n", "judge.gan").spec
    ds = build_dataset(spec, spec.datasets[0])
    indices = [i for i in range(len(ds))
               if not set_aside or (i % HOLD_OUT_EVERY == HOLD_OUT_EVERY - 1) == held_out]
    images, classes = ds.batch(indices)
    return images, {"class": classes}


def _quoted(path: Path) -> str:
    return '"' + str(path).replace("\\", "\\\\").replace('"', '\\"') + '"'
