"""image_folder() and celeba(): files on disk, labels from folders or attribute files, and a
DataError naming the declaration, the file and what was expected for each way they go wrong."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import torch
from PIL import Image

from gandsl.data import DataError, build_sources
from gandsl.pipeline import check_source

ATTRS = ["Bald", "Black_Hair", "Blond_Hair", "Brown_Hair", "Male", "Young"]
STAR = 'attrs=["Black_Hair", "Blond_Hair", "Brown_Hair", "Male", "Young"]'


def spec_of(decl: str):
    return check_source(f"gan t\n{decl}\n", "t.gan").spec


def sources(decl: str, root: Path, batch: int = 2, **kw):
    spec = spec_of(decl)
    return build_sources(spec, [spec.datasets[0].name], batch, "cpu", seed=0, root=root, **kw)


def dataset(decl: str, root: Path):
    return next(iter(sources(decl, root, batch=1).values())).streams[0].dataset


def save(path: Path, color=(255, 0, 0), size=(12, 10), fmt: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, color).save(path, format=fmt)
    return path


def error(decl: str, root: Path, **kw) -> str:
    with pytest.raises(DataError) as e:
        sources(decl, root, **kw)
    msg = str(e.value)
    assert msg.startswith("t.gan:2: data `d`"), msg
    assert "Traceback" not in msg
    return msg


# ---- image_folder ------------------------------------------------------------------------

def test_folder_recursive_all_formats(tmp_path):
    for i, ext in enumerate(["png", "jpg", "jpeg", "bmp", "webp", "PNG"]):
        save(tmp_path / "imgs" / f"sub{i % 2}" / f"x{i}.{ext}", color=(0, 0, 255))
    (tmp_path / "imgs" / "notes.txt").write_text("not an image")
    (tmp_path / "imgs" / "._x0.png").write_bytes(b"macOS metadata")  # hidden: skipped
    save(tmp_path / "imgs" / ".ipynb_checkpoints" / "x.png")
    ds = dataset('data d: image[3, 8, 8] = image_folder("imgs")', tmp_path)
    assert len(ds) == 6
    x = ds[0][0]
    assert x.shape == (3, 8, 8) and x.dtype == torch.float32
    assert torch.allclose(x[:, 4, 4], torch.tensor([-1.0, -1.0, 1.0]), atol=0.05)


def test_folder_resizes_shorter_side_then_center_crops(tmp_path):
    img = Image.new("RGB", (40, 20), (255, 0, 0))  # red | green (middle half) | blue
    img.paste((0, 255, 0), (10, 0, 30, 20))
    img.paste((0, 0, 255), (30, 0, 40, 20))
    tmp_path.joinpath("f").mkdir()
    img.save(tmp_path / "f" / "a.png")
    x = dataset('data d: image[3, 10, 10] = image_folder("f")', tmp_path)[0][0]
    assert x.shape == (3, 10, 10)
    # 40×20 → 20×10, center 10 columns = the original's middle half: green, no stretch.
    assert torch.allclose(x[:, :, 2:8], torch.tensor([-1.0, 1.0, -1.0])[:, None, None],
                          atol=0.05)


def test_folder_grey_channels(tmp_path):
    save(tmp_path / "g" / "a.png", color=(255, 255, 255))
    x = dataset('data d: image[1, 4, 4] = image_folder("g")', tmp_path)[0][0]
    assert x.shape == (1, 4, 4) and torch.allclose(x, torch.ones(1, 4, 4))


def test_folder_class_labels_in_sorted_folder_order(tmp_path):
    for cls, n in [("dog", 3), ("cat", 2), ("emu", 1)]:
        for i in range(n):
            save(tmp_path / "pets" / cls / f"{i}.png")
    ds = dataset('data d: image[3, 8, 8], class[3] = image_folder("pets")', tmp_path)
    assert ds.classes == ["cat", "dog", "emu"]
    assert sorted(ds.targets) == [0, 0, 1, 1, 1, 2]
    assert [ds[i][1] for i in range(len(ds))] == ds.targets
    src = sources('data d: image[3, 8, 8], class[3] = image_folder("pets")', tmp_path,
                  batch=6)["d"]
    _, y = src.next()
    assert y.dtype == torch.int64 and sorted(y.tolist()) == [0, 0, 1, 1, 1, 2]
    one_hot = dataset('data d: image[3, 8, 8], label[3] = image_folder("pets")', tmp_path)
    assert one_hot[0][1].tolist() == [1.0, 0.0, 0.0]


def test_folder_missing(tmp_path):
    msg = error('data d: image[3, 8, 8] = image_folder("nowhere")', tmp_path)
    assert "folder not found" in msg and str(tmp_path / "nowhere") in msg


def test_folder_empty(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.txt").write_text("x")
    msg = error('data d: image[3, 8, 8] = image_folder("empty")', tmp_path)
    assert "no images" in msg and str(tmp_path / "empty") in msg and ".png" in msg


def test_folder_unreadable_image(tmp_path):
    save(tmp_path / "f" / "good.png")
    (tmp_path / "f" / "broken.png").write_bytes(b"not a png at all")
    msg = error('data d: image[3, 8, 8] = image_folder("f")', tmp_path)
    assert "cannot read image" in msg and "broken.png" in msg


def _truncated(tmp_path):
    buf = io.BytesIO()
    Image.effect_noise((64, 64), 50).convert("RGB").save(buf, format="PNG")
    (tmp_path / "f").mkdir()
    (tmp_path / "f" / "cut.png").write_bytes(buf.getvalue()[:200])  # the header reads fine


def test_folder_truncated_image_stops_before_training(tmp_path):
    _truncated(tmp_path)  # decoded into the cache when the dataset is built
    msg = error('data d: image[3, 8, 8] = image_folder("f")', tmp_path)
    assert msg.startswith("t.gan:2: data `d`: cannot read image") and "cut.png" in msg


def test_folder_truncated_image_in_a_worker(tmp_path, monkeypatch):
    from gandsl.data import decoded

    monkeypatch.setattr(decoded, "LIMIT_BYTES", 0)  # too large to decode once: file by file
    _truncated(tmp_path)
    src = sources('data d: image[3, 8, 8] = image_folder("f")', tmp_path, batch=1,
                  workers=1)["d"]
    with pytest.raises(DataError) as e:
        src.next()
    msg = str(e.value)
    assert msg.startswith("t.gan:2: data `d`: cannot read image") and "cut.png" in msg
    assert "Traceback" not in msg and "worker" not in msg


def test_folder_wrong_class_count(tmp_path):
    for i in range(7):
        save(tmp_path / "c" / f"class{i}" / "a.png")
    msg = error('data d: image[3, 8, 8], class[10] = image_folder("c")', tmp_path)
    assert "7 class subfolders" in msg and "class[10]" in msg and "expected 10" in msg
    assert str(tmp_path / "c") in msg and "class0" in msg


def test_folder_empty_class_and_loose_files(tmp_path):
    save(tmp_path / "c" / "a" / "1.png")
    (tmp_path / "c" / "b").mkdir()
    msg = error('data d: image[3, 8, 8], class[2] = image_folder("c")', tmp_path)
    assert str(tmp_path / "c" / "b") in msg and "no images" in msg
    save(tmp_path / "c" / "b" / "2.png")
    save(tmp_path / "c" / "loose.png")
    msg = error('data d: image[3, 8, 8], class[2] = image_folder("c")', tmp_path)
    assert "loose.png" in msg and "not inside a class subfolder" in msg


def test_folder_labels_argument_disagrees_with_fields(tmp_path):
    save(tmp_path / "c" / "a" / "1.png")
    msg = error('data d: image[3, 8, 8] = image_folder("c", labels=true)', tmp_path)
    assert "class[N]" in msg
    msg = error('data d: image[3, 8, 8], class[1] = image_folder("c", labels=false)', tmp_path)
    assert "labels=false" in msg and "class[1]" in msg


def test_folder_fewer_images_than_a_batch(tmp_path):
    save(tmp_path / "f" / "a.png")
    msg = error('data d: image[3, 8, 8] = image_folder("f")', tmp_path, batch=4)
    assert "1 images" in msg and "batch size 4" in msg


# ---- celeba ------------------------------------------------------------------------------

def celeba(root: Path, rows: dict[str, list[int]], count: int | None = None,
           folder: str = "images", names: list[str] = ATTRS) -> Path:
    base = root / "celeba"
    lines = [str(len(rows) if count is None else count), " ".join(names)]
    for i, (name, values) in enumerate(rows.items()):
        lines.append(f"{name} " + " ".join(f"{v:2d}" for v in values))
        save(base / folder / name, color=(10 * i, 0, 0), size=(17, 21), fmt="JPEG")
    (base / "list_attr_celeba.txt").write_text("\n".join(lines) + "\n")
    return base


ROWS = {"000001.jpg": [-1, 1, -1, -1, 1, 1], "000002.jpg": [1, -1, 1, -1, -1, 1],
        "000003.jpg": [-1, -1, -1, 1, 1, -1]}


def test_celeba_selects_attrs_as_multi_hot(tmp_path):
    celeba(tmp_path, ROWS)
    ds = dataset(f'data d: image[3, 16, 16], label[5] = celeba("celeba", {STAR})', tmp_path)
    assert len(ds) == 3 and ds.attrs == ATTRS[1:]
    x, c = ds[1]
    assert x.shape == (3, 16, 16)
    assert c.dtype == torch.float32 and c.tolist() == [0.0, 1.0, 0.0, 0.0, 1.0]
    assert [ds[i][1].tolist() for i in (0, 2)] == [[1, 0, 0, 1, 1], [0, 0, 1, 1, 0]]
    picked = dataset('data d: image[3, 8, 8], label[2] = celeba("celeba", attrs=["Young", '
                     '"Bald"])', tmp_path)
    assert picked[1][1].tolist() == [1.0, 1.0]  # in the order given
    every = dataset('data d: image[3, 8, 8], label[6] = celeba("celeba")', tmp_path)
    assert every[0][1].tolist() == [0, 1, 0, 0, 1, 1]


def test_celeba_images_next_to_the_file_and_attr_file_elsewhere(tmp_path):
    base = celeba(tmp_path, ROWS, folder=".")
    (base / "list_attr_celeba.txt").rename(tmp_path / "attrs.txt")
    ds = dataset(f'data d: image[3, 8, 8], label[5] = celeba("celeba", {STAR}, '
                 'attr_file="attrs.txt")', tmp_path)
    assert ds.files[0] == base / "000001.jpg" and ds.attr_file == tmp_path / "attrs.txt"


def test_celeba_missing_attr_file(tmp_path):
    (tmp_path / "celeba").mkdir()
    msg = error(f'data d: image[3, 8, 8], label[5] = celeba("celeba", {STAR})', tmp_path)
    assert "attribute file not found" in msg and "list_attr_celeba.txt" in msg


def test_celeba_attrs_count_disagrees_with_label(tmp_path):
    celeba(tmp_path, ROWS)
    msg = error('data d: image[3, 8, 8], label[5] = celeba("celeba", attrs=["Black_Hair", '
                '"Blond_Hair", "Brown_Hair", "Male"])', tmp_path)
    assert "4 attributes" in msg and "label[5]" in msg and "expected 5" in msg
    msg = error('data d: image[3, 8, 8], label[5] = celeba("celeba")', tmp_path)
    assert "6 attributes" in msg and "list_attr_celeba.txt" in msg and "label[5]" in msg


def test_celeba_unknown_attribute(tmp_path):
    celeba(tmp_path, ROWS)
    msg = error('data d: image[3, 8, 8], label[1] = celeba("celeba", attrs=["Blnd_Hair"])',
                tmp_path)
    assert "'Blnd_Hair'" in msg and "list_attr_celeba.txt" in msg and "Blond_Hair" in msg


def test_celeba_broken_files(tmp_path):
    base = celeba(tmp_path, ROWS, count=5)
    decl = f'data d: image[3, 8, 8], label[5] = celeba("celeba", {STAR})'
    msg = error(decl, tmp_path)
    assert "says 5 images" in msg and "lists 3" in msg and "list_attr_celeba.txt" in msg
    celeba(tmp_path, ROWS)
    (base / "images" / "000002.jpg").unlink()
    msg = error(decl, tmp_path)
    assert "1 of the 3 images" in msg and "000002.jpg" in msg
    celeba(tmp_path, {**ROWS, "000002.jpg": [1, 2, 1, 1, 1, 1]})
    msg = error(decl, tmp_path)
    assert "line 4" in msg and "1 or -1" in msg
    celeba(tmp_path, ROWS)
    (base / "images" / "000003.jpg").write_bytes(b"garbage")
    msg = error(decl, tmp_path)
    assert "cannot read image" in msg and "000003.jpg" in msg


def test_celeba_needs_a_label_field(tmp_path):
    celeba(tmp_path, ROWS)
    msg = error('data d: image[3, 8, 8], class[2] = celeba("celeba")', tmp_path)
    assert "label[N]" in msg and "class[2]" in msg


def test_every_source_the_language_knows_has_a_loader():
    from gandsl.catalog import DATA_SOURCES
    from gandsl.data.factory import BUILDERS

    assert set(BUILDERS) == set(DATA_SOURCES)


# ---- --data PATH -------------------------------------------------------------------------

def test_data_folder_overrides_every_declaration(tmp_path, monkeypatch):
    for cls in ("a", "b"):
        save(tmp_path / "mine" / cls / "1.png")
        save(tmp_path / "mine" / cls / "2.png")
    monkeypatch.chdir(tmp_path)  # a command-line path: relative to the working directory
    spec = spec_of('data d: image[3, 8, 8], class[2] = image_folder("data/elsewhere")')
    src = build_sources(spec, ["d"], 4, "cpu", seed=0, override="mine", root=tmp_path / "x")
    x, y = src["d"].next()
    assert x.shape == (4, 3, 8, 8) and sorted(y.tolist()) == [0, 0, 1, 1]
    assert src["d"].streams[0].dataset.folder == tmp_path / "mine"
    with pytest.raises(DataError) as e:
        build_sources(spec, ["d"], 4, "cpu", seed=0, override="mien")
    assert "--data mien: unknown dataset" in str(e.value) and "shapes, digits" in str(e.value)
    assert str(tmp_path / "mien") in str(e.value)


def test_data_folder_keeps_celeba_attributes(tmp_path):
    base = celeba(tmp_path, ROWS)
    spec = spec_of(f'data d: image[3, 8, 8], label[5] = celeba("data/celeba", {STAR})')
    ds = build_sources(spec, ["d"], 1, "cpu", seed=0, override=str(base))["d"]
    assert ds.streams[0].dataset.attrs == ATTRS[1:]
    assert ds.next()[1].shape == (1, 5)
