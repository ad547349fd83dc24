"""`gandsl bench`: the iterations `gandsl train` runs, timed and split by player and data, in
a run directory that is gone afterwards; the printed table and estimate."""

from __future__ import annotations

import os
import tempfile
from collections import Counter

import pytest
from conftest import TINY

from gandsl.cli import main
from gandsl.kernels.dispatch import KERNELS_ENV
from gandsl.train.bench import Bench, _duration, bench, table
from gandsl.train.config import RunConfig, RunError


@pytest.fixture
def spec(tmp_path, monkeypatch):
    """TINY with two D steps per G step; temporary files go to tmp_path/tmp."""
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    path = tmp_path / "tiny.gan"
    path.write_text(TINY.replace("TRAIN", "D steps 2 per G step\n  steps 3000"))
    return path


def test_bench_times_each_player_and_the_data_and_leaves_nothing(spec, tmp_path):
    result = bench(RunConfig(spec=str(spec), device="cpu"), iters=4, warmup=1, kernels="ref")
    assert len(result.iterations) == 4 and all(t > 0 for t in result.iterations)
    assert result.steps == Counter({"D": 8, "G": 4})  # two D steps and one G step each
    assert set(result.players) == {"D", "G"} and result.data > 0
    assert sum(result.players.values()) + result.data <= sum(result.iterations)
    assert (result.batch, result.total_steps, result.device) == (4, 3000, "cpu")
    assert not list((tmp_path / "tmp").glob("gandsl-bench-*"))  # the run directory is gone
    assert KERNELS_ENV not in os.environ  # --kernels ref only for the bench


def test_gandsl_bench_prints_the_table(spec, capsys):
    assert main(["bench", str(spec), "--iters", "3", "--warmup", "0", "--steps", "600",
                 "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert f"{spec} on cpu, batch 4" in out and ": 3 iterations timed" in out
    assert "(2.00 steps per iteration)" not in out  # the row also gives ms per step
    assert "ms per step, 2.00 steps per iteration)" in out
    assert "ms per step, 1.00 steps per iteration)" in out
    assert "600 iterations at this speed:" in out


def test_the_table_reads_the_measurement():
    b = Bench(spec="s.gan", device="cuda:0", batch=16, total_steps=200_000,
              iterations=[0.1, 0.1, 0.1, 0.5], players={"D": 0.6, "G": 0.16},
              steps=Counter({"D": 20, "G": 4}), data=0.02, peak_memory=3 * 2**30)
    lines = table(b).splitlines()
    assert lines[2].startswith("iteration      200.0 ms mean  (median 100.0, p90 500.0)  5.00 it/s")
    assert lines[3] == "  D            150.0 ms per iteration  (30.0 ms per step, 5.00 steps per " \
        "iteration)"
    assert lines[4] == "  G             40.0 ms per iteration  (40.0 ms per step, 1.00 steps per " \
        "iteration)"
    assert lines[5] == "  data           5.0 ms per iteration"
    assert lines[6] == "  other          5.0 ms per iteration  (metrics, schedules, state)"
    assert lines[7] == "peak CUDA memory  3,072 MiB"
    assert lines[8] == "200,000 iterations at this speed: 11 h 07 min (without sample grids and " \
        "checkpoints)"


@pytest.mark.parametrize("seconds,text", [(42, "42 s"), (600, "10 min"),
                                          (3 * 3600 + 125, "3 h 02 min"),
                                          (100 * 3600, "4.2 days")])
def test_durations(seconds, text):
    assert _duration(seconds) == text



def test_at_step_must_be_inside_the_run(spec):
    with pytest.raises(RunError, match="--at-step 3000: the run has 3,000 iterations"):
        bench(RunConfig(spec=str(spec), device="cpu"), iters=1, warmup=0, at_step=3000)


def test_at_step_times_the_iterations_of_that_point_of_the_run(tmp_path):
    spec = tmp_path / "ramp.gan"
    spec.write_text(TINY.replace(" + 10 * r1(D, x) every 4", "").replace(
        "TRAIN", "D steps 3 per G step if step < 10\n  D steps 1 per G step"))
    config = RunConfig(spec=str(spec), device="cpu")
    early = bench(config, iters=2, warmup=0)
    late = bench(config, iters=2, warmup=1, at_step=10)
    assert early.steps == Counter({"D": 6, "G": 2}) and early.at_step == 0
    assert late.steps == Counter({"D": 2, "G": 2}) and late.at_step == 10
    assert ": 2 iterations timed from iteration 10\n" in table(late)


def test_the_gpu_scripts_bench_commands_parse_and_their_specs_check():
    """benchmarks/on_gpu.sh runs where GPU time is short: its commands must not fail on a flag
    or a spec."""
    import shlex
    from pathlib import Path

    from gandsl.cli import build_parser
    from gandsl.pipeline import check_source, read_spec

    root = Path(__file__).resolve().parents[2]
    script = (root / "benchmarks" / "on_gpu.sh").read_text().replace("\\\n", " ")
    commands = [line.split("-m gandsl", 1)[1].split(" 2>&1")[0] for line in script.splitlines()
                if "-m gandsl bench" in line]
    assert len(commands) == 3
    for command in commands:
        args = build_parser().parse_args(shlex.split(command.replace('"$kernels"', "ref")))
        assert args.device == "cuda" and args.kernels == "ref"
        params = dict(args.param or [])
        check_source(read_spec(root / args.spec), args.spec, params)
