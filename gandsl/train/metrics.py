"""`metrics.csv`: one row per iteration with every loss term of every player (unweighted, as
the spec names them) and each player's total; TensorBoard events too when tensorboard is
installed. Values are kept on the device and written in batches, so logging costs one
synchronization per flush, not one per term."""

from __future__ import annotations

import csv
from pathlib import Path

import torch


class Metrics:
    def __init__(self, path: Path, columns: list[str], resume_step: int | None = None,
                 tensorboard: bool = True, device: torch.device | str = "cpu") -> None:
        self.path, self.columns, self.device = path, columns, torch.device(device)
        self.pending: list[tuple[int, dict[str, torch.Tensor]]] = []
        self.last: dict[str, float] = {}
        if resume_step is not None and path.exists():
            self._truncate(resume_step)
        else:
            with open(path, "w", newline="", encoding="utf-8") as f:
                csv.writer(f).writerow(["step", *columns])
        self.writer = None
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:  # tensorboard is optional
                pass
            else:
                self.writer = SummaryWriter(str(path.parent / "tensorboard"))

    def _truncate(self, step: int) -> None:
        """Drop the rows of iterations from `step` on: the checkpoint being resumed holds
        `step` finished iterations (0 to step − 1), so the rest will be computed again."""
        from .config import RunError

        try:
            with open(self.path, newline="", encoding="utf-8") as f:
                rows = list(csv.reader(f))
            header = rows[0] if rows else []
            body = [r for r in rows[1:] if r and int(r[0]) < step]
        except (OSError, UnicodeDecodeError, ValueError) as e:
            raise RunError(f"{self.path} is damaged ({e}): expected the CSV that gandsl train "
                           "writes, a header and one row per iteration. Move it aside to "
                           "resume with a fresh one.") from None
        if header != ["step", *self.columns]:
            raise RunError(f"{self.path} has columns {header[1:]}, expected {self.columns}: "
                           "it belongs to another spec. Move it aside to resume with a fresh "
                           "one.")
        with open(self.path, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(header)
            w.writerows(body)

    def add(self, step: int, values: dict[str, torch.Tensor]) -> None:
        self.pending.append((step, values))

    def flush(self) -> dict[str, float]:
        if not self.pending:
            return self.last
        keys = self.columns
        rows = []
        for step, values in self.pending:
            missing = torch.tensor(float("nan"), device=self.device)  # a term that did not run
            stacked = torch.stack([values[k].detach().float().reshape(()) if k in values
                                   else missing for k in keys])
            rows.append((step, stacked))
        numbers = torch.stack([r for _, r in rows]).cpu().tolist()  # one synchronization
        with open(self.path, "a", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            for (step, _), row in zip(rows, numbers, strict=True):
                w.writerow([step, *(f"{v:.6g}" for v in row)])
                if self.writer is not None:
                    for k, v in zip(keys, row, strict=True):
                        self.writer.add_scalar(k, v, step)
        self.last = dict(zip(keys, numbers[-1], strict=True))
        self.pending.clear()
        return self.last

    def close(self) -> None:
        self.flush()
        if self.writer is not None:
            self.writer.close()
