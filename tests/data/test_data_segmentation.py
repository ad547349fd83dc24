"""Segmentation pairs (SPADE): `segmentation_folder` reads ADE20K's layout into (one-hot label
map, photo) pairs, with ADE20K's remapping (0 → dontcare N − 1, v → v − 1) and nearest
resizing; `shapes` serves the same pairs for `--data shapes`; declarations without a pair,
or pairs from other sources, are E305."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gandsl.data import DataError, build_sources
from gandsl.data.shapes_draw import KINDS, coverage
from gandsl.data.shapes_scene import geometry, render, shape_class
from gandsl.diagnostics import GandslError
from gandsl.pipeline import check_source

ROOT = Path(__file__).resolve().parents[2]
SEG = 'data d: image[{n}, {s}, {s}], image[3, {s}, {s}] = segmentation_folder("ade"{kw})'


def decl(n: int = 4, s: int = 4, kw: str = "") -> str:
    return SEG.format(n=n, s=s, kw=kw)


def sources(text: str, root: Path = Path("."), batch: int = 1, **kw):
    spec = check_source(f"gan t\n{text}\n", "t.gan").spec
    return build_sources(spec, ["d"], batch, "cpu", seed=0, root=root, **kw)


def dataset(text: str, root: Path, **kw):
    return sources(text, root, **kw)["d"].streams[0].dataset


def save_label(path: Path, values: np.ndarray, mode: str = "L") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(values.astype(np.uint8), mode=mode).save(path)


def save_photo(path: Path, pixels: np.ndarray | tuple[int, int, int],
               size: tuple[int, int] = (8, 8)) -> None:
    """A photo: an (H, W, 3) array, or one color at `size` (W, H)."""
    if isinstance(pixels, tuple):
        pixels = np.broadcast_to(np.array(pixels, np.uint8), (size[1], size[0], 3))
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.ascontiguousarray(pixels, dtype=np.uint8)).save(path)


def ade(root: Path, labels: dict[str, np.ndarray], split: str = "training") -> Path:
    """An ADE20K-like folder: images/SPLIT/STEM.png (grey, level 10·k) and
    annotations/SPLIT/STEM.png for each label array."""
    base = root / "ade"
    for k, (stem, values) in enumerate(sorted(labels.items())):
        h, w = values.shape
        save_label(base / "annotations" / split / f"{stem}.png", values)
        save_photo(base / "images" / split / f"{stem}.png", (10 * k,) * 3, size=(w, h))
    return base


def blocks(values: list[list[int]], k: int) -> np.ndarray:
    """Each value as a k×k block."""
    return np.kron(np.array(values), np.ones((k, k), dtype=np.int64))


def classes(one_hot: torch.Tensor) -> torch.Tensor:
    """The class per pixel of a one-hot map, after checking it is one."""
    assert one_hot.dtype == torch.float32
    assert set(one_hot.unique().tolist()) <= {0.0, 1.0}
    assert torch.equal(one_hot.sum(0), torch.ones(one_hot.shape[1:]))
    return one_hot.argmax(0)


# ---- segmentation_folder ---------------------------------------------------------------


def test_label_maps_are_remapped_resized_nearest_and_one_hot(tmp_path):
    # 8×8 of 2×2 blocks → 4×4: each output pixel is its block; 0 (other) → 3, v → v − 1
    ade(tmp_path, {"ADE_train_1": blocks([[0, 1, 2, 3], [3, 2, 1, 0],
                                          [1, 1, 0, 0], [2, 3, 2, 3]], 2)})
    ds = dataset(decl(n=4), tmp_path)
    assert len(ds) == 1
    seg, photo = ds[0]
    assert seg.shape == (4, 4, 4) and photo.shape == (3, 4, 4)
    assert classes(seg).tolist() == [[3, 0, 1, 2], [2, 1, 0, 3], [0, 0, 3, 3], [1, 2, 1, 2]]
    assert torch.allclose(photo, torch.full((3, 4, 4), -1.0))  # grey level 0


def test_nearest_resize_copies_source_pixels_and_never_blends_classes(tmp_path):
    rng = np.random.default_rng(0)
    values = rng.integers(0, 7, size=(12, 12))
    ade(tmp_path, {"a": values})
    seg, _ = dataset(decl(n=7), tmp_path)[0]
    # 12 → 4: output pixel i samples source row floor((i + 0.5) · 3) = 1, 4, 7, 10
    picked = values[np.ix_([1, 4, 7, 10], [1, 4, 7, 10])]
    assert classes(seg).numpy().tolist() == ((picked - 1) % 7).tolist()


def test_label_map_and_photo_are_cropped_at_the_same_place(tmp_path):
    # 6 wide, 4 high → 4×4: no scaling, the center columns 1..4 are kept in both
    values = np.tile(np.arange(6), (4, 1))
    save_label(tmp_path / "ade" / "annotations" / "training" / "x.png", values)
    pixels = np.zeros((4, 6, 3), dtype=np.uint8)
    pixels[:, 1:5] = (0, 0, 255)  # blue where the crop falls, black outside
    save_photo(tmp_path / "ade" / "images" / "training" / "x.png", pixels)
    seg, photo = dataset(decl(n=6), tmp_path)[0]
    assert classes(seg).tolist() == [[0, 1, 2, 3]] * 4  # values 1..4, each minus one
    assert torch.allclose(photo, torch.tensor([-1.0, -1.0, 1.0])[:, None, None].expand(3, 4, 4))


def test_a_palette_label_map_gives_its_indices_not_its_colors(tmp_path):
    base = ade(tmp_path, {"p": np.zeros((4, 4), dtype=np.int64)})
    img = Image.fromarray(blocks([[1, 2], [2, 1]], 2).astype(np.uint8), mode="P")
    img.putpalette([255, 255, 255] * 256)  # every index looks white
    img.save(base / "annotations" / "training" / "p.png")
    seg, _ = dataset(decl(n=3), tmp_path)[0]
    assert classes(seg).tolist() == [[0, 0, 1, 1], [0, 0, 1, 1], [1, 1, 0, 0], [1, 1, 0, 0]]


def test_batches_keep_each_label_map_with_its_photo(tmp_path):
    # pair k: every label value is k + 1 (class k) and the photo's grey level is 10·k
    ade(tmp_path, {f"s{k}": np.full((4, 4), k + 1) for k in range(6)})
    src = sources(decl(n=8), tmp_path, batch=3)["d"]
    for _ in range(4):  # across an epoch boundary
        seg, photo = src.next()
        assert seg.shape == (3, 8, 4, 4) and photo.shape == (3, 3, 4, 4)
        k = seg.argmax(1)[:, 0, 0]
        assert torch.allclose(photo[:, 0, 0, 0], (10 * k).float() / 127.5 - 1, atol=1e-6)
    assert "6 (label map, photo) pairs" in src.describe() and "8 classes" in src.describe()


def test_a_folder_without_a_training_split_is_read_directly(tmp_path):
    ade(tmp_path, {"a": np.ones((4, 4)), "b": np.zeros((4, 4))}, split="")
    ds = dataset(decl(n=2, kw=", classes=2"), tmp_path)
    assert len(ds) == 2 and ds.photos_dir == tmp_path / "ade" / "images"


def test_only_the_training_split_is_read(tmp_path):
    ade(tmp_path, {"ADE_train_1": np.ones((4, 4))})
    ade(tmp_path, {"ADE_val_1": np.ones((4, 4)), "ADE_val_2": np.ones((4, 4))},
        split="validation")
    assert len(dataset(decl(n=2), tmp_path)) == 1


def test_a_class_value_of_n_or_more_names_the_file_and_the_value(tmp_path):
    ade(tmp_path, {"big": blocks([[1, 2], [4, 0]], 2)})
    with pytest.raises(DataError) as e:
        sources(decl(n=4), tmp_path)["d"].next()
    msg = str(e.value)
    assert msg.startswith("t.gan:2: data `d`") and "big.png" in msg, msg
    assert "class value 4" in msg and "values 0..3" in msg and "image[4, 4, 4]" in msg


@pytest.mark.parametrize("missing, words", [
    ("annotations", ["1 photo without a label map", "images/training/b.png",
                     "annotations/training/b.png"]),
    ("images", ["1 label map without a photo", "annotations/training/b.png",
                "images/training/b with an image extension"]),
])
def test_a_missing_partner_is_named(tmp_path, missing, words):
    base = ade(tmp_path, {"a": np.ones((4, 4)), "b": np.ones((4, 4))})
    (base / missing / "training" / "b.png").unlink()
    with pytest.raises(DataError) as e:
        sources(decl(n=2), tmp_path)
    msg = str(e.value)
    assert msg.startswith("t.gan:2: data `d`"), msg
    for w in words:
        assert w in msg, msg


def test_files_that_cannot_pair_are_named(tmp_path):
    base = ade(tmp_path, {"a": np.ones((4, 4))})
    labels = base / "annotations" / "training"
    save_photo(base / "images" / "training" / "a.png", (0, 0, 0), size=(6, 4))
    with pytest.raises(DataError, match=r"a\.png is 4×4, its photo .*a\.png 6×4"):
        sources(decl(n=2), tmp_path)
    save_photo(labels / "a.png", (1, 1, 1), size=(6, 4))  # RGB: not one index per pixel
    with pytest.raises(DataError, match=r"a\.png is a RGB image; a label map has one channel"):
        sources(decl(n=2), tmp_path)
    (labels / "a.png").unlink()
    save_photo(labels / "a.jpg", (1, 1, 1), size=(6, 4))
    with pytest.raises(DataError, match=r"a\.jpg is not a PNG"):
        sources(decl(n=2), tmp_path)


@pytest.mark.parametrize("kw, words", [
    (", classes=150", ["segmentation_folder(classes=150)", "image[151, 4, 4]",
                       "150 classes + dontcare"]),
    (', classes="151"', ["classes='151'"]),
])
def test_classes_must_restate_the_label_maps_channels(tmp_path, kw, words):
    ade(tmp_path, {"a": np.ones((4, 4))})
    with pytest.raises(DataError) as e:
        sources(decl(n=151, kw=kw), tmp_path)
    for w in words:
        assert w in str(e.value), str(e.value)
    assert len(dataset(decl(n=151, kw=", classes=151"), tmp_path)) == 1


def test_missing_folders_say_what_the_layout_is(tmp_path):
    with pytest.raises(DataError, match=r"folder not found: .*ade .*segmentation_folder"):
        sources(decl(), tmp_path)
    (tmp_path / "ade" / "images").mkdir(parents=True)
    with pytest.raises(DataError, match=r"annotations is not a folder.*images/training/X"):
        sources(decl(), tmp_path)


def test_data_folder_on_a_segmentation_pair_reads_a_segmentation_folder(tmp_path):
    base = ade(tmp_path, {"a": np.full((4, 4), 2)})
    text = 'data d: image[5, 4, 4], image[3, 4, 4] = segmentation_folder("x", classes=5)'
    ds = dataset(text, tmp_path, override=str(base))
    assert ds.folder == base and ds.req.kwargs["classes"] == 5
    assert classes(ds[0][0]).tolist() == [[1] * 4] * 4
    shapes_text = "data d: image[5, 4, 4], image[3, 4, 4] = shapes(segmentation=true)"
    assert dataset(shapes_text, tmp_path, override=str(base)).folder == base


# ---- shapes --------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 3, 8, 151])
def test_shapes_label_maps_are_read_off_the_scene(n):
    text = decl(n=n, s=16)
    ds = dataset(text, Path("."), override="shapes")
    assert ds.segmentation and ds.req.source == "shapes"
    for index in range(6):
        seg, photo = ds[index]
        s = ds.scene(index)
        assert torch.equal(photo, render(s, 3, 16, 16))  # the photo is the scene itself
        cov = torch.from_numpy(coverage(s.kind, 16, 16, *geometry(s, 16, 16)))
        shape = shape_class(s.kind, n)
        assert shape == (0 if n == 1 else 1 + KINDS.index(s.kind) % (n - 1))
        expected = torch.where(cov >= 0.5, shape, 0)  # background: class 0
        assert torch.equal(classes(seg), expected)
        assert seg.shape == (n, 16, 16)


def test_shapes_segmentation_pairs_directly_and_their_errors():
    ds = dataset("data d: image[6, 8, 8], image[1, 8, 8] = shapes(segmentation=true, "
                 'domain="b")', Path("."))
    seg, photo = ds[0]
    assert ds.scene(0).kind == "square" and seg.shape == (6, 8, 8) and photo.shape == (1, 8, 8)
    assert "label map of 6 classes" in ds.describe()
    for text, words in [
        ("data d: image[6, 8, 8], image[3, 8, 8] = shapes()",
         ["image[6, 8, 8]", "shapes(segmentation=true)"]),
        ("data d: image[3, 8, 8] = shapes(segmentation=true)",
         ["yields (label map, image) pairs"]),
        ("data d: image[3, 8, 8], image[3, 8, 8] = shapes(segmentation=1)",
         ["shapes(segmentation=1): expected true or false"]),
    ]:
        with pytest.raises(DataError) as e:
            sources(text)
        for w in words:
            assert w in str(e.value), str(e.value)


@pytest.mark.parametrize("label_nc", [3, 8])
def test_spade_trains_on_shapes_segmentation_pairs(label_nc):
    params = {"S": 32, "label_nc": label_nc, "ngf": 4, "hidden": 8, "ndf": 4, "vgg": 4}
    spec = check_source((ROOT / "specs" / "spade.gan").read_text(), "specs/spade.gan",
                        params).spec
    assert spec.dataset("ade20k").source == "segmentation_folder"
    src = build_sources(spec, ["ade20k"], 2, "cpu", seed=0, override="shapes")["ade20k"]
    seg, photo = src.next()
    assert seg.shape == (2, label_nc, 32, 32) and photo.shape == (2, 3, 32, 32)
    assert torch.equal(seg.sum(1), torch.ones(2, 32, 32))


# ---- E305 ----------------------------------------------------------------------------


def test_e305_segmentation_pairs():
    text = (
        'data a: image[3, 32, 32] = segmentation_folder("data/a")\n'
        'data b: image[151, 32, 32], image[3, 32, 32] = image_folder("data/b")\n'
        'data c: image[151, 32, 32], image[3, 32, 32] = segmentation_folder("data/c")\n'
        'data e: image[151, 32, 32], label[3] = segmentation_folder("data/e")\n')
    with pytest.raises(GandslError) as e:
        check_source(text, "t.gan")
    ds = e.value.diagnostics
    assert [(d.code, d.span.line, d.span.col) for d in ds] == [
        ("E305", 1, 28), ("E305", 2, 48), ("E305", 4, 40)]
    assert ds[0].message.startswith("`segmentation_folder` yields (label map, photo) pairs: "
                                    "declare two image fields")
    assert ds[1].message == ("`image_folder` yields single images; a pair of images comes "
                             "from `aligned_folder` or `shapes`")
    assert ds[1].hint == "a label map and its photo come from `segmentation_folder`"
    assert ds[2].message == ds[0].message
