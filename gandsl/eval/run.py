"""`gandsl eval RUN`: sample quality of a trained run, with the real data's own figures beside.

The run's generator makes `n` samples (seeded draws, as `gandsl sample` does); a classifier
trained on the real dataset (`classifier.py`) maps them and real images to features (scaled
by the real features' RMS, so that figures are of order one), where the Fréchet distance,
KID and precision/recall compare them with the real training images.
The floor of each metric is the same figure for held-out real images: a generator cannot do
better than real data does. A conditional generator is also scored by how often the
classifier reads, from its samples, the labels it was asked for. `eval.json` in the run
directory keeps every figure.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..atomic import replace_text
from ..data import build_dataset
from ..data.factory import FLAG_SOURCES, declaration_request
from ..data.shapes_draw import KINDS
from ..train.config import RunError, data_root
from ..train.sample import Restored, condition_node, generate, restore
from . import metrics as M
from .classifier import SOURCES, judge, real_data
from .inception import check_weights, inception_figures, load_extractor
from .labels import accuracy, as_labels
from .translation import translation_metrics

METRICS = ("fd", "kid", "pr", "cond")  # cond: conditional and translation accuracy
CHUNK = 250  # samples per generated draw


def evaluate(source: Path, data: str | None = None, n: int = 1000,
             which: tuple[str, ...] = METRICS, device: str = "cpu", seed: int = 0,
             inception: Path | None = None, log=print) -> dict[str, Any]:
    if n < 10:
        raise RunError(f"--n {n}: expected at least 10 samples")
    unknown = [m for m in which if m not in METRICS]
    if unknown:
        raise RunError(f"--metrics {unknown[0]}: expected some of {', '.join(METRICS)}")
    if not which:
        raise RunError(f"--metrics: no metric named; expected some of {', '.join(METRICS)}")
    if inception is not None:
        check_weights(inception)  # a wrong flag fails before any work
    started = time.perf_counter()
    r = restore(source, device)
    module = r.loaded.module
    if not module.GENERATED:
        raise RunError(f"{r.run_dir}: the spec's samples hold no generated images")
    image_key = module.GENERATED[0]
    label_key = getattr(module, "CONDITIONS", {}).get(image_key)
    if set(which) == {"cond"} and not getattr(module, "CONDITIONS", {}) and inception is None:
        # nothing would be measured, and eval.json would lose its figures
        raise RunError(f"--metrics cond: {r.run_dir}'s generator is given no labels, so there "
                       "is no condition to check; use fd, kid or pr")
    # with Inception weights, any data can be measured; without, only what a classifier
    # can be trained on offline
    kind = _source(r, data, required=inception is None)
    extractor = load_extractor(inception, r.device) if inception is not None else None
    rows = _samples(r, n, data, seed)
    fakes = rows[image_key].clamp(-1, 1)
    labels = rows.get(label_key) if label_key is not None else None
    channels, size = fakes.shape[1], fakes.shape[2]
    result: dict[str, Any] = {
        "run": str(r.run_dir), "step": int(r.state["step"]), "samples": len(fakes),
        "train_seconds": r.state.get("seconds")}  # None: a checkpoint from before 0.1
    if extractor is not None:
        real, held = _real_images(r, kind, data, fakes)
        result["inception"] = inception_figures(extractor, fakes, real, held, r.device)
        result["inception"]["weights"] = str(inception)
    if kind is None:
        return _finish(result, started)
    j = judge(kind, channels, size, log)
    result["classifier"] = {"data": kind, "image": [channels, size, size],
                            "held_out_accuracy": j.accuracy}
    result["metrics"], result["floor"] = measure(j, fakes, which, seed)
    if "cond" in which and labels is not None:
        result["conditional"] = _conditional(r, j, fakes, labels, label_key, data)
    if "pr" in which and labels is not None and labels.dim() == 1 and "class" in j.net.heads:
        result["within_class"] = within_class(j, fakes, labels)
    if "cond" in which:
        moved = translation_metrics(r.spec, j, rows, getattr(module, "CONDITIONS", {}), data)
        for key, entry in moved.items():
            if "target" in entry and "fd" in which:
                # against the target domain's real images, not all the data's kinds
                only = ("kind", KINDS.index(entry["target"]))
                fd, floor = measure(j, rows[key].clamp(-1, 1), ("fd",), seed, only)
                entry["target_fd"], entry["target_fd_floor"] = fd["fd"], floor["fd"]
        if moved:
            result["translation"] = moved
    return _finish(result, started)


def _finish(result: dict[str, Any], started: float) -> dict[str, Any]:
    result["seconds"] = round(time.perf_counter() - started, 1)
    _write(Path(result["run"]) / "eval.json", result)
    return result


def measure(j, fakes: torch.Tensor, which: tuple[str, ...] = METRICS, seed: int = 0,
            only: tuple[str, int] | None = None) -> tuple[dict[str, float], dict[str, float]]:
    """The distribution figures of `fakes` against real training images (as many as there
    are samples), and the same for held-out real images (the floor), both sets at one N;
    also what a hand-written baseline is scored with. `only` = (head, value) keeps the real
    images of one class: a translation's target domain (("kind", 1): the squares)."""
    channels, size = fakes.shape[1], fakes.shape[2]
    real, real_t = real_data(j.source, channels, size, held_out=False)
    held, held_t = real_data(j.source, channels, size, held_out=True)
    if only is not None:
        head, value = only
        real, held = real[real_t[head] == value], held[held_t[head] == value]
    # samples and held-out real at one N (digits hold out 297): the Fréchet distance and
    # precision/recall depend on N, so a floor is only a floor at the samples' N
    m = min(len(fakes), len(held))
    real, fakes, held = real[:len(fakes)], fakes[:m], held[:m]
    f_real, f_fake, f_held = (j.features(x).double().numpy() for x in (real, fakes, held))
    # one scale for all three, the real features' RMS: figures of order one, KID readable
    scale = float(np.sqrt((f_real ** 2).mean())) or 1.0
    f_real, f_fake, f_held = f_real / scale, f_fake / scale, f_held / scale
    figures: tuple[dict[str, float], dict[str, float]] = ({}, {})
    for out, (ref, other) in zip(figures, ((f_real, f_fake), (f_real, f_held)), strict=True):
        if "fd" in which:
            out["fd"] = M.frechet_distance(ref, other)
        if "kid" in which:
            out["kid"] = M.kid(ref, other, subset=min(500, len(other)), seed=seed)
        if "pr" in which:
            out["precision"], out["recall"] = M.precision_recall(ref, other)
    return figures


