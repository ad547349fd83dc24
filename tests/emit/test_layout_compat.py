"""Today's generated networks compute what the earlier layout computed (before block classes
and `nn.Sequential`), for the same weights given in the same `state_dict` order."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "reference"))

from layout_probe import probe  # noqa: E402


def test_networks_equal_the_previous_layout_by_order():
    before = json.loads((ROOT / "tests" / "reference" / "layout_v1.json").read_text())
    now = probe(ROOT)
    assert now.keys() == before.keys()
    for key, old in before.items():
        assert now[key]["shapes"] == old["shapes"], f"{key}: parameter order or shapes"
        for a, b in zip(now[key]["outputs"], old["outputs"], strict=True):
            for x, y in zip(a, b, strict=True):
                assert math.isclose(x, y, rel_tol=1e-4, abs_tol=1e-4), key
