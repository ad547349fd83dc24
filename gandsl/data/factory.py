"""From a spec's data declarations to dataset objects, including `--data NAME` overrides.

`--data shapes` serves every declaration of the spec with `shapes`, keeping its declared
image shape and label field; declarations are numbered in spec order (unions skipped):

- declaration i gets `seed=i`, so no two declarations draw the same scenes;
- unlabelled declarations get `domain="a"` (circles), then `"b"` (squares), alternating:
  CycleGAN's domain_a / domain_b become two unpaired domains;
- `label[N]` gets the attributes, `class[N]` the classes (see `shapes`);
- an aligned pair (`image[...], image[...]`) gets no domain: shapes draws each scene as a
  circle and as a square, the two halves of one sample;
- a segmentation pair (a `segmentation_folder` declaration, or `shapes(segmentation=true)`)
  gets `segmentation=true`: each scene's one-hot label map, with the scene as its photo.
  What makes a pair a segmentation pair is its declared source, not its channel count: a
  3-class label map and an RGB image have the same shape.

`--data digits` serves every declaration with the digits train split (1-channel specs only).

`--data fashion-mnist` serves every declaration with Fashion-MNIST's train split, and
`--data idx:FOLDER` with the train split of any folder of IDX files (MNIST's format): grey
images and their classes (1-channel specs only; `idx.py`).

`--data PATH` (any other value; a folder, relative to the working directory like any
command-line path) serves every declaration from that folder: `image_folder(PATH)`, with
class subfolders for a label field, `celeba(PATH, attrs=...)` for a `celeba` declaration
(its own `attrs` and `attr_file` kept), `segmentation_folder(PATH)` for a segmentation pair
(its `classes` kept), or `aligned_folder(PATH)` for another pair.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from ..catalog import DATA_SOURCES, PAIR_SOURCES
from ..ir import Dataset, Spec
from .aligned import AlignedFolderDataset
from .base import ImageDataset, Request, request
from .celeba import CelebADataset
from .digits import DigitsDataset
from .errors import DataError
from .folder import ImageFolderDataset
from .idx import IdxDataset, fashion_mnist
from .segmentation import SegmentationFolderDataset
from .shapes import ShapesDataset

OVERRIDES = ("shapes", "digits", "fashion-mnist")  # and `idx:FOLDER`, or a folder of images
# the source each name of `--data` stands for (the flag's `fashion-mnist` is `fashion_mnist`)
FLAG_SOURCES = {"shapes": "shapes", "digits": "digits", "fashion-mnist": "fashion_mnist"}
IDX_PREFIX = "idx:"

Builder = Callable[[Request, Path], ImageDataset]
BUILDERS: dict[str, Builder] = {
    "digits": lambda req, root: DigitsDataset(req),
    "shapes": lambda req, root: ShapesDataset(req),
    "fashion_mnist": fashion_mnist,
    "idx": IdxDataset,
    "image_folder": ImageFolderDataset,
    "celeba": CelebADataset,
    "aligned_folder": AlignedFolderDataset,
    "segmentation_folder": SegmentationFolderDataset,
}


def check_override(override: str | None) -> None:
    """A `--data` value is a name from OVERRIDES or an existing folder."""
    if override is None or override in OVERRIDES:
        return
    idx = override.startswith(IDX_PREFIX)
    folder = Path(override.removeprefix(IDX_PREFIX)).expanduser().absolute()
    if not folder.is_dir():
        raise DataError(f"--data {override}: unknown dataset; expected one of "
                        f"{', '.join(OVERRIDES)}, idx:FOLDER (a folder of IDX files) or a "
                        f"folder of images ({folder} is "
                        f"{'a file' if folder.exists() else 'not there'})" if not idx else
                        f"--data {override}: {folder} is "
                        f"{'a file' if folder.exists() else 'not there'}; expected a folder "
                        "of IDX files (train-images-idx3-ubyte[.gz], "
                        "train-labels-idx1-ubyte[.gz])")


def members(spec: Spec, name: str) -> list[Dataset]:
    """The declarations behind a dataset name: itself, or a union's members in order."""
    try:
        ds = spec.dataset(name)
    except StopIteration:
        raise DataError(f"{spec.path}: no data declaration named `{name}`") from None
    return [spec.dataset(m) for m in ds.members] if ds.members else [ds]


def declaration_request(spec: Spec, ds: Dataset, override: str | None) -> Request:
    """What to build for one declaration: its own source, or the override's."""
    source = DATA_SOURCES.get(ds.source or "")
    base = request(ds, spec.path, source.keywords if source else ())
    if override is None:
        return base
    kwargs: dict[str, object] = {}
    source = FLAG_SOURCES.get(override, override)
    if override.startswith(IDX_PREFIX):
        source = "idx"
        kwargs["path"] = str(Path(override.removeprefix(IDX_PREFIX)).expanduser().absolute())
    elif override not in OVERRIDES:  # a folder
        source, kwargs = _folder_source(base)
        kwargs["path"] = str(Path(override).expanduser().absolute())
    elif override == "shapes":
        plain = [d for d in spec.datasets if d.source is not None]  # unions are not served
        kwargs["seed"] = [d.name for d in plain].index(ds.name)
        if len(ds.fields) == 1:  # a pair gets no domain: its halves are the two domains
            unlabelled = [d.name for d in plain if len(d.fields) == 1]
            kwargs["domain"] = "ab"[unlabelled.index(ds.name) % 2]
        if is_segmentation(base):
            kwargs["segmentation"] = True
    return replace(base, what=f"{base.what} (--data {override})", source=source,
                   kwargs=kwargs)


def is_segmentation(req: Request) -> bool:
    """Whether a declaration asks for (label map, photo) pairs: decided by its source."""
    return req.source == "segmentation_folder" or (
        req.source == "shapes" and req.kwargs.get("segmentation") is True)


def _folder_source(base: Request) -> tuple[str, dict[str, object]]:
    """The source reading a `--data PATH` folder for a declaration, with the declaration's
    own arguments that still apply (all but `path`)."""
    own = {k: v for k, v in base.kwargs.items() if k != "path"}
    if base.source == "celeba" and base.label == "label":
        return "celeba", own
    if is_segmentation(base):
        return "segmentation_folder", {k: v for k, v in own.items() if k == "classes"}
    return ("image_folder" if base.pair is None else "aligned_folder"), {}


def build_dataset(spec: Spec, ds: Dataset, override: str | None = None,
                  root: Path = Path(".")) -> ImageDataset:
    """The dataset serving one (non-union) declaration. Raises DataError."""
    check_override(override)
    req = declaration_request(spec, ds, override)
    if req.pair is not None and req.source not in PAIR_SOURCES:
        raise DataError(f"{req.what}: `{req.source}` yields single images, the declaration "
                        f"is a pair of images; pairs come from {', '.join(PAIR_SOURCES)}")
    return BUILDERS[req.source](req, Path(root))  # every source has one (tests check)
