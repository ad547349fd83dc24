"""Damaged or mismatched run files and bad flags: each is named with what was expected, exits
with status 2 and changes nothing; and the small promises of the run directory (stale
temporaries cleaned, no checkpoint of a failing step, sample grids from small datasets)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch
from conftest import ROOT
from PIL import Image

from gandsl.cli import main
from gandsl.train import checkpoint as ckpt
from gandsl.train.config import RunConfig, RunError
from gandsl.train.sample import sample
from gandsl.train.trainer import Trainer

DCGAN = ["specs/dcgan.gan", "--param", "S=16", "--param", "ngf=4", "--param", "ndf=4",
         "--param", "nz=8"]


def small(tmp_path, **kw) -> RunConfig:
    cfg = dict(spec=str(ROOT / "specs" / "dcgan.gan"), params={"S": 16, "ngf": 4, "ndf": 4,
                                                                "nz": 8},
               data="shapes", steps=2, batch=4, out=tmp_path / "run", progress=False,
               sample_every=1000, checkpoint_every=1000)
    cfg.update(kw)
    return RunConfig(**cfg)


@pytest.fixture
def run(tmp_path):
    """A finished two-iteration DCGAN run."""
    Trainer(small(tmp_path)).run()
    return tmp_path / "run"


def fails(capsys, monkeypatch, *argv: str) -> str:
    """Run the command line from the project folder; assert exit status 2, return stderr."""
    monkeypatch.chdir(ROOT)
    assert main(list(argv)) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


@pytest.mark.parametrize("flags, message", [
    (["--workers", "-1"], "--workers: expected an integer ≥ 0, got '-1'"),
    (["--steps", "1.5"], "--steps: expected a positive integer, got '1.5'"),
    (["--seed", "99999999999999999999"], "--seed: expected a whole number from 0 to 2^63 - 1"),
])
def test_bad_numbers_are_refused_by_the_parser(tmp_path, capsys, flags, message):
    with pytest.raises(SystemExit) as exit_:
        main(["train", *DCGAN, "--out", str(tmp_path / "x"), *flags])
    assert exit_.value.code == 2 and message in capsys.readouterr().err


def test_out_that_is_a_file(tmp_path, capsys, monkeypatch):
    (tmp_path / "file").write_text("mine")
    err = fails(capsys, monkeypatch, "train", *DCGAN, "--out", str(tmp_path / "file"))
    assert "that is a file; expected a directory for the run" in err
    assert (tmp_path / "file").read_text() == "mine"


@pytest.mark.parametrize("pointer, message", [
    ("{not json", "is not a checkpoint pointer"),
    ('{"path": "../../elsewhere"}', "expected the name of a checkpoint directory"),
    ('{"path": "step_0000099"}', "points at step_0000099, which is not in"),
])
def test_a_bad_latest_pointer(run, capsys, monkeypatch, pointer, message):
    (run / "checkpoints" / "latest.json").write_text(pointer)
    assert message in fails(capsys, monkeypatch, "train", *DCGAN, "--resume", str(run))


def test_a_checkpoint_without_its_random_state(run, capsys, monkeypatch):
    state_file = ckpt.find(run) / "state.json"
    state = json.loads(state_file.read_text())
    del state["rng"]
    state_file.write_text(json.dumps(state))
    err = fails(capsys, monkeypatch, "train", *DCGAN, "--resume", str(run))
    assert "lacks rng: it was not written by this version of gandsl train" in err


def test_a_damaged_metrics_file(run, capsys, monkeypatch):
    (run / "metrics.csv").write_text("step,D/loss\n0,1\n")
    err = fails(capsys, monkeypatch, "train", *DCGAN, "--resume", str(run), "--steps", "3")
    assert "metrics.csv has columns ['D/loss']" in err and "another spec" in err
    for damage in (b"step,D/loss\nnot a number,1\n", b"\xff\xfe\x00"):
        (run / "metrics.csv").write_bytes(damage)
        err = fails(capsys, monkeypatch, "train", *DCGAN, "--resume", str(run), "--steps", "3")
        assert "metrics.csv is damaged" in err
    assert ckpt.find(run).name == "step_0000002"


def test_a_malformed_config_json(run, capsys, monkeypatch):
    (run / "config.json").write_text("[1, 2")
    for argv in (["train", *DCGAN, "--resume", str(run)], ["sample", str(run)]):
        assert "config.json is not valid JSON" in fails(capsys, monkeypatch, *argv)


@pytest.mark.parametrize("key, value", [("step", "abc"), ("bad_steps", None), ("step", -5),
                                        ("seconds", "x")])
def test_an_edited_state_is_named_not_a_traceback(run, capsys, monkeypatch, key, value):
    state_file = ckpt.find(run) / "state.json"
    state = json.loads(state_file.read_text())
    state[key] = value
    state_file.write_text(json.dumps(state))
    err = fails(capsys, monkeypatch, "train", *DCGAN, "--resume", str(run), "--steps", "9")
    assert f"`{key}` is {value!r} in its state.json; expected" in err


def test_an_image_too_large_to_decode_is_named(tmp_path, monkeypatch):
    from gandsl.data.errors import DataError
    from gandsl.data.images import check_readable

    Image.new("RGB", (64, 64)).save(tmp_path / "big.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # PIL refuses 2× its limit outright
    with pytest.raises(DataError, match="cannot read image .*big.png: Image size"):
        check_readable(tmp_path / "big.png", "data `faces`")


def test_a_compile_cache_that_is_a_file_is_named(tmp_path, monkeypatch):
    import gandsl
    from gandsl.errors import UserError

    (tmp_path / "cache").write_text("")
    monkeypatch.setenv("GANDSL_CACHE", str(tmp_path / "cache"))
    with pytest.raises(UserError, match="the compile cache .*cache .* is not a directory"):
        gandsl.load(ROOT / "specs" / "dcgan.gan")


def test_truncation_must_be_positive(run, capsys):
    with pytest.raises(SystemExit):
        main(["sample", str(run), "--truncation", "0"])
    assert "--truncation: expected a positive number, got '0'" in capsys.readouterr().err


def test_a_save_removes_temporaries_of_a_killed_save(run):
    stale = run / "checkpoints" / ".step_0000004-abc123"
    stale.mkdir()
    (stale / "weights.safetensors").write_bytes(b"half")
    t = Trainer(small(run.parent, resume=run, steps=3))
    t.run()
    assert not stale.exists() and ckpt.find(run).name == "step_0000003"


def test_no_checkpoint_while_steps_are_failing(tmp_path):
    t = Trainer(small(tmp_path))
    t.run()
    t.update("D", torch.tensor(float("nan"), requires_grad=True) * 1, {})
    t.step += 1
    assert t.save() is None and ckpt.find(t.out).name == "step_0000002"


def test_sample_labels_are_what_the_generator_received(tmp_path, capsys, monkeypatch):
    """A class index is checked against the spec's classes (10 digits), not against the
    classes that happen to be in the fixed batch; the arrays hold the labels G was given."""
    cfg = small(tmp_path, spec=str(ROOT / "specs" / "cgan.gan"), params={"S": 12, "nz": 8},
                data="digits")
    Trainer(cfg).run()
    monkeypatch.chdir(ROOT)
    out = tmp_path / "s.npz"
    assert main(["sample", str(tmp_path / "run"), "-n", "2", "--label", "9", "-o",
                 str(out)]) == 0
    assert np.load(out)["labels"].tolist() == [9, 9]
    err = fails(capsys, monkeypatch, "sample", str(tmp_path / "run"), "--label", "10")
    assert "--label: class indices go from 0 to 9" in err


def test_sample_grids_of_a_dataset_smaller_than_the_pool(tmp_path):
    """The grid's pool is at most the dataset: a folder of 20 images trains with grids."""
    folder = tmp_path / "few"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(20):
        Image.fromarray(rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)).save(
            folder / f"{i}.png")
    t = Trainer(small(tmp_path, data=str(folder), sample_every=1))
    t.run()
    assert len(list((t.out / "samples").glob("step_*.png"))) == 2
    # more samples than images: the real row repeats, the generator is sampled 64 times
    assert np.load(sample(t.out, n=64, out=tmp_path / "s.npz"))["images"].shape[0] == 64
    with pytest.raises(RunError, match="--label 3: .* draws no class or label"):
        sample(t.out, n=4, labels=["3"], out=tmp_path / "l.npz")
    shutil.rmtree(folder)
    # DCGAN's samples are noise through G: the data is not read, so it may be gone
    assert np.load(sample(t.out, n=4, out=tmp_path / "gone.npz"))["images"].shape[0] == 4


