"""`gandsl.load`: compile a spec (or reuse its cached emit) and import the generated module.

The generated file is the program: networks are the classes a user reads in that file, imported
from a real file on disk so tracebacks point at its lines. Cached files are keyed by the spec's
text, the params and the gandsl version, and written atomically.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import os
import sys
from functools import cached_property
from pathlib import Path
from types import ModuleType
from typing import Any

from .atomic import replace_text
from .errors import UserError
from .ir import Objective, Spec
from .pipeline import check_source, display, emit_checked, read_spec
from .version import __version__


def cache_dir() -> Path:
    root = Path(os.environ.get("GANDSL_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "gandsl"))
    if root.exists() and not root.is_dir():
        raise UserError(f"the compile cache {root} (GANDSL_CACHE or ~/.cache/gandsl) is not a "
                        "directory; point GANDSL_CACHE at a directory")
    return root


class Loaded:
    """A compiled spec: its IR, its generated source and module, and its networks."""

    def __init__(self, spec: Spec, source: str, module: ModuleType, file: Path) -> None:
        self.spec = spec
        self.source = source
        self.module = module
        self.file = file
        self.classes: dict[str, type] = dict(module.NETWORKS)
        # the files the spec imports: path relative to the spec's folder → text (what a run
        # directory keeps beside its copy of the spec)
        self.imports: dict[str, str] = {}

    @cached_property
    def networks(self) -> dict[str, Any]:
        """One instance of each network, built on first use."""
        return {name: cls() for name, cls in self.classes.items()}

    @property
    def objective(self) -> Objective | None:
        return self.spec.objective

    def __repr__(self) -> str:
        return f"<gandsl.Loaded {self.spec.name} from {self.spec.path}: " \
               f"{', '.join(self.classes)}>"


def load(path: str | os.PathLike, **params: Any) -> Loaded:
    """Compile `path` with `params` (or reuse the cached emit) and import it."""
    text = read_spec(path)
    result = check_source(text, str(path), params)  # the imported files' texts are keyed too
    files = [t for _, t in result.sources.files[1:]] if result.sources else []
    key = hashlib.sha256(json.dumps([text, sorted(params.items(), key=str), _compiler_hash(),
                                     display(path), *files], default=str).encode()).hexdigest()
    file = cache_dir() / f"{_module_stem(path)}_{key[:20]}.py"
    if file.exists():
        source = file.read_text(encoding="utf-8")
    else:
        source = emit_checked(result, display_path=display(path)).python
        replace_text(file, source, "compiled spec", durable=True)
    loaded = Loaded(result.spec, source, import_file(file, f"gandsl_generated.{file.stem}"),
                    file)
    loaded.imports = {result.imports[k]: text for k, (_, text) in
                      enumerate(result.sources.files) if k} if result.sources else {}
    return loaded


@functools.cache
def _compiler_hash() -> str:
    """A hash of the compiler's own files, so a changed compiler never reuses old emits."""
    h = hashlib.sha256(__version__.encode())
    root = Path(__file__).parent
    for f in sorted(root.rglob("*")):
        if f.suffix in (".py", ".lark", ".j2") and "runtime" not in f.parts:
            h.update(f.relative_to(root).as_posix().encode())
            h.update(f.read_bytes())
    return h.hexdigest()


def _module_stem(path: str | os.PathLike) -> str:
    stem = Path(path).stem
    return "".join(c if c.isalnum() or c == "_" else "_" for c in stem) or "spec"


def import_file(file: Path, name: str) -> ModuleType:
    """The module in `file`, imported as `name` (registered in `sys.modules`, where
    dataclasses and NamedTuples look their module up); the one already there by that name."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, file)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module
