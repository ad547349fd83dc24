"""Aligned image pairs (pix2pix): `aligned_folder` splits A|B files, `shapes` draws each scene
as a circle and a square, the two images of a sample always travel together, and every way a
pair declaration can be wrong is a compile error or a DataError naming it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gandsl.data import DataError, build_sources
from gandsl.pipeline import check_source

ROOT = Path(__file__).resolve().parents[2]
PAIR = 'data d: image[3, 8, 8], image[1, 4, 4] = aligned_folder("ab")'


def spec_of(decl: str):
    return check_source(f"gan t\n{decl}\n", "t.gan").spec


def sources(decl: str, root: Path = Path("."), batch: int = 2, **kw):
    spec = spec_of(decl)
    return build_sources(spec, ["d"], batch, "cpu", seed=0, root=root, **kw)


def save_pair(path: Path, left: tuple[int, int, int], right: tuple[int, int, int],
              size: tuple[int, int] = (32, 16)) -> None:
    """One aligned file: `left` fills the A half, `right` the B half."""
    w, h = size
    pixels = np.zeros((h, w, 3), dtype=np.uint8)
    pixels[:, : w // 2] = left
    pixels[:, w // 2:] = right
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)


def test_aligned_folder_splits_each_file_into_its_halves(tmp_path):
    save_pair(tmp_path / "ab" / "1.png", (255, 0, 0), (255, 255, 255))
    save_pair(tmp_path / "ab" / "2.jpg", (0, 0, 255), (0, 0, 0), size=(40, 30))
    ds = sources(PAIR, tmp_path, batch=1)["d"].streams[0].dataset
    assert len(ds) == 2
    a, b = ds[0]
    assert a.shape == (3, 8, 8) and b.shape == (1, 4, 4)  # each half at its declared shape
    assert torch.allclose(a, torch.tensor([1.0, -1.0, -1.0])[:, None, None].expand(3, 8, 8))
    assert torch.allclose(b, torch.ones(1, 4, 4))  # white, as grey
    a, b = ds[1]  # jpeg: colors approximately
    assert torch.allclose(a[:, 4, 4], torch.tensor([-1.0, -1.0, 1.0]), atol=0.05)
    assert torch.allclose(b, -torch.ones(1, 4, 4), atol=0.05)
    assert "2 aligned pairs" in ds.describe()


def test_a_batch_of_a_and_its_b_are_pairs(tmp_path):
    # file k: A is grey level k·20, B is grey level 255 − k·20; a batch keeps them together
    for k in range(6):
        save_pair(tmp_path / "ab" / f"{k}.png", (k * 20,) * 3, (255 - k * 20,) * 3)
    src = sources('data d: image[1, 4, 4], image[1, 4, 4] = aligned_folder("ab")',
                  tmp_path, batch=3)["d"]
    for _ in range(4):  # across an epoch boundary
        a, b = src.next()
        assert a.shape == b.shape == (3, 1, 4, 4)
        assert torch.allclose(a + b, torch.zeros_like(a), atol=1 / 127.5 + 1e-6)


def test_shapes_pairs_are_one_scene_as_a_circle_and_a_square():
    src = sources('data d: image[3, 16, 16], image[1, 16, 16] = shapes(seed=2)', batch=4)["d"]
    ds = src.streams[0].dataset
    a, b = ds[5]
    s = ds.scene(5)
    from gandsl.data.shapes_scene import render
    assert torch.equal(a, render(s.with_kind("circle"), 3, 16, 16))
    assert torch.equal(b, render(s.with_kind("square"), 1, 16, 16))
    xa, xb = src.next()
    assert xa.shape == (4, 3, 16, 16) and xb.shape == (4, 1, 16, 16)
    assert "pairs circle → square" in ds.describe()


def test_pix2pix_trains_on_paired_shapes_with_data_shapes():
    spec = check_source((ROOT / "specs" / "pix2pix.gan").read_text(), "specs/pix2pix.gan",
                        {"S": 32}).spec
    src = build_sources(spec, ["facades"], 2, "cpu", seed=0, override="shapes")["facades"]
    ds = src.streams[0].dataset
    assert ds.domain is None and ds.req.pair == (3, 32, 32)
    a, b = src.next()
    assert a.shape == b.shape == (2, 3, 32, 32)


def test_data_folder_on_a_pair_reads_aligned_files(tmp_path):
    save_pair(tmp_path / "x.png", (0, 255, 0), (0, 0, 0))
    src = sources('data d: image[3, 8, 8], image[3, 8, 8] = shapes()', batch=1,
                  override=str(tmp_path))["d"]
    a, b = src.next()
    assert torch.allclose(a[0, :, 0, 0], torch.tensor([-1.0, 1.0, -1.0]))
    assert torch.allclose(b, -torch.ones_like(b))


@pytest.mark.parametrize("decl, override, words", [
    ('data d: image[3, 8, 8], image[3, 8, 8] = shapes(domain="a")', None,
     ["shapes(domain='a')", "aligned pair"]),
    ("data d: image[3, 8, 8], image[2, 8, 8] = shapes()", None,
     ["1 (grey) or 3 (RGB)", "image[2, 8, 8]"]),
    ("data d: image[1, 8, 8], image[1, 8, 8] = shapes()", "digits",
     ["(--data digits)", "`digits` yields single images", "aligned_folder, shapes"]),
    ('data d: image[3, 8, 8], image[3, 8, 8] = aligned_folder("missing")', None,
     ["missing"]),
])
def test_pair_data_errors(decl, override, words, tmp_path):
    with pytest.raises(DataError) as e:
        sources(decl, tmp_path, override=override)
    msg = str(e.value)
    assert msg.startswith("t.gan:2: data `d`"), msg
    for w in words:
        assert w in msg, msg


def test_a_file_too_narrow_to_split_is_named(tmp_path):
    save_pair(tmp_path / "ab" / "thin.png", (0, 0, 0), (0, 0, 0), size=(1, 8))
    with pytest.raises(DataError, match=r"thin\.png is 1 pixel wide"):
        sources(PAIR, tmp_path, batch=1)["d"].next()