def within_class(j, fakes: torch.Tensor, labels: torch.Tensor,
                 least: int = 20) -> dict[str, Any]:
    """Diversity inside each class of a class-conditional generator: precision and recall of
    the samples asked for class c against the real images of class c (the classifier's
    `class` head's classes), beside the same for held-out real images of c, at one N per
    class; the means over the classes with at least `least` samples. A generator that draws
    one item per class has its overall recall from the classes' spread, and a within-class
    recall near 0."""
    channels, size = fakes.shape[1], fakes.shape[2]
    real, real_t = real_data(j.source, channels, size, held_out=False)
    held, held_t = real_data(j.source, channels, size, held_out=True)
    per_class: dict[str, dict[str, float]] = {}
    for c in sorted(set(labels.tolist())):
        mine, theirs, kept = fakes[labels == c], real[real_t["class"] == c], \
            held[held_t["class"] == c]
        m = min(len(mine), len(kept), len(theirs))
        if m < least:
            continue
        f_real, f_fake, f_held = (j.features(x[:m]).double().numpy()
                                  for x in (theirs, mine, kept))
        scale = float(np.sqrt((f_real ** 2).mean())) or 1.0
        p, rc = M.precision_recall(f_real / scale, f_fake / scale)
        fp, fr = M.precision_recall(f_real / scale, f_held / scale)
        per_class[str(c)] = {"n": m, "precision": p, "recall": rc, "precision_floor": fp,
                             "recall_floor": fr}
    if not per_class:
        return {"classes": 0}
    mean = {k: float(np.mean([v[k] for v in per_class.values()]))
            for k in ("precision", "recall", "precision_floor", "recall_floor")}
    return {"classes": len(per_class), **mean, "per_class": per_class}


