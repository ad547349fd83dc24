"""A run without a terminal prints a line every N iterations (iteration, speed, each player's
loss, ETA); `--threads N` sets torch's CPU threads and config.json records them."""

from __future__ import annotations

import json

import pytest
import torch
from conftest import TINY

from gandsl.cli import main
from gandsl.train.config import RunConfig, RunError
from gandsl.train.log import ProgressLines
from gandsl.train.trainer import Trainer


def test_a_line_gives_step_speed_losses_and_eta():
    clock = iter([10.0, 12.0, 14.5])  # the start, then each line's time
    said: list[str] = []
    lines = ProgressLines(1000, 0, 100, clock=lambda: next(clock),
                          out=lambda text, flush: said.append(text))
    lines.write(100, {"D/loss": 0.69314, "D/gan_d": 0.7, "G/loss": 1.5})
    lines.write(200, {"D/loss": 0.5, "G/loss": 2.0})
    assert said == ["step 100/1,000  50.0 it/s  D/loss 0.6931  G/loss 1.5  ETA 18s",
                    "step 200/1,000  40.0 it/s  D/loss 0.5  G/loss 2  ETA 20s"]


def test_a_run_without_a_bar_prints_every_n_and_at_the_end(tmp_path, capsys):
    spec = tmp_path / "tiny.gan"
    spec.write_text(TINY.replace("TRAIN", ""))
    before = torch.get_num_threads()
    try:
        Trainer(RunConfig(spec=str(spec), data="digits", steps=7, out=tmp_path / "run",
                          progress=False, print_every=3, log_every=1, sample_every=1000,
                          threads=1)).run()
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
    printed = [x for x in capsys.readouterr().out.splitlines() if x.startswith("step ")]
    assert [x.split("  ")[0] for x in printed] == ["step 3/7", "step 6/7", "step 7/7"]
    assert all("D/loss " in x and "G/loss " in x and " it/s" in x for x in printed)
    assert json.loads((tmp_path / "run" / "config.json").read_text())["threads"] == 1


def test_threads_is_a_positive_number(tmp_path, capsys):
    with pytest.raises(RunError, match="--threads 0: expected a whole number of at least 1"):
        RunConfig(spec="x.gan", threads=0)
    with pytest.raises(SystemExit) as e:  # argparse's usage error
        main(["train", "specs/cgan.gan", "--threads", "0"])
    assert e.value.code == 2
    assert "--threads: expected a positive integer, got '0'" in capsys.readouterr().err
