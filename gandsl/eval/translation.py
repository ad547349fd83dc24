"""Translation metrics: what an image-to-image generator changes and what it keeps.

Read off the objective, for every generated image of the sample rows:
- its source, the real image it was made from (`fake = G(x, c_trg)`: x), and a
  reconstruction, a generated image made from another one (`G(fake, c_org)`), compared with
  the first one's source by L1;
- with target labels (StarGAN): the classifier's accuracy on the labels the translation was
  asked to change, and on those it should keep (the source's own labels);
- without labels, on `shapes` domains (CycleGAN, pix2pix): the target domain is the data the
  discriminator judging the image sees (`lsgan_d(D_b(b), D_b(fake_b))`: domain b), and the
  score is how often the classifier reads that domain's shape kind from the translation;
- from one image of an aligned pair (pix2pix: `a, b ~ pairs`, `fake = G(a)`): L1 to the
  pair's other image, the translation it should have made.
"""

from __future__ import annotations

from typing import Any

import torch

from ..data import build_dataset
from ..data.shapes import DOMAINS
from ..data.shapes_draw import KINDS
from ..ir import ONode, Spec
from .labels import as_labels


def row_keys(spec: Spec, rows: dict[str, torch.Tensor]) -> dict[int, str]:
    """Objective call nodes → their sample row: the value's name, or `<network>_<input>` as
    the emitter names an unnamed call."""
    nodes = spec.objective.nodes
    keys = {}
    for n in nodes:
        if n.op != "call":
            continue
        key = n.var or (f"{n.name}_{nodes[n.inputs[0]].var}" if n.inputs and
                        nodes[n.inputs[0]].var else None)
        if key in rows:
            keys[n.id] = key
    return keys


def translation_metrics(spec: Spec, judge, rows: dict[str, torch.Tensor], conditions: dict,
                        data: str | None) -> dict[str, Any]:
    nodes = spec.objective.nodes
    keys = row_keys(spec, rows)
    out: dict[str, Any] = {}
    for nid, key in keys.items():
        node = nodes[nid]
        made_from = [i for i in node.inputs if i in keys]
        source = _source(nodes, nid, keys)
        if source is None:
            continue
        src_key = nodes[source].var
        entry: dict[str, Any] = {"from": src_key}
        if made_from:  # a reconstruction: back to the first image's source
            entry["reconstruction_l1"] = float((rows[key] - rows[src_key]).abs().mean())
        elif key in conditions and judge is not None:
            entry.update(_labels(spec, judge, rows, key, conditions[key], source, data))
        elif judge is not None and judge.source == "shapes":
            kind = _target_kind(spec, nid, data)
            if kind is not None:
                pred = judge.predict(rows[key].float())["kind"]
                entry["target"] = kind
                entry["target_accuracy"] = float((pred == KINDS.index(kind)).float().mean())
        pair = _pair(nodes, source, rows, rows[key].shape)
        if pair is not None and not made_from:  # pix2pix: the image it should have made
            entry["paired"] = pair
            entry["paired_l1"] = float((rows[key].float() - rows[pair].float()).abs().mean())
        if len(entry) > 1:
            out[key] = entry
    return out


def _source(nodes: list[ONode], nid: int, keys: dict[int, str]) -> int | None:
    """The real image a generated one comes from, through other generated ones."""
    for i in nodes[nid].inputs:
        if nodes[i].op == "data" and nodes[i].type is not None and \
                nodes[i].type.family == "spatial":
            return i
        if i in keys:
            return _source(nodes, i, keys)
    return None


def _pair(nodes: list[ONode], source: int, rows: dict[str, torch.Tensor],
          shape: torch.Size) -> str | None:
    """The other image of the source's aligned pair (`a, b ~ pairs`: b), if it is shaped
    like the translation."""
    src = nodes[source]
    for n in nodes:
        if n.op == "data" and n.name == src.name and n.field != src.field and \
                n.kwargs.get("draw") == src.kwargs.get("draw") and n.var in rows and \
                rows[n.var].shape == shape and rows[n.var].is_floating_point():
            return n.var
    return None


def _labels(spec: Spec, judge, rows, key: str, cond: str, source: int,
            data: str | None) -> dict[str, Any]:
    """Accuracy on the labels asked to change, and on those to keep, against the source's
    own labels (the data field beside the source image)."""
    nodes = spec.objective.nodes
    src = nodes[source]
    own = next((n for n in nodes if n.op == "data" and n.name == src.name and n.field == 1
                and n.kwargs.get("draw") == src.kwargs.get("draw") and n.var in rows), None)
    label_node = next(n for n in nodes if n.var == cond and n.type is not None)
    kind, size = label_node.type.kind, label_node.type.dims[0]
    if own is None or kind != "label":
        return {}
    attributes: tuple[str, ...] = ()
    if judge.source == "shapes":
        ds = spec.dataset(label_node.type.labels.parts[0].dataset)
        attributes = getattr(build_dataset(spec, ds, data or "shapes"), "attributes", ())
        if len(attributes) != size:  # a union's mask columns: not attributes of the image
            return {}
    pred = as_labels(judge.source, judge.predict(rows[key].float()), kind, size, attributes)
    target, original = rows[cond].round(), rows[own.var].round()
    changed = target != original
    right = pred == target
    def share(hits: torch.Tensor, mask: torch.Tensor) -> float | None:
        return float(hits[mask].float().mean()) if mask.any() else None

    names = list(attributes) or [str(i) for i in range(size)]
    return {"labels": list(attributes),
            "changed_accuracy": share(right, changed), "kept_accuracy": share(right, ~changed),
            # which attributes a translation changes and which it cannot yet
            "per_label": {name: {"changed": share(right[:, i], changed[:, i]),
                                 "kept": share(right[:, i], ~changed[:, i])}
                          for i, name in enumerate(names)}}


def _target_kind(spec: Spec, nid: int, data: str | None) -> str | None:
    """The shape kind of the data the judge of this image compares it with, if it is one
    `shapes` domain (or one side of a `shapes` pair)."""
    nodes = spec.objective.nodes

    def call_of(i: int) -> ONode | None:
        n = nodes[i]
        if n.op == "select":
            n = nodes[n.inputs[0]]
        return n if n.op == "call" else None

    for fn in nodes:
        if fn.op != "fn":
            continue
        calls = [c for c in map(call_of, fn.inputs) if c is not None]
        for judged in (c for c in calls if nid in c.inputs):
            pos = judged.inputs.index(nid)
            for other in calls:
                if other is judged or other.name != judged.name:
                    continue
                real = nodes[other.inputs[pos]]
                if real.op == "data":
                    return _kind(spec, real, data)
    return None


def _kind(spec: Spec, real: ONode, data: str | None) -> str | None:
    built = build_dataset(spec, spec.dataset(real.name), data or "shapes")
    domain = getattr(built, "domain", None)
    if domain is not None:
        return DOMAINS[domain]
    if built.req.pair is not None:  # shapes pairs: a circle, then the same scene's square
        return DOMAINS["a" if real.field == 0 else "b"]
    return None
