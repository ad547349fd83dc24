"""Training: gradient routing between players, exact resume, checkpoints that survive a kill,
non-finite losses, every spec training a few steps, and `gandsl sample`."""

from __future__ import annotations

import csv
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import ROOT
from conftest import TRAIN_SMALL as SMALL

from gandsl.errors import TrainingStopped
from gandsl.train import checkpoint as ckpt
from gandsl.train.config import RunConfig
from gandsl.train.trainer import RunError, Trainer


def config(tmp_path: Path, name: str, **kw) -> RunConfig:
    params, data = SMALL[name]
    spec = ROOT / "specs" / f"{name.split('-')[0]}.gan"
    defaults = dict(spec=str(spec), params=dict(params), data=data, steps=3, batch=4,
                    out=tmp_path / name, progress=False, sample_every=1000,
                    checkpoint_every=1000, log_every=5)
    defaults.update(kw)
    return RunConfig(**defaults)


def _params(nets) -> dict[str, torch.Tensor]:
    return {f"{n}.{k}": v.detach().clone() for n, m in nets.items()
            for k, v in m.state_dict().items()}


@pytest.mark.parametrize("name", list(SMALL))
def test_every_spec_trains(tmp_path, name):
    trainer = Trainer(config(tmp_path, name, sample_every=3))
    before = _params(trainer.networks)
    out = trainer.run()
    after = _params(trainer.networks)
    assert trainer.step == 3
    assert any(not torch.equal(before[k], after[k]) for k in before)  # something learned
    with open(out / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["step"] for r in rows] == ["0", "1", "2"]
    # a lazy term (`every k`) is empty (nan) in the iterations it does not run
    lazy = {f"{p.name}/{t.name}" for p in trainer.loaded.spec.objective.players
            for t in p.terms if t.every}
    assert all(np.isfinite(float(v)) for r in rows for k, v in r.items()
               if k != "step" and k not in lazy)
    assert all(r[k] != "" for r in rows[:1] for k in lazy)  # step 0 runs every term
    assert (out / "samples" / "step_0000003.png").is_file()
    assert ckpt.find(out).name == "step_0000003"


@pytest.mark.parametrize("name", ["dcgan", "stargan", "cyclegan"])
def test_each_step_moves_only_its_players_networks(tmp_path, name):
    trainer = Trainer(config(tmp_path, name))
    checks = []

    def update(player, loss, terms):
        mine = set(trainer.players[player])
        before = {n: [p.detach().clone() for p in m.parameters()]
                  for n, m in trainer.networks.items() if n not in mine}
        for n in before:
            for p in trainer.networks[n].parameters():
                p.grad = None
        trainer.update(player, loss, terms)
        for n, params in before.items():
            for old, p in zip(params, trainer.networks[n].parameters(), strict=True):
                assert torch.equal(old, p), f"{player}'s step changed {n}"
                assert p.grad is None, f"{player}'s step gave {n} a gradient"
        checks.append(player)

    trainer.objective.iteration(0, trainer.draw, update)
    assert set(checks) == set(trainer.players)


def test_resume_is_exact(tmp_path):
    """20 iterations straight, and 10 + resume 10, give bit-identical parameters and metrics
    (StarGAN: shuffled targets, the penalty's random α, 5 D steps per G step, shuffled data)."""
    straight = Trainer(config(tmp_path, "stargan", steps=20, out=tmp_path / "a"))
    straight.run()
    first = Trainer(config(tmp_path, "stargan", steps=10, out=tmp_path / "b"))
    first.run()
    second = Trainer(config(tmp_path, "stargan", steps=20, resume=tmp_path / "b"))
    second.run()
    a, b = _params(straight.networks), _params(second.networks)
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    for p in straight.optimizers:
        sa, sb = straight.optimizers[p].state_dict(), second.optimizers[p].state_dict()
        for i in sa["state"]:
            assert torch.equal(sa["state"][i]["exp_avg"], sb["state"][i]["exp_avg"])
    assert (tmp_path / "a" / "metrics.csv").read_text() == \
        (tmp_path / "b" / "metrics.csv").read_text()


