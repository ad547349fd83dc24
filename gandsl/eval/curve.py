"""`gandsl eval RUN --curve`: every checkpoint of a run evaluated, and the main figures
plotted against the step (`eval_curve.json`, `eval_curve.png` in the run directory).

The plot is drawn with Pillow (already a dependency for sample grids): one panel per
figure, the held-out real floor as a dashed line where there is one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from ..train import checkpoint as ckpt
from ..train.config import RunError
from .run import evaluate

PANEL = (360, 220)  # width, height of one panel, pixels
MARGIN = 44


# a translation's figures worth following (StarGAN's attributes, CycleGAN's and pix2pix's
# target domain), by their eval.json names
TRANSLATION = {"changed_accuracy": "changed", "kept_accuracy": "kept",
               "target_accuracy": "target kind", "target_fd": "distance to target"}


def curve(run: Path, log=print, **kwargs) -> tuple[Path, Path]:
    run_dir = ckpt.find(run).parent.parent
    steps = sorted((run_dir / "checkpoints").glob("step_*"))
    if not steps:
        raise RunError(f"{run_dir}: no checkpoints to evaluate")
    points: list[dict[str, Any]] = []
    for path in steps:
        result = evaluate(path, log=log, **kwargs)
        log(f"step {result['step']}: " + ", ".join(
            f"{k} {v:.4g}" for k, v in _figures(result).items()))
        points.append(result)
    data = run_dir / "eval_curve.json"
    data.write_text(json.dumps(points, indent=1, default=str))
    image = run_dir / "eval_curve.png"
    plot(points, image)
    return data, image


def _figures(result: dict[str, Any]) -> dict[str, float]:
    """The plotted figures of one evaluation: Fréchet distance, and the conditional
    accuracy where there is one."""
    out = {}
    if "fd" in result.get("metrics", {}):
        out["Fréchet distance"] = result["metrics"]["fd"]
    if "inception" in result:
        out["Inception FID"] = result["inception"]["fid"]
    if "conditional" in result:
        out["conditional accuracy"] = result["conditional"]["accuracy"]["overall"]
    for key, entry in result.get("translation", {}).items():
        for name, title in TRANSLATION.items():
            if entry.get(name) is not None:
                out[f"{key}: {title}"] = entry[name]
    return out


def _floors(result: dict[str, Any]) -> dict[str, float]:
    out = {}
    if "fd" in result.get("floor", {}):
        out["Fréchet distance"] = result["floor"]["fd"]
    if "inception" in result:
        out["Inception FID"] = result["inception"]["fid_floor"]
    if "conditional" in result:
        acc = result["classifier"]["held_out_accuracy"]
        out["conditional accuracy"] = sum(acc.values()) / len(acc)
    for key, entry in result.get("translation", {}).items():
        if entry.get("target_fd_floor") is not None:
            out[f"{key}: {TRANSLATION['target_fd']}"] = entry["target_fd_floor"]
    return out


def plot(points: list[dict[str, Any]], path: Path) -> None:
    names = list(_figures(points[0]))
    w, h = PANEL
    img = Image.new("RGB", (w * len(names), h), "white")
    draw = ImageDraw.Draw(img)
    xs = [p["step"] for p in points]
    for k, name in enumerate(names):
        ys = [_figures(p)[name] for p in points]
        floor = _floors(points[-1]).get(name)
        lo = min(ys + ([floor] if floor is not None else []))
        hi = max(ys + ([floor] if floor is not None else []))
        hi = hi if hi > lo else lo + 1
        x0, y0, x1, y1 = k * w + MARGIN, 24, (k + 1) * w - 12, h - 30

        def at(x: float, y: float, x0=x0, x1=x1, y0=y0, y1=y1, lo=lo, hi=hi) -> tuple:
            fx = (x - xs[0]) / ((xs[-1] - xs[0]) or 1)
            return x0 + fx * (x1 - x0), y1 - (y - lo) / (hi - lo) * (y1 - y0)

        draw.rectangle([x0, y0, x1, y1], outline="black")
        title = name.replace("é", "e")  # Pillow's built-in font is ASCII
        draw.text(((x0 + x1) / 2 - 3 * len(title), 4), title, fill="black")
        for value in (lo, hi):
            draw.text((k * w + 2, at(xs[0], value)[1] - 6), f"{value:.3g}", fill="black")
        for step in (xs[0], xs[-1]):
            draw.text((at(step, lo)[0] - 10, y1 + 6), str(step), fill="black")
        if floor is not None:  # dashed: what held-out real data scores
            for x in range(int(x0), int(x1), 10):
                draw.line([x, at(xs[0], floor)[1], x + 5, at(xs[0], floor)[1]],
                          fill="gray")
        line = [at(x, y) for x, y in zip(xs, ys, strict=True)]
        if len(line) > 1:
            draw.line(line, fill="navy", width=2)
        for px, py in line:
            draw.ellipse([px - 3, py - 3, px + 3, py + 3], fill="navy")
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)
