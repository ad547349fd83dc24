"""The generated `Objective.samples`: the images of a sample grid from a fixed draw, and the
`GENERATED` / `CONDITIONS` literals that `gandsl sample` and `gandsl eval` read.

The rows are the nodes the train section's `grid` names, or else every call of a generator
(`Objective.generators`, filled by the checker) with the real images they are made from and
the paired targets beside them. `GENERATED` lists the generated rows, the one `sample` and
`eval` use first: the grid's first made by a network, or by default the image made through
the fewest other networks (VAE-GAN's G(z) before its reconstruction G(E(x))).

A mixin of the objective's writer: it computes values with the writer's expressions, names
and draws.
"""

from __future__ import annotations

import networkx as nx

from ..functions import TRAINING_ONLY
from ..naming import Namespace
from ..types import TensorType
from .tensor_math import unwrap as _unwrap


class SampleRows:
    def samples(self) -> list[str]:
        obj = self.spec.objective
        if obj.grid:
            shown = [self.canon[i] for i in obj.grid]
            trained = set(self.owner)
            picked = [i for i in shown if any(
                self.nodes[a].op == "call" and self.nodes[a].name in trained
                for a in nx.ancestors(self.graph, i) | {i})]
            need = self._sample_needs(shown)
        else:
            gens = set(obj.generators)
            picked = [i for i, node in sorted(self.nodes.items()) if self.canon[i] == i
                      and node.op == "call" and node.name in gens and self._is_image(i)]
            need = self._sample_needs(picked)
            need = sorted(set(need) | set(self._paired_targets(need, picked)))
            shown = [i for i in need if self.nodes[i].op == "data" and self._is_image(i)] + \
                picked
            picked = sorted(picked, key=self._networks_before)
        lines, refs = self._sample_values(need, rows=set(shown))
        self.generated = [refs[i] for i in picked]
        # The labels each generated image was made from, as the generator received them.
        self.conditions = {}
        for i in picked:
            for j in self.nodes[i].inputs:
                t = self.nodes[self.canon[j]].type
                if isinstance(t, TensorType) and t.kind in ("label", "class"):
                    self.conditions[refs[i]] = refs[self.canon[j]]
                    break
        values = list(dict.fromkeys(refs[i] for i in shown))
        values += sorted(set(self.conditions.values()) - set(values))
        lines.append("return {" + ", ".join(f'"{n}": {n}' for n in values) + "}")
        return self._bind_networks(lines)

    def _sample_values(self, need: list[int], rows: set[int]) -> tuple[list[str],
                                                                      dict[int, str]]:
        """The statements computing `need` from a fixed draw, and each value's reference (a
        variable for each row of the grid: its name is the row's)."""
        self.names = Namespace(self.reserved)
        lines, refs = self._draws(need)
        for i in need:
            node = self.nodes[i]
            if i in refs:
                continue
            if node.op == "fn" and node.name in TRAINING_ONLY:  # the styles as drawn
                refs[i] = refs[self.canon[node.inputs[0]]]
                continue
            if i not in rows and self._inline(node, refs):
                refs[i] = self._expr(node, refs)
                continue
            var = self._var(node)
            lines.append(f"{var} = {_unwrap(self._expr(node, refs))}")
            refs[i] = var
        return lines, refs

    def _networks_before(self, i: int) -> int:
        """How many other network calls an image is made through."""
        return sum(1 for a in nx.ancestors(self.graph, i) if self.nodes[a].op == "call")

    def _sample_needs(self, rows: list[int]) -> list[int]:
        """What the sample grids compute: the rows' inputs, back to the draws; of a
        training-only function (style mixing), only its first argument."""
        seen: set[int] = set()
        todo = list(rows)
        while todo:
            i = todo.pop()
            if i in seen:
                continue
            seen.add(i)
            node = self.nodes[i]
            inputs = node.inputs[:1] if node.op == "fn" and node.name in TRAINING_ONLY \
                else node.inputs
            todo += [self.canon[j] for j in inputs]
        return sorted(seen)

    def _paired_targets(self, need: list[int], picked: list[int]) -> list[int]:
        """The other images of a drawn pair shaped like a generated one (pix2pix's b beside
        G(a), SPADE's photo beside G(label map)): what a translation should have made, shown
        in the grid beside it."""
        made = [self.nodes[i].type for i in picked]
        drawn = [self.nodes[i] for i in need if self.nodes[i].op == "data" and
                 self._is_image(i)]  # an image the generator reads (not CGAN's label)
        return [i for i, n in sorted(self.nodes.items())
                if n.op == "data" and self.canon[i] == i and i not in need and n.type in made
                and any(d.name == n.name and d.kwargs.get("draw") == n.kwargs.get("draw")
                        for d in drawn)]

    def _is_image(self, i: int) -> bool:
        t = self.nodes[i].type
        return isinstance(t, TensorType) and t.family == "spatial"
