"""An image folder decoded once into the cache: the same values as reading each file, a whole
batch at once, the array reused by the next run, and made again when a file changes."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader

from gandsl.data import build_sources, decoded
from gandsl.data.images import load_image
from gandsl.data.sampler import EpochBatchSampler
from gandsl.pipeline import check_source


def folder(root: Path) -> Path:
    rng = np.random.default_rng(0)
    for k, name in enumerate(["cat", "dog", "eel"]):
        for i in range(4 + k):
            path = root / "pets" / name / f"{i}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            size = (12 + i, 9 + k)  # resized and cropped to the declared 8×8
            Image.fromarray(rng.integers(0, 256, (*size[::-1], 3), dtype=np.uint8)).save(path)
    return root / "pets"


def source(root: Path, decl: str = 'data d: image[3, 8, 8], class[3] = image_folder("pets")',
           batch: int = 5):
    spec = check_source(f"gan t\n{decl}\n", "t.gan").spec
    return build_sources(spec, ["d"], batch, "cpu", seed=0, root=root)["d"]


def test_decoded_values_are_the_files_and_a_batch_is_a_collated_one(tmp_path):
    pets = folder(tmp_path)
    src = source(tmp_path)
    ds = src.streams[0].dataset
    assert ds.in_memory and ds.pixels.shape == (15, 8, 8, 3)
    for i in (0, 6, 14):
        img, target = ds[i]
        assert torch.equal(img, load_image(ds.files[i], "RGB", 8, 8, "d"))
        assert target == ["cat", "dog", "eel"].index(ds.files[i].parent.name)
    assert ds.files[0].parent == pets / "cat"
    loader = iter(DataLoader(ds, batch_sampler=EpochBatchSampler(15, 5, 0, ds.order_key)))
    for _ in range(4):  # across an epoch (3 batches)
        x, y = src.next()
        want_x, want_y = next(loader)
        assert torch.equal(x, want_x) and torch.equal(y, want_y)


def test_the_array_is_reused_and_made_again_when_a_file_changes(tmp_path, monkeypatch, capsys):
    pets = folder(tmp_path)
    source(tmp_path)
    assert "decoding 15 images once" in capsys.readouterr().err
    arrays = sorted((Path(os.environ["GANDSL_CACHE"]) / "images").glob("*.npy"))

    def refuse(*args):
        raise AssertionError("decoded again")

    monkeypatch.setattr(decoded, "read_pixels", refuse)
    again = source(tmp_path).streams[0].dataset
    assert capsys.readouterr().err == ""
    assert isinstance(again.pixels, np.memmap)
    monkeypatch.undo()
    # a rewritten file (new contents, new mtime) is read again into a new array
    Image.new("RGB", (8, 8), (255, 255, 255)).save(pets / "dog" / "0.png")
    os.utime(pets / "dog" / "0.png", ns=(1, 1))
    changed = source(tmp_path).streams[0].dataset
    k = changed.files.index(pets / "dog" / "0.png")
    assert torch.equal(changed[k][0], torch.ones(3, 8, 8))
    assert len(list((Path(os.environ["GANDSL_CACHE"]) / "images").glob("*.npy"))) == \
        len(arrays) + 1


@pytest.mark.parametrize("decl", ['data d: image[1, 8, 8] = image_folder("pets")',
                                  'data d: image[3, 8, 8], label[3] = image_folder("pets")'])
def test_grey_and_one_hot(tmp_path, decl):
    folder(tmp_path)
    ds = source(tmp_path, decl).streams[0].dataset
    sample = ds[3]
    assert torch.equal(sample[0], load_image(ds.files[3], ds.mode, 8, 8, "d"))
    if len(sample) > 1:
        assert sample[1].tolist() == [1.0, 0.0, 0.0]


def test_a_folder_too_large_is_read_file_by_file(tmp_path, monkeypatch):
    monkeypatch.setattr(decoded, "LIMIT_BYTES", 100)
    folder(tmp_path)
    ds = source(tmp_path).streams[0].dataset
    assert not ds.in_memory and ds.pixels is None
    assert torch.equal(ds[2][0], load_image(ds.files[2], "RGB", 8, 8, "d"))
