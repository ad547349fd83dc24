"""Declared types (`image[C, H, W]`, `label[celeba | rafd]`) with their sizes evaluated, and
the label sets that datasets give the label, logits and class types."""

from __future__ import annotations

from .. import syntax as S
from ..consteval import ConstError, DatasetRef, as_int
from ..diagnostics import Diagnostics, Span, did_you_mean
from ..types import KINDS, RANK, LabelPart, LabelSet, TensorType
from .namespace import Globals, const_or_poison
from .scope import Poison


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
