"""Files written whole or not at all: a temporary file beside the target, then a rename.

Every file gandsl writes for the user (sample grids and arrays, eval results, formatted specs,
the compile cache) goes through `replace_file`, so an interrupted or failed write (a full
disk, a kill) never leaves half a file and never leaves the temporary file behind. A target
that exists and is not a regular file (a directory, a device) is refused rather than replaced.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

from .errors import UserError


class WriteError(UserError):
    """A file could not be written: the target is not a file, or the system said no."""


def _umask() -> int:
    """The process's umask. Linux says it in /proc; elsewhere it is read by setting it, which
    for an instant would give other threads' new files no mask."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


def new_file_mode() -> int:
    """The permissions of a newly created file under this process's umask (mkstemp's are
    0600)."""
    return 0o666 & ~_umask()


def new_dir_mode() -> int:
    """The same for a directory (mkdtemp's are 0700)."""
    return 0o777 & ~_umask()


def check_target(path: Path, what: str = "output") -> None:
    """Refuse a target that exists and is not a regular file."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return
    except OSError as e:
        raise WriteError(f"cannot write {what} {path}: {e.strerror or e}") from None
    if not stat.S_ISREG(mode):
        kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
        raise WriteError(f"{what} {path} is {kind}; expected the path of a file to write")


def replace_file(path: Path, write: Callable[[Path], object], what: str = "output",
                 durable: bool = False, mode: int | None = None) -> Path:
    """Write `path` through `write(tmp)`, where `tmp` has the same suffix; `durable` also
    syncs it to disk before the rename (checkpoint metadata, the compile cache). The file
    gets `mode`, or a new file's permissions under the umask."""
    path = Path(os.path.realpath(path))  # through a symbolic link, to the file it names
    check_target(path, what)
    tmp: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix)
        os.close(fd)
        tmp = Path(name)
        write(tmp)
        os.chmod(tmp, new_file_mode() if mode is None else mode)
        if durable:
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        raise WriteError(f"cannot write {what} {path}: {e.strerror or e}") from None
    finally:
        if tmp is not None:
            try:
                tmp.unlink(missing_ok=True)  # gone after the rename; left by a failure
            except OSError:
                pass
    return path


def replace_text(path: Path, text: str, what: str = "output", durable: bool = False,
                 mode: int | None = None) -> Path:
    return replace_file(path, lambda tmp: tmp.write_text(text, encoding="utf-8", newline="\n"),
                        what, durable, mode)
