"""The Fashion-MNIST table of docs/results.md: `specs/cgan.gan` trained by gandsl beside the same
CGAN written plainly in PyTorch (`baseline_cgan.py`: same networks, losses, optimizers, batch
and data), each for the same iterations from the same seeds, judged by the same classifier
(`gandsl eval`'s Fashion-MNIST one) at one N. Mean ± standard deviation over the seeds.

    python benchmarks/results_fashion.py [--steps 4000] [--seeds 0,1,2] [--n 2000]
                                         [--quick] [--write docs/results.md]

`--quick`: 1,000 iterations, one seed. Needs Fashion-MNIST (`apt-get install
dataset-fashion-mnist`, or GANDSL_DATA). The first run also trains the classifier (~6 min).
"""

from __future__ import annotations

import argparse
import datetime
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import baseline_cgan  # noqa: E402
from compile_speed import cpu  # noqa: E402

from gandsl.eval.run import evaluate  # noqa: E402

START = "<!-- results_fashion.py: start -->"
END = "<!-- results_fashion.py: end -->"
COLUMNS = (("Fréchet distance", "fd"), ("KID", "kid"), ("precision", "precision"),
           ("recall", "recall"), ("within-class recall", "within_recall"),
           ("conditional accuracy", "cond"))


def gandsl_run(steps: int, seed: int, n: int, tmp: Path) -> dict[str, float]:
    out = tmp / f"cgan-{seed}"
    subprocess.run([sys.executable, "-m", "gandsl", "train", "specs/cgan.gan", "--data",
                    "fashion-mnist", "--steps", str(steps), "--seed", str(seed), "--out",
                    str(out), "--no-progress", "--print-every", str(steps),
                    "--sample-every", str(steps), "--checkpoint-every", str(steps)],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    r = evaluate(out, n=n, log=lambda *_: None)
    return {**r["metrics"], "within_recall": r["within_class"]["recall"],
            "cond": r["conditional"]["accuracy"]["overall"], "seconds": r["train_seconds"],
            "floor": r["floor"], "floor_within": r["within_class"]["recall_floor"]}


def hand_written(steps: int, seed: int, n: int) -> dict[str, float]:
    G, seconds = baseline_cgan.train(steps, seed, "fashion-mnist")
    s = baseline_cgan.score(G, n, "fashion-mnist")
    return {**s["metrics"], "within_recall": s["within_class"]["recall"],
            "cond": s["conditional_accuracy"], "seconds": seconds}


def cell(values: list[float | None]) -> str:
    """Mean ± standard deviation over the seeds (the mean alone for one; — for none; the
    missing left out)."""
    values = [v for v in values if v is not None]
    if not values:
        return "—"
    mean = statistics.fmean(values)
    if len(values) == 1:
        return f"{mean:.3g}"
    return f"{mean:.3g} ± {statistics.stdev(values):.2g}"


def table(results: dict[str, list[dict]], steps: int, seeds: list[int], n: int,
          command: str) -> str:
    head = "| CGAN (maxout MLPs), batch 100 | " + " | ".join(c for c, _ in COLUMNS) + \
        " | wall time | iterations/s |"
    lines = [head, "|---" + "|---:" * (len(COLUMNS) + 2) + "|"]
    for name, runs in results.items():
        cells = [cell([r[k] for r in runs]) for _, k in COLUMNS]
        seconds = [r["seconds"] for r in runs]
        lines.append(f"| {name} | " + " | ".join(cells) +
                     f" | {cell(seconds)} s | {cell([steps / s for s in seconds])} |")
    floor = results["gandsl `specs/cgan.gan`"][0]
    lines.append("| held-out real images (the floor) | " + " | ".join(
        [f"{floor['floor']['fd']:.3g}", f"{floor['floor']['kid']:.3g}",
         f"{floor['floor']['precision']:.3g}", f"{floor['floor']['recall']:.3g}",
         f"{floor['floor_within']:.3g}", "—"]) + " | | |")
    when = datetime.date.today().isoformat()
    return "\n".join([
        START, "",
        f"{steps:,} iterations from seeds {', '.join(map(str, seeds))}, each side; {n:,} "
        f"samples against {n:,} training and {n:,} held-out (test) images, in the features "
        "of the Fashion-MNIST classifier (held-out accuracy "
        f"{_classifier_accuracy():.3f}); mean ± standard deviation over the seeds. Measured "
        f"{when} on {cpu()}, {torch.get_num_threads()} "
        f"threads, torch {torch.__version__}, with", "", f"    {command}", "", *lines, "", END])


def write_between(path: Path, text: str, start: str, end: str) -> None:
    """`text` (which begins with `start` and ends with `end`) in place of the file's part
    between those markers, or at its end the first time."""
    doc = path.read_text()
    if start in doc:
        doc = doc[:doc.index(start)] + text + doc[doc.index(end) + len(end):]
    else:
        doc += "\n" + text + "\n"
    path.write_text(doc)


def _classifier_accuracy() -> float:
    from gandsl.eval.classifier import judge

    return judge("fashion_mnist", 1, 28).accuracy["class"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--quick", action="store_true", help="1,000 iterations, one seed")
    parser.add_argument("--write", type=Path, help="replace the table in this markdown file")
    args = parser.parse_args()
    steps, seeds = (1000, [0]) if args.quick else \
        (args.steps, [int(s) for s in args.seeds.split(",")])
    results: dict[str, list[dict]] = {"gandsl `specs/cgan.gan`": [],
                                      "hand-written (benchmarks/baseline_cgan.py)": []}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in seeds:
            results["gandsl `specs/cgan.gan`"].append(gandsl_run(steps, seed, args.n,
                                                                 Path(tmp)))
            results["hand-written (benchmarks/baseline_cgan.py)"].append(
                hand_written(steps, seed, args.n))
            print(json.dumps({k: v[-1] for k, v in results.items()}, default=str), flush=True)
    command = "python " + " ".join(["benchmarks/results_fashion.py", *sys.argv[1:]])
    text = table(results, steps, seeds, args.n, command)
    print(text)
    if args.write:
        write_between(args.write, text, START, END)


if __name__ == "__main__":
    main()
