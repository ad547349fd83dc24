"""Sample-quality metrics on feature vectors (N, D): Fréchet distance, KID, and improved
precision and recall. Each takes two sets of features, real first, as float64 numpy arrays.

- Fréchet distance (Heusel et al. 2017): ‖μ_r − μ_g‖² + tr(Σ_r + Σ_g − 2(Σ_r Σ_g)^½), of the
  Gaussians fitted to the two sets. Biased for small N: compare figures at one N only.
- KID (Bińkowski et al. 2018): the unbiased MMD² with the cubic polynomial kernel
  k(x, y) = (xᵀy / D + 1)³, averaged over random subsets of `subset` samples; unbiased, so
  real vs real is near 0 at any N.
- Precision and recall (Kynkäänniemi et al. 2019): the k-NN manifold of each set is the union
  of balls reaching each point's k-th nearest neighbour; precision is the share of generated
  points inside the real manifold, recall the share of real points inside the generated one.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg


def frechet_distance(real: np.ndarray, fake: np.ndarray) -> float:
    mu_r, mu_f = real.mean(0), fake.mean(0)
    cov_r, cov_f = np.cov(real, rowvar=False), np.cov(fake, rowvar=False)
    # tr((Σ_r Σ_f)^½) = tr((Σ_r^½ Σ_f Σ_r^½)^½), a symmetric PSD matrix: its eigenvalues,
    # clipped at 0, are exact where sqrtm of the product is unstable (singular covariances of
    # ReLU features with dead units)
    w, v = linalg.eigh(cov_r)
    half = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    tr_root = np.sqrt(np.clip(linalg.eigvalsh(half @ cov_f @ half), 0, None)).sum()
    diff = mu_r - mu_f
    return float(diff @ diff + np.trace(cov_r) + np.trace(cov_f) - 2 * tr_root)


def kid(real: np.ndarray, fake: np.ndarray, subsets: int = 50, subset: int = 500,
        seed: int = 0) -> float:
    """The mean over `subsets` random subsets of min(`subset`, N) samples of each set."""
    rng = np.random.default_rng(seed)
    m = min(subset, len(real), len(fake))
    d = real.shape[1]
    total = 0.0
    for _ in range(subsets):
        x = real[rng.choice(len(real), m, replace=False)]
        y = fake[rng.choice(len(fake), m, replace=False)]
        kxx, kyy, kxy = ((a @ b.T / d + 1) ** 3 for a, b in ((x, x), (y, y), (x, y)))
        off = (kxx.sum() - np.trace(kxx) + kyy.sum() - np.trace(kyy)) / (m * (m - 1))
        total += off - 2 * kxy.mean()
    return float(total / subsets)


def precision_recall(real: np.ndarray, fake: np.ndarray, k: int = 3) -> tuple[float, float]:
    return _coverage(real, fake, k), _coverage(fake, real, k)


def _coverage(manifold: np.ndarray, points: np.ndarray, k: int) -> float:
    """The share of `points` within the k-NN balls of `manifold`."""
    radii = np.sort(_distances(manifold, manifold), axis=1)[:, k]  # column 0: itself
    inside = (_distances(points, manifold) <= radii[None, :]).any(axis=1)
    return float(inside.mean())


def _distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    sq = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T
    return np.sqrt(np.maximum(sq, 0.0))
