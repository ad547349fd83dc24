"""Sources: endless batches of one sampled dataset (or union), on the device, resumable.

The trainer asks each source for `next()` once per use; a source never ends (epochs roll
over). A union serves batch k from member k mod m, as StarGAN's `--dataset Both`
alternates CelebA and RaFD, and lays labels out with the mask vector (`labels.py`).

Resume is exact because the state is only counters: per member the epoch and the number of
batches of it already *served* (not fetched: a DataLoader prefetches), plus the union's step.
Restoring them rebuilds the loaders at that point of the same permutations.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader

from ..ir import Spec
from ..types import TensorType
from .base import ImageDataset
from .errors import DataError, unwrap, where
from .factory import build_dataset, check_override, members
from .labels import Slot, place, slots
from .sampler import EpochBatchSampler


class Stream:
    """One member dataset's batches: a DataLoader over an `EpochBatchSampler`, and a count.
    With `shard=(rank, world)` it serves this process's share of each global batch; the
    count (and so the state) is of global batches, the same on every process."""

    def __init__(self, dataset: ImageDataset, batch_size: int, seed: int, workers: int,
                 pin: bool, shard: tuple[int, int] = (0, 1)) -> None:
        self.dataset, self.batch_size, self.seed = dataset, batch_size, seed
        self.workers, self.pin, self.shard = workers, pin, shard
        self.epoch = 0
        self.position = 0  # batches of this epoch served
        self.per_epoch = len(dataset) // batch_size
        self._batches: Iterator[Any] | None = None

    def _start(self) -> None:
        sampler = EpochBatchSampler(len(self.dataset), self.batch_size, self.seed,
                                    self.dataset.order_key, self.epoch, self.position,
                                    self.shard)
        if self.dataset.in_memory and self.workers == 0:
            # the same batches as through a DataLoader, without one call per sample
            self._batches = (self.dataset.batch(indices) for indices in sampler)
            return
        # A generator of its own: creating the iterator draws a base seed, and from torch's
        # global generator that draw would shift every later random number of the run, so a
        # resumed run (a new iterator) would differ from a straight one.
        loader = DataLoader(self.dataset, batch_sampler=sampler, num_workers=self.workers,
                            pin_memory=self.pin, persistent_workers=False,
                            generator=torch.Generator().manual_seed(0))
        self._batches = iter(loader)

    def next(self) -> list[torch.Tensor]:
        if self._batches is None:
            self._start()
        assert self._batches is not None
        try:
            batch = next(self._batches)
        except DataError as e:  # from a worker: keep the dataset's message, drop the traceback
            self.close()
            raise unwrap(e) from None
        self.position += 1
        if self.position == self.per_epoch:
            self.epoch, self.position = self.epoch + 1, 0
        return list(batch)

    def state_dict(self) -> dict[str, Any]:
        return {"dataset": self.dataset.req.name, "epoch": self.epoch,
                "position": self.position, "size": len(self.dataset),
                "batch": self.batch_size}

    def load_state_dict(self, state: dict[str, Any], source: str) -> None:
        name = self.dataset.req.name
        for key, now in (("dataset", name), ("size", len(self.dataset)),
                         ("batch", self.batch_size)):
            if state.get(key) != now:
                raise DataError(f"cannot resume data `{source}`: the saved state has {key} "
                                f"{state.get(key)!r} for `{name}`, now it is {now!r}")
        epoch, position = int(state["epoch"]), int(state["position"])
        if epoch < 0 or not 0 <= position < self.per_epoch:
            raise DataError(f"cannot resume data `{source}`: epoch {epoch}, batch {position} "
                            f"of `{name}` is not a point of its {self.per_epoch}-batch epochs")
        self.close()
        self.epoch, self.position = epoch, position

    def close(self) -> None:
        """Stop the loader's workers now. A worker's exception leaves the loader in a reference
        cycle (through its traceback's frames), and a loader collected with its queues as
        part of a cycle waits 5 s for workers that never hear the stop; so stop them here."""
        shutdown = getattr(self._batches, "_shutdown_workers", None)
        if shutdown is not None:
            shutdown()
        self._batches = None


class Source:
    """Endless batches of one dataset name the objective samples.

    `next()` returns one tensor per field of the dataset, on the device: image float32
    (B, C, H, W); `class` int64 (B,); `label` float32 (B, N) (with the mask for unions).
    """

    def __init__(self, name: str, fields: list[TensorType], streams: list[Stream],
                 device: torch.device) -> None:
        self.name, self.fields, self.streams, self.device = name, fields, streams, device
        self.step = 0  # batches served; picks the member of a union
        labelled = len(fields) > 1 and fields[1].labels is not None
        self._slots: list[Slot] | None = slots(fields[1]) if labelled else None
        self._non_blocking = device.type == "cuda"

    def next(self) -> tuple[torch.Tensor, ...]:
        k = self.step % len(self.streams)
        batch = self.streams[k].next()
        self.step += 1
        if self._slots is not None:
            batch[1] = place(batch[1], self._slots[k], self.fields[1].dims[0])
        return tuple(t.to(self.device, non_blocking=self._non_blocking) for t in batch)

    def __iter__(self) -> Source:
        return self

    def __next__(self) -> tuple[torch.Tensor, ...]:
        return self.next()

    @property
    def epoch(self) -> float:
        """Epochs served, of the first member (a progress figure for logs)."""
        s = self.streams[0]
        return s.epoch + s.position / s.per_epoch

    def describe(self) -> str:
        """The datasets behind this source, one line each, for the trainer's log."""
        return "\n".join(s.dataset.describe() for s in self.streams)

    def state_dict(self) -> dict[str, Any]:
        """JSON-serializable counters: enough to continue with exactly the same batches."""
        return {"name": self.name, "step": self.step,
                "members": [s.state_dict() for s in self.streams]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        saved = state.get("members", [])
        if state.get("name") != self.name or len(saved) != len(self.streams):
            raise DataError(f"cannot resume data `{self.name}`: the saved state is for "
                            f"`{state.get('name')}` with {len(saved)} member(s), this source "
                            f"has {len(self.streams)}")
        for stream, s in zip(self.streams, saved, strict=True):
            stream.load_state_dict(s, self.name)
        self.step = int(state["step"])

    def close(self) -> None:
        for s in self.streams:
            s.close()


def build_sources(spec: Spec, names: list[str], batch_size: int, device: str | torch.device,
                  seed: int, override: str | None = None, root: Path = Path("."),
                  workers: int = 0, shard: tuple[int, int] = (0, 1)) -> dict[str, Source]:
    """One source per dataset name, every dataset checked (files, labels, sizes) up front.

    Raises `DataError` for anything wrong with the data. A declaration shared by several
    names (a union member also sampled alone) is read once. `batch_size` is the global batch;
    with `shard=(rank, world)` each source serves this process's rows of it.
    """
    check_override(override)
    if batch_size < 1:
        raise DataError(f"batch size {batch_size}: expected at least 1")
    if batch_size % shard[1]:
        raise DataError(f"batch size {batch_size} does not split into {shard[1]} equal shards, "
                        "one per process: choose a batch that is a multiple of the number of "
                        "processes")
    dev = torch.device(device)
    pin = dev.type == "cuda"
    built: dict[str, ImageDataset] = {}
    sources: dict[str, Source] = {}
    for name in names:
        streams: list[Stream] = []
        for ds in members(spec, name):
            if ds.name not in built:
                built[ds.name] = build_dataset(spec, ds, override, Path(root))
            dataset = built[ds.name]
            if len(dataset) < batch_size:
                raise DataError(f"{where(ds, spec.path)}: {len(dataset)} images, fewer than "
                                f"the batch size {batch_size} (batches are always full)")
            streams.append(Stream(dataset, batch_size, seed, workers, pin, shard))
        sources[name] = Source(name, list(spec.dataset(name).fields), streams, dev)
    return sources
