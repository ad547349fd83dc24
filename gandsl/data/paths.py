"""Where a spec's relative data paths point: the root the trainer gives (usually the working
directory), so `image_folder("data/x")` means the same folder wherever the spec file lies."""

from __future__ import annotations

from pathlib import Path

from .base import Request
from .errors import DataError


def path_arg(req: Request, root: Path, key: str = "path") -> Path:
    """The `path` argument of a file-backed source, resolved against `root`."""
    value = req.kwargs.get(key)
    if value is None:
        raise DataError(f"{req.what}: {req.source}(...) needs a `{key}`: the folder of images")
    if not isinstance(value, str):
        raise DataError(f"{req.what}: {req.source}({key}={value!r}): expected a string path")
    path = Path(value).expanduser()
    return path if path.is_absolute() else root / path


def existing_folder(req: Request, folder: Path, given: str) -> Path:
    if not folder.exists():
        raise DataError(f"{req.what}: folder not found: {folder.absolute()} "
                        f"(from {req.source}(\"{given}\"))")
    if not folder.is_dir():
        raise DataError(f"{req.what}: {folder} is a file; {req.source} expects a folder of "
                        "images")
    return folder
