"""`segmentation_folder(path, classes)`: (one-hot label map, photo) pairs, as SPADE trains on.

The folder has ADE20K's layout (ADEChallengeData2016):

    PATH/images/training/ADE_train_00000001.jpg        the photos (any image format)
    PATH/annotations/training/ADE_train_00000001.png   their label maps (PNG or BMP)

When `PATH/images/training` exists, the training split is read (`images/training` with
`annotations/training`; ADE20K's `validation` split is left out, as the reference's training
reads only `_train_` files); otherwise `PATH/images` with `PATH/annotations`. A photo and its
label map have the same path below those folders, up to the extension; a file without its
partner, or a label map whose size is not its photo's, stops the run before training.

A label map is a one-channel image (mode L, P or I) whose pixel values are class indices.
With the declaration `image[N, H, W], image[C, H', W']`, values are 0..N-1 and are remapped
as NVlabs/SPADE's ADE20K dataset does: 0 ("other", unlabelled) becomes the dontcare class
N-1 and every other value v becomes v-1, so ADE20K's values 0..150 give N = 151 channels
with dontcare last. A value of N or more is a DataError naming the file and the value. The
map is resized with nearest neighbours (a class is never blended with another) and one-hot
encoded: float32 (N, H, W) of 0 and 1, exactly one 1 per pixel (not scaled to [-1, 1]).
The photo is read like any image (C channels, bicubic, values in [-1, 1]); both are scaled
to cover their declared size and center-cropped with the same geometry, so they stay aligned.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from .base import ImageDataset, Request
from .errors import DataError, plural
from .images import EXTENSIONS, list_images, mode_for, to_tensor
from .paths import path_arg

LABEL_EXTENSIONS = (".png", ".bmp")  # lossless: a JPEG's compression changes class indices
LABEL_MODES = ("1", "L", "P", "I", "I;16", "I;16L", "I;16B")  # one value (index) per pixel
SPLIT = "training"  # ADE20K's training split; `validation` is for evaluation


class SegmentationFolderDataset(ImageDataset):
    def __init__(self, req: Request, root: Path) -> None:
        super().__init__(req)
        if req.pair is None:
            raise DataError(f"{req.what}: segmentation_folder yields (label map, photo) "
                            "pairs: declare two image fields, the label map first")
        self.classes = req.channels
        _check_classes(req)
        self.photo_mode = mode_for(req.pair[0], req.what)
        self.folder = path_arg(req, root)
        self.photos_dir, self.labels_dir = _split_folders(req, self.folder)
        self.pairs = _pair_files(req, self.photos_dir, self.labels_dir)
        for label, photo in self.pairs:
            _check_pair(req, label, photo)

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        req = self.req
        label_path, photo_path = self.pairs[index]
        assert req.pair is not None
        return (self.label_map(label_path),
                _photo(photo_path, self.photo_mode, *req.pair[1:], req.what))

    def label_map(self, path: Path) -> torch.Tensor:
        """The label map at `path`: remapped, resized (nearest), one-hot (N, H, W)."""
        req, n = self.req, self.classes
        values = _read_label(path, req.what)
        bad = values >= n
        if bad.any() or (values < 0).any():
            value = int(values[bad][0]) if bad.any() else int(values.min())
            raise DataError(f"{req.what}: {path} holds the class value {value}; the declared "
                            f"label map image[{n}, {req.height}, {req.width}] has {n} classes, "
                            f"values 0..{n - 1}")
        remapped = (values - 1) % n  # ADE20K: 0 ("other") is the dontcare class n - 1
        index = torch.from_numpy(nearest_cover(remapped, req.height, req.width))
        return torch.nn.functional.one_hot(index, n).permute(2, 0, 1).float().contiguous()

    def describe(self) -> str:
        return (f"{self.req.name}: {len(self)} (label map, photo) pairs in {self.folder}, "
                f"{self.classes} classes (value 0, other, is class {self.classes - 1})")


def cover_box(w: int, h: int, height: int, width: int) -> tuple[int, int, int, int]:
    """(new_w, new_h, left, top): scale w×h to cover height×width, then crop the center.

    The geometry of `images.resize_crop`, shared here by a label map and its photo so the
    two are cut at the same place whatever their resampling.
    """
    scale = max(width / w, height / h)
    new_w, new_h = max(width, round(w * scale)), max(height, round(h * scale))
    return new_w, new_h, (new_w - width) // 2, (new_h - height) // 2


def nearest_cover(values: np.ndarray, height: int, width: int) -> np.ndarray:
    """(h, w) int64 → (height, width): nearest-neighbour resize to cover, center crop.

    Output pixel centers sample the source at (i + 0.5)·h/new_h, so each value is a copy of
    one source pixel: class indices are never interpolated."""
    h, w = values.shape
    new_w, new_h, left, top = cover_box(w, h, height, width)
    rows = np.minimum(((np.arange(new_h) + 0.5) * h / new_h).astype(np.int64), h - 1)
    cols = np.minimum(((np.arange(new_w) + 0.5) * w / new_w).astype(np.int64), w - 1)
    return np.ascontiguousarray(values[np.ix_(rows[top:top + height], cols[left:left + width])])


def _check_classes(req: Request) -> None:
    """`classes`, when given, restates N: the label map's channels are its classes."""
    if "classes" not in req.kwargs:
        return
    classes = req.kwargs["classes"]
    if isinstance(classes, bool) or not isinstance(classes, int) or classes != req.channels:
        raise DataError(f"{req.what}: segmentation_folder(classes={classes!r}) disagrees with "
                        f"the declared label map image[{req.channels}, {req.height}, "
                        f"{req.width}]: its {req.channels} channels are the classes (ADE20K: "
                        "150 classes + dontcare = 151)")