def test_samples_that_show_real_data_name_the_moved_data(tmp_path):
    cfg = small(tmp_path, spec=str(ROOT / "specs" / "cyclegan.gan"), steps=1,
                params={"S": 16, "ngf": 4, "ndf": 4, "blocks": 1, "d_layers": 2})
    Trainer(cfg).run()
    config = json.loads((cfg.out / "config.json").read_text())
    (cfg.out / "config.json").write_text(json.dumps({**config, "data": str(tmp_path / "gone")}))
    with pytest.raises(RunError, match="from the data .* was trained on: pass --data NAME|PATH"):
        sample(cfg.out, n=4, out=tmp_path / "s.npz")
    assert np.load(sample(cfg.out, n=4, data="shapes", out=tmp_path / "s.npz"))["images"].shape \
        == (4, 3, 16, 16)


def test_an_interrupted_run_names_its_last_checkpoint(tmp_path, capsys, monkeypatch):
    real = Trainer.iterate

    def iterate(self):
        if self.step == 3:
            raise KeyboardInterrupt
        real(self)

    monkeypatch.setattr(Trainer, "iterate", iterate)
    monkeypatch.chdir(ROOT)
    out = tmp_path / "run"
    assert main(["train", *DCGAN, "--data", "shapes", "--batch", "4", "--steps", "9",
                 "--checkpoint-every", "2", "--no-progress", "--out", str(out)]) == 130
    assert (f"gandsl: interrupted at iteration 3; the last checkpoint is "
            f"{out / 'checkpoints' / 'step_0000002'}: continue with --resume {out}") in \
        capsys.readouterr().err
