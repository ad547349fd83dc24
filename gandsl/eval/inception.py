"""Inception FID and Inception Score, from an Inception-v3 weights file the user has.

The network is torch-fidelity's `FeatureExtractorInceptionV3`, the TensorFlow-compatible
port used for published FID/IS figures (its own resize to 299×299, its 2048 pool features
and unbiased logits). Nothing is downloaded: the user passes the weights file torch-fidelity
would fetch (`weights-inception-2015-12-05-6726825d.pth`), and torch-fidelity is an optional
dependency (`pip install 'gandsl[inception]'`), since it needs torchvision.

The figures are computed here from its features, with the same Fréchet distance as the
classifier's (`metrics.py`), so both spaces are measured by one tested formula:
- FID: Fréchet distance of the 2048 pool features of samples and real training images, and
  the floor, the same for held-out real images;
- IS (Salimans et al. 2016): exp E_x KL(p(y|x) ‖ p(y)) over the 1008 logits, the mean and
  standard deviation over 10 splits, as in the reference code; for samples and real images.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from ..train.config import RunError
from .metrics import frechet_distance

WEIGHTS_FILE = "weights-inception-2015-12-05-6726825d.pth"
FEATURES = ("2048", "logits_unbiased")
SPLITS = 10


def check_weights(weights: Path) -> None:
    if not weights.is_file():
        what = "a directory" if weights.is_dir() else "no such file"
        raise RunError(f"--inception {weights}: {what}; expected torch-fidelity's "
                       f"Inception-v3 weights ({WEIGHTS_FILE}), which gandsl never downloads")


def load_extractor(weights: Path, device: torch.device | str = "cpu") -> torch.nn.Module:
    """torch-fidelity's Inception-v3 with the user's weights. Raises RunError naming what is
    missing."""
    check_weights(weights)
    try:
        from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3
    except ImportError as e:
        raise RunError(f"--inception needs torch-fidelity and torchvision ({e}): "
                       "pip install 'gandsl[inception]'") from None
    try:
        net = FeatureExtractorInceptionV3("inception-v3-compat", list(FEATURES),
                                          feature_extractor_weights_path=str(weights))
    except Exception as e:  # a wrong file: pickle, key or shape errors from torch
        raise RunError(f"--inception {weights}: not Inception-v3 weights torch-fidelity can "
                       f"load ({type(e).__name__}: {str(e)[:200]}); expected {WEIGHTS_FILE}"
                       ) from None
    return net.to(device).eval()


def as_uint8_rgb(images: torch.Tensor) -> torch.Tensor:
    """[−1, 1] floats (N, C, H, W) → uint8 RGB, what the extractor takes: gray repeated to
    three channels, other channel counts refused."""
    c = images.shape[1]
    if c == 1:
        images = images.expand(-1, 3, -1, -1)
    elif c != 3:
        raise RunError(f"Inception features need 1- or 3-channel images; these have {c}")
    return ((images.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)


@torch.no_grad()
def features(extractor: Callable, images: torch.Tensor, batch: int = 64,
             device: torch.device | str = "cpu") -> tuple[np.ndarray, np.ndarray]:
    """(pool features (N, 2048), logits (N, 1008)) as float64."""
    pools, logits = [], []
    for i in range(0, len(images), batch):
        pool, logit = extractor(as_uint8_rgb(images[i:i + batch]).to(device))
        pools.append(pool.double().cpu())
        logits.append(logit.double().cpu())
    return torch.cat(pools).numpy(), torch.cat(logits).numpy()


def inception_score(logits: np.ndarray, splits: int = SPLITS) -> tuple[float, float]:
    """The mean and standard deviation over `splits` equal parts of exp(E KL(p(y|x)‖p(y)))."""
    z = logits - logits.max(1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    scores = []
    for part in np.array_split(p, splits):
        marginal = part.mean(0, keepdims=True)
        kl = (part * (np.log(part + 1e-12) - np.log(marginal + 1e-12))).sum(1).mean()
        scores.append(np.exp(kl))
    return float(np.mean(scores)), float(np.std(scores))


def inception_figures(extractor: Callable, fakes: torch.Tensor, real: torch.Tensor,
                      held: torch.Tensor, device: torch.device | str = "cpu"
                      ) -> dict[str, float]:
    """FID of the samples and of held-out real images against real training images (one
    N, as for the classifier's figures), and the IS of samples and of held-out real."""
    m = min(len(fakes), len(held))
    f_real, _ = features(extractor, real[:len(fakes)], device=device)
    f_fake, l_fake = features(extractor, fakes[:m], device=device)
    f_held, l_held = features(extractor, held[:m], device=device)
    is_fake, is_fake_std = inception_score(l_fake, min(SPLITS, m))
    is_held, is_held_std = inception_score(l_held, min(SPLITS, m))
    return {"fid": frechet_distance(f_real, f_fake), "fid_floor": frechet_distance(f_real, f_held),
            "is": is_fake, "is_std": is_fake_std, "is_floor": is_held,
            "is_floor_std": is_held_std}