def test_began_k_follows_its_update_and_survives_a_resume(tmp_path):
    """BEGAN's k_t, a `state`: D's step uses k_t, and after both steps
    k_{t+1} = clip(k_t + 0.001·(0.5·L(x) − L(G(z))), 0, 1) from that iteration's losses; the
    checkpoint carries it, so 3 + resume 3 equals 6 straight."""
    t = Trainer(config(tmp_path, "began", steps=6, out=tmp_path / "a"))
    seen: dict[str, dict[str, float]] = {}
    update = t.update

    def record(player, loss, terms):
        seen[player] = {k: float(v.detach()) for k, v in terms.items()}
        update(player, loss, terms)

    k = 0.0
    for step in range(4):
        t.step = step
        t.objective.iteration(step, t.draw, record)
        real, fake = seen["D"]["real_l"], seen["G"]["fake_l"]
        assert seen["D"]["balanced"] == pytest.approx(k * fake, rel=1e-5, abs=1e-12)
        k = min(max(k + 0.001 * (0.5 * real - fake), 0.0), 1.0)
        assert float(t.objective.state["k"]) == pytest.approx(k, rel=1e-5)
        assert float(t.objective.state["m"]) == pytest.approx(real + abs(0.5 * real - fake),
                                                              rel=1e-5)
    Trainer(config(tmp_path, "began", steps=6, out=tmp_path / "b")).run()
    Trainer(config(tmp_path, "began", steps=3, out=tmp_path / "c")).run()
    resumed = Trainer(config(tmp_path, "began", steps=6, resume=tmp_path / "c"))
    assert float(resumed.objective.state["k"]) > 0
    resumed.run()
    assert (tmp_path / "b" / "metrics.csv").read_text() == \
        (tmp_path / "c" / "metrics.csv").read_text()
    header = (tmp_path / "b" / "metrics.csv").read_text().splitlines()[0]
    assert header.endswith(",state/k,state/m")


def test_stylegan2_path_length_mean_moves_only_when_the_lazy_term_runs(tmp_path):
    """pl_mean is a state computed from the path lengths of G's `every 4` term: it changes in
    steps 0 and 4 only, by 0.01·(mean length − pl_mean); sample grids never mix styles."""
    t = Trainer(config(tmp_path, "stylegan2", steps=6))
    seen = []
    for step in range(6):
        t.step = step
        before = float(t.objective.state["pl_mean"])
        t.objective.iteration(step, t.draw, t.update)
        seen.append(float(t.objective.state["pl_mean"]) != before)
    assert seen == [True, False, False, False, True, False]
    samples = t.loaded.source.split("def samples")[1]
    assert "mix_styles" not in samples and "z_mix" not in samples


STATES = """\
gan states
data faces: image[3, 8, 8] = shapes()
network G(z: latent[8]) -> image[3, 8, 8] {
  return z -> linear(3 * 64) -> reshape(3, 8, 8) -> tanh
}
network D(x: image[3, 8, 8]) -> scalar { return x -> flatten -> linear(1) }
objective {
  x ~ faces
  z ~ normal(8)
  fake = G(z)
  pen = r1(D, x)
  a = state(1, next=a + pen)
  b = state(0, next=b + a)
  G minimizes wgan_g(D(fake))
  D minimizes wgan_d(D(x), D(fake)) + rr: 10 * pen every 4
}
train {
  adam G (lr=1e-3)
  adam D (lr=1e-3)
}
"""


def test_states_change_together_and_a_lazy_ones_only_when_its_term_runs(tmp_path):
    """b's next value reads a's value of this iteration, not a's new one; a follows the
    `every 4` term's value and stays put in the other steps."""
    spec = tmp_path / "states.gan"
    spec.write_text(STATES)
    t = Trainer(RunConfig(spec=str(spec), data="shapes", steps=5, batch=4, out=tmp_path / "r",
                          progress=False))
    seen = []
    update = t.update

    def record(player, loss, terms):
        seen.append({k: float(v.detach()) for k, v in terms.items()})
        update(player, loss, terms)

    for step in range(5):
        a, b = float(t.objective.state["a"]), float(t.objective.state["b"])
        seen.clear()
        t.objective.iteration(step, t.draw, record)
        rr = seen[-1].get("rr")
        assert float(t.objective.state["b"]) == pytest.approx(b + a)
        want = a + rr if step % 4 == 0 else a
        assert float(t.objective.state["a"]) == pytest.approx(want)
        assert (rr is not None) == (step % 4 == 0)


