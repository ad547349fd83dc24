"""`gandsl eval` end to end: a perfect conditional generator scores the classifier's own
held-out accuracy, real data sits at the floor, noise far above it, and bad requests are
errors that name what was expected."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch
from conftest import CONDITIONAL, ROOT, TINY

from gandsl.eval.classifier import judge, real_data
from gandsl.eval.labels import accuracy, as_labels
from gandsl.eval.metrics import frechet_distance
from gandsl.eval.run import evaluate, measure
from gandsl.train.config import RunConfig, RunError
from gandsl.train.trainer import Trainer


@pytest.fixture(scope="module")
def digits_judge():
    return judge("digits", 1, 8, log=lambda *_: None)  # trained once per test session


def test_a_perfect_conditional_generator_scores_the_classifiers_accuracy(digits_judge):
    images, targets = real_data("digits", 1, 8, held_out=True)
    pred = as_labels("digits", digits_judge.predict(images), "class", 10)
    acc = accuracy(pred, targets["class"], "class")
    assert acc["overall"] == pytest.approx(digits_judge.accuracy["class"])
    assert digits_judge.accuracy["class"] > 0.9
    assert set(acc) == {"overall", *map(str, range(10))}


def test_real_data_is_near_the_floor_and_noise_far_above(digits_judge):
    train, _ = real_data("digits", 1, 8, held_out=False)
    held, _ = real_data("digits", 1, 8, held_out=True)
    f = {k: digits_judge.features(x).double().numpy()
         for k, x in (("a", train[:700]), ("b", train[700:1400]), ("held", held))}
    noise = digits_judge.features(torch.rand(297, 1, 8, 8) * 2 - 1).double().numpy()
    floor = frechet_distance(f["a"], f["held"])
    assert frechet_distance(f["a"], f["b"]) < 2 * floor
    assert frechet_distance(f["a"], noise) > 10 * floor


def test_measure_against_one_class_puts_that_class_at_its_floor(digits_judge):
    # a translation's target domain: the held-out threes are the floor itself, sevens are far
    held, t = real_data("digits", 1, 8, held_out=True)
    threes, sevens = held[t["class"] == 3], held[t["class"] == 7]
    fd3, floor3 = measure(digits_judge, threes, ("fd",), only=("class", 3))
    fd7, floor7 = measure(digits_judge, sevens, ("fd",), only=("class", 3))
    assert fd3["fd"] == pytest.approx(floor3["fd"])
    assert fd7["fd"] > 5 * floor7["fd"]
    everything, _ = measure(digits_judge, threes, ("fd",))
    assert everything["fd"] > 2 * fd3["fd"]  # threes are far from all ten digits


def test_the_classifier_is_cached(digits_judge, tmp_path):
    again = judge("digits", 1, 8, log=lambda *_: pytest.fail("trained twice"))
    assert again.accuracy == digits_judge.accuracy
    x = torch.rand(4, 1, 8, 8)
    assert torch.equal(again.features(x), digits_judge.features(x))


SPEC = "gan tiny\n" + CONDITIONAL


def test_eval_of_a_run_writes_every_figure(tmp_path, digits_judge):
    spec = tmp_path / "tiny.gan"
    spec.write_text(SPEC)
    Trainer(RunConfig(spec=str(spec), steps=2, out=tmp_path / "run", progress=False)).run()
    result = evaluate(tmp_path / "run", n=300, log=lambda *_: None)
    saved = json.loads((tmp_path / "run" / "eval.json").read_text())
    assert saved["samples"] == 300 and saved["step"] == 2
    assert set(saved["metrics"]) == set(saved["floor"]) == {"fd", "kid", "precision",
                                                            "recall"}
    assert saved["metrics"]["fd"] > saved["floor"]["fd"]  # 2 steps: far from the data
    assert saved["conditional"]["labels"] == "class[10]"
    assert 0 <= saved["conditional"]["accuracy"]["overall"] <= 1
    assert saved["classifier"]["held_out_accuracy"] == digits_judge.accuracy
    assert result["metrics"]["fd"] == saved["metrics"]["fd"]


def test_eval_errors(tmp_path):
    with pytest.raises(RunError, match="--metrics fid: expected some of fd, kid, pr, cond"):
        evaluate(tmp_path, which=("fid",))
    with pytest.raises(RunError, match="--metrics: no metric named; expected some of fd"):
        evaluate(tmp_path, which=())
    run = subprocess.run([sys.executable, "-m", "gandsl", "eval", str(tmp_path / "nowhere")],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert "nowhere" in run.stderr


def test_a_condition_check_of_an_unconditional_run_is_refused_and_keeps_eval_json(tmp_path):
    spec = tmp_path / "tiny.gan"
    spec.write_text(TINY.replace("TRAIN", ""))
    Trainer(RunConfig(spec=str(spec), steps=1, out=tmp_path / "run", progress=False)).run()
    (tmp_path / "run" / "eval.json").write_text("{}")
    with pytest.raises(RunError, match="--metrics cond: .* is given no labels"):
        evaluate(tmp_path / "run", which=("cond",), log=lambda *_: None)
    assert (tmp_path / "run" / "eval.json").read_text() == "{}"


def test_curve_evaluates_every_checkpoint_and_plots(tmp_path, digits_judge):
    from PIL import Image

    from gandsl.eval.curve import curve

    spec = tmp_path / "tiny.gan"
    spec.write_text(SPEC)
    Trainer(RunConfig(spec=str(spec), steps=2, out=tmp_path / "run", progress=False,
                      checkpoint_every=1)).run()
    data, image = curve(tmp_path / "run", n=100, log=lambda *_: None)
    points = json.loads(data.read_text())
    assert [p["step"] for p in points] == [1, 2]
    assert all("fd" in p["metrics"] and "conditional" in p for p in points)
    assert Image.open(image).size == (720, 220)  # two panels: distance and accuracy


def test_curve_follows_a_translations_figures():
    from gandsl.eval.curve import _figures, _floors

    point = {"metrics": {"fd": 9.0}, "floor": {"fd": 1.0},
             "translation": {"fake": {"from": "x", "changed_accuracy": 0.8,
                                      "kept_accuracy": 0.9, "target_fd": 2.0,
                                      "target_fd_floor": 0.5},
                             "G_fake": {"from": "x", "reconstruction_l1": 0.1}}}
    assert _figures(point) == {"Fréchet distance": 9.0, "fake: changed": 0.8,
                               "fake: kept": 0.9, "fake: distance to target": 2.0}
    assert _floors(point) == {"Fréchet distance": 1.0, "fake: distance to target": 0.5}


def test_comparison_table_puts_wall_times_side_by_side():
    from gandsl.eval.run import comparison

    table = comparison([("Fréchet distance", 4.795, 11.24)], (516.2, 522.7))
    assert table.splitlines()[2:] == ["| Fréchet distance | 4.79 | 11.2 |",
                                      "| training wall time (s) | 516 | 523 |"]
    # a checkpoint from before gandsl recorded its time: no row rather than a guess
    assert "wall time" not in comparison([("KID", 0.1, 0.2)], (None, 87.0))


def test_within_class_diversity_is_the_floor_for_real_images_and_zero_for_one_per_class(
        digits_judge):
    from gandsl.eval.run import within_class

    held, t = real_data("digits", 1, 8, held_out=True)
    real = within_class(digits_judge, held, t["class"])
    assert real["classes"] == 10  # ~30 held-out images of each digit
    for c in real["per_class"].values():
        assert (c["precision"], c["recall"]) == (c["precision_floor"], c["recall_floor"])
    assert real["recall"] > 0.5
    # one image per class, repeated: every class's samples cover none of its real spread
    first = {c: held[t["class"] == c][0] for c in range(10)}
    collapsed = torch.stack([first[int(c)] for c in t["class"]])
    one = within_class(digits_judge, collapsed, t["class"])
    assert one["recall"] < 0.1 and one["recall_floor"] == real["recall_floor"]
    # a class with fewer samples than `least` is left out of the means
    assert within_class(digits_judge, held[:50], t["class"][:50])["classes"] == 0
