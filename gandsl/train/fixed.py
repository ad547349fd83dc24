"""The fixed data batch behind every sample grid (`gandsl train`) and `gandsl sample`.

Both draw it the same way: from the datasets of already-built sources, a pool of up to 256
items in a seeded order, from which `n` are picked; with class labels the picks go through
the classes in turn (0, 1, ..., N−1, 0, ...), so a grid shows every class. A dataset with fewer
than `n` items is repeated: the real rows of a grid need not be distinct, and a generator fed
only noise can be sampled as often as asked.
"""

from __future__ import annotations

import torch

from ..data.errors import DataError
from ..data.source import Source, Stream

POOL = 256  # items looked at to find every class for the grid


def fixed_batches(sources: dict[str, Source], n: int, seed: int) -> dict[str, tuple]:
    """One batch of `n` per source, on the sources' device; the sources are not advanced."""
    batches = {}
    for name, src in sources.items():
        smallest = min(len(s.dataset) for s in src.streams)
        if smallest < 1:
            raise DataError(f"data `{name}` has no items")
        pool = min(max(n, min(POOL, smallest)), smallest)
        picker = Source(name, src.fields, [Stream(s.dataset, pool, seed, 0, False)
                                           for s in src.streams], src.device)
        batch = picker.next()
        picker.close()
        pick = cyclic(batch[1], n) if len(batch) > 1 and batch[1].dim() == 1 else \
            torch.arange(min(n, pool))
        pick = pick[torch.arange(n) % len(pick)]  # a dataset smaller than n repeats
        batches[name] = tuple(t[pick.to(t.device)] for t in batch)
    return batches


def cyclic(labels: torch.Tensor, n: int) -> torch.Tensor:
    """Indices of `n` items whose labels go 0, 1, ..., N−1, 0, 1, ... as far as the pool has
    them; a class the pool lacks is skipped, and the rest is filled in pool order."""
    labels = labels.cpu()
    k = int(labels.max()) + 1
    free = {c: (labels == c).nonzero().flatten().tolist() for c in range(k)}
    chosen: list[int] = []
    while len(chosen) < n and any(free.values()):
        for c in range(k):
            if free[c] and len(chosen) < n:
                chosen.append(free[c].pop(0))
    return torch.tensor(chosen)