def _split_folders(req: Request, folder: Path) -> tuple[Path, Path]:
    """(photos, label maps): `images[/training]` and `annotations[/training]` of `folder`."""
    if not folder.is_dir():
        raise DataError(f"{req.what}: folder not found: {folder.absolute()} (from "
                        f"segmentation_folder(\"{req.kwargs['path']}\"))")
    split = SPLIT if (folder / "images" / SPLIT).is_dir() else ""
    photos, labels = folder / "images" / split, folder / "annotations" / split
    for sub, holds in ((photos, "photos"), (labels, "label maps")):
        if not sub.is_dir():
            raise DataError(f"{req.what}: {sub} is not a folder; segmentation_folder expects "
                            f"its {holds} there (ADE20K's layout: images/training/X.jpg with "
                            "annotations/training/X.png)")
    return photos, labels


def _by_stem(req: Request, folder: Path, files: list[Path]) -> dict[str, Path]:
    """Files keyed by their path below `folder` without the extension (how pairs meet)."""
    keyed: dict[str, Path] = {}
    for f in files:
        key = f.relative_to(folder).with_suffix("").as_posix()
        if key in keyed:
            raise DataError(f"{req.what}: {keyed[key]} and {f} have the same name: which one "
                            "is the partner of the other folder's file is ambiguous")
        keyed[key] = f
    return keyed


def _pair_files(req: Request, photos_dir: Path, labels_dir: Path) -> list[tuple[Path, Path]]:
    """(label map, photo) paths in sorted order; every file must have its partner."""
    labels = list_images(labels_dir)
    lossy = [f for f in labels if f.suffix.lower() not in LABEL_EXTENSIONS]
    if lossy:
        raise DataError(f"{req.what}: {lossy[0]} is not a PNG: label maps hold class indices, "
                        "which lossy compression changes")
    photos = _by_stem(req, photos_dir, list_images(photos_dir))
    maps = _by_stem(req, labels_dir, labels)
    if not photos:
        raise DataError(f"{req.what}: no photos ({', '.join(EXTENSIONS)}) under {photos_dir}")
    lonely_photos = sorted(photos.keys() - maps.keys())
    if lonely_photos:
        raise DataError(f"{req.what}: {plural(len(lonely_photos), 'photo')} without a label "
                        f"map, e.g. {photos[lonely_photos[0]]}: expected "
                        f"{labels_dir / lonely_photos[0]}.png")
    lonely_maps = sorted(maps.keys() - photos.keys())
    if lonely_maps:
        raise DataError(f"{req.what}: {plural(len(lonely_maps), 'label map')} without a photo, "
                        f"e.g. {maps[lonely_maps[0]]}: expected {photos_dir / lonely_maps[0]} "
                        f"with an image extension ({', '.join(EXTENSIONS)})")
    return [(maps[key], photos[key]) for key in sorted(photos)]


def _check_pair(req: Request, label: Path, photo: Path) -> None:
    """Read both headers: unreadable files, a label map that is not one index per pixel, or
    sizes that differ stop the run here, before training."""
    try:
        with Image.open(label) as lab, Image.open(photo) as img:
            if lab.mode not in LABEL_MODES:
                raise DataError(f"{req.what}: {label} is a {lab.mode} image; a label map has "
                                "one channel of class indices (PNG mode L, P or I)")
            if lab.size != img.size:
                raise DataError(f"{req.what}: {label} is {lab.size[0]}×{lab.size[1]}, its "
                                f"photo {photo} {img.size[0]}×{img.size[1]}: a label map gives "
                                "the class of each pixel of its photo")
    except (OSError, UnidentifiedImageError, ValueError) as e:
        raise DataError(f"{req.what}: cannot read the pair {label}, {photo}: "
                        f"{e or type(e).__name__}") from None


def _read_label(path: Path, what: str) -> np.ndarray:
    """Class indices as int64 (h, w); a palette image gives its indices, not its colors."""
    try:
        with Image.open(path) as img:
            return np.array(img).astype(np.int64)
    except (OSError, UnidentifiedImageError, ValueError) as e:
        raise DataError(f"{what}: cannot read label map {path}: {e or type(e).__name__}") \
            from None


def _photo(path: Path, mode: str, height: int, width: int, what: str) -> torch.Tensor:
    """The photo as float32 (C, height, width) in [-1, 1], cut like its label map."""
    try:
        with Image.open(path) as img:
            img = img.convert(mode)
            new_w, new_h, left, top = cover_box(*img.size, height, width)
            if (new_w, new_h) != img.size:
                img = img.resize((new_w, new_h), Image.Resampling.BICUBIC)
            img = img.crop((left, top, left + width, top + height))
            array = np.array(img, dtype=np.uint8)
    except (OSError, UnidentifiedImageError, ValueError) as e:
        raise DataError(f"{what}: cannot read image {path}: {e or type(e).__name__}") from None
    return to_tensor(array)
