"""`gandsl eval` of a run on Fashion-MNIST: its classifier is trained on the training split and
judged on the test split (`t10k-…`), found as `--data fashion-mnist` finds them. The files here
are a small fixture under $GANDSL_DATA/fashion-mnist, and the classifier's training is cut
short: what is tested is the wiring (which split is which, labels read back, the run's data
choosing the classifier), not the classifier's quality, which the results benchmark reports."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from conftest import CONDITIONAL, write_idx

from gandsl.data import idx as idx_module
from gandsl.eval import classifier, grounds
from gandsl.eval.run import evaluate
from gandsl.train.config import RunConfig
from gandsl.train.trainer import Trainer

SPEC = CONDITIONAL.replace("data digits:", "data fm:").replace("digits()", "fashion_mnist()") \
    .replace("x, y ~ digits", "x, y ~ fm")


@pytest.fixture
def fashion(tmp_path, monkeypatch):
    folder = tmp_path / "data" / "fashion-mnist"
    train = write_idx(folder, "train", n=200, seed=1)
    test = write_idx(folder, "test", n=60, seed=2)
    monkeypatch.setenv("GANDSL_DATA", str(tmp_path / "data"))
    monkeypatch.setitem(grounds.SHIPPED, "fashion_mnist",
                        replace(grounds.SHIPPED["fashion_mnist"], steps=20, batch=32))
    for cached in (idx_module.load_split, classifier.real_data):
        cached.cache_clear()
    yield train, test
    for cached in (idx_module.load_split, classifier.real_data):
        cached.cache_clear()


def test_the_held_out_set_is_the_test_split(fashion):
    (_, train_labels), (test_images, test_labels) = fashion
    held, targets = classifier.real_data("fashion_mnist", 1, 6, held_out=True)
    assert held.shape == (60, 1, 6, 6)  # resized from the files' 6×5
    assert torch.equal(targets["class"], torch.from_numpy(test_labels.astype(np.int64)))
    real, targets = classifier.real_data("fashion_mnist", 1, 6, held_out=False)
    assert len(real) == 200 and torch.equal(
        targets["class"], torch.from_numpy(train_labels.astype(np.int64)))


def test_eval_of_a_fashion_mnist_run_uses_its_classifier(tmp_path, fashion):
    spec = tmp_path / "fm.gan"
    spec.write_text(SPEC)
    Trainer(RunConfig(spec=str(spec), steps=2, batch=16, out=tmp_path / "run",
                      progress=False)).run()
    result = evaluate(tmp_path / "run", n=60, log=lambda *_: None)
    assert result["classifier"]["data"] == "fashion_mnist"
    assert result["classifier"]["image"] == [1, 8, 8]
    assert set(result["conditional"]["accuracy"]) == {"overall", *map(str, range(10))}
    # the same with the flag's spelling, for a run trained on another source
    again = evaluate(tmp_path / "run", data="fashion-mnist", n=60, which=("fd",),
                     log=lambda *_: None)
    assert again["classifier"]["data"] == "fashion_mnist"
