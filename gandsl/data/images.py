"""Reading image files into the tensors a spec declares: channels, size, value range.

Every file-backed dataset goes through `load_image`, so folders and CelebA agree on the
conventions: PIL mode from the declared channels, the shorter side resized to cover H×W and
the rest center-cropped (never a stretch), values in [-1, 1] like the generators' tanh.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from .errors import DataError

EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".webp")
MODES = {1: "L", 3: "RGB", 4: "RGBA"}


def mode_for(channels: int, what: str) -> str:
    """The PIL mode for a declared channel count, or a DataError naming the declaration."""
    if channels not in MODES:
        raise DataError(f"{what}: images have 1 (grey), 3 (RGB) or 4 (RGBA) channels, "
                        f"the spec declares {channels}")
    return MODES[channels]


def list_images(folder: Path) -> list[Path]:
    """Image files under `folder`, recursively, in a sorted (reproducible) order; hidden
    files and folders (`.ipynb_checkpoints`, `._x.png` from macOS) are not images."""
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in EXTENSIONS and
                  not any(part.startswith(".") for part in p.relative_to(folder).parts)
                  and p.is_file())


def check_readable(path: Path, what: str) -> None:
    """Open the file's header: a file PIL cannot identify fails here, before training."""
    try:
        Image.open(path).close()  # `open` identifies the format and parses the header
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError) as e:
        raise DataError(f"{what}: cannot read image {path}: {_reason(e)}") from None


def load_image(path: Path, mode: str, height: int, width: int, what: str) -> torch.Tensor:
    """The image at `path` as a float32 (C, H, W) tensor in [-1, 1]."""
    return to_tensor(read_pixels(path, mode, height, width, what))


def read_pixels(path: Path, mode: str, height: int, width: int, what: str) -> np.ndarray:
    """The image at `path` as uint8 (H, W) or (H, W, C), resized and cropped to H×W."""
    try:
        with Image.open(path) as img:
            img = img.convert(mode)
            img = resize_crop(img, height, width)
            return np.array(img, dtype=np.uint8)  # a writable copy, as torch wants
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError) as e:
        raise DataError(f"{what}: cannot read image {path}: {_reason(e)}") from None


def resize_crop(img: Image.Image, height: int, width: int) -> Image.Image:
    """Scale so the image covers height×width (shorter side first), then crop the center."""
    w, h = img.size
    if (w, h) == (width, height):
        return img
    scale = max(width / w, height / h)
    new_w, new_h = max(width, round(w * scale)), max(height, round(h * scale))
    img = img.resize((new_w, new_h), Image.Resampling.BICUBIC)
    left, top = (new_w - width) // 2, (new_h - height) // 2
    return img.crop((left, top, left + width, top + height))


def to_tensor(array: np.ndarray) -> torch.Tensor:
    """uint8 (H, W) or (H, W, C) → float32 (C, H, W) in [-1, 1]."""
    t = torch.from_numpy(np.require(array, requirements=["C", "W"]))
    t = t.unsqueeze(0) if t.ndim == 2 else t.permute(2, 0, 1)
    return t.float().div_(127.5).sub_(1.0).contiguous()


def _reason(e: BaseException) -> str:
    return str(e) or type(e).__name__
