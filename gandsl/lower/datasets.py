"""Data declarations: a dataset of a data source (its fields' types and the source's
arguments checked), and unions and aliases of datasets (`celeba | rafd`)."""

from __future__ import annotations

from .. import syntax as S
from ..catalog import ALIGNED_SOURCES, DATA_SOURCES, PAIR_SOURCES
from ..consteval import DatasetRef, describe
from ..diagnostics import Diagnostics, did_you_mean
from ..ir import Dataset
from ..types import LabelPart, LabelSet, TensorType
from .declared_types import eval_type, label_set
from .namespace import Globals, const_or_poison
from .scope import Poison


def dataset(item: S.DataDecl, g: Globals, diags: Diagnostics) -> Dataset | None:
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
        if kw.name not in DATA_SOURCES[name].keywords:
            diags.error("E104", f"`{name}` has no argument `{kw.name}`", kw.span,
                        did_you_mean(kw.name, DATA_SOURCES[name].keywords))
    pair = len(fields) == 2 and fields[1].kind == "image"
    if pair and name not in PAIR_SOURCES:
        diags.error("E305", f"`{name}` yields single images; a pair of images comes from "
                    f"{' or '.join(f'`{s}`' for s in ALIGNED_SOURCES)}", src.func.span,
                    "a label map and its photo come from `segmentation_folder`")
        return None
    if DATA_SOURCES[name].pairs == "only" and not pair:
        what = "aligned pairs" if name == "aligned_folder" else "(label map, photo) pairs"
        diags.error("E305", f"`{name}` yields {what}: declare two image fields, e.g. "
                    f"{DATA_SOURCES[name].example}", src.func.span)
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
