"""Data-parallel training (`gandsl train --nproc N`, torchrun): two CPU processes with gloo
take the steps one process takes on the same global batch, resume on any number of
processes, and only rank 0 writes the run."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from conftest import ROOT, TINY
from conftest import TRAIN_SMALL as SMALL
from safetensors.torch import load_file

from gandsl import shard
from gandsl.data.sampler import EpochBatchSampler
from gandsl.train import checkpoint as ckpt
from gandsl.train.draw import TrainDraw
from gandsl.train.launch import ERRORS_ENV, report, say_error, without_nproc

pytestmark = pytest.mark.skipif(not torch.distributed.is_available(),
                                reason="torch.distributed is not available")


def train(*args: str, torchrun: bool = False) -> str:
    """`gandsl train ARGS` in a fresh interpreter; with `torchrun`, two processes started by
    torchrun itself (not through --nproc)."""
    if torchrun:
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
                   "--nproc-per-node=2", "-m", "gandsl", "train", *args]
    else:
        command = [sys.executable, "-m", "gandsl", "train", *args]
    env = {**os.environ, "NO_COLOR": "1"}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def tensors(run: Path) -> dict[str, torch.Tensor]:
    return load_file(ckpt.find(run) / "weights.safetensors")


def assert_same_training(one: Path, two: Path) -> None:
    """Each network (and EMA copy) of `two` equals that of `one` to 1e-6 relative, in the
    norm of all its weights and running statistics; torch's random state is the same bit for
    bit (every draw had the global batch's shape), and so are the data positions."""
    a, b = tensors(one), tensors(two)
    assert a.keys() == b.keys()
    nets = sorted({"/".join(k.split("/")[:2]) for k in a if k.startswith(("net/", "ema/"))})
    assert nets
    for net in nets:
        keys = [k for k in a if k.startswith(net + "/") and a[k].is_floating_point()]
        x = torch.cat([a[k].double().flatten() for k in keys])
        y = torch.cat([b[k].double().flatten() for k in keys])
        error = ((x - y).norm() / x.norm()).item()
        assert error <= 1e-6, f"{net}: relative difference {error:.2e}"
        for k in a:  # counters (batch norm's num_batches_tracked) are exact
            if k.startswith(net + "/") and not a[k].is_floating_point():
                assert torch.equal(a[k], b[k]), k
    assert torch.equal(a["rng/torch"], b["rng/torch"])
    state_a, state_b = (ckpt.load(r)[1] for r in (one, two))
    assert state_a["step"] == state_b["step"] and state_a["data"] == state_b["data"]


def metric_rows(run: Path) -> list[list[float]]:
    with open(run / "metrics.csv", newline="") as f:
        rows = list(csv.reader(f))[1:]
    return [[float(v) for v in row] for row in rows]


def assert_same_metrics(one: Path, two: Path) -> None:
    """The logged losses are the global batch's: the processes' means, averaged (a lazy
    term that did not run is empty, nan, in both)."""
    a, b = metric_rows(one), metric_rows(two)
    assert len(a) == len(b)
    for ra, rb in zip(a, b, strict=True):
        assert ra == pytest.approx(rb, rel=1e-4, abs=1e-6, nan_ok=True)


def small_run(spec: Path | str, name: str, batch: int, steps: int = 3) -> list[str]:
    """`gandsl train` flags for `spec` at the suite's tiny params of spec `name` (SMALL)."""
    params, data = SMALL[name]
    flags = [str(spec), "--data", data, "--batch", str(batch), "--steps", str(steps),
             "--device", "cpu", "--no-progress", "--sample-every", str(steps)]
    for key, value in params.items():
        flags += ["--param", f"{key}={value}"]
    return flags


def synced_dcgan(tmp_path: Path) -> Path:
    """A copy of DCGAN with every batch norm synchronized (`batch_norm(sync=true)`)."""
    spec = tmp_path / "dcgan_sync.gan"
    spec.write_text((ROOT / "specs" / "dcgan.gan").read_text().replace(
        "batch_norm", "batch_norm(sync=true)"))
    assert spec.read_text().count("sync=true") == 3  # in loops: all of G and D
    return spec


def test_stargan_on_two_processes_equals_one(tmp_path):
    """StarGAN (gradient penalty with a random α per sample, shuffled target labels, five D
    steps per G step, instance norm's running statistics) on 2 processes × 2 samples takes
    the steps 1 process takes on batches of 4.

    Adam's eps is raised from 1e-8 to 1e-4 in a copy of the spec: Adam divides each gradient
    by its own size, so a gradient that is zero in exact arithmetic (G's first convolution on
    the constant label channels, whose effect instance norm removes) is rounding noise whose
    sign depends on the order of the sums, and Adam turns it into a step of ±lr. Two runs on
    one process with 1 and 2 threads differ the same way (0.3% in that convolution after one
    iteration); with eps above the noise, what remains is the difference of the sums' order."""
    spec = tmp_path / "stargan.gan"
    text = (ROOT / "specs" / "stargan.gan").read_text()
    spec.write_text(text.replace("betas=(0.5, 0.999))", "betas=(0.5, 0.999), eps=1e-4)"))
    assert spec.read_text().count("eps=1e-4") == 2
    common = small_run(spec, "stargan", 4)
    train(*common, "--out", str(tmp_path / "one"))
    said = train(*common, "--out", str(tmp_path / "two"), "--nproc", "2")
    assert "trained 3 iterations on 2 processes" in said
    assert_same_training(tmp_path / "one", tmp_path / "two")
    assert_same_metrics(tmp_path / "one", tmp_path / "two")
    # rank 0 alone wrote the run: one grid per sampled step, one event file, no second run
    # directory from rank 1's choice of --out
    assert [p.name for p in (tmp_path / "two" / "samples").iterdir()] == ["step_0000003.png"]
    events = list((tmp_path / "two").glob("tensorboard/events.*"))
    assert len(events) <= 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one", "stargan.gan", "two"]


def test_sync_batch_norm_on_two_processes_equals_one_and_plain_batch_norm_does_not(tmp_path):
    """DCGAN's batch norms with `sync=true` normalize by the global batch's statistics
    (forward and backward), so 2 processes × 4 samples take the steps of 1 process on 8;
    with plain batch norm each process normalizes by its own 4 and the runs part."""
    synced = small_run(synced_dcgan(tmp_path), "dcgan", 8)
    train(*synced, "--out", str(tmp_path / "one"))
    train(*synced, "--out", str(tmp_path / "two"), "--nproc", "2")
    assert_same_training(tmp_path / "one", tmp_path / "two")
    assert_same_metrics(tmp_path / "one", tmp_path / "two")
    plain = small_run(ROOT / "specs" / "dcgan.gan", "dcgan", 8)
    train(*plain, "--out", str(tmp_path / "plain-one"))
    train(*plain, "--out", str(tmp_path / "plain-two"), "--nproc", "2")
    with pytest.raises(AssertionError, match="relative difference"):
        assert_same_training(tmp_path / "plain-one", tmp_path / "plain-two")


def test_lazy_r1_and_ema_on_two_processes_and_resume_on_any_number(tmp_path):
    """A spec with R1 every 4 steps (weight × 4) and an EMA of G, 8 iterations: one process
    straight through; torchrun with 2 processes for 4 iterations, then resumed to 8 on 2
    processes and, from a copy of the same checkpoint, on 1 process. All three end equal."""
    spec = tmp_path / "tiny.gan"
    spec.write_text(TINY.replace("TRAIN", "ema G (decay=0.9)"))
    common = [str(spec), "--data", "digits", "--device", "cpu", "--no-progress",
              "--sample-every", "1000"]
    train(*common, "--steps", "8", "--out", str(tmp_path / "one"))
    train(*common, "--steps", "4", "--out", str(tmp_path / "two"), torchrun=True)
    shutil.copytree(tmp_path / "two", tmp_path / "two-then-one")
    train(*common, "--steps", "8", "--resume", str(tmp_path / "two"), "--nproc", "2")
    train(*common, "--steps", "8", "--resume", str(tmp_path / "two-then-one"))
    assert "ema/G/linear_1.weight" in tensors(tmp_path / "one")
    for run in ("two", "two-then-one"):
        assert_same_training(tmp_path / "one", tmp_path / run)
        assert_same_metrics(tmp_path / "one", tmp_path / run)


def _worker(launcher: int, rank: int) -> int | None:
    """The pid of the worker process of `rank` that torchrun (pid `launcher`) started."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            env = (stat.parent / "environ").read_bytes().split(b"\0")
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile, or not ours to read
        if parent == launcher and f"RANK={rank}".encode() in env:
            return int(stat.parent.name)
    return None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds workers in /proc")
def test_two_nodes_joined_by_rendezvous_equal_one_process(tmp_path):
    """Two torchrun agents, as on two machines (here both on localhost), each with one
    process, joined by torchrun's c10d rendezvous as docs/distributed.md shows: the run
    equals one process's on the same global batch, and only the node of rank 0 writes."""
    import socket

    with socket.socket() as sock:  # a free port for the rendezvous
        sock.bind(("localhost", 0))
        port = sock.getsockname()[1]
    # global batch norm statistics: equal to 1 process
    common = small_run(synced_dcgan(tmp_path), "dcgan", 8)
    train(*common, "--out", str(tmp_path / "one"))
    env = {**os.environ, "NO_COLOR": "1", "OMP_NUM_THREADS": "1"}
    nodes = [subprocess.Popen(
        [sys.executable, "-m", "torch.distributed.run", "--nnodes=2", "--nproc-per-node=1",
         "--rdzv-backend=c10d", f"--rdzv-endpoint=localhost:{port}", "--rdzv-id=two-nodes",
         # both "machines" are localhost: say which one serves the rendezvous store, or
         # both may try to
         f"--rdzv-conf=is_host={node == 0}", "-m", "gandsl", "train", *common,
         "--out", str(tmp_path / "two")],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for node in range(2)]
    said = [node.communicate(timeout=180)[0] for node in nodes]
    assert [node.returncode for node in nodes] == [0, 0], said
    assert sum("trained 3 iterations on 2 processes" in s for s in said) == 1
    assert_same_training(tmp_path / "one", tmp_path / "two")


def test_a_killed_worker_is_restarted_from_the_last_checkpoint(tmp_path):
    """torchrun --max-restarts=1: rank 1 is killed mid-run; torchrun stops rank 0 and starts
    both again with the same command line, which continues from the last checkpoint; the
    run finishes with every iteration logged once and a final checkpoint that loads."""
    spec = tmp_path / "tiny.gan"
    spec.write_text(TINY.replace("TRAIN", "ema G (decay=0.9)"))
    out = tmp_path / "run"
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               "--nproc-per-node=2", "--max-restarts=1", "-m", "gandsl", "train", str(spec),
               "--data", "digits", "--device", "cpu", "--no-progress", "--steps", "600",
               "--checkpoint-every", "100", "--sample-every", "1000", "--out", str(out)]
    log = tmp_path / "log"  # files, not pipes: a worker left behind cannot block the test
    with open(log, "w") as sink:
        launcher = subprocess.Popen(command, cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT)
    try:
        latest = out / "checkpoints" / "latest.json"
        for _ in range(1200):  # up to 60 s for the first checkpoint
            if latest.exists() or launcher.poll() is not None:
                break
            time.sleep(0.05)
        victim = _worker(launcher.pid, 1)
        assert victim is not None and launcher.poll() is None, "the run ended before the kill"
        killed_at = ckpt.load(out)[1]["step"]
        os.kill(victim, signal.SIGKILL)
        launcher.wait(timeout=120)
    finally:
        if launcher.poll() is None:  # torchrun stops its workers on SIGTERM
            launcher.terminate()
            launcher.wait(timeout=30)
    said = log.read_text()
    assert launcher.returncode == 0, said
    assert killed_at < 600
    assert "trained 600 iterations on 2 processes" in said
    tensors, state = ckpt.load(out)
    assert state["step"] == 600 and "ema/G/linear_1.weight" in tensors
    assert [int(r[0]) for r in metric_rows(out)] == list(range(600))


def test_a_batch_that_does_not_split_is_refused(tmp_path):
    """A global batch must split into equal shards: said once for all the processes, before
    training, with the status one process gives (2), no traceback, and nothing is written."""
    spec = tmp_path / "tiny.gan"
    spec.write_text(TINY.replace("TRAIN", ""))
    command = [sys.executable, "-m", "gandsl", "train", str(spec), "--data", "digits",
               "--device", "cpu", "--batch", "3", "--steps", "1", "--nproc", "2",
               "--out", str(tmp_path / "run")]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert done.returncode == 2
    assert done.stderr.count("batch 3 does not split into 2 equal shards") == 1, done.stderr
    assert "Traceback" not in done.stderr and "ChildFailedError" not in done.stderr
    assert not (tmp_path / "run").exists()


def test_a_spec_error_under_nproc_is_printed_once_with_its_status(tmp_path):
    spec = tmp_path / "bad.gan"
    spec.write_text(TINY.replace("TRAIN", "").replace("linear(", "linea(", 1))
    command = [sys.executable, "-m", "gandsl", "train", str(spec), "--data", "digits",
               "--steps", "1", "--nproc", "2", "--out", str(tmp_path / "run")]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert done.returncode == 1
    assert done.stderr.count("error[E103]: unknown layer or block `linea`") == 1, done.stderr
    assert "Traceback" not in done.stderr


def test_the_launcher_prints_each_message_once_and_names_crashed_processes(tmp_path, capsys):
    for rank in (0, 1):
        (tmp_path / f"rank-{rank:05d}.json").write_text(json.dumps(
            {"rank": rank, "status": 2, "message": "gandsl: error: same"}))
    assert report(tmp_path, {0: 2, 1: 2}, 2) == 2
    assert capsys.readouterr().err == "gandsl: error: same\n"

    (tmp_path / "rank-00001.json").write_text(json.dumps(
        {"rank": 1, "status": 1, "message": "gandsl: error: other"}))
    assert report(tmp_path, {0: 2, 1: 1}, 2) == 2
    assert capsys.readouterr().err == ("process 0: gandsl: error: same\n"
                                       "process 1: gandsl: error: other\n")

    empty = tmp_path / "none"
    empty.mkdir()
    assert report(empty, {1: -9, 0: 3}, 2) == 1
    assert capsys.readouterr().err == ("gandsl: error: process 0 of 2 stopped with exit status 3\n"
                                       "gandsl: error: process 1 of 2 was killed by SIGKILL\n")


def test_an_error_outside_a_launch_is_printed(monkeypatch, capsys):
    monkeypatch.delenv(ERRORS_ENV, raising=False)
    say_error("gandsl: error: here", 2)
    assert capsys.readouterr().err == "gandsl: error: here\n"


def test_nproc_is_not_passed_on():
    assert without_nproc(["x.gan", "--nproc", "2", "--steps", "3", "--nproc=4"]) == \
        ["x.gan", "--steps", "3"]


def test_shards_of_the_sampler_make_up_its_batches():
    """Each process reads its contiguous share of the same global batches."""
    whole = iter(EpochBatchSampler(10, 4, seed=3, key="k"))
    shards = [iter(EpochBatchSampler(10, 4, seed=3, key="k", shard=(r, 2))) for r in (0, 1)]
    for _ in range(5):  # across an epoch boundary (2 batches per epoch)
        assert next(whole) == next(shards[0]) + next(shards[1])
    with pytest.raises(ValueError, match="no shard"):
        EpochBatchSampler(10, 4, seed=3, key="k", shard=(0, 3))


def test_noise_of_a_shard_is_its_rows_of_the_global_draw():
    """Every process draws the global batch from a generator in the same state and keeps its
    rows; the generator ends where one process's would."""
    torch.manual_seed(5)
    whole = TrainDraw({}, 4, torch.device("cpu"))
    expected = [whole.normal(3), whole.categorical(7), whole.uniform(2), whole.bernoulli(2)]
    after = torch.get_rng_state()
    for rank in (0, 1):
        torch.manual_seed(5)
        mine = TrainDraw({}, 4, torch.device("cpu"), shard=(rank, 2))
        got = [mine.normal(3), mine.categorical(7), mine.uniform(2), mine.bernoulli(2)]
        for g, e in zip(got, expected, strict=True):
            assert torch.equal(g, e[rank * 2:rank * 2 + 2])
        assert torch.equal(torch.get_rng_state(), after)


def test_runtime_draws_are_local_outside_a_sharded_iteration():
    """Sample grids and a user's own loop never enter `shard.sharded`: nothing changes."""
    assert shard.current() == (0, 1)
    torch.manual_seed(0)
    a = shard.rows(lambda n: torch.rand(n), 3)
    torch.manual_seed(0)
    assert torch.equal(a, torch.rand(3))
    x = torch.arange(4.0)
    assert shard.gather(x) is x and shard.local(x) is x
    with shard.sharded(1, 2):
        assert shard.current() == (1, 2)
        torch.manual_seed(0)
        b = shard.rows(lambda n: torch.rand(n), 3)
        torch.manual_seed(0)
        assert torch.equal(b, torch.rand(6)[3:])
    assert shard.current() == (0, 1)