def _source(r: Restored, data: str | None, required: bool = True) -> str | None:
    """The data whose classifier measures this run: --data, the run's --data, or the spec's
    own source — a dataset that ships, or any data with classes (`labelled.py`: an IDX folder,
    an image folder of class subfolders); None where there is none and none is `required`."""
    override = data or r.config.get("data")
    override = FLAG_SOURCES.get(override, override)
    classes = [d for d in r.spec.datasets if len(d.fields) > 1 and d.fields[1].kind == "class"]
    if override in SOURCES:
        return override
    if override is not None and override.startswith("idx:"):
        return f"idx:{Path(override[4:]).expanduser().absolute()}"
    if override is not None and classes and Path(override).expanduser().is_dir():
        return f"folder:{Path(override).expanduser().absolute()}"
    declared = sorted({d.source for d in r.spec.datasets if d.source in SOURCES})
    if override is None and len(declared) == 1:
        return declared[0]
    own = [(d.source, declaration_request(r.spec, d, None).kwargs.get("path")) for d in classes
           if d.source in ("idx", "image_folder")]
    if override is None and own and own[0][1] is not None:  # a folder the spec names
        root = data_root(r.state.get("spec_path", r.run_dir / "spec.gan"))
        kind = "idx" if own[0][0] == "idx" else "folder"
        return f"{kind}:{(root / str(own[0][1])).absolute()}"
    if not required:
        return None
    what = f"--data {data} is none of these" if data else \
        f"this run's data is {r.config.get('data') or 'its own files'}"
    raise RunError(f"{r.run_dir}: gandsl eval measures samples in the feature space of a "
                   f"classifier trained on the real data, which needs classes: "
                   f"{', '.join(SOURCES)}, an IDX folder or an image folder of class "
                   f"subfolders; {what}: pass --data with one of them (Inception features "
                   "for data without classes are not available offline unless you pass "
                   "--inception WEIGHTS)")


def _real_images(r: Restored, kind: str | None, data: str | None,
                 fakes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Real training and held-out images for the Inception figures: the offline dataset's
    two splits, or for other data two halves of a seeded draw from the run's dataset (its
    first image field of the samples' shape), the second half standing in as held out."""
    channels, size = fakes.shape[1], fakes.shape[2]
    if kind is not None:
        return (real_data(kind, channels, size, held_out=False)[0],
                real_data(kind, channels, size, held_out=True)[0])
    root = data_root(r.state.get("spec_path", r.run_dir / "spec.gan"))
    for ds in r.spec.datasets:
        field = ds.fields[0] if ds.fields else None
        if ds.source is None or field is None or field.kind != "image" or \
                list(field.dims) != list(fakes.shape[1:]):
            continue
        built = build_dataset(r.spec, ds, data or r.config.get("data"), root)
        count = min(len(built), 2 * len(fakes))
        # a seeded draw, not the first files: a folder sorted by class would put different
        # classes in the two halves
        picked = torch.randperm(len(built), generator=torch.Generator().manual_seed(0))
        images = torch.stack([built[int(i)][0] for i in picked[:count]]).float()
        half = count // 2
        if half < 10:
            break
        return images[:half], images[half:2 * half]
    raise RunError(f"{r.run_dir}: no dataset of at least 20 real images shaped like the "
                   f"samples ({'×'.join(map(str, fakes.shape[1:]))}) to compare them with")


def _samples(r: Restored, n: int, data: str | None, seed: int) -> dict[str, torch.Tensor]:
    """Every sample row (real inputs, generated images, labels) for `n` samples, drawn in
    seeded chunks."""
    chunks: list[dict[str, torch.Tensor]] = []
    done, k = 0, 0
    while done < n:
        rows = generate(r, min(CHUNK, n - done), data=data, seed=seed + 1000 * k)
        chunks.append({key: v.float().cpu() if v.is_floating_point() else v.cpu()
                       for key, v in rows.items()})
        done += len(next(iter(rows.values())))
        k += 1
    return {key: torch.cat([c[key] for c in chunks]) for key in chunks[0]}


def _conditional(r: Restored, j, fakes: torch.Tensor, labels: torch.Tensor, key: str,
                 data: str | None) -> dict[str, Any]:
    node = condition_node(r.spec, key)
    kind, n = node.type.kind, node.type.dims[0]
    attributes: tuple[str, ...] = ()
    if j.source == "shapes" and kind == "label" and node.type.labels is not None:
        ds = r.spec.dataset(node.type.labels.parts[0].dataset)
        built = build_dataset(r.spec, ds, data or r.config.get("data") or "shapes")
        attributes = getattr(built, "attributes", ())
    pred = as_labels(j.source, j.predict(fakes), kind, n, attributes)
    return {"labels": f"{kind}[{n}]", "attributes": list(attributes),
            "accuracy": accuracy(pred, labels, kind)}


def _write(path: Path, result: dict[str, Any]) -> None:
    replace_text(path, json.dumps(result, indent=1, default=_plain), "eval results")


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic | torch.Tensor) else str(value)


