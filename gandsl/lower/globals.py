"""Top-level declarations: params (order-free, cycles found on a networkx graph), `let`s,
top-level `if`, data declarations, and the one namespace that blocks and networks share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from .. import syntax as S
from ..catalog import ALIGNED_SOURCES, DATA_SOURCES, PAIR_ONLY, PAIR_SOURCES
from ..consteval import (
    CONSTANTS,
    ConstError,
    DatasetRef,
    NotConst,
    Silent,
    as_int,
    check_value,
    describe,
    evaluate,
    names_in,
    truth,
)
from ..diagnostics import Diagnostics, Span, did_you_mean
from ..ir import Dataset, Param
from ..layers import LAYERS
from ..types import KINDS, RANK, LabelPart, LabelSet, TensorType
from .scope import POISON, Poison


@dataclass
class Globals:
    """Everything declared at the top level, after params are evaluated and ifs are taken."""

    consts: dict[str, Any] = field(default_factory=dict)  # params and lets
    const_spans: dict[str, Span] = field(default_factory=dict)
    params: list[Param] = field(default_factory=list)
    datasets: dict[str, Dataset] = field(default_factory=dict)
    blocks: dict[str, S.BlockDecl] = field(default_factory=dict)
    networks: dict[str, S.NetworkDecl] = field(default_factory=dict)
    externs: dict[str, Any] = field(default_factory=dict)  # name → `externs.ExternSig`
    objectives: list[S.ObjectiveDecl] = field(default_factory=list)
    trains: list[S.TrainDecl] = field(default_factory=list)
    spans: dict[str, Span] = field(default_factory=dict)  # every top-level name's definition
    poisoned: set[str] = field(default_factory=set)  # names whose definition failed
    declared: dict[str, str] = field(default_factory=dict)  # every top-level name → its kind

    def resolve(self, name: str, span: Span,
                visible: Callable[[], list[str]] | None = None) -> Any:
        """A resolver for `consteval.evaluate` over the global namespace. `visible` lists the
        names an undefined one may be a typo of (default: the globals)."""
        if name in self.poisoned or isinstance(self.consts.get(name), Poison):
            raise Silent
        if name in self.consts:
            return self.consts[name]
        if name in self.datasets:
            return DatasetRef((name,))
        if name in self.blocks or name in self.networks or name in self.externs:
            raise NotConst(name, span)
        kind = self.declared.get(name)
        if kind in ("data", "block", "network", "extern"):  # declared, not collected yet
            word = {"data": "dataset"}.get(kind, kind)
            raise ConstError("E153", f"`{name}` is a {word}, not a compile-time value", span)
        if kind == "let":
            raise ConstError("E153", f"`{name}` is a `let`, and params are evaluated before "
                             "lets: a param may only use other params", span)
        if name in CONSTANTS:
            return CONSTANTS[name]
        raise ConstError("E101", f"undefined name `{name}`", span,
                         lambda: did_you_mean(name, (visible or self.names)()))

    def names(self) -> list[str]:
        return [*self.consts, *self.datasets, *self.blocks, *self.networks, *CONSTANTS]


def collect(module: S.Module, overrides: dict[str, Any], diags: Diagnostics) -> Globals:
    g = Globals()
    _declare(module.items, g)
    _params(module, overrides, g, diags)
    _items(module.items, g, diags, top=True)
    return g


_KINDS = {S.ParamDecl: "param", S.Let: "let", S.DataDecl: "data", S.BlockDecl: "block",
          S.NetworkDecl: "network", S.NetworkCopy: "network", S.ExternDecl: "extern"}


def _declare(items: list, g: Globals) -> None:
    """Every top-level name and its kind, whatever the branches: for precise messages."""
    for item in items:
        if isinstance(item, S.If):
            _declare(item.then, g)
            _declare(item.orelse or [], g)
        elif type(item) in _KINDS:
            g.declared.setdefault(item.name, _KINDS[type(item)])


def _block_params_ok(block: S.BlockDecl, diags: Diagnostics) -> bool:
    seen: dict[str, Span] = {}
    for p in block.params:
        if p.name == "in":
            diags.error("E109", "`in` is the block's input and cannot be a parameter", p.span)
            return False
        if p.name in seen:
            diags.error("E102", f"parameter `{p.name}` of block `{block.name}` is declared twice",
                        p.span, notes=[("first declared here", seen[p.name])])
            return False
        seen[p.name] = p.span
    return True


def _define(g: Globals, name: str, span: Span, diags: Diagnostics, what: str) -> bool:
    if name in g.spans:
        diags.error("E102", f"{what} `{name}` is already defined", span,
                    notes=[("first defined here", g.spans[name])])
        return False
    if (name in LAYERS or name == "repeat") and what in ("block", "network"):
        diags.error("E109", f"{what} `{name}` has the name of a built-in layer", span,
                    hint="choose another name")
        return False
    g.spans[name] = span
    return True


def _params(module: S.Module, overrides: dict[str, Any], g: Globals, diags: Diagnostics) -> None:
    """Params may refer to each other in any order; evaluate them along a dependency graph."""
    decls: dict[str, S.ParamDecl] = {}
    for item in module.items:
        if isinstance(item, S.ParamDecl) and _define(g, item.name, item.name_span, diags, "param"):
            decls[item.name] = item
    graph = nx.DiGraph()
    graph.add_nodes_from(decls)
    for name, decl in decls.items():
        for ref, _ in names_in([decl.value, decl.choices]):
            if ref in decls:
                graph.add_edge(ref, name)
    in_cycle: set[str] = set()
    for cycle in nx.simple_cycles(graph):
        # Edges run from a param to the params that use it; the message reads "uses".
        ordered = _rotate(cycle[::-1], list(decls))
        first = decls[ordered[0]]
        path = " → ".join([*ordered, ordered[0]])
        diags.error("E106", f"params depend on each other in a cycle: {path}", first.name_span,
                    notes=[(f"`{n}` is defined here", decls[n].name_span) for n in ordered[1:]])
        in_cycle.update(cycle)
    order = list(nx.lexicographical_topological_sort(
        graph.subgraph(set(decls) - in_cycle), key=list(decls).index))
    for name in in_cycle:
        g.consts[name] = POISON
    for name in order:
        decl = decls[name]
        try:
            default = evaluate(decl.value, g.resolve)
        except ConstError as e:
            diags.error(e.code, e.message, e.span, e.hint)
            g.consts[name] = POISON
            continue
        except Silent:  # it uses a param that already failed
            g.consts[name] = POISON
            continue
        value = overrides.get(name, default)
        try:
            check_value(value, decl.name_span)
        except ConstError as e:  # the spec is checked on with the default: no echoes
            diags.error("E108", f"--param {name}: {e.message}", decl.name_span)
            value = default
        if name in overrides and not _same_kind(default, value):
            shown = str(value).lower() if isinstance(value, bool) else value
            hint = None
            if isinstance(default, int) and not isinstance(default, bool) and \
                    isinstance(value, float):  # the declaration's literal decides
                hint = f"an integer default makes `{name}` an integer; declare it " \
                       f"`param {name} = {float(default)!r}` to take any number"
            diags.error("E108", f"--param {name}={shown}: expected {_kind_word(default)}, like "
                        f"the default `{_literal(default)}`", decl.name_span, hint=hint)
            value = default  # checked on with the default, so only independent errors follow
        elif isinstance(default, int) and isinstance(value, float):
            value = int(value)  # `--param S=1.28e2` for an integer param is 128
        if isinstance(default, DatasetRef | tuple | Poison):
            diags.error("E150", f"a param must be a number, a bool or a string, got "
                        f"{describe(default)}", decl.value.span)
            value = POISON
        elif decl.choices is not None:
            value = _chosen(decl, default, value, name in overrides, g, diags)
        g.consts[name] = value
        if not isinstance(value, Poison):
            g.params.append(Param(name=name, value=value, default=default,
                                  overridden=name in overrides, span=decl.name_span))
        g.const_spans[name] = decl.name_span


def _chosen(decl: S.ParamDecl, default: Any, value: Any, overridden: bool, g: Globals,
            diags: Diagnostics) -> Any:
    """`param loss: ["hinge", "ns"] = "hinge"`: the value if it is one of the choices."""
    try:
        choices = evaluate(decl.choices, g.resolve)
    except ConstError as e:
        diags.error(e.code, e.message, e.span, e.hint)
        return POISON
    except Silent:
        return POISON
    if not isinstance(choices, tuple) or not choices:
        diags.error("E150", f"the choices of a param are a list, e.g. `[\"hinge\", \"ns\"]`; "
                    f"got {describe(choices)}", decl.choices.span)
        return POISON
    listed = ", ".join(_literal(c) for c in choices)
    if default not in choices or any(isinstance(c, bool) != isinstance(default, bool)
                                     for c in choices if c == default):
        diags.error("E150", f"the default `{_literal(default)}` of `{decl.name}` is not one of "
                    f"its choices: {listed}", decl.value.span)
        return POISON
    if isinstance(value, Poison):
        return value
    if value not in choices:
        diags.error("E108", f"--param {decl.name}={_literal(value)}: expected one of {listed}",
                    decl.name_span, hint=did_you_mean(str(value), [str(c) for c in choices]))
        return default  # checked on with the default, so only independent errors follow
    return value


def _same_kind(default: Any, value: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, int):
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if isinstance(default, float):
        return isinstance(value, int | float)
    return isinstance(value, type(default))


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return f'"{value}"' if isinstance(value, str) else str(value)


def _kind_word(default: Any) -> str:
    if isinstance(default, bool):
        return "`true` or `false`"
    if isinstance(default, int):
        return "an integer"
    if isinstance(default, float):
        return "a number"
    return "a string"


def _rotate(cycle: list[str], order: list[str]) -> list[str]:
    """Start a cycle at its earliest-defined member, so messages are stable."""
    i = min(range(len(cycle)), key=lambda k: order.index(cycle[k]))
    return cycle[i:] + cycle[:i]


def _items(items: list, g: Globals, diags: Diagnostics, top: bool) -> None:
    for item in items:
        if isinstance(item, S.ParamDecl):
            if not top:
                diags.error("E150", "a `param` cannot be declared inside `if`", item.span,
                            hint="declare it at the top level; use `let` for derived values")
        elif isinstance(item, S.Let):
            if _define(g, item.name, item.name_span, diags, "let"):
                g.consts[item.name] = const_or_poison(item.value, g.resolve, diags)
                g.const_spans[item.name] = item.name_span
        elif isinstance(item, S.If):
            branch = _taken(item, g, diags)
            if branch:
                _items(branch, g, diags, top=False)
        elif isinstance(item, S.DataDecl):
            if _define(g, item.name, item.name_span, diags, "data"):
                ds = _dataset(item, g, diags)
                if ds is not None:
                    g.datasets[item.name] = ds
                else:
                    g.poisoned.add(item.name)
        elif isinstance(item, S.BlockDecl):
            if _define(g, item.name, item.name_span, diags, "block") and \
                    _block_params_ok(item, diags):
                g.blocks[item.name] = item
        elif isinstance(item, S.NetworkDecl):
            if _define(g, item.name, item.name_span, diags, "network"):
                g.networks[item.name] = item
        elif isinstance(item, S.ExternDecl):
            from .externs import declare

            if _define(g, item.name, item.name_span, diags, "extern"):
                sig = declare(item, diags)
                if sig is None:
                    g.poisoned.add(item.name)
                else:
                    g.externs[item.name] = sig
        elif isinstance(item, S.NetworkCopy):
            source = g.networks.get(item.source)
            if source is None:
                diags.error("E101", f"`{item.source}` is not a network declared above",
                            item.source_span,
                            lambda item=item: did_you_mean(item.source, g.networks))
            elif _define(g, item.name, item.name_span, diags, "network"):
                g.networks[item.name] = S.NetworkDecl(
                    item.span, item.name, item.name_span, source.inputs, source.outputs,
                    source.body, source.frozen, copy_of=source.copy_of or source.name)
        elif isinstance(item, S.ObjectiveDecl):
            if g.objectives:
                diags.error("E102", "a spec has one `objective` section", item.span,
                            notes=[("the first one", g.objectives[0].span)])
            else:
                g.objectives.append(item)
        elif isinstance(item, S.TrainDecl):
            if g.trains:
                diags.error("E102", "a spec has one `train` section", item.span,
                            notes=[("the first one", g.trains[0].span)])
            else:
                g.trains.append(item)


def _taken(item: S.If, g: Globals, diags: Diagnostics) -> list | None:
    """The branch of a compile-time `if` that is taken (an `else if` is a nested If). When the
    condition fails, whatever either branch declares is poisoned, so that uses stay quiet."""
    value = const_or_poison(item.cond, g.resolve, diags)
    try:
        if isinstance(value, Poison):
            raise Silent
        cond = truth(value, item.cond.span)
    except ConstError as e:
        diags.error(e.code, e.message, e.span, e.hint)
        cond = None
    except Silent:
        cond = None
    if cond is None:
        names: dict[str, str] = {}
        probe = Globals(declared=names)
        _declare([*item.then, *(item.orelse or [])], probe)
        g.poisoned.update(names)
        return None
    return item.then if cond else item.orelse


def const_or_poison(expr: S.Expr, resolve, diags: Diagnostics) -> Any:
    try:
        value = evaluate(expr, resolve)
    except ConstError as e:
        diags.error(e.code, e.message, e.span, e.hint)
        return POISON
    except NotConst as e:
        diags.error("E153", f"`{e.name}` is not a compile-time value", e.span)
        return POISON
    except Silent:
        return POISON
    return POISON if _contains_poison(value) else value


def _contains_poison(value: Any) -> bool:
    if isinstance(value, Poison):
        return True
    return isinstance(value, tuple) and any(_contains_poison(v) for v in value)


# ---- types ------------------------------------------------------------------------------

def eval_type(t: S.TypeExpr, g: Globals, diags: Diagnostics, resolve=None) -> TensorType | None:
    """A declared type with its dimensions evaluated; None after reporting an error."""
    resolve = resolve or g.resolve
    if t.kind not in RANK:
        diags.error("E107", f"unknown type `{t.kind}`", t.span,
                    did_you_mean(t.kind, KINDS) or f"types are {', '.join(KINDS)}")
        return None
    rank = RANK[t.kind]
    if len(t.dims) != rank:
        shape = {3: "[C, H, W]", 1: "[N]", 0: "with no sizes"}[rank]
        diags.error("E107", f"`{t.kind}` takes {rank} size{'s' if rank != 1 else ''} "
                    f"({t.kind}{shape if rank else ''}), got {len(t.dims)}", t.span)
        return None
    dims: list[int] = []
    labels: LabelSet | None = None
    for d in t.dims:
        value = const_or_poison(d, resolve, diags)
        if isinstance(value, Poison):
            return None
        if isinstance(value, DatasetRef):
            if t.kind not in ("label", "logits", "class"):
                diags.error("E107", f"a dataset gives the size of label, logits or class "
                            f"types, not `{t.kind}`", d.span)
                return None
            labels = label_set(value, g, diags, d.span)
            if labels is None:
                return None
            if t.kind == "class" and labels.masked:
                diags.error("E107", "`class` indexes one dataset's classes; use `label` for "
                            "several datasets", d.span)
                return None
            n = labels.n_labels + (len(labels.parts) if t.kind == "label" and labels.masked
                                   else 0)
            dims.append(n)
            continue
        try:
            n = as_int(value, d.span, "a size")
        except ConstError as e:
            diags.error(e.code, e.message, e.span, e.hint)
            return None
        if n < 1:
            diags.error("E150", f"sizes must be positive, got {n}", d.span)
            return None
        dims.append(n)
    return TensorType(kind=t.kind, dims=tuple(dims), labels=labels)


def label_set(ref: DatasetRef, g: Globals, diags: Diagnostics, span: Span) -> LabelSet | None:
    parts: list[LabelPart] = []
    for name in ref.names:
        ds = g.datasets.get(name)
        if ds is None:
            return None
        for member in (ds.members or [name]):
            mds = g.datasets[member]
            label = next((f for f in mds.fields if f.kind in ("label", "class")), None)
            if label is None:
                diags.error("E305", f"dataset `{member}` has no labels", span)
                return None
            parts.append(LabelPart(dataset=member, size=label.dims[0] if label.labels is None
                                   else label.labels.n_labels,
                                   kind="attributes" if label.kind == "label" else "classes"))
    return LabelSet(parts=tuple(parts))


# ---- data -------------------------------------------------------------------------------


def _dataset(item: S.DataDecl, g: Globals, diags: Diagnostics) -> Dataset | None:
    if not item.types:  # a union or an alias of datasets
        return _union(item, g, diags)
    fields = [eval_type(t, g, diags) for t in item.types]
    if any(f is None for f in fields):
        return None
    if fields[0].kind != "image" or len(fields) > 2 or any(
            f.kind not in ("label", "class", "image") for f in fields[1:]):
        diags.error("E305", "a dataset yields an image, optionally followed by one `label[N]`, "
                    "`class[N]` or a second `image[...]` (an aligned pair)",
                    item.types[0].span.to(item.types[-1].span))
        return None
    src = item.source
    if not (isinstance(src, S.Call) and isinstance(src.func, S.Name)):
        diags.error("E305", "expected a data source such as `image_folder(\"data/x\")` or "
                    "`digits()`", src.span)
        return None
    name = src.func.id
    if name not in DATA_SOURCES:
        diags.error("E103", f"unknown data source `{name}`", src.func.span,
                    did_you_mean(name, DATA_SOURCES) or
                    f"sources are {', '.join(DATA_SOURCES)}")
        return None
    for kw in src.kwargs:
        if kw.name not in DATA_SOURCES[name]:
            diags.error("E104", f"`{name}` has no argument `{kw.name}`", kw.span,
                        did_you_mean(kw.name, DATA_SOURCES[name]))
    pair = len(fields) == 2 and fields[1].kind == "image"
    if pair and name not in PAIR_SOURCES:
        diags.error("E305", f"`{name}` yields single images; a pair of images comes from "
                    f"{' or '.join(f'`{s}`' for s in ALIGNED_SOURCES)}", src.func.span,
                    "a label map and its photo come from `segmentation_folder`")
        return None
    if name in PAIR_ONLY and not pair:
        what = "aligned pairs" if name == "aligned_folder" else "(label map, photo) pairs"
        diags.error("E305", f"`{name}` yields {what}: declare two image fields, e.g. "
                    f"{PAIR_ONLY[name]}", src.func.span)
        return None
    args = [const_or_poison(a, g.resolve, diags) for a in src.args]
    kwargs = {kw.name: const_or_poison(kw.value, g.resolve, diags) for kw in src.kwargs}
    if len(fields) == 2 and fields[1].kind != "image" and fields[1].labels is None:
        kind = "attributes" if fields[1].kind == "label" else "classes"
        part = LabelPart(dataset=item.name, size=fields[1].dims[0], kind=kind)
        fields[1] = fields[1].model_copy(update={"labels": LabelSet(parts=(part,))})
    return Dataset(name=item.name, fields=fields, source=name, args=args, kwargs=kwargs,
                   span=item.name_span)


def _union(item: S.DataDecl, g: Globals, diags: Diagnostics) -> Dataset | None:
    value = const_or_poison(item.source, g.resolve, diags)
    if isinstance(value, Poison):
        return None
    if not isinstance(value, DatasetRef):
        diags.error("E305", f"expected datasets joined with `|`, got {describe(value)}",
                    item.source.span)
        return None
    members: list[str] = []
    for name in value.names:
        members.extend(g.datasets[name].members or [name])
    images = {g.datasets[m].fields[0].dims for m in members}
    if len(images) > 1:
        diags.error("E305", "datasets of a union must have images of one shape, got " +
                    ", ".join(f"{m}: {g.datasets[m].fields[0]}" for m in members),
                    item.source.span)
        return None
    first = g.datasets[members[0]]
    fields = [first.fields[0]]
    labelled = [len(g.datasets[m].fields) > 1 for m in members]
    if not any(labelled):  # images only: the union yields images from each in turn
        return Dataset(name=item.name, fields=fields, members=members, span=item.name_span)
    if not all(labelled):
        plain = [m for m, has in zip(members, labelled, strict=True) if not has]
        diags.error("E305", f"a union mixes datasets with and without labels "
                    f"({', '.join(plain)} have none)", item.source.span)
        return None
    labels = label_set(DatasetRef(tuple(members)), g, diags, item.source.span)
    if labels is None:
        return None
    extra = len(labels.parts) if labels.masked else 0
    kind = "label" if labels.masked or labels.parts[0].kind == "attributes" else "class"
    fields.append(TensorType(kind=kind, dims=(labels.n_labels + extra,), labels=labels))
    return Dataset(name=item.name, fields=fields, members=members, span=item.name_span)
