"""Inception FID and IS: the score on known distributions, the extractor's input, the errors
for a missing library or weights file, and `gandsl eval --inception` on a run in a folder of
images no classifier is trained for (with a stand-in for torch-fidelity's network, which
needs torchvision and a weights file this machine does not have)."""

from __future__ import annotations

import json
import subprocess
import sys
import types

import numpy as np
import pytest
import torch
from conftest import ROOT
from PIL import Image

from gandsl.eval import inception as I
from gandsl.eval import run as R
from gandsl.eval.run import evaluate, table
from gandsl.train.config import RunConfig, RunError
from gandsl.train.trainer import Trainer


def test_inception_score_of_known_predictions():
    # the same prediction for every image: p(y|x) = p(y), KL 0, IS 1
    assert I.inception_score(np.zeros((100, 1008)))[0] == pytest.approx(1.0)
    # confident and spread evenly over k classes: IS = k
    for k in (2, 10):
        logits = np.full((200, 1008), -50.0)
        logits[np.arange(200), np.arange(200) % k] = 50.0
        mean, std = I.inception_score(logits)
        assert mean == pytest.approx(k, rel=1e-6) and std == pytest.approx(0, abs=1e-6)
    # confident but all one class: IS 1
    one = np.full((50, 1008), -50.0)
    one[:, 3] = 50.0
    assert I.inception_score(one)[0] == pytest.approx(1.0)


def test_images_reach_the_extractor_as_uint8_rgb():
    gray = torch.tensor([-1.0, 0.0, 1.0, 2.0]).reshape(1, 1, 2, 2)
    out = I.as_uint8_rgb(gray)
    assert out.dtype == torch.uint8 and out.shape == (1, 3, 2, 2)
    assert out[0, :, 0, 0].tolist() == [0, 0, 0] and out[0, 2].flatten().tolist() == \
        [0, 128, 255, 255]
    with pytest.raises(RunError, match="1- or 3-channel images; these have 4"):
        I.as_uint8_rgb(torch.zeros(1, 4, 2, 2))


def test_missing_weights_or_library_are_named(tmp_path, monkeypatch):
    with pytest.raises(RunError, match=r"no such file; expected torch-fidelity's Inception-v3 "
                       r"weights \(weights-inception-2015-12-05-6726825d.pth\)"):
        I.load_extractor(tmp_path / "none.pth")
    weights = tmp_path / "w.pth"
    weights.write_bytes(b"not a state dict")
    # None in sys.modules makes the import fail, as without torch-fidelity or torchvision
    monkeypatch.setitem(sys.modules, "torch_fidelity.feature_extractor_inceptionv3", None)
    with pytest.raises(RunError, match=r"needs torch-fidelity and torchvision .*pip install "
                       r"'gandsl\[inception\]'"):
        I.load_extractor(weights)
    broken = types.ModuleType("fake")

    class Refuses:
        def __init__(self, *args, **kwargs):
            raise RuntimeError("invalid load key, 'n'")

    broken.FeatureExtractorInceptionV3 = Refuses
    monkeypatch.setitem(sys.modules, "torch_fidelity.feature_extractor_inceptionv3", broken)
    with pytest.raises(RunError, match=r"not Inception-v3 weights torch-fidelity can load "
                       r"\(RuntimeError: invalid load key"):
        I.load_extractor(weights)


class Projection(torch.nn.Module):
    """Stands in for Inception-v3: fixed random projections of the pixels to 2048 features
    and 1008 logits, checking its input as torch-fidelity's extractor does."""

    def __init__(self, pixels: int) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.pool = torch.randn(pixels, 2048, generator=g) / pixels ** 0.5
        self.fc = torch.randn(2048, 1008, generator=g) / 2048 ** 0.5
        self.seen = 0

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        assert x.dtype == torch.uint8 and x.shape[1] == 3
        self.seen += len(x)
        pool = torch.relu((x.float().flatten(1) / 128 - 1) @ self.pool)
        return pool, pool @ self.fc


def test_fid_of_real_images_is_at_the_floor_and_noise_far_above():
    g = torch.Generator().manual_seed(1)
    base = torch.rand(1, 3, 8, 8, generator=g) * 2 - 1
    real = (base + 0.3 * torch.randn(600, 3, 8, 8, generator=g)).clamp(-1, 1)
    net = Projection(3 * 8 * 8)
    same = I.inception_figures(net, real[400:], real[:200], real[200:400])
    assert net.seen == 600
    assert same["fid"] == pytest.approx(same["fid_floor"], rel=0.3)
    noise = I.inception_figures(net, torch.rand(200, 3, 8, 8, generator=g) * 2 - 1,
                                real[:200], real[200:400])
    assert noise["fid"] > 5 * noise["fid_floor"]
    assert noise["fid_floor"] == same["fid_floor"]


FOLDER_SPEC = """\
gan folder
data faces: image[3, 8, 8] = image_folder("faces")
network G(z: latent[8]) -> image[3, 8, 8] {
  return z -> linear(192) -> tanh -> reshape(3, 8, 8)
}
network D(x: image[3, 8, 8]) -> scalar { return x -> flatten -> linear(1) }
objective {
  x ~ faces
  z ~ normal(8)
  D minimizes gan_d(D(x), D(G(z)))
  G minimizes gan_g(D(G(z)))
}
train {
  batch 8
  adam G (lr=2e-4)
  adam D (lr=2e-4)
}
"""


def test_eval_with_inception_measures_a_folder_run(tmp_path, monkeypatch):
    folder = tmp_path / "faces"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(60):  # red or blue squares: far from an untrained G's gray
        pixels = np.zeros((8, 8, 3)) + (255, 0, 0) if i % 2 else np.zeros((8, 8, 3)) + \
            (0, 0, 255)
        pixels = np.clip(pixels + rng.normal(0, 10, pixels.shape), 0, 255)
        Image.fromarray(pixels.astype(np.uint8)).save(folder / f"{i:02d}.png")
    spec = tmp_path / "folder.gan"
    spec.write_text(FOLDER_SPEC)
    Trainer(RunConfig(spec=str(spec), steps=2, out=tmp_path / "run", progress=False)).run()
    # without weights: no classifier for this data, and the error says what would do
    with pytest.raises(RunError, match="unless you pass --inception WEIGHTS"):
        evaluate(tmp_path / "run", n=20)
    weights = tmp_path / "inception.pth"
    weights.write_bytes(b"stand-in")
    net = Projection(3 * 8 * 8)
    monkeypatch.setattr(R, "load_extractor", lambda path, device: net)
    result = evaluate(tmp_path / "run", n=20, inception=weights, log=lambda *_: None)
    inc = json.loads((tmp_path / "run" / "eval.json").read_text())["inception"]
    assert net.seen == 20 + 20 + 20  # samples, real half, the other real half
    assert inc["fid"] > 5 * inc["fid_floor"] > 0 and inc["weights"] == str(weights)
    assert "classifier" not in result and "metrics" not in result
    shown = table(result)
    assert "Inception FID" in shown and "Inception Score" in shown


def test_cli_names_a_missing_inception_file(tmp_path):
    run = subprocess.run([sys.executable, "-m", "gandsl", "eval", str(tmp_path),
                          "--inception", str(tmp_path / "none.pth")],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert "none.pth: no such file" in run.stderr
