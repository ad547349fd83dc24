"""The parts a `Trainer` is built from, each on its own (issue 16, item 5): the optimizers and
their schedules, the logging of an iteration's terms; and the run's choice of kernels, from
`gandsl train --kernels` to the fused ops."""

from __future__ import annotations

import csv
import warnings

import pytest
import torch
from conftest import TINY

import gandsl
from gandsl.cli import main
from gandsl.kernels import dispatch
from gandsl.kernels import penalty as fused_penalty
from gandsl.train.log import StepLog, columns
from gandsl.train.metrics import Metrics
from gandsl.train.optimizers import PlayerOptimizers

TWO_OPTIMIZERS = TINY.replace("adam G (lr=1e-3)", "adam G (lr=2e-4, betas=(0.0, 0.99))").replace(
    "adam D (lr=1e-3)", "sgd D (lr=0.05, momentum=0.5)").replace(
    "TRAIN", "lr G linear_decay(start=0, end=4)")


def test_the_optimizers_part_builds_each_players_optimizer(tmp_path):
    spec = tmp_path / "two.gan"
    spec.write_text(TWO_OPTIMIZERS)
    loaded = gandsl.load(spec)
    networks = {name: cls() for name, cls in loaded.classes.items()}
    players = dict(loaded.module.PLAYERS)
    opt = PlayerOptimizers(loaded.module.Objective(networks), players, networks,
                           loaded.spec.train, total=8)
    g, d = opt.optimizers["G"], opt.optimizers["D"]
    assert isinstance(g, torch.optim.Adam) and isinstance(d, torch.optim.SGD)
    assert (g.param_groups[0]["lr"], g.param_groups[0]["betas"]) == (2e-4, (0.0, 0.99))
    assert (d.param_groups[0]["lr"], d.param_groups[0]["momentum"]) == (0.05, 0.5)
    # each player steps the parameters of its own networks, and only those
    assert [id(p) for p in opt.params["G"]] == [id(p) for p in networks["G"].parameters()]
    assert [id(p) for p in opt.params["D"]] == [id(p) for p in networks["D"].parameters()]
    opt.set_lr(2)  # G's linear decay from step 0 to 4 is halfway; D has no schedule
    assert g.param_groups[0]["lr"] == pytest.approx(1e-4)
    assert d.param_groups[0]["lr"] == 0.05 and d.param_groups[0]["momentum"] == 0.5


def test_the_logging_part_averages_a_players_steps_and_writes_the_rows(tmp_path):
    names = columns({"D": ["gan_d", "r1"], "G": ["gan_g"]}, {"k": 0.0}, grow=True)
    assert names == ["D/loss", "D/gan_d", "D/r1", "G/loss", "G/gan_g", "state/k", "grow/level"]
    log = StepLog()
    log.record("D", torch.tensor(1.0), {"gan_d": torch.tensor(0.5)})
    log.record("D", torch.tensor(3.0), {"gan_d": torch.tensor(1.5)})  # two D steps: the mean
    log.record("G", torch.tensor(2.0), {"gan_g": torch.tensor(2.0)})
    values = log.means()
    assert {k: v.item() for k, v in values.items()} == {"D/loss": 2.0, "D/gan_d": 1.0,
                                                        "G/loss": 2.0, "G/gan_g": 2.0}
    log.clear()
    assert log.means() == {}

    metrics = Metrics(tmp_path / "metrics.csv", names, tensorboard=False)
    metrics.add(0, values)
    metrics.add(1, {"G/loss": torch.tensor(0.25), "state/k": torch.tensor(0.125)})
    last = metrics.flush()
    assert (last["G/loss"], last["state/k"]) == (0.25, 0.125)
    metrics.close()
    with open(tmp_path / "metrics.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows == [["step", *names],
                    ["0", "2", "1", "nan", "2", "2", "nan", "nan"],
                    ["1", "nan", "nan", "nan", "0.25", "nan", "0.125", "nan"]]


# ---- the choice of kernels -----------------------------------------------------------------


@pytest.fixture
def spy(monkeypatch):
    """What the penalty kernels were asked and answered: (the run's choice, Triton or not)."""
    monkeypatch.setattr(dispatch, "_warned", set())
    seen: list[tuple[str, bool]] = []
    real = fused_penalty.use_triton

    def recording(op, impl, *tensors):
        answer = real(op, impl, *tensors)
        seen.append((dispatch.chosen(), answer))
        return answer

    monkeypatch.setattr(fused_penalty, "use_triton", recording)
    return seen


def train(tmp_path, *flags: str) -> int:
    spec = tmp_path / "tiny.gan"
    spec.write_text(TINY.replace("TRAIN", ""))
    return main(["train", str(spec), "--data", "digits", "--steps", "1", "--device", "cpu",
                 "--no-progress", "--out", str(tmp_path / "run"), *flags])


def test_kernels_ref_never_takes_the_triton_path(tmp_path, spy, monkeypatch):
    monkeypatch.setenv("TRITON_INTERPRET", "1")  # Triton could run here: ref still says no
    monkeypatch.setenv(dispatch.KERNELS_ENV, "triton")  # the flag overrides the default
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        assert train(tmp_path, "--kernels", "ref") == 0
    assert spy == [("ref", False)]  # R1 at step 0, as the reference


def test_kernels_triton_asks_for_the_kernels(tmp_path, spy, monkeypatch):
    monkeypatch.setattr(dispatch, "triton_installed", lambda: False)
    with pytest.warns(RuntimeWarning, match=r"r1_penalty: Triton cannot run here \(triton is "
                                            r"not installed\)"):
        assert train(tmp_path, "--kernels", "triton") == 0
    assert spy == [("triton", False)]


def test_the_environment_is_the_default(tmp_path, spy, monkeypatch):
    monkeypatch.setenv(dispatch.KERNELS_ENV, "ref")
    assert train(tmp_path) == 0
    assert spy == [("ref", False)]
    assert dispatch.chosen() == "ref"  # outside the run: the environment, nothing left set
    monkeypatch.delenv(dispatch.KERNELS_ENV)
    assert dispatch.chosen() == "auto"


def test_a_bad_choice_is_exit_2_naming_the_choices(tmp_path, capsys, monkeypatch):
    with pytest.raises(SystemExit) as e:
        train(tmp_path, "--kernels", "fast")
    assert e.value.code == 2
    assert "invalid choice: 'fast' (choose from 'triton', 'ref', 'auto')" in \
        capsys.readouterr().err
    monkeypatch.setenv(dispatch.KERNELS_ENV, "fast")
    assert train(tmp_path) == 2
    assert "GANDSL_KERNELS must be one of ref, triton, auto, got 'fast'" in \
        capsys.readouterr().err


def test_the_choice_holds_inside_its_block_only(monkeypatch):
    monkeypatch.delenv(dispatch.KERNELS_ENV, raising=False)
    x = torch.zeros(2)
    with dispatch.kernels("ref"):
        assert dispatch.chosen() == "ref" and not dispatch.use_triton("op", "auto", x)
        with dispatch.kernels("triton"):
            assert dispatch.chosen() == "triton"
        assert dispatch.chosen() == "ref"
    assert dispatch.chosen() == "auto"
    with pytest.raises(ValueError, match="kernels must be one of ref, triton, auto"):
        with dispatch.kernels("fast"):
            pass
