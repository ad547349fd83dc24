"""`gandsl eval` of a run on any data with classes: an image folder of class subfolders or an
IDX folder. Its classifier trains on the data less its held-out part (the IDX test files, else
every tenth sample), is cached under the files' identity, and judges the run as the shipped
datasets' classifiers do."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import CONDITIONAL, write_idx
from PIL import Image

from gandsl.data import idx as idx_module
from gandsl.eval import classifier, grounds, labelled
from gandsl.eval.run import evaluate
from gandsl.train.config import RunConfig
from gandsl.train.trainer import Trainer


def pattern_folder(root, per_class: int = 30):
    """Three classes a classifier tells apart at once: dark, bright, and striped images."""
    rng = np.random.default_rng(0)
    for c, name in enumerate(["bright", "dark", "stripes"]):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            noise = rng.integers(0, 40, (8, 8))
            pixels = [noise + 200, noise, np.tile([[0], [255]], (4, 8)) + noise * 0][c]
            Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(
                root / name / f"{i:02d}.png")
    return root


@pytest.fixture(autouse=True)
def _fresh():
    for cached in (classifier.real_data, labelled.classes_of, idx_module.load_split):
        cached.cache_clear()


def test_a_folder_holds_out_every_tenth_image(tmp_path):
    folder = pattern_folder(tmp_path / "pets")
    source = f"folder:{folder}"
    train, t = grounds.examples(labelled.labelled_ground(source), 1, 8, held_out=False)
    held, h = grounds.examples(labelled.labelled_ground(source), 1, 8, held_out=True)
    assert (len(train), len(held)) == (81, 9) and labelled.classes_of(source) == 3
    assert h["class"].tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]  # files 9, 19, 29 of each
    assert torch.equal(held[0], classifier.real_data(source, 1, 8, True)[0][0])
    assert t["class"].bincount().tolist() == [27, 27, 27]


def test_an_idx_folder_holds_out_its_test_files_or_every_tenth(tmp_path):
    write_idx(tmp_path / "m", "train", n=50)
    source = f"idx:{tmp_path / 'm'}"
    assert len(grounds.examples(labelled.labelled_ground(source), 1, 6, held_out=True)[0]) == 5
    _, test_labels = write_idx(tmp_path / "m", "test", n=20, seed=3)
    labelled.classes_of.cache_clear()
    held, h = grounds.examples(labelled.labelled_ground(source), 1, 6, held_out=True)
    assert len(held) == 20 and h["class"].tolist() == test_labels.tolist()
    assert len(grounds.examples(labelled.labelled_ground(source), 1, 6, held_out=False)[0]) == 50


def test_eval_of_a_run_on_a_labelled_folder(tmp_path):
    folder = pattern_folder(tmp_path / "pets")
    spec = tmp_path / "c.gan"
    spec.write_text(CONDITIONAL.replace("class[10]", "class[3]"))
    Trainer(RunConfig(spec=str(spec), data=str(folder), steps=2, batch=9,
                      out=tmp_path / "run", progress=False)).run()
    said: list[str] = []
    result = evaluate(tmp_path / "run", n=30, log=said.append)
    assert result["classifier"]["data"] == f"folder:{folder}"
    assert result["classifier"]["held_out_accuracy"]["class"] == 1.0
    assert said and said[0].startswith(f"training the classifier of folder:{folder}")
    assert set(result["conditional"]["accuracy"]) == {"overall", "0", "1", "2"}
    # cached under the files' identity: a changed file trains a new one
    again: list[str] = []
    evaluate(tmp_path / "run", n=30, which=("fd",), log=again.append)
    assert again == []
    Image.new("L", (8, 8), 128).save(folder / "dark" / "00.png")
    for cached in (classifier.real_data, labelled.classes_of):
        cached.cache_clear()
    evaluate(tmp_path / "run", n=30, which=("fd",), log=again.append)
    assert len(again) == 1


def test_data_without_classes_has_no_classifier(tmp_path, capsys):
    from conftest import TINY

    from gandsl.cli import main

    folder = tmp_path / "plain"
    folder.mkdir()
    for i in range(10):
        Image.new("L", (8, 8), 20 * i).save(folder / f"{i}.png")
    spec = tmp_path / "t.gan"
    spec.write_text(TINY.replace("TRAIN", "").replace("batch 4", "batch 2"))
    Trainer(RunConfig(spec=str(spec), data=str(folder), steps=1, out=tmp_path / "run",
                      progress=False)).run()
    assert main(["eval", str(tmp_path / "run"), "--n", "10"]) == 2
    err = capsys.readouterr().err
    assert "which needs classes: digits, shapes, fashion_mnist, an IDX folder or an image " \
        "folder of class subfolders" in err
    assert f"this run's data is {folder}" in err and "--inception WEIGHTS" in err


def test_the_datasets_that_ship_are_grounds_like_any_labelled_folder(tmp_path):
    """One way to read, split and train: digits' held-out side is its test split, shapes'
    heads are its scenes', a folder's every tenth image."""
    digits = classifier.ground("digits")
    images, targets = grounds.examples(digits, 1, 8, held_out=True)
    assert (len(images), list(targets)) == (297, ["class"])
    assert classifier.ground("shapes").heads == {"kind": 5, "color": 4, "size": 2, "dark": 2}
    folder = classifier.ground(f"folder:{pattern_folder(tmp_path / 'pets')}")
    assert (folder.heads, folder.held_out, folder.training(81)) == ({"class": 3}, None,
                                                                    (800, 64))
    assert set(classifier.SOURCES) == set(grounds.SHIPPED)
    with pytest.raises(ValueError):
        classifier.ground("cifar")