def test_resume_after_a_crash_keeps_the_planned_schedule_and_metrics(tmp_path):
    """A run of 20 iterations under `lr linear_decay` dies at iteration 13, 3 iterations after
    its checkpoint; resumed without --steps it finishes as planned: the schedule decays over
    the same 20 iterations, and metrics.csv has each iteration once, as the straight run's."""
    spec = tmp_path / "decay.gan"
    spec.write_text((ROOT / "specs" / "dcgan.gan").read_text()
                    .replace("train {", "train {\n  lr linear_decay(start=0)"))
    settings = dict(spec=str(spec), steps=20, checkpoint_every=10, log_every=1)
    straight = Trainer(config(tmp_path, "dcgan", out=tmp_path / "a", **settings))
    straight.run()
    crashing = Trainer(config(tmp_path, "dcgan", out=tmp_path / "b", **settings))
    iteration = crashing.objective.iteration

    def dies_at_13(step, draw, update):
        if step == 13:
            raise KeyboardInterrupt
        iteration(step, draw, update)

    crashing.objective.iteration = dies_at_13
    with pytest.raises(KeyboardInterrupt):
        crashing.run()
    resumed = Trainer(config(tmp_path, "dcgan", spec=str(spec), resume=tmp_path / "b",
                             steps=None, checkpoint_every=10, log_every=1))
    assert (resumed.step, resumed.total) == (10, 20)
    resumed._set_lr()
    assert resumed.optimizers["G"].param_groups[0]["lr"] == pytest.approx(2e-4 * 0.5)
    resumed.run()
    a, b = _params(straight.networks), _params(resumed.networks)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert (tmp_path / "a" / "metrics.csv").read_text() == \
        (tmp_path / "b" / "metrics.csv").read_text()


def test_checkpoints_keep_the_training_time_across_resumes(tmp_path, monkeypatch):
    import gandsl.train.trainer as T

    clock = iter(range(0, 10_000, 10))  # each reading 10 s later than the last
    monkeypatch.setattr(T.time, "perf_counter", lambda: float(next(clock)))
    Trainer(config(tmp_path, "dcgan", out=tmp_path / "r")).run()
    first = ckpt.load(tmp_path / "r")[1]["seconds"]
    assert first > 0 and first % 10 == 0
    Trainer(config(tmp_path, "dcgan", resume=tmp_path / "r", steps=5)).run()
    assert ckpt.load(tmp_path / "r")[1]["seconds"] > first  # the first run's time carried


def test_resume_refuses_another_spec(tmp_path):
    Trainer(config(tmp_path, "dcgan", out=tmp_path / "r")).run()
    cfg = config(tmp_path, "dcgan", resume=tmp_path / "r")
    cfg.params["ngf"] = 8
    with pytest.raises(RunError, match=r"--param S=16 ndf=4 ngf=8 nz=8: the run in .* was "
                                       r"started with S=16 ndf=4 ngf=4 nz=8"):
        Trainer(cfg)
    edited = tmp_path / "dcgan.gan"
    edited.write_text((ROOT / "specs" / "dcgan.gan").read_text().replace("0.2)", "0.1)"))
    with pytest.raises(RunError, match=r"is not that spec any more \(it changed beyond comments "
                                       r"and layout\), so the run cannot be resumed. Resume "
                                       r"with the run's own copy, .*r/spec.gan"):
        Trainer(config(tmp_path, "dcgan", spec=str(edited), resume=tmp_path / "r"))


def test_resume_takes_a_spec_whose_comments_and_layout_changed(tmp_path):
    Trainer(config(tmp_path, "dcgan", out=tmp_path / "r")).run()
    edited = tmp_path / "dcgan.gan"
    text = (ROOT / "specs" / "dcgan.gan").read_text()
    edited.write_text("# my notes\n" + text.replace(" -> ", "->").replace("# ", "#  "))
    t = Trainer(config(tmp_path, "dcgan", spec=str(edited), resume=tmp_path / "r", steps=4))
    assert t.step == 3