def table(result: dict[str, Any]) -> str:
    """The figures, generated beside real held-out, as `gandsl eval` prints them."""
    rows = [("metric", "samples", "held-out real")]
    names = {"fd": "Fréchet distance", "kid": "KID", "precision": "precision",
             "recall": "recall"}
    for key, label in names.items():
        if key in result.get("metrics", {}):
            rows.append((label, f"{result['metrics'][key]:.4g}", f"{result['floor'][key]:.4g}"))
    if "inception" in result:
        inc = result["inception"]
        rows.append(("Inception FID", f"{inc['fid']:.4g}", f"{inc['fid_floor']:.4g}"))
        rows.append(("Inception Score", f"{inc['is']:.3f} ± {inc['is_std']:.3f}",
                     f"{inc['is_floor']:.3f} ± {inc['is_floor_std']:.3f}"))
    clf = result.get("classifier")
    if clf is None:
        return _aligned(rows) + f"\n\n{_at(result)}; Inception features; {result['seconds']} s"
    acc = clf["held_out_accuracy"]
    if "conditional" in result:
        cond = result["conditional"]
        rows.append((f"conditional accuracy ({cond['labels']})",
                     f"{cond['accuracy']['overall']:.3f}",
                     ", ".join(f"{k} {v:.3f}" for k, v in acc.items())))
    inside = result.get("within_class", {})
    if inside.get("classes"):
        for name in ("precision", "recall"):
            rows.append((f"within-class {name} (mean of {inside['classes']})",
                         f"{inside[name]:.4g}", f"{inside[name + '_floor']:.4g}"))
    for key, entry in result.get("translation", {}).items():
        for name, label in (("target_accuracy", f"{key}: {entry.get('target')} kind"),
                            ("changed_accuracy", f"{key}: changed labels"),
                            ("kept_accuracy", f"{key}: kept labels"),
                            ("target_fd", f"{key}: Fréchet distance to {entry.get('target')}s"),
                            ("reconstruction_l1", f"{key}: L1 to {entry['from']}"),
                            ("paired_l1", f"{key}: L1 to {entry.get('paired')}")):
            if entry.get(name) is not None:
                if name == "changed_accuracy" and entry.get("per_label"):
                    label += " (" + ", ".join(
                        f"{k} {v['changed']:.2f}" for k, v in entry["per_label"].items()
                        if v["changed"] is not None) + ")"
                floor = entry.get(f"{name}_floor")
                rows.append((label, f"{entry[name]:.3f}",
                             "" if floor is None else f"{floor:.4g}"))
    return _aligned(rows) + (
        f"\n\n{_at(result)}; features of a "
        f"{clf['data']} classifier ({'×'.join(map(str, clf['image']))}, held-out "
        f"accuracy {', '.join(f'{k} {v:.3f}' for k, v in acc.items())}); "
        f"{result['seconds']} s")


def _at(result: dict[str, Any]) -> str:
    trained = result.get("train_seconds")
    return (f"{result['samples']} samples at step {result['step']}"
            + (f" (trained {trained:.0f} s)" if trained is not None else ""))


def _aligned(rows: list[tuple[str, str, str]]) -> str:
    width = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, width, strict=True)).rstrip()
             for r in rows]
    lines.insert(1, "  ".join("─" * w for w in width))
    return "\n".join(lines)


def comparison(rows: list[tuple[str, float, float]],
               seconds: tuple[float | None, float] | None = None) -> str:
    """A markdown table of figures side by side: gandsl's run against a hand-written one,
    and their training wall times where the run's checkpoint keeps its own."""
    if seconds is not None and seconds[0] is not None:
        rows = [*rows, ("training wall time (s)", seconds[0], seconds[1])]
    lines = ["| metric | gandsl | hand-written |", "|---|---:|---:|"]
    def shown(v: float) -> str:  # seconds as whole numbers, figures to 3 digits
        return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"

    return "\n".join(lines + [f"| {name} | {shown(a)} | {shown(b)} |" for name, a, b in rows])
