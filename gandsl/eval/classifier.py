"""The feature space of `gandsl eval`: a small classifier trained on the real dataset.

Nothing is downloaded, so Inception's features are not the default: for the datasets that
ship offline a classifier is trained once per dataset, channels and resolution, and cached
(safetensors, under the gandsl cache). Its 128 trunk features are the space of the
Fréchet distance, KID and precision/recall; its heads judge conditional samples. Its accuracy
on held-out data is reported beside every figure: a metric is only as good as the classifier.

Every dataset is a `grounds.Ground`, read, split and trained one way:

- `digits`: one head, the class (scikit-learn's digits, the 1,500 train images; the other
  297 are the held-out set).
- `shapes`: four heads, kind (5), color (4), size (2) and background (2), read off procedural
  scenes (6,000 of seed 101 to train, 1,000 of seed 102 held out).
- `fashion_mnist`: one head, the class (the 60,000 training images; the 10,000 test images
  are the held-out set).
- any other data with classes, an IDX folder or an image folder of class subfolders
  (`labelled.py`): one head, the class.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from ..loader import cache_dir
from .grounds import SHIPPED, Ground, examples
from .labelled import is_labelled, labelled_ground

FEATURES = 128
VERSION = 1  # part of the cache key: a change of architecture or recipe retrains
SOURCES = tuple(SHIPPED)  # the datasets that ship: digits, shapes, fashion_mnist


def ground(source: str) -> Ground:
    """The ground of a dataset that ships or of a labelled folder (`idx:`, `folder:`)."""
    if source in SHIPPED:
        return SHIPPED[source]
    if is_labelled(source):
        return labelled_ground(source)
    raise ValueError(source)


def heads(source: str) -> dict[str, int]:
    return ground(source).heads


class FeatureNet(nn.Module):
    """Conv trunk → 4×4 average pool → 128 features → one linear head per label."""

    def __init__(self, channels: int, heads: dict[str, int]) -> None:
        super().__init__()
        self.trunk = nn.Sequential(
            nn.Conv2d(channels, 32, 3, padding=1), nn.ReLU(),
            nn.Conv2d(32, 64, 4, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(64, 128, 4, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(128, 128, 3, padding=1), nn.ReLU(),
            # a 4×4 grid of pooled features, not one average: a shape's kind is its outline
            nn.AdaptiveAvgPool2d(4), nn.Flatten(), nn.Linear(128 * 16, FEATURES), nn.ReLU())
        self.heads = nn.ModuleDict({k: nn.Linear(FEATURES, n) for k, n in heads.items()})

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.trunk(x)  # (B, 128)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        f = self.features(x)
        return {k: head(f) for k, head in self.heads.items()}


@dataclass
class Judge:
    """A trained classifier, and what it scores on held-out real data."""

    source: str
    net: FeatureNet
    accuracy: dict[str, float]  # per head, on the held-out set

    @torch.no_grad()
    def features(self, images: torch.Tensor, batch: int = 256) -> torch.Tensor:
        return torch.cat([self.net.features(images[i:i + batch].float())
                          for i in range(0, len(images), batch)])

    @torch.no_grad()
    def predict(self, images: torch.Tensor, batch: int = 256) -> dict[str, torch.Tensor]:
        outs = [self.net(images[i:i + batch].float()) for i in range(0, len(images), batch)]
        return {k: torch.cat([o[k] for o in outs]).argmax(1) for k in self.net.heads}


@functools.lru_cache(maxsize=8)
def real_data(source: str, channels: int, size: int, held_out: bool) -> tuple:
    """(images (N, C, S, S) in [−1, 1], {head: targets (N,)}) of a dataset's training or
    held-out side. Read once per process: an evaluation reads it for the classifier's
    figures, the target domain's and Inception's, and `--curve` for every checkpoint.
    Callers only read the tensors."""
    return examples(ground(source), channels, size, held_out)


def judge(source: str, channels: int, size: int, log=print) -> Judge:
    """The classifier for this dataset and image shape: from the cache, or trained now."""
    g = ground(source)  # a folder's name is its files' identity (`labelled.identity`)
    stem = cache_dir() / "eval" / f"{g.name}-{channels}x{size}x{size}-v{VERSION}"
    net = FeatureNet(channels, g.heads)
    weights, meta = stem.with_suffix(".safetensors"), stem.with_suffix(".json")
    if weights.is_file() and meta.is_file():
        from safetensors.torch import load_file

        net.load_state_dict(load_file(str(weights)))
        return Judge(source, net.eval(), json.loads(meta.read_text())["accuracy"])
    log(f"training the classifier of {source} for {channels}×{size}×{size} images (once; "
        f"cached in {stem.parent})")
    accuracy = _train(net, source, channels, size)
    _save(net, accuracy, weights, meta)
    return Judge(source, net.eval(), accuracy)


def _train(net: FeatureNet, source: str, channels: int, size: int) -> dict[str, float]:
    images, targets = real_data(source, channels, size, held_out=False)
    gen = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    steps, batch = ground(source).training(len(images))
    net.train()
    for _ in range(steps):
        idx = torch.randint(len(images), (batch,), generator=gen)
        out = net(images[idx])
        loss = sum(F.cross_entropy(out[k], targets[k][idx]) for k in out)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    net.eval()
    test_images, test_targets = real_data(source, channels, size, held_out=True)
    judged = Judge(source, net, {})
    pred = judged.predict(test_images)
    return {k: float((pred[k] == test_targets[k]).float().mean()) for k in pred}


def _save(net: FeatureNet, accuracy: dict[str, float], weights: Path, meta: Path) -> None:
    """Written to temporary names and renamed: a crash leaves no half-written cache."""
    from safetensors.torch import save_file

    weights.parent.mkdir(parents=True, exist_ok=True)
    tmp = weights.with_suffix(".tmp")
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(tmp))
    tmp.replace(weights)
    tmp_meta = meta.with_suffix(".tmp.json")
    tmp_meta.write_text(json.dumps({"accuracy": accuracy, "version": VERSION}, indent=1))
    tmp_meta.replace(meta)
