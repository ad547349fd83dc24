"""docs/results.md's Fashion-MNIST table of models: DCGAN (beside the same DCGAN written
plainly in PyTorch, `baseline_dcgan.py`, from the same seeds), WGAN-GP, the projection
discriminator with SNGAN's hinge loss, and R3GAN, each trained by `gandsl train` on
Fashion-MNIST at a size a 2-core CPU trains in minutes, and judged by `gandsl eval` (the
Fashion-MNIST classifier's features, one N). The CGAN and ACGAN rows have their own table
(`results_fashion.py`).

    python benchmarks/results_fashion_models.py [--n 2000] [--seeds 0,1,2] [--quick]
                                                [--only dcgan,wgan_gp] [--write docs/results.md]

`--quick`: a tenth of the iterations, one seed. Needs Fashion-MNIST (`apt-get install
dataset-fashion-mnist`, or GANDSL_DATA); the first run also trains the 32×32 classifier.
"""

from __future__ import annotations

import argparse
import datetime
import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import baseline_dcgan  # noqa: E402
from compile_speed import cpu  # noqa: E402
from results_fashion import cell, write_between  # noqa: E402

from gandsl.eval.run import evaluate  # noqa: E402

START = "<!-- results_fashion_models.py: start -->"
END = "<!-- results_fashion_models.py: end -->"
COLUMNS = (("Fréchet distance", "fd"), ("KID", "kid"), ("precision", "precision"),
           ("recall", "recall"), ("conditional accuracy", "cond"))


@dataclass
class Model:
    name: str  # the table's row
    spec: str
    params: dict
    steps: int
    seeded: bool = False  # run on every seed (beside a hand-written baseline), else seed 0
    results: list[dict] = field(default_factory=list)


MODELS = {
    "dcgan": Model("DCGAN, ngf = ndf = 32, batch 64", "dcgan",
                   {"S": 32, "nc": 1, "ngf": 32, "ndf": 32}, 2000, seeded=True),
    "wgan_gp": Model("WGAN-GP, DIM = 32, batch 64, 5 D steps per G step", "wgan_gp",
                     {"nc": 1, "dim": 32}, 500),
    "projection": Model("projection D, SNGAN hinge, ch = 16, batch 64, 5 D steps", "projection",
                        {"S": 32, "ch": 16, "classes": 10, "nc": 1}, 500),
    "r3gan": Model("R3GAN, ch = 32, 4 groups, batch 64, R1 + R2, EMA", "r3gan",
                   {"S": 32, "ch": 32, "groups": 4, "blocks": 1, "batch_size": 64,
                    "aug": False, "nc": 1}, 300),
}


def gandsl_run(model: Model, steps: int, seed: int, n: int, tmp: Path) -> dict:
    out = tmp / f"{model.spec}-{seed}"
    flags = [f for k, v in model.params.items()
             for f in ("--param", f"{k}={str(v).lower() if isinstance(v, bool) else v}")]
    subprocess.run([sys.executable, "-m", "gandsl", "train", f"specs/{model.spec}.gan",
                    *flags, "--data", "fashion-mnist", "--steps", str(steps), "--seed",
                    str(seed), "--out", str(out), "--no-progress", "--print-every", str(steps),
                    "--sample-every", str(steps), "--checkpoint-every", str(steps)],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    r = evaluate(out, n=n, log=lambda *_: None)
    cond = r.get("conditional", {}).get("accuracy", {}).get("overall")
    return {**r["metrics"], "cond": cond, "seconds": r["train_seconds"], "steps": steps,
            "floor": r["floor"], "classifier": r["classifier"]["held_out_accuracy"]["class"]}


def hand_written(steps: int, seed: int, n: int) -> dict:
    G, seconds = baseline_dcgan.train(steps, seed)
    s = baseline_dcgan.score(G, n)
    return {**s["metrics"], "cond": None, "seconds": seconds, "steps": steps}


def row(name: str, runs: list[dict]) -> str:
    cells = [cell([r[k] for r in runs]) for _, k in COLUMNS]
    seconds = [r["seconds"] for r in runs]
    rate = [r["steps"] / r["seconds"] for r in runs]
    return (f"| {name} | {runs[0]['steps']:,} | {len(runs)} | " + " | ".join(cells) +
            f" | {cell(seconds)} s | {cell(rate)} |")


def table(rows: list[str], floor: dict, n: int, classifier: float, command: str) -> str:
    head = ("| model (32×32) | iterations | seeds | " + " | ".join(c for c, _ in COLUMNS) +
            " | wall time | iterations/s |")
    lines = [head, "|---|---:|---:" + "|---:" * (len(COLUMNS) + 2) + "|", *rows,
             "| held-out real images (the floor) | | | " + " | ".join(
                 f"{floor[k]:.3g}" for k in ("fd", "kid", "precision", "recall")) +
             " | — | | |"]
    return "\n".join([
        START, "",
        f"{n:,} samples against {n:,} training and {n:,} held-out (test) images, in the "
        f"features of the 32×32 Fashion-MNIST classifier (held-out accuracy {classifier:.3f}); "
        f"mean ± standard deviation over the seeds. Measured {datetime.date.today()} on "
        f"{cpu()}, {torch.get_num_threads()} threads, torch {torch.__version__}, with", "",
        f"    {command}", "", *lines, "", END])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--only", help="comma-separated models (default: all)")
    parser.add_argument("--quick", action="store_true", help="a tenth of the iterations, one seed")
    parser.add_argument("--write", type=Path, help="replace the table in this markdown file")
    parser.add_argument("--store", type=Path, default=Path(tempfile.gettempdir()) /
                        "gandsl-results-fashion-models.json",
                        help="each model's rows, kept as they finish: a later run with "
                        "--only redoes some and the table shows them all")
    args = parser.parse_args()
    seeds = [0] if args.quick else [int(s) for s in args.seeds.split(",")]
    chosen = args.only.split(",") if args.only else list(MODELS)
    store = json.loads(args.store.read_text()) if args.store.is_file() and args.only else {}
    with tempfile.TemporaryDirectory() as tmp:
        for key in chosen:
            model = MODELS[key]
            steps = max(model.steps // 10, 20) if args.quick else model.steps
            runs = [gandsl_run(model, steps, s, args.n, Path(tmp))
                    for s in (seeds if model.seeded else seeds[:1])]
            rows = [row(f"gandsl `specs/{model.spec}.gan`: {model.name}", runs)]
            if key == "dcgan":
                base = [hand_written(steps, s, args.n) for s in seeds]
                rows.append(row("hand-written DCGAN (`benchmarks/baseline_dcgan.py`), the "
                                "same networks and settings", base))
            store[key] = {"rows": rows, "floor": runs[0]["floor"],
                          "classifier": runs[0]["classifier"]}
            args.store.write_text(json.dumps(store, indent=1))
            print("\n".join(rows), flush=True)
    done = [store[k] for k in MODELS if k in store]
    rows = [r for entry in done for r in entry["rows"]]
    command = "python " + " ".join(["benchmarks/results_fashion_models.py", *sys.argv[1:]])
    text = table(rows, done[-1]["floor"], args.n, done[-1]["classifier"], command)
    print(text)
    if args.write:
        write_between(args.write, text, START, END)
    print(json.dumps({"models": chosen, "seeds": seeds}))


if __name__ == "__main__":
    main()
