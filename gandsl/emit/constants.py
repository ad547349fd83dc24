"""Numbers a module repeats become named constants: `SQRT2 = 1.4142135623730951` once, at the
top, instead of the same seventeen digits at every activation gain.

A float literal the network classes write more than twice is named: after what it is where
the value is well known (√2, √½, π), else after the first layer argument that used it
(`LEAKY_RELU_SLOPE`). Names follow the module's naming rules (never one of its own names).
"""

from __future__ import annotations

import math
from collections import Counter

from ..naming import Namespace, sanitize
from .symbolic import Renderer

REPEATS = 2  # a literal written more often than this is named
_KNOWN = {math.sqrt(2): "SQRT2", math.sqrt(0.5): "SQRT1_2", math.pi: "PI",
          1 / math.sqrt(2): "SQRT1_2"}


def module_constants(renderers: list[Renderer], reserved: frozenset[str]
                     ) -> list[tuple[str, float]]:
    """(name, value) of each float the renderers wrote more than `REPEATS` times, in the order
    the module first wrote them."""
    counts: Counter[float] = Counter()
    origins: dict[float, str] = {}
    for r in renderers:
        counts.update(r.floats)
        for value, origin in r.origins.items():
            origins.setdefault(value, origin)
    names = Namespace(reserved)
    out = []
    for value, n in counts.items():
        if n <= REPEATS:
            continue
        base = _KNOWN.get(value) or sanitize(origins.get(value, "value").strip("_").upper())
        out.append((names.create(base), value))
    return out