def test_resume_refuses_another_out_and_a_run_with_nothing_left_to_do(tmp_path, capsys):
    from gandsl.cli import main

    Trainer(config(tmp_path, "dcgan", out=tmp_path / "r")).run()
    assert main(["train", str(ROOT / "specs" / "dcgan.gan"), "--resume", str(tmp_path / "r"),
                 "--out", str(tmp_path / "elsewhere")]) == 2
    assert "a resumed run continues in its own directory" in capsys.readouterr().err
    assert not (tmp_path / "elsewhere").exists()
    with pytest.raises(RunError, match=r"the run in .* is at iteration 3, and --steps 2 asks "
                                       r"for no more: give --steps greater than 3"):
        Trainer(config(tmp_path, "dcgan", resume=tmp_path / "r", steps=2))


@pytest.mark.parametrize("flag, value, saved", [("seed", 1, "0"), ("batch", 8, "4"),
                                                ("data", "digits", "shapes")])
def test_resume_keeps_the_runs_settings(tmp_path, flag, value, saved):
    """Seed, batch and data decide what comes next: a resumed run takes the run's own, from
    any path into it, and refuses a flag that disagrees instead of quietly ignoring it."""
    Trainer(config(tmp_path, "dcgan", out=tmp_path / "r", seed=0)).run()
    bare = config(tmp_path, "dcgan", resume=tmp_path / "r" / "checkpoints" / "step_0000003",
                  steps=4, params={}, data=None, batch=None)
    t = Trainer(bare)
    assert (t.out, t.config.seed, t.batch, t.config.data) == (tmp_path / "r", 0, 4, "shapes")
    assert t.config.params == SMALL["dcgan"][0]
    with pytest.raises(RunError, match=f"--{flag} {value}: the run in .* was started with "
                                       f"{saved}, and a resumed run continues with the same"):
        Trainer(config(tmp_path, "dcgan", resume=tmp_path / "r", **{flag: value}))


def test_a_fresh_run_never_overwrites_one(tmp_path):
    Trainer(config(tmp_path, "dcgan", out=tmp_path / "r")).run()
    with pytest.raises(RunError, match="already holds a run: continue it with --resume"):
        Trainer(config(tmp_path, "dcgan", out=tmp_path / "r"))
    other = tmp_path / "other"
    other.mkdir()
    (other / "metrics.csv").write_text("mine")
    with pytest.raises(RunError, match="other already holds metrics.csv but no checkpoint"):
        Trainer(config(tmp_path, "dcgan", out=other))
    assert (other / "metrics.csv").read_text() == "mine"
    # torchrun restarting the same command before its first checkpoint: its own files
    Trainer(config(tmp_path, "dcgan", out=other, restarted=True))


KILL_DURING_SAVE = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from gandsl.train import checkpoint
    from gandsl.train.config import RunConfig
    from gandsl.train.trainer import Trainer

    real_replace = os.replace
    calls = []

    def replace(src, dst):
        if "checkpoints" in Path(dst).parts:  # not the compile cache's writes
            calls.append(dst)
        if len(calls) == 3:  # the second checkpoint: its files are written, not yet renamed
            os.kill(os.getpid(), signal.SIGKILL)
        real_replace(src, dst)

    checkpoint.os.replace = replace
    cfg = RunConfig(spec=sys.argv[1], params={"S": 16, "ngf": 4, "ndf": 4, "nz": 8},
                    data="shapes", steps=4, batch=4, out=Path(sys.argv[2]), progress=False,
                    checkpoint_every=2, sample_every=100)
    Trainer(cfg).run()
