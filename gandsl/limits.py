"""Every limit the compiler enforces, in one table.

A spec is untrusted input: each limit keeps a pass from overflowing Python's stack, running
for minutes or filling memory, and each is checked before the work it bounds is done. The
table is the documentation's source too: `docs/language.md#limits` lists every row (a test
keeps them equal).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    value: int
    code: str  # the diagnostic a spec past the limit gets
    what: str  # the row of the docs table


SOURCE_BYTES = Limit(512 * 1024, "E004", "bytes in a spec file (512 KiB)")
DEPTH = Limit(100, "E004", "levels of nesting: brackets `( [ {`, bodies, and operators such "
              "as `-`, `not`, `^`, `.name` and calls that nest without brackets")
OPERANDS = Limit(1_000, "E004", "names, numbers and strings in one expression")
NUMBER_DIGITS = Limit(40, "E005", "digits in a number literal (exponent included)")
MAGNITUDE = Limit(2 ** 53, "E150", "magnitude of a compile-time integer (2^53)")
EXPANSION = Limit(100_000, "E152", "expansion steps of a whole spec: statements run, loop "
                  "iterations, block and `repeat` applications and layers made, after "
                  "unrolling `for`, `repeat` and blocks")
NODES = Limit(20_000, "E152", "operations of one network after expansion; iterations of one "
              "`for` loop; repetitions of one `repeat`")
BLOCK_DEPTH = Limit(32, "E152", "block applications nested inside each other")
NESTING = Limit(100, "E152", "bodies inside bodies while a network expands, counted through "
                "the blocks it applies")
IMPORTS = Limit(64, "E110", "files one spec imports, directly or through the files it "
                "imports")
REPORTED = Limit(50, "", "diagnostics printed for one spec (the rest are counted: "
                 "`… and N more`)")
PARAMETERS = Limit(2 ** 31, "W508", "learnable parameters of one network, or activation "
                   "values it keeps per sample in training, before a warning")

ALL: dict[str, Limit] = {name: value for name, value in globals().items()
                         if isinstance(value, Limit)}
