"""A short tour of a compiled spec: load StarGAN at a small size and run its networks.

`gandsl.load` compiles the spec (or reuses the cached emit) and imports the generated module,
so the networks below are exactly the classes in generated/stargan.py, only smaller.
"""

from __future__ import annotations

import time

import torch

import gandsl

SMALL = dict(S=64, g_ch=16, d_ch=16, g_res=2, d_layers=5)  # the paper's layout, narrower


def celeba_targets(label, batch: int) -> torch.Tensor:
    """Random CelebA attributes; with several datasets, the other labels are zero and the
    mask (the last entries, one per dataset) says "CelebA"."""
    parts = label.labels.parts
    c = torch.zeros(batch, label.dims[0])
    c[:, : parts[0].size] = torch.randint(0, 2, (batch, parts[0].size)).float()
    if label.labels.masked:
        c[:, label.labels.n_labels] = 1.0  # mask = [1, 0]: the labels are CelebA's
    return c


def main() -> None:
    torch.manual_seed(0)
    for both in (False, True):
        run = gandsl.load("specs/stargan.gan", both=both, **SMALL)
        G, D = run.networks["G"], run.networks["D"]
        label = run.spec.network("G").inputs[1].type
        x = torch.rand(4, 3, 64, 64) * 2 - 1  # images in [-1, 1]
        c_trg = celeba_targets(label, batch=4)
        t0 = time.perf_counter()
        with torch.no_grad():
            fake = G(x, c_trg)
            out = D(fake)
        ms = (time.perf_counter() - t0) * 1e3
        params = {n: sum(p.numel() for p in m.parameters()) for n, m in run.networks.items()}
        print(f"StarGAN, both={both}: c is {label} ({label.dims[0]} numbers)")
        print(f"  G {params['G']:,} params: x {tuple(x.shape)}, c {tuple(c_trg.shape)} "
              f"-> fake {tuple(fake.shape)} in [{fake.min():.2f}, {fake.max():.2f}]")
        print(f"  D {params['D']:,} params: D(fake).src {tuple(out.src.shape)}, "
              f"D(fake).cls {tuple(out.cls.shape)}   ({ms:.0f} ms for both networks)")
        for player in run.objective.players:
            terms = " + ".join(f"{t.weight:g}·{t.name}" for t in player.terms)
            print(f"  {player.name} minimizes {terms}")
    print(f"\ngenerated code: {run.file}")


if __name__ == "__main__":
    main()
