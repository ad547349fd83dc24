"""The one exception of the data layer, and how messages name a data declaration.

Data problems (a missing folder, a label count that disagrees with the spec) are the user's to
fix, not bugs: as a `UserError`, the command line prints the message and exits, never a
traceback. So every message says which declaration it is about, which file, and what was
expected.
"""

from __future__ import annotations

from ..errors import UserError
from ..ir import Dataset


class DataError(UserError):
    """A dataset cannot be served as the spec declares it. `str(e)` is the whole message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


def where(ds: Dataset, spec_path: str = "") -> str:
    """`specs/stargan.gan:20: data `rafd``: the prefix of every message about one declaration."""
    at = f"{spec_path}:{ds.span.line}: " if spec_path else f"line {ds.span.line}: "
    return f"{at}data `{ds.name}`"


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def unwrap(e: DataError) -> DataError:
    """The dataset's own message of a `DataError`, also when a DataLoader worker re-raised it.

    A worker's exception comes back with the worker's traceback folded into its message; the
    user should see only what the dataset said, as with `workers=0`.
    """
    text = e.message
    marker = f"{DataError.__module__}.DataError: "
    if "Original Traceback" in text and marker in text:
        text = text.split(marker, 1)[1].rstrip()
    return DataError(text)
