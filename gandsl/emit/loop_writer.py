"""Writing a loop that `loops.py` found: `for i in range(n):` over the iteration's
statements, their modules in a `nn.ModuleList` (one `nn.ModuleDict` per iteration where an
iteration has several, so the parameters keep the order of the iterations), the numbers that
grow with `i` written from it, one variable per statement shared where lifetimes allow."""

from __future__ import annotations

from collections import Counter

from ..layers import has_module, layer_of
from ..naming import attribute_namespace, literal, sanitize
from . import progressive
from .blocks import place_use, use_params
from .loops import Item, Loop, numbers, refs
from .symbolic import NotLoopable
from .wrap import WIDTH


class LoopWriter:
    """The `for i in range(n):` of a loop (a mixin of the network class builder, whose
    `_node`, `_ctx`, `_construct` and variables it uses)."""

    def _loop(self, items: list[Item], loop: Loop, batch: str, holder: dict[str, int],
              last_use: dict[int, int], prefer: dict[int, str]) -> bool:
        """Write the loop; False (nothing written) when a number cannot be written in `i`."""
        saved = (len(self.cls.init), len(self.cls.body), dict(self.var_of))
        try:
            self._write_loop(items, loop, batch, holder, last_use, prefer)
        except NotLoopable:
            del self.cls.init[saved[0]:], self.cls.body[saved[1]:]
            self.var_of = saved[2]
            self.R.loop, self.loop_attrs, self.loop_comment = {}, {}, None
            self.loop_nodes = {}
            return False
        return True

    def _write_loop(self, items, loop, batch, holder, last_use, prefer) -> None:
        p, n = loop.period, loop.count
        names = self._loop_variables(items, loop, holder, last_use, prefer)
        self.R.loop = numbers(self.net, items, loop)
        lists: dict[int, str] = {}  # position → its ModuleList attribute
        modules = [j for j in range(p) if items[loop.item(0, j)].node is None
                   or has_module(items[loop.item(0, j)].node.op)]
        if len(modules) > 1:  # one ModuleDict per iteration: the parameters keep their order
            lists = self._module_dicts(items, loop, modules, batch)
        for j in modules if len(modules) == 1 else ():
            lists.update(self._module_list(items, loop, j, batch))
        before = [f"{names[j]} = {self.var_of[v]}" for j, v in sorted(loop.init.items())
                  if names[j] != self.var_of[v]]
        if before and self.levels:  # the value it starts from may not exist at every level
            raise NotLoopable("a progressive loop would start from a copied variable")
        chunks: list[tuple[str | None, list[str]]] = []  # each statement, its condition
        step = next((self.levels[items[loop.item(1, j)].node.id] - self.levels[it.node.id]
                     for j in range(p) for it in [items[loop.item(0, j)]]
                     if it.node is not None and it.node.op == "grow"), 0)  # levels per iteration
        for j in range(p):
            first = items[loop.item(0, j)]
            for k, ref in enumerate(refs(items, loop, 1, j)):  # where iteration i reads
                v = first.inputs[k]
                self.var_of[v] = names[ref[1]] if ref[0] in ("cur", "prev") else self.var_of[v]
            start = len(self.cls.body)
            ends = [self.net.nodes[items[loop.item(i, j)].output].type for i in (0, n - 1)]
            self.loop_comment = ends[0].shape_comment() if ends[0] == ends[1] else \
                f"{ends[0].shape_comment()} … {ends[1].shape_comment()}"
            self.regions = [self.item_regions[loop.item(i, j)] for i in range(n)] \
                if self.levels else []
            if first.node is not None:
                self.loop_attrs = {first.node.id: lists[j]} if j in lists else {}
                self.loop_nodes = {first.node.id: [items[loop.item(i, j)].node
                                                   for i in range(n)]}
                self._node(first.node, names[j], batch)
            else:
                inst = first.blocks[0][0]
                extra = "".join(f", {self.var_of[v]}" for v in inst.values)
                self._line(f"{names[j]} = self.{lists[j]}({self.var_of[inst.input]}{extra})",
                           None)
            cond = progressive.condition(self.regions, len(self.levels), step) \
                if self.levels else None
            chunks.append((cond, self.cls.body[start:]))
            del self.cls.body[start:]
        body = ["    " + line for line in progressive.group(chunks)]
        self.cls.body += [*before, f"for i in range({n}):", *body]
        self.R.loop, self.loop_attrs, self.loop_comment = {}, {}, None
        self.loop_nodes = {}
        for j in range(p):  # after the loop, the last iteration's values are in its variables
            out = items[loop.item(n - 1, j)].output
            self.var_of[out] = names[j]
            holder[names[j]] = out

    def _loop_variables(self, items, loop, holder, last_use, prefer) -> dict[int, str]:
        """One variable per statement of an iteration, the spec's name where it can be: two
        statements share one when neither's value is overwritten by the other before its last
        read, in this iteration or across the next (`h = conv(h, w)`). A value still needed
        from outside the loop keeps its variable; a carried value starts in its initial
        value's variable where that one is free."""
        p = loop.period
        ends = {j: j for j in range(p)}  # statement → the time of its value's last read
        for j in range(p):
            for ref in refs(items, loop, 1, j):
                if ref[0] == "cur":
                    ends[ref[1]] = max(ends[ref[1]], j)
                elif ref[0] == "prev":
                    ends[ref[1]] = max(ends[ref[1]], j + p)
            if last_use.get(items[loop.item(loop.count - 1, j)].output, -1) > loop.end:
                ends[j] = 2 * p + 1  # read after the loop: never overwritten in it

        def clash(a: int, b: int) -> bool:
            return any(a < b + o * p < ends[a] or b < a + o * p < ends[b] for o in (-1, 0, 1))

        live = {name for name, node in holder.items()
                if last_use.get(node, -1) >= loop.start and node not in loop.init.values()}
        names: dict[int, str] = {}
        for j in sorted(range(p), key=lambda j: j not in loop.init):  # carried values first
            init = loop.init.get(j)
            choices = []
            if init is not None and last_use.get(init, -1) <= loop.end \
                    and self.net.nodes[init].op != "input":  # an input keeps its value
                choices.append(self.var_of[init])
            base = sanitize(prefer[items[loop.item(loop.count - 1, j)].output], self.reserved)
            choices += [base] + [f"{base}_{k}" for k in range(1, 2 * p + 2)]
            for name in choices:
                if name in live or name == "i":
                    continue
                if any(other == name and clash(j, k) for k, other in names.items()):
                    continue
                if init is not None and name in names.values():
                    continue  # a carried value's variable holds only it at the loop's start
                names[j] = name
                break
        return names

    def _module_list(self, items, loop, j: int, batch: str) -> dict[int, str]:
        """`self.style_convs = nn.ModuleList([...])`: statement j's module in every iteration,
        built with that iteration's arguments."""
        first = items[loop.item(0, j)]
        per = [items[loop.item(i, j)] for i in range(loop.count)]
        if first.node is None:
            uses = [it.blocks[0] for it in per]
            ctors = [self._construct(bc, use) for _, bc, use in uses]
            base = uses[0][0].block
            params = [use_params(self.net, inst) for inst, _, _ in uses]
        else:
            if not has_module(first.node.op):
                return {}
            layer = layer_of(first.node.op)
            ctors, params = [], []
            for it in per:
                _, ctx = self._ctx(it.node, batch)
                self.R.place = "init"
                ctors.append(layer.module(ctx))
                params.append(it.node.params)
            base = first.node.op
        attr = self.attrs.create(base if base.endswith("s") else base + "s")
        for k, it in enumerate(per):  # where each layer of the spec lives, for the tests
            if it.node is not None:
                self.cls.paths[it.node.name] = f"{attr}.{k}"
                continue
            inst, bc, _ = it.blocks[0]
            place_use(self.cls.paths, self.net, inst, bc, f"{attr}.{k}")
        head = f"self.{attr} = nn.ModuleList(["
        if len(set(ctors)) == 1:
            self.cls.init.append(f"{head}{ctors[0]} for _ in range({loop.count})])")
        else:
            self.cls.init += [f"{head}  # {sum(params):,} params",
                              *(f"    {c},  # {k:,}" for c, k in zip(ctors, params, strict=True)),
                              "])"]
        return {j: f"{attr}[i]"}

    def _module_dicts(self, items, loop, positions: list[int], batch: str) -> dict[int, str]:
        """`self.blocks = nn.ModuleList([nn.ModuleDict({...}), ...])`: each iteration's
        modules together, by role, in the order the iterations make them."""
        attr = self.attrs.create("blocks")
        bases = {j: (items[loop.item(0, j)].blocks[0][0].block if items[loop.item(0, j)].node
                     is None else items[loop.item(0, j)].node.op) for j in positions}
        keys = attribute_namespace()
        roles, seen = {}, Counter()
        for j in positions:  # `style_conv1`, `style_conv2`, `to_rgb`
            base = bases[j]
            seen[base] += 1
            several = list(bases.values()).count(base) > 1
            roles[j] = keys.create(f"{base}{seen[base]}" if several else base)
        self.cls.init.append(f"self.{attr} = nn.ModuleList([")
        for i in range(loop.count):
            entries = []
            for j in positions:
                it = items[loop.item(i, j)]
                if it.node is None:
                    inst, bc, use = it.blocks[0]
                    entries.append(f"{literal(roles[j])}: {self._construct(bc, use)}")
                    place_use(self.cls.paths, self.net, inst, bc, f"{attr}.{i}.{roles[j]}")
                else:
                    _, ctx = self._ctx(it.node, batch)
                    self.R.place = "init"
                    entries.append(f"{literal(roles[j])}: {layer_of(it.node.op).module(ctx)}")
                    self.cls.paths[it.node.name] = f"{attr}.{i}.{roles[j]}"
            one = f"    nn.ModuleDict({{{', '.join(entries)}}}),"
            if len(one) + 8 <= WIDTH:
                self.cls.init.append(one)
            else:
                self.cls.init += ["    nn.ModuleDict({", *(f"        {e}," for e in entries),
                                  "    }),"]
        self.cls.init.append("])")
        return {j: f"{attr}[i].{roles[j]}" for j in positions}
