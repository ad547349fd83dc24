"""The definitions a piece of Python needs, copied from the source files that define them.

`gandsl export --format python` writes one file that needs only torch: the generated
network classes, and the runtime classes and functions they use, copied in as the plain code
they are. This module finds them: starting from some top-level definitions of a module, it
follows every name they read to the top-level definition (function, class, constant) that
binds it, in the same module or, through an import, in another one, and collects the imports
of anything outside gandsl (torch, math) as import statements. A few runtime names stand for
machinery a single exported network does without (data-parallel shards, the Triton kernels);
`substitutes.py` holds their one-process versions, copied in their place.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import sys
from dataclasses import dataclass, field
from functools import cache
from types import ModuleType

from . import substitutes

_OURS = "gandsl"
# (module, name) of an import → the substitute's name in `substitutes.py`
SUBSTITUTED = {("gandsl", "shard"): "shard", ("gandsl.kernels.adain", "fused_adain"):
               "fused_adain"}


@dataclass
class Index:
    """The top-level definitions and imports of one module's source."""

    module: str  # dotted name; "" for the generated module
    lines: list[str]
    defs: dict[str, ast.stmt] = field(default_factory=dict)
    # bound name → (module, attribute; None for `import module`)
    imports: dict[str, tuple[str, str | None]] = field(default_factory=dict)

    @classmethod
    def of(cls, source: str, module: str = "") -> Index:
        tree = ast.parse(source)
        index = cls(module, source.splitlines())
        for stmt in tree.body:
            if isinstance(stmt, ast.FunctionDef | ast.ClassDef):
                index.defs[stmt.name] = stmt
            elif isinstance(stmt, ast.Assign | ast.AnnAssign):
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                for t in targets:
                    if isinstance(t, ast.Name):
                        index.defs[t.id] = stmt
            elif isinstance(stmt, ast.Import):
                for a in stmt.names:
                    index.imports[a.asname or a.name.split(".")[0]] = (
                        a.name if a.asname else a.name.split(".")[0], None)
            elif isinstance(stmt, ast.ImportFrom):
                base = _absolute(stmt, module)
                for a in stmt.names:
                    index.imports[a.asname or a.name] = (base, a.name)
        return index

    def text(self, name: str) -> str:
        """The definition's source, with its decorators and the comment lines just above."""
        stmt = self.defs[name]
        start = min([stmt.lineno, *(d.lineno for d in getattr(stmt, "decorator_list", []))]) - 1
        while start > 0 and self.lines[start - 1].lstrip().startswith("#"):
            start -= 1
        return "\n".join(self.lines[start:stmt.end_lineno])


def _absolute(stmt: ast.ImportFrom, module: str) -> str:
    if not stmt.level:
        return stmt.module or ""
    package = module.rsplit(".", stmt.level)[0] if module else ""
    return f"{package}.{stmt.module}" if stmt.module else package


def _namespaces(index: Index) -> dict[str, str]:
    """The names of `index` bound to a whole gandsl module (not one substituted): alias →
    module."""
    out = {}
    for name, (module, attr) in index.imports.items():
        if (module, attr) in SUBSTITUTED or not (module == _OURS or module.startswith(_OURS + ".")):
            continue
        obj = importlib.import_module(module)
        obj = getattr(obj, attr, None) if attr else obj
        if isinstance(obj, ModuleType):
            out[name] = obj.__name__
    return out


@cache
def module_index(module: str) -> Index:
    mod = importlib.import_module(module)
    return Index.of(inspect.getsource(mod), module)


def names_read(stmt: ast.AST) -> list[str]:
    """Every name the statement reads, in order of appearance (locals included: a local
    named like a top-level definition only copies one definition more)."""
    seen = dict.fromkeys(n.id for n in ast.walk(stmt) if isinstance(n, ast.Name))
    return list(seen)


