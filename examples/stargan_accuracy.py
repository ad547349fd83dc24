"""How well a trained StarGAN translates: D's attribute classifier on real images and on G's
translations, per attribute.

    python examples/stargan_accuracy.py runs/stargan-shapes [--batches 20]

For each attribute it prints D's accuracy on real images (against their own labels), on
translations (against the target labels), and on the translations whose target differs from
the original: the share where D sees the attribute changed as asked. Attribute names are the
`shapes` dataset's (docs/training.md): red, green, blue, large, dark.
"""

from __future__ import annotations

import argparse

import torch

from gandsl.train.config import RunConfig
from gandsl.train.trainer import Trainer

NAMES = ["red", "green", "blue", "large", "dark"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", help="a run directory of specs/stargan.gan")
    parser.add_argument("--batches", type=int, default=20)
    args = parser.parse_args()
    trainer = Trainer(RunConfig(spec=f"{args.run}/spec.gan", resume=args.run, progress=False))
    G, D = trainer.networks["G"], trainer.networks["D"]
    torch.manual_seed(1)
    real, fake, changed = [], [], []
    with torch.no_grad():
        for _ in range(args.batches):
            x, c = trainer.draw.data("faces")
            target = c[torch.randperm(c.shape[0])]
            seen_real = (D(x).cls > 0).float()
            seen_fake = (D(G(x, target)).cls > 0).float()
            differs = target != c
            real.append((seen_real == c).float().mean(0))
            fake.append((seen_fake == target).float().mean(0))
            changed.append(((seen_fake == target) & differs).sum(0) / differs.sum(0).clamp_min(1))
    names = NAMES[:c.shape[1]] + [f"label {i}" for i in range(len(NAMES), c.shape[1])]
    print(f"{'':28}" + "".join(f"{n:>8}" for n in names))
    for title, values in (("D on real (own labels)", real), ("D on translations (target)", fake),
                          ("target ≠ original: changed", changed)):
        print(f"{title:28}" + "".join(f"{v:8.2f}" for v in torch.stack(values).mean(0).tolist()))


if __name__ == "__main__":
    main()
