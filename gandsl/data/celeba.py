"""`celeba(path, attrs, attr_file)`: images with binary attributes in CelebA's text format.

`list_attr_celeba.txt`: line 1 the number of images, line 2 the attribute names, then
`filename v1 v2 ...` with values 1 / -1. `attrs` picks columns (in the given order) as the
multi-hot `label[N]`; without `attrs` every column is used. The attribute file is looked up
in `path` first, then relative to the working directory; images in `path/images`,
`path/img_align_celeba` (the official archive's folder) or `path` itself.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import torch

from .base import ImageDataset, Request
from .errors import DataError
from .images import check_readable, load_image
from .paths import existing_folder, path_arg

DEFAULT_ATTR_FILE = "list_attr_celeba.txt"
IMAGE_DIRS = ("images", "img_align_celeba", ".")


def read_attr_file(path: Path, what: str) -> tuple[list[str], list[str], list[list[int]]]:
    """(attribute names, file names, 0/1 rows) of an attribute file, or a DataError naming
    the line that breaks the format."""
    try:
        lines = [ln for ln in path.read_text().splitlines() if ln.strip()]
    except (OSError, UnicodeDecodeError) as e:
        raise DataError(f"{what}: cannot read attribute file {path}: {e}") from None
    if len(lines) < 2 or not lines[0].strip().isdigit():
        raise DataError(f"{what}: {path}: expected CelebA's format: line 1 the number of "
                        "images, line 2 the attribute names, then `filename v1 v2 ...`")
    count, names = int(lines[0]), lines[1].split()
    files: list[str] = []
    rows: list[list[int]] = []
    for n, line in enumerate(lines[2:], start=3):
        parts = line.split()
        if len(parts) != len(names) + 1:
            raise DataError(f"{what}: {path}, line {n}: expected a file name and "
                            f"{len(names)} values, got {len(parts)} fields")
        try:
            row = [_value(v) for v in parts[1:]]
        except ValueError:
            raise DataError(f"{what}: {path}, line {n}: attribute values are 1 or -1 "
                            f"(or 0), got {' '.join(parts[1:])!r}") from None
        files.append(parts[0])
        rows.append(row)
    if count != len(files):
        raise DataError(f"{what}: {path} says {count} images on line 1 but lists "
                        f"{len(files)}: a truncated file? (fix the count if it is a subset)")
    return names, files, rows


def _value(v: str) -> int:
    n = int(v)
    if n not in (1, -1, 0):
        raise ValueError(v)
    return 1 if n == 1 else 0


class CelebADataset(ImageDataset):
    def __init__(self, req: Request, root: Path) -> None:
        super().__init__(req)
        self.mode = req.mode
        if req.label != "label":
            got = f"{req.label}[{req.n_labels}]" if req.label else "no label field"
            raise DataError(f"{req.what}: celeba yields attributes: declare "
                            f"`image[...], label[N]` (got {got})")
        folder = existing_folder(req, path_arg(req, root), req.kwargs["path"])
        self.attr_file = self._find_attr_file(folder, root)
        names, files, rows = read_attr_file(self.attr_file, req.what)
        self.attrs = self._select(names)
        columns = [names.index(a) for a in self.attrs]
        self.labels = torch.tensor([[r[c] for c in columns] for r in rows],
                                   dtype=torch.float32).reshape(len(rows), len(columns))
        image_dir = next(folder / d for d in IMAGE_DIRS if (folder / d).is_dir())
        self.files = [image_dir / f for f in files]
        if not self.files:
            raise DataError(f"{req.what}: {self.attr_file} lists no images")
        missing = [f for f in self.files if not f.is_file()]
        if missing:
            raise DataError(f"{req.what}: {len(missing)} of the {len(files)} images listed in "
                            f"{self.attr_file} are missing, e.g. {missing[0]}")
        for f in self.files:
            check_readable(f, req.what)

    def _find_attr_file(self, folder: Path, root: Path) -> Path:
        given = self.req.kwargs.get("attr_file", DEFAULT_ATTR_FILE)
        if not isinstance(given, str):
            raise DataError(f"{self.req.what}: celeba(attr_file={given!r}): expected a path")
        p = Path(given).expanduser()
        tried = [p] if p.is_absolute() else [folder / p, root / p]
        for t in tried:
            if t.is_file():
                return t
        raise DataError(f"{self.req.what}: attribute file not found: "
                        f"{' or '.join(str(t) for t in dict.fromkeys(tried))}")

    def _select(self, names: list[str]) -> list[str]:
        req = self.req
        attrs = req.kwargs.get("attrs")
        if attrs is None:
            attrs = names
        elif isinstance(attrs, str):
            attrs = [attrs]
        attrs = list(attrs)
        for a in attrs:
            if a not in names:
                close = difflib.get_close_matches(str(a), names, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise DataError(f"{req.what}: attribute {a!r} is not in {self.attr_file}"
                                f"{hint}; it has {', '.join(names)}")
        if len(attrs) != req.n_labels:
            source = "attrs" if req.kwargs.get("attrs") is not None else str(self.attr_file)
            raise DataError(f"{req.what}: {source} gives {len(attrs)} attributes "
                            f"({', '.join(attrs)}), the spec declares label[{req.n_labels}]"
                            f": expected {req.n_labels}")
        return attrs

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> tuple:
        img = load_image(self.files[index], self.mode, self.req.height, self.req.width,
                         self.req.what)
        return (img, self.labels[index])

    def describe(self) -> str:
        return (f"{self.req.name}: {len(self)} images in {self.files[0].parent}, attributes "
                f"{', '.join(self.attrs)}")