""")


def test_a_kill_while_writing_a_checkpoint_leaves_the_previous_one(tmp_path):
    script = tmp_path / "kill.py"
    script.write_text(KILL_DURING_SAVE)
    run = tmp_path / "run"
    out = subprocess.run([sys.executable, str(script), str(ROOT / "specs" / "dcgan.gan"),
                          str(run)], capture_output=True, text=True)
    assert out.returncode == -9, out.stderr  # killed by SIGKILL
    assert ckpt.find(run).name == "step_0000002"
    tensors, state = ckpt.load(run)
    assert state["step"] == 2 and any(k.startswith("net/G/") for k in tensors)
    resumed = Trainer(config(tmp_path, "dcgan", steps=4, resume=run))
    assert resumed.step == 2
    resumed.run()
    assert ckpt.find(run).name == "step_0000004"


def test_non_finite_losses_are_skipped_then_stop_the_run(tmp_path):
    trainer = Trainer(config(tmp_path, "dcgan", steps=2, checkpoint_every=1))
    trainer.run()
    before = _params(trainer.networks)
    nan = torch.tensor(float("nan"), requires_grad=True)
    for _ in range(trainer.config.max_bad_steps - 1):
        trainer.update("D", nan * 1, {})  # skipped, reported
    assert _params(trainer.networks).keys() == before.keys()
    assert all(torch.equal(before[k], v) for k, v in _params(trainer.networks).items())
    with pytest.raises(TrainingStopped, match="consecutive non-finite steps.*intact"):
        trainer.update("D", nan * 1, {})
    assert ckpt.load(trainer.out)[1]["step"] == 2  # the last good checkpoint


def test_sample_writes_grids_and_arrays(tmp_path):
    Trainer(config(tmp_path, "cgan", out=tmp_path / "c")).run()
    out = subprocess.run([sys.executable, "-m", "gandsl", "sample", str(tmp_path / "c"), "-n",
                          "6", "--label", "3", "--label", "7", "-o", str(tmp_path / "s.npz")],
                         capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    arrays = np.load(tmp_path / "s.npz")
    assert arrays["images"].shape == (6, 1, 12, 12) and arrays["images"].dtype == np.float32
    assert arrays["images"].min() >= -1 and arrays["images"].max() <= 1
    assert arrays["labels"].tolist() == [3, 7, 3, 7, 3, 7]
    png = subprocess.run([sys.executable, "-m", "gandsl", "sample", str(tmp_path / "c"),
                          "-o", str(tmp_path / "g.png")], capture_output=True, text=True,
                         cwd=ROOT)
    assert png.returncode == 0 and (tmp_path / "g.png").stat().st_size > 0


@pytest.mark.parametrize(("args", "message"), [
    (["--data", "nowhere"], "nowhere"),
    (["--resume", "/nonexistent/run"], "no checkpoint in /nonexistent/run"),
    (["--steps", "0"], "expected a positive integer"),
])
def test_bad_train_flags_exit_2_without_traceback(tmp_path, args, message):
    out = subprocess.run([sys.executable, "-m", "gandsl", "train", "specs/dcgan.gan",
                          "--param", "S=16", "--out", str(tmp_path / "x"), *args],
                         capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 2, out.stderr
    assert message in out.stderr and "Traceback" not in out.stderr


def test_sample_grids_change_nothing_in_the_run(tmp_path):
    """Grids every iteration (train-mode forward passes, which update running statistics)
    leave the run bit-identical to one without grids."""
    a = Trainer(config(tmp_path, "dcgan", steps=4, out=tmp_path / "a", sample_every=1))
    a.run()
    b = Trainer(config(tmp_path, "dcgan", steps=4, out=tmp_path / "b"))
    b.run()
    pa, pb = _params(a.networks), _params(b.networks)
    assert all(torch.equal(pa[k], pb[k]) for k in pa)
    assert len(list((tmp_path / "a" / "samples").glob("*.png"))) == 4


def test_every_sample_grid_shows_the_same_inputs_and_targets(tmp_path):
    """StarGAN's grid shuffles target labels with torch's generator; seeded for each grid, the
    targets stay the same as training moves the generator's state on."""
    t = Trainer(config(tmp_path, "stargan", steps=2))
    first = t.samples(t.fixed)
    t.run()
    again = t.samples(t.fixed)
    for key in ("x", "c_org", "c_trg"):
        assert torch.equal(first[key], again[key]), key
    assert not torch.equal(first["fake"], again["fake"])  # G has moved
