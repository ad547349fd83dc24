"""Files are written whole or not at all, a target that is not a file is refused, and a full
disk is a named error that leaves no temporary file (sample grids and arrays, checkpoints)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
import torch

from gandsl.atomic import WriteError, replace_file, replace_text
from gandsl.train import checkpoint as ckpt
from gandsl.train.grid import save_grid


def full_disk(tmp: Path) -> None:
    tmp.write_bytes(b"half")
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_write_replaces_the_file_with_a_new_files_permissions(tmp_path):
    target = tmp_path / "a" / "out.txt"
    old = os.umask(0o022)
    try:
        replace_text(target, "one")
    finally:
        os.umask(old)
    assert target.read_text() == "one" and target.stat().st_mode & 0o777 == 0o644
    replace_text(target, "two", mode=0o600)
    assert target.read_text() == "two" and target.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in target.parent.iterdir()] == ["out.txt"]


def test_a_full_disk_is_a_named_error_and_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "grid.png"
    target.write_bytes(b"old")
    with pytest.raises(WriteError, match=f"cannot write sample grid {target}: No space left"):
        replace_file(target, full_disk, "sample grid")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["grid.png"]


@pytest.mark.parametrize("make,kind", [(lambda d: d, "is a directory"),
                                       (lambda d: Path(os.devnull), "is not a regular file")])
def test_a_target_that_is_not_a_file_is_refused(tmp_path, make, kind):
    target = make(tmp_path)
    with pytest.raises(WriteError, match=f"output {target} {kind}; expected the path of a file"):
        replace_text(target, "x")
    assert list(tmp_path.iterdir()) == []


def test_a_sample_grid_into_a_directory_is_refused(tmp_path):
    rows = {"fake": torch.zeros(2, 1, 8, 8)}
    with pytest.raises(WriteError, match="sample grid .* is a directory"):
        save_grid(rows, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_checkpoint_that_cannot_be_written_leaves_the_last_one(tmp_path, monkeypatch):
    tensors = {"w": torch.ones(3)}
    old = os.umask(0o022)
    try:
        first = ckpt.save(tmp_path, 1, tensors, {"step": 1})
    finally:
        os.umask(old)
    assert first.stat().st_mode & 0o777 == 0o755  # not mkdtemp's private 0700
    assert {f.stat().st_mode & 0o777 for f in first.iterdir()} == {0o644}

    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(ckpt, "save_file", no_space)
    with pytest.raises(WriteError, match="cannot write checkpoint step_0000002 in .*: No space"):
        ckpt.save(tmp_path, 2, tensors, {"step": 2})
    assert ckpt.find(tmp_path) == first
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == \
        ["latest.json", "step_0000001"]