@dataclass
class Closure:
    """The definitions and imports collected so far; `definitions` in dependency order."""

    # (module, name, source); the generated module's module is ""
    definitions: list[tuple[str, str, str]] = field(default_factory=list)
    imports: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    # a gandsl module imported whole (`rt`) → the names read from it, all copied
    namespaces: dict[str, list[str]] = field(default_factory=dict)
    _done: set[tuple[str, str]] = field(default_factory=set)
    # name → what holds it: ("def", module, name) or ("import", id of the object)
    _owner: dict[str, tuple] = field(default_factory=dict)

    def add(self, index: Index, name: str) -> None:
        """`name`, a top-level definition of `index`, and everything it needs."""
        key = (index.module, name)
        if key in self._done:
            return
        self._done.add(key)
        stmt = index.defs[name]
        spaces = _namespaces(index)
        for node in ast.walk(stmt):  # `rt.Bias`: the definition of `Bias` in the runtime
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and \
                    node.value.id in spaces:
                self.add_object(spaces[node.value.id], node.attr, node.attr)
                used = self.namespaces.setdefault(node.value.id, [])
                used += [node.attr] if node.attr not in used else []
        for read in names_read(stmt):
            if read != name and read not in spaces:
                self.resolve(index, read)
        self._claim(name, ("def", *key))
        self.definitions.append((index.module, name, index.text(name)))

    def resolve(self, index: Index, name: str) -> None:
        """Whatever `name` means in `index`'s module, brought in."""
        if name in index.defs:
            self.add(index, name)
        elif name in index.imports:
            module, attr = index.imports[name]
            if (module, attr) in SUBSTITUTED:
                self.add(module_index(substitutes.__name__), SUBSTITUTED[module, attr])
            elif module == _OURS or module.startswith(_OURS + "."):
                self.add_object(module, attr, name)
            else:  # torch, math: one import statement per name, whatever its spelling
                obj = importlib.import_module(module)
                obj = getattr(obj, attr) if attr else obj
                self._claim(name, ("import", id(obj)))
                self.imports.setdefault(name, (module, attr))

    def add_object(self, module: str, attr: str | None, bound: str) -> None:
        """A gandsl object imported as `bound`: copied where it is defined, under its name."""
        obj = getattr(importlib.import_module(module), attr) if attr else \
            importlib.import_module(module)
        if isinstance(obj, ModuleType):
            raise ValueError(f"cannot copy module {obj.__name__} into an export")
        home = obj.__module__
        if (home, obj.__name__) in SUBSTITUTED:
            self.add(module_index(substitutes.__name__), SUBSTITUTED[home, obj.__name__])
            return
        if obj.__name__ != bound:
            raise ValueError(f"{module}.{attr} is imported as {bound}: an export copies "
                             "definitions under their own names")
        self.add(module_index(home), obj.__name__)

    def _claim(self, name: str, owner: tuple) -> None:
        """Two different things of one name cannot share the exported file."""
        held = self._owner.setdefault(name, owner)
        if held != owner:
            raise ValueError(f"`{name}` would be defined twice in one export: {held[1:]} and "
                             f"{owner[1:]}")

    def import_lines(self) -> list[str]:
        """The imports, `from __future__` first, the standard library, then the rest."""
        froms: dict[str, list[str]] = {}
        plain: list[str] = []
        for name, (module, attr) in self.imports.items():
            if attr is None:
                plain.append(f"import {module}" + (f" as {name}" if name != module else ""))
            else:
                froms.setdefault(module, []).append(attr if attr == name else
                                                    f"{attr} as {name}")
        lines = [*plain, *(f"from {m} import {', '.join(sorted(set(ns)))}"
                           for m, ns in froms.items())]

        def group(line: str) -> tuple:  # as isort: sections, then `import` before `from`
            words = line.split()
            top = words[1].split(".")[0]
            return (0 if top == "__future__" else 1 if top in sys.stdlib_module_names else 2,
                    words[0] == "from", words[1])
        out: list[str] = []
        for line in sorted(set(lines), key=group):
            if out and group(out[-1])[0] != group(line)[0]:
                out.append("")  # a blank line between sections
            out.append(line)
        return out
