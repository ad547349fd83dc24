"""A folder's images decoded once and kept: what makes a folder of 60,000 small PNGs train as
fast as data held in memory.

The first run on a folder (at one image size and mode) decodes every file — resized and
cropped as `images.load_image` does — into one uint8 array, saved under the gandsl cache
(`~/.cache/gandsl/images/KEY.npy`, or `$GANDSL_CACHE/images`); later runs memory-map it. The
key is the list of files with each one's size and modification time, and the size and mode:
a file added, removed or rewritten makes a new array, and the old one is only disk space
(delete the folder freely). An array over `LIMIT_BYTES` is not made: such a folder is read
file by file, as before (use `--workers N`).
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np

from ..loader import cache_dir
from .images import read_pixels

LIMIT_BYTES = 2 * 2 ** 30
VERSION = 1  # part of the key: a change in how images are read makes new arrays


def decoded(files: list[Path], mode: str, height: int, width: int, what: str,
            log=None) -> np.ndarray | None:
    """uint8 (N, H, W, C) of every file, memory-mapped from the cache (made now if it is not
    there); None for a folder too large to keep. Raises DataError naming a file that cannot
    be read."""
    channels = len(mode)  # "L", "RGB", "RGBA"
    if len(files) * height * width * channels > LIMIT_BYTES:
        return None
    key = files_digest(f"{VERSION}\0{mode}\0{height}\0{width}", files)
    path = cache_dir() / "images" / f"{key[:40]}.npy"
    shape = (len(files), height, width, channels)
    kept = _kept(path, shape)
    if kept is not None:
        return kept
    (log or _say)(f"{what}: decoding {len(files):,} images once, into {path.parent}")
    array = np.empty(shape, np.uint8)
    for i, f in enumerate(files):
        pixels = read_pixels(f, mode, height, width, what)
        array[i] = pixels[..., None] if pixels.ndim == 2 else pixels
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.stem}.tmp.npy")  # renamed when whole: no half-written array
    np.save(tmp, array)
    tmp.replace(path)
    return np.load(path, mmap_mode="r")


def files_digest(header: str, files: list[Path]) -> str:
    """A digest of `header` and each file's path, size and modification time: what names
    a cache made from the files (a file added, removed or rewritten changes it)."""
    digest = hashlib.sha256(f"{header}\n".encode())
    for f in files:
        st = f.stat()
        digest.update(f"{f}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _kept(path: Path, shape: tuple[int, ...]) -> np.ndarray | None:
    """The cached array, memory-mapped; None when there is none, or a damaged or other one
    (then it is made again)."""
    if not path.is_file():
        return None
    try:
        array = np.load(path, mmap_mode="r")
    except (OSError, ValueError):
        return None
    return array if array.shape == shape and array.dtype == np.uint8 else None


def _say(text: str) -> None:
    print(f"gandsl: {text}", file=sys.stderr, flush=True)
