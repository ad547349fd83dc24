"""`gandsl train --nproc N`: start N processes through torchrun, and speak for them.

torchrun's launcher runs in this process (its Python API, not a child `torchrun`), so that a
failure comes back as an exception with each process's exit status rather than torchrun's
traceback. Each process hands the error it stopped with (a bad spec, flag, dataset or
checkpoint: the same for every process) to a folder instead of printing it; the launcher prints
each distinct message once and exits with the processes' status, as one process would.

Nothing here imports torch at module level: the command line imports this module for every
command, and `gandsl compile` never loads torch.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import tempfile
from pathlib import Path

ERRORS_ENV = "GANDSL_ERRORS"  # the folder where the processes of one launch leave their errors


def relaunch(nproc: int, argv: list[str]) -> int:
    """Run `gandsl ARGV` in `nproc` processes on this machine (single-node rendezvous on a
    free port) and return their exit status."""
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import get_args_parser, run

    args = get_args_parser().parse_args(
        ["--standalone", f"--nproc-per-node={nproc}", "-m", "gandsl", *argv])
    # torchrun gives each process one CPU thread unless told; share the cores out instead
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // nproc)))
    # the launcher's own log says again what the processes' errors say
    logging.getLogger("torch.distributed.elastic").setLevel(logging.CRITICAL)
    with tempfile.TemporaryDirectory(prefix="gandsl-errors-") as folder:
        os.environ[ERRORS_ENV] = folder
        try:
            run(args)
        except ChildFailedError as e:
            failures = {rank: f.exitcode for rank, f in e.failures.items()}
            return report(Path(folder), failures, nproc)
        except (KeyboardInterrupt, SignalException) as e:
            # the launcher has stopped the processes; rank 0 may have said where its last
            # checkpoint is
            _print_messages(_messages(Path(folder)))
            signum = getattr(e, "sigval", signal.SIGINT)
            print(f"gandsl: stopped by {signal.Signals(signum).name}", file=sys.stderr)
            return 128 + int(signum)
        finally:
            del os.environ[ERRORS_ENV]
    return 0


def say_error(message: str, status: int) -> None:
    """Print the error a command stopped with; a process of `--nproc` leaves it to the
    launcher, which prints it once for all of them."""
    folder = os.environ.get(ERRORS_ENV)
    if folder is None or not Path(folder).is_dir():
        print(message, file=sys.stderr)
        return
    rank = int(os.environ.get("RANK", "0"))
    path = Path(folder) / f"rank-{rank:05d}.json"
    path.write_text(json.dumps({"rank": rank, "status": status, "message": message}),
                    encoding="utf-8")


def report(folder: Path, failures: dict[int, int], nproc: int) -> int:
    """Print what the failed processes said, each distinct message once, and return the
    status to exit with: the first process's own, or 1 for a process that crashed."""
    said = _messages(folder)
    if said:
        _print_messages(said)
        return said[0]["status"]
    # no message: a process crashed (its traceback is above) or was killed
    for rank, code in sorted(failures.items()):
        how = f"was killed by {signal.Signals(-code).name}" if code < 0 and \
            -code in signal.valid_signals() else f"stopped with exit status {code}"
        print(f"gandsl: error: process {rank} of {nproc} {how}", file=sys.stderr)
    return 1


def _messages(folder: Path) -> list[dict]:
    """What the processes said, in rank order."""
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("rank-*"))]


def _print_messages(said: list[dict]) -> None:
    """Each distinct message once; processes that said different things are named."""
    messages: dict[str, list[int]] = {}
    for d in said:
        messages.setdefault(d["message"], []).append(d["rank"])
    for message, ranks in messages.items():
        who = "" if len(messages) == 1 else \
            f"process{'es' if len(ranks) > 1 else ''} {', '.join(map(str, ranks))}: "
        print(f"{who}{message}", file=sys.stderr)


def without_nproc(argv: list[str]) -> list[str]:
    """ARGV with `--nproc N` (or `--nproc=N`) removed, to pass to the processes."""
    out: list[str] = []
    skip = False
    for a in argv:
        if skip:
            skip = False
        elif a == "--nproc":
            skip = True
        elif not a.startswith("--nproc="):
            out.append(a)
    return out
