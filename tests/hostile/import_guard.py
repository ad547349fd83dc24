"""Imports generated modules under an audit hook that fails on any side effect.

Run as a subprocess (one per test session: torch is imported once). It reads the path of a
generated module per line on stdin and answers one line: `ok`, or `FAIL: <what happened>`.

While the module is imported, only its own definitions may run: reading its file, compiling
and executing its body, and the `eval` that `typing.NamedTuple` itself uses; any other file
access, import, compile, exec or process, socket or file-system event is a failure. Then its
networks are instantiated (their constructors run), with everything that reaches outside the
process still forbidden.
"""

from __future__ import annotations

import collections
import importlib.util
import os
import sys
import traceback

sys.dont_write_bytecode = True  # no __pycache__ writes: every write is a side effect

import torch  # noqa: E402  (imported before the hook, as any user of gandsl has)
import torch.nn.functional  # noqa: E402, F401

from gandsl import runtime  # noqa: E402, F401

# Events that reach outside the process: never allowed.
OUTSIDE = ("os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty",
           "os.kill", "os.killpg", "os.remove", "os.unlink", "os.rename", "os.rmdir",
           "os.mkdir", "os.chmod", "os.chown", "os.putenv", "os.unsetenv", "os.truncate",
           "os.symlink", "os.link", "subprocess.", "socket.", "shutil.", "ctypes.",
           "webbrowser.", "urllib.", "http.", "builtins.input", "pty.", "fcntl.")
# Looking around the file system: only while the module itself runs (a constructor may
# import a part of torch lazily, and imports list directories).
LOOKING = ("os.listdir", "os.scandir", "os.walk", "glob.")
NAMEDTUPLE = collections.__file__

state = {"module": None, "strict": False, "problems": [], "pycache": ""}


def _caller_file() -> str:
    frame = sys._getframe(2)  # 0: this function, 1: the hook, 2: who raised the event
    return frame.f_code.co_filename if frame is not None else ""


def hook(event: str, args: tuple) -> None:
    module = state["module"]
    if module is None:
        return
    problems = state["problems"]
    if event.startswith(OUTSIDE) or state["strict"] and event.startswith(LOOKING):
        problems.append(f"{event}{args!r}"[:300])
    elif event == "open":
        path, mode = args[0], args[1] if len(args) > 1 else "r"
        if mode and any(c in str(mode) for c in "wax+"):
            problems.append(f"open({path!r}, {mode!r})")
        elif state["strict"] and str(path) != module and \
                not str(path).startswith(state["pycache"]):  # importlib looks for a cache
            problems.append(f"read {path!r}")
    elif state["strict"] and event in ("compile", "exec", "import"):
        if event == "compile":
            ok = args[1] == module or _caller_file() == NAMEDTUPLE
        elif event == "exec":
            ok = getattr(args[0], "co_filename", None) == module or \
                _caller_file() == NAMEDTUPLE
        else:
            ok = False
        if not ok:
            problems.append(f"{event}{args!r}"[:300])


def check(path: str, n: int) -> str:
    state.update(module=path, strict=True, problems=[],
                 pycache=os.path.join(os.path.dirname(path), "__pycache__", ""))
    try:
        spec = importlib.util.spec_from_file_location(f"generated_{n}", path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        state["strict"] = False
        networks = {name: cls() for name, cls in mod.NETWORKS.items()}
        if hasattr(mod, "Objective"):
            mod.Objective(networks).optimizers()
    except BaseException:
        state["problems"].append("raised: " + traceback.format_exc(limit=3).replace("\n", " | "))
    finally:
        state["module"] = None
    return "ok" if not state["problems"] else "FAIL: " + "; ".join(state["problems"])


def warm() -> None:
    """What constructors import lazily (torch's optimizers pull in torch._dynamo, which sets
    up its cache directory) happens once here, before the hook."""
    weight = torch.nn.Parameter(torch.zeros(2, 2))
    for optimizer in (torch.optim.Adam, torch.optim.AdamW, torch.optim.RMSprop,
                      torch.optim.SGD):
        optimizer([weight], lr=0.1)
    torch.nn.utils.parametrizations.spectral_norm(torch.nn.Linear(2, 2))


def main() -> None:
    warm()
    sys.addaudithook(hook)
    for n, line in enumerate(sys.stdin):
        print(check(line.rstrip("\n"), n), flush=True)


if __name__ == "__main__":
    main()
