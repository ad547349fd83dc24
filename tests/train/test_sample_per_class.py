"""`gandsl sample --per-class K`: K samples of every class of a conditional generator, one row
per class named as the data names it, asked of the generator by label (not read from data)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import CONDITIONAL, TINY
from PIL import Image

from gandsl.cli import main
from gandsl.data import names_of_classes
from gandsl.train.config import RunConfig, RunError
from gandsl.train.sample import sample
from gandsl.train.trainer import Trainer


def run(tmp_path, text: str):
    tmp_path.mkdir(exist_ok=True)
    spec = tmp_path / "s.gan"
    spec.write_text(text)
    Trainer(RunConfig(spec=str(spec), steps=1, out=tmp_path / "run", progress=False)).run()
    return tmp_path / "run"


def test_one_row_per_class_each_its_own_label(tmp_path):
    out = run(tmp_path, CONDITIONAL)
    grid = sample(out, per_class=3, out=tmp_path / "g.png", device="cpu")
    width, height = Image.open(grid).size
    # 8×8 digits are drawn 8× (64 px) in cells of 66 px: 10 rows of 3
    assert height == 10 * 66 + 2 and width > 3 * 66
    arrays = np.load(sample(out, per_class=3, out=tmp_path / "g.npz", device="cpu"))
    assert arrays["labels"].tolist() == [c for c in range(10) for _ in range(3)]
    assert arrays["images"].shape == (30, 1, 8, 8)


def test_per_class_needs_a_class_condition_and_no_labels(tmp_path, capsys):
    out = run(tmp_path, CONDITIONAL)
    with pytest.raises(RunError, match="--per-class sets the labels itself"):
        sample(out, per_class=2, labels=["3"], device="cpu")
    plain = run(tmp_path / "plain", TINY.replace("TRAIN", ""))
    assert main(["sample", str(plain), "--per-class", "2", "--device", "cpu"]) == 2
    assert "generator is given no class" in capsys.readouterr().err


def test_the_names_of_classes(tmp_path):
    assert names_of_classes("fashion-mnist", None, 10)[9] == "Ankle boot"
    assert names_of_classes(None, "fashion_mnist", 10)[0] == "T-shirt/top"
    assert names_of_classes("digits", None, 10) == [str(d) for d in range(10)]
    assert names_of_classes(None, "shapes", 5) == ["circle", "square", "triangle", "diamond",
                                                   "cross"]
    for name in ("b_dog", "a_cat", ".hidden"):
        (tmp_path / "pets" / name).mkdir(parents=True)
    assert names_of_classes(str(tmp_path / "pets"), "digits", 2) == ["a_cat", "b_dog"]
    assert names_of_classes(None, "image_folder", 2, tmp_path / "pets") == ["a_cat", "b_dog"]
    assert names_of_classes(None, "image_folder", 3, tmp_path / "pets") is None
    assert names_of_classes(f"idx:{tmp_path}", None, 10) is None


def test_labels_given_read_no_data(tmp_path):
    """CGAN's grid uses only the labels of its data: with `--label` or `--per-class` the
    generator is given them and the data is never read, so a run samples after its data has
    gone; without them the grid's labels come from the data, which must be there."""
    import shutil

    from conftest import write_idx

    write_idx(tmp_path / "m", n=40)
    spec = tmp_path / "s.gan"
    spec.write_text(CONDITIONAL.replace("image[1, 8, 8]", "image[1, 6, 5]", 1)
                    .replace("reshape(1, 8, 8)", "reshape(1, 6, 5)")
                    .replace("image[1, 8, 8]", "image[1, 6, 5]").replace("linear(64)",
                                                                          "linear(30)"))
    Trainer(RunConfig(spec=str(spec), data=f"idx:{tmp_path / 'm'}", steps=1, batch=8,
                      out=tmp_path / "run", progress=False)).run()
    shutil.rmtree(tmp_path / "m")
    arrays = np.load(sample(tmp_path / "run", labels=["3", "7"], n=4, device="cpu",
                            out=tmp_path / "a.npz"))
    assert arrays["labels"].tolist() == [3, 7, 3, 7]
    assert sample(tmp_path / "run", per_class=1, device="cpu", out=tmp_path / "g.png")
    with pytest.raises(RunError, match="to read it from elsewhere"):
        sample(tmp_path / "run", n=4, device="cpu", out=tmp_path / "b.npz")
