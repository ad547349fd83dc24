"""`idx(path, split)`, `fashion_mnist()`, `--data idx:FOLDER` and `--data fashion-mnist`: IDX
files (MNIST's format) written here by the test, read in one pass, served in [-1, 1] with their
classes; every kind of broken file is an exit-2 error naming the file and what was expected."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import IDX_N as N
from conftest import IDX_SIZE, idx_bytes, write_idx
from torch.utils.data import DataLoader

from gandsl.cli import main
from gandsl.data import DataError, build_sources
from gandsl.data import idx as idx_module
from gandsl.data.sampler import EpochBatchSampler
from gandsl.pipeline import check_source

H, W = IDX_SIZE
TRAINABLE = textwrap.dedent("""\
    data d: image[1, 8, 8], class[10] = digits()
    network G(z: latent[4], c: class[10]) -> image[1, 8, 8] {
      return concat(z, c -> one_hot) -> linear(64) -> tanh -> reshape(1, 8, 8)
    }
    network D(x: image[1, 8, 8]) -> scalar { return x -> flatten -> linear(1) }
    objective {
      x, c ~ d
      z ~ normal(4)
      D minimizes gan_d(D(x), D(G(z, c)))
      G minimizes gan_g(D(G(z, c)))
    }
    train { batch 16 }
    """)


def spec_of(decl: str, size: tuple[int, int] = (H, W)):
    text = textwrap.dedent(f"""\
        gan t
        {decl}
        network D(x: image[1, {size[0]}, {size[1]}]) -> scalar {{
          return x -> flatten -> linear(1)
        }}
        """)
    return check_source(text, "t.gan").spec


@pytest.fixture(autouse=True)
def _fresh_cache():
    idx_module.load_split.cache_clear()
    yield
    idx_module.load_split.cache_clear()


@pytest.mark.parametrize("gz", [True, False])
def test_images_are_the_bytes_in_minus_one_to_one_with_their_classes(tmp_path, gz):
    images, labels = write_idx(tmp_path / "mnist", gz=gz)
    spec = spec_of(f'data d: image[1, {H}, {W}], class[10] = idx("{tmp_path / "mnist"}")')
    ds = build_sources(spec, ["d"], 8, "cpu", seed=0)["d"].streams[0].dataset
    assert len(ds) == N
    for i in (0, 7, N - 1):
        img, target = ds[i]
        assert torch.equal(img, torch.from_numpy(images[i]).float()[None] / 127.5 - 1)
        assert target == labels[i]
    assert ds[int(np.argmax(images.reshape(N, -1).max(1)))][0].max() == 1.0


def test_a_batch_is_what_a_dataloader_would_collate_in_the_same_order(tmp_path):
    write_idx(tmp_path / "m")
    spec = spec_of(f'data d: image[1, 8, 8], label[10] = idx("{tmp_path / "m"}")', (8, 8))
    src = build_sources(spec, ["d"], 8, "cpu", seed=3)["d"]
    ds = src.streams[0].dataset
    sampler = EpochBatchSampler(N, 8, 3, ds.order_key)
    loader = iter(DataLoader(ds, batch_sampler=sampler))  # one sample at a time, collated
    for _ in range(7):  # across an epoch boundary (5 batches per epoch)
        x, y = src.next()
        want_x, want_y = next(loader)
        assert torch.equal(x, want_x) and torch.equal(y, want_y)
    assert x.shape == (8, 1, 8, 8) and y.shape == (8, 10) and y.sum(1).eq(1).all()
    # resized as `digits` is: bilinear from the file's H×W
    raw = ds.images[:2].unsqueeze(1).float() / 127.5 - 1
    assert torch.allclose(ds.batch([0, 1])[0], F.interpolate(raw, size=(8, 8), mode="bilinear",
                                                             align_corners=False))


def test_the_test_split_and_the_overrides(tmp_path, monkeypatch):
    write_idx(tmp_path / "m", "test", n=20, seed=1)
    spec = spec_of(f'data d: image[1, {H}, {W}] = idx("{tmp_path / "m"}", split="test")')
    assert len(build_sources(spec, ["d"], 4, "cpu", seed=0)["d"].streams[0].dataset) == 20
    write_idx(tmp_path / "m")
    spec = spec_of(f'data d: image[1, {H}, {W}], class[10] = digits()')
    src = build_sources(spec, ["d"], 4, "cpu", seed=0, override=f"idx:{tmp_path / 'm'}")["d"]
    assert len(src.streams[0].dataset) == N and "idx, train split" in src.describe()
    # fashion-mnist: $GANDSL_DATA/fashion-mnist first
    write_idx(tmp_path / "root" / "fashion-mnist", n=30)
    monkeypatch.setenv("GANDSL_DATA", str(tmp_path / "root"))
    src = build_sources(spec, ["d"], 4, "cpu", seed=0, override="fashion-mnist")["d"]
    assert len(src.streams[0].dataset) == 30 and "fashion_mnist" in src.describe()


def test_fashion_mnist_missing_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("GANDSL_DATA", raising=False)
    monkeypatch.setattr(idx_module, "DEBIAN_FASHION_MNIST", tmp_path / "nothing")
    spec = tmp_path / "fm.gan"
    spec.write_text(TRAINABLE.replace("digits()", "fashion_mnist()"))
    assert main(["train", str(spec), "--steps", "1", "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "apt-get install dataset-fashion-mnist" in err and "--data idx:FOLDER" in err


def _broken(folder: Path, what: str) -> Path:
    write_idx(folder, gz=False)
    images = folder / "train-images-idx3-ubyte"
    data = images.read_bytes()
    if what == "magic":
        images.write_bytes(b"\x00\x00\x08\x01" + data[4:])
    elif what == "truncated":
        images.write_bytes(data[:-7])
    elif what == "long":
        images.write_bytes(data + b"\x00")
    elif what == "header":
        images.write_bytes(data[:9])
    elif what == "gzip":
        images.rename(folder / "train-images-idx3-ubyte.gz")
    elif what == "counts":
        labels = np.zeros(N - 1, np.uint8)
        (folder / "train-labels-idx1-ubyte").write_bytes(idx_bytes(labels))
    elif what == "missing":
        (folder / "train-labels-idx1-ubyte").unlink()
    return images


@pytest.mark.parametrize(("what", "message"), [
    ("magic", "train-images-idx3-ubyte: not an IDX file of images (magic number 0x00000803): "
              "it starts with 0x00000801"),
    ("truncated", f"train-images-idx3-ubyte: its header promises {N} × {H} × {W} = "
                  f"{N * H * W:,} bytes of values, the file holds {N * H * W - 7:,} (truncated)"),
    ("long", f"the file holds {N * H * W + 1:,}"),
    ("header", "train-images-idx3-ubyte: truncated: 9 bytes, shorter than its header"),
    ("gzip", "train-images-idx3-ubyte.gz: cannot be read as gzip file"),
    ("counts", f"train-labels-idx1-ubyte: {N - 1} labels for {N} images in "
               "train-images-idx3-ubyte: expected one label per image"),
    ("missing", "no train-labels-idx1-ubyte or train-labels-idx1-ubyte.gz"),
])
def test_a_broken_file_is_named_with_what_was_expected(tmp_path, what, message):
    _broken(tmp_path / "m", what)
    spec = spec_of(f'data d: image[1, {H}, {W}], class[10] = idx("{tmp_path / "m"}")')
    with pytest.raises(DataError) as e:
        build_sources(spec, ["d"], 4, "cpu", seed=0)
    assert message in str(e.value)


@pytest.mark.parametrize(("decl", "message"), [
    (f'data d: image[3, {H}, {W}] = idx("FOLDER")', "have 1 channel (grey), the spec declares "
                                                    f"image[3, {H}, {W}]"),
    (f'data d: image[1, {H}, {W}], class[7] = idx("FOLDER")',
     "has 10 classes (labels 0 to 9), the spec declares class[7]"),
    (f'data d: image[1, {H}, {W}] = idx("FOLDER", split="val")',
     "idx(split='val'): expected \"train\" or \"test\""),
    (f'data d: image[1, {H}, {W}] = idx()', "`idx` needs the folder of its files"),
    (f'data d: image[1, {H}, {W}] = idx("FOLDER/none")', "none is not a folder"),
])
def test_a_declaration_the_files_cannot_serve(tmp_path, decl, message):
    write_idx(tmp_path / "m")
    spec = spec_of(decl.replace("FOLDER", str(tmp_path / "m")))
    with pytest.raises(DataError) as e:
        build_sources(spec, ["d"], 4, "cpu", seed=0)
    assert message in str(e.value)


def test_train_from_an_idx_folder_and_a_bad_one_is_exit_2(tmp_path, capsys):
    write_idx(tmp_path / "m", n=64)
    spec = tmp_path / "g.gan"
    spec.write_text(TRAINABLE)
    args = ["train", str(spec), "--steps", "2", "--no-progress", "--sample-every", "1000"]
    assert main([*args, "--data", f"idx:{tmp_path / 'm'}", "--out", str(tmp_path / "r")]) == 0
    assert main([*args, "--data", f"idx:{tmp_path / 'none'}", "--out", str(tmp_path / "s")]) == 2
    assert "expected a folder of IDX files" in capsys.readouterr().err


@pytest.mark.skipif(not idx_module.DEBIAN_FASHION_MNIST.is_dir(),
                    reason="Debian's dataset-fashion-mnist is not installed")
def test_the_installed_fashion_mnist():
    images, labels = idx_module.load_split(idx_module.DEBIAN_FASHION_MNIST, "test")
    assert images.shape == (10_000, 28, 28) and images.dtype == torch.uint8
    assert torch.bincount(labels).tolist() == [1000] * 10
