"""`import "lib/resnet.gan"`: the params, lets, blocks and networks of another file, spliced
into the spec where the import stands, before anything is lowered. Its data, objective and
train section are not imported, so a whole spec can lend its networks
(`import "stylegan2.gan" (res=256)`, the keyword arguments setting its params).

An import reads a file, so it obeys the threat model of untrusted specs
(docs/language.md#limits-and-untrusted-specs):

- the path is relative, ends in `.gan` and has no `..`: a spec reaches only files in its own
  folder and below, or, for `lib/...`, gandsl's standard library (`specs/lib`);
- the file is a regular file (no device or pipe), and at most `limits.IMPORTS` files are read
  per compilation, each within `limits.SOURCE_BYTES` (checked by the parser);
- a file is imported once however many files import it; a cycle is `E106`.

Each imported file gets a `Span.file` index, so every diagnostic in it points at its own line.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

from . import limits
from . import syntax as S
from .diagnostics import Diagnostics, GandslError, Sources, Span, did_you_mean
from .parse import parse

# gandsl's standard library: `import "lib/resnet.gan"` finds specs/lib/resnet.gan here when
# the importing file's folder has no lib/resnet.gan.
STDLIB = Path(__file__).resolve().parent.parent / "specs"
IMPORTED = (S.ParamDecl, S.Let, S.BlockDecl, S.NetworkDecl, S.NetworkCopy, S.If)


@dataclass
class Imported:
    """The spec with its imports spliced in, and the files read."""

    module: S.Module
    sources: Sources
    # file index → its path relative to the spec's folder, as the imports compose it (what
    # a run directory mirrors so that its copy of the spec compiles alone)
    relative: dict[int, str] = field(default_factory=dict)


def resolve(module: S.Module, text: str, path: str, diags: Diagnostics) -> Imported:
    """Splice every import of `module` (the spec at `path`); errors go to `diags`."""
    sources = Sources([(path, text)])
    result = Imported(module, sources)
    if not any(isinstance(i, S.ImportDecl) for i in module.items) and \
            not _nested_imports(module.items):
        return result
    base = Path(path).parent if os.path.isfile(path) else Path.cwd()
    state = _State(diags, sources, result.relative)
    state.names[_key(Path(path))] = path
    items = state.expand(module.items, base, PurePosixPath(), [_key(Path(path))])
    result.module = S.Module(module.header, _networks_used(items))
    diags.sources = sources
    return result


def _networks_used(items: list) -> list:
    """The imported networks the spec uses. One it never names is left out (a library's or a
    whole spec's other networks are not built, trained or warned about); one it only copies
    (`network D = Dnet`) becomes the first copy itself, renamed, and later copies copy that:
    no network is left behind with no player."""
    imported = {i.name: i for i in items if isinstance(i, S.NetworkDecl | S.NetworkCopy)
                and i.span.file}
    if not imported:
        return items
    own = [i for i in items if not i.span.file]
    named = _names(own)
    copies: dict[str, list[S.NetworkCopy]] = {}
    for i in own:
        if isinstance(i, S.NetworkCopy) and i.source in imported:
            copies.setdefault(i.source, []).append(i)
    keep = {n for n in imported if n in named}  # named other than as a copy's source
    # what kept imported networks copy is kept too (a library's `network B = A`)
    todo = [imported[n] for n in keep]
    while todo:
        i = todo.pop()
        if isinstance(i, S.NetworkCopy) and i.source in imported and i.source not in keep:
            keep.add(i.source)
            todo.append(imported[i.source])
    renamed: dict[int, S.Stmt] = {}  # id of the first copy → the network it becomes
    dropped: set[int] = set()
    for source, cs in copies.items():
        if source in keep:
            continue
        first, decl = cs[0], imported[source]
        if isinstance(decl, S.NetworkCopy):  # a library's copy of its own network: copy that
            continue
        renamed[id(first)] = replace(decl, name=first.name, name_span=first.name_span)
        for later in cs[1:]:
            later.source, later.source_span = first.name, first.name_span
        dropped.add(id(decl))
    out = []
    for i in items:
        if id(i) in renamed:
            out.append(renamed[id(i)])
        elif i.span.file and isinstance(i, S.NetworkDecl | S.NetworkCopy) and (
                id(i) in dropped or i.name not in keep and id(i) not in renamed):
            continue
        else:
            out.append(i)
    return out


def _names(items: list) -> set[str]:
    """Every name the items mention, in expressions and train statements (not the source
    of a copy)."""
    found: set[str] = set()
    stack = list(items)
    while stack:
        x = stack.pop()
        if isinstance(x, S.Name):
            found.add(x.id)
        elif isinstance(x, S.NetworkCopy):
            continue  # its source is not used by name: see `_networks_used`
        elif isinstance(x, S.TrainStmt):
            found.update(w for w, _ in x.words)
            stack.extend([x.value, x.condition, *x.args, *x.kwargs])
        elif isinstance(x, list | tuple):
            stack.extend(x)
        elif hasattr(x, "__dataclass_fields__") and not isinstance(x, Span):
            stack.extend(getattr(x, f) for f in x.__dataclass_fields__ if f != "span")
    return found


def _nested_imports(items: list) -> bool:
    return any(isinstance(i, S.If) and (_nested_imports(i.then) or
                                        _nested_imports(i.orelse or [])) or
               isinstance(i, S.ImportDecl) for i in items)


def _key(p: Path) -> str:
    try:
        return str(p.resolve())
    except OSError:
        return str(p)


class _State:
    def __init__(self, diags: Diagnostics, sources: Sources, relative: dict[int, str]):
        self.diags, self.sources, self.relative = diags, sources, relative
        self.done: dict[str, S.ImportDecl] = {}  # file → its first import
        self.names: dict[str, str] = {}  # file → its path as messages show it

    def expand(self, items: list, base: Path, rel: PurePosixPath, stack: list[str]) -> list:
        out: list = []
        for item in items:
            if isinstance(item, S.ImportDecl):
                out += self._import(item, base, rel, stack)
            elif isinstance(item, S.If):
                self._no_imports_inside(item)
                out.append(item)
            else:
                out.append(item)
        return out

    def _no_imports_inside(self, item: S.If) -> None:
        todo = [item]
        while todo:
            i = todo.pop()
            for x in [*i.then, *(i.orelse or [])]:
                if isinstance(x, S.ImportDecl):
                    self.diags.error("E110", "an import is a top-level item: it cannot depend "
                                     "on an `if`", x.span, hint="import the file at the top "
                                     "level; its blocks and networks cost nothing until used")
                elif isinstance(x, S.If):
                    todo.append(x)

    def _import(self, decl: S.ImportDecl, base: Path, rel: PurePosixPath,
                stack: list[str]) -> list:
        found = self._locate(decl, base)
        if found is None:
            return []
        file, where = found
        key = _key(file)
        if key in stack:
            chain = " → ".join(self.names[k] for k in stack[stack.index(key):])
            self.diags.error("E106", f"import cycle: {chain} → {self.names[key]}",
                             decl.path_span)
            return []
        if key in self.done:
            if decl.kwargs:
                first = self.done[key]
                self.diags.error("E102", f"`{decl.path}` is imported already: its params are "
                                 "set where it is first imported", decl.kwargs[0].span,
                                 notes=[("first imported here", first.span)])
            return []
        if len(self.sources.files) > limits.IMPORTS.value:
            self.diags.error("E110", f"more than {limits.IMPORTS.value} imported files",
                             decl.path_span)
            return []
        text = self._read(file, decl)
        if text is None:
            return []
        self.done[key] = decl
        self.names[key] = where
        k = self.sources.add(where, text)
        self.relative[k] = str(rel / decl.path)
        try:
            sub = parse(text, where, file=k)
        except GandslError as e:
            for d in e.diagnostics:  # in the imported file: its own lines, and the import
                self.diags.error(d.code, d.message, replace(d.span, file=k), d.hint,
                                 [*((t, replace(s, file=k)) for t, s in d.notes),
                                  ("imported here", decl.span)])
            return []
        items = self.expand(sub.items, file.parent, (rel / decl.path).parent,
                            [*stack, key])
        self._set_params(decl, items)
        return [i for i in items if isinstance(i, IMPORTED)]

    def _locate(self, decl: S.ImportDecl, base: Path) -> tuple[Path, str] | None:
        """The file an import names, and the path to show for it; None after an error."""
        p = PurePosixPath(decl.path)
        why = None
        if not decl.path.endswith(".gan"):
            why = "an import names a `.gan` file"
        elif p.is_absolute() or "\\" in decl.path or ":" in decl.path:
            why = "an import is a relative path, e.g. `lib/resnet.gan`"
        elif ".." in p.parts:
            why = "an import stays in the spec's folder: no `..`"
        if why is not None:
            self.diags.error("E110", why, decl.path_span)
            return None
        for root in (base, STDLIB) if p.parts[0] == "lib" else (base,):
            file = root / p
            if not file.exists():
                continue
            if not _inside(file, root):  # a link out of the folder: not the spec's to read
                self.diags.error("E110", f"cannot import `{decl.path}`: it links outside "
                                 f"{_display(root)}", decl.path_span)
                return None
            return file, _display(file)
        self.diags.error("E110", f"cannot import `{decl.path}`: no such file in "
                         f"{_display(base) or '.'}" + (" or gandsl's standard library"
                                                       if p.parts[0] == "lib" else ""),
                         decl.path_span, hint="paths are relative to the importing file's "
                         "folder")
        return None

    def _read(self, file: Path, decl: S.ImportDecl) -> str | None:
        try:
            info = file.stat()
            if not stat.S_ISREG(info.st_mode):
                raise OSError("not a regular file")
            with open(file, "rb") as f:
                data = f.read(limits.SOURCE_BYTES.value + 1)
            return data.decode("utf-8-sig")
        except (OSError, UnicodeDecodeError) as e:
            reason = e.reason if isinstance(e, UnicodeDecodeError) else (e.strerror or str(e))
            self.diags.error("E110", f"cannot import `{decl.path}`: {reason}", decl.path_span)
            return None

    def _set_params(self, decl: S.ImportDecl, items: list) -> None:
        """`import "x.gan" (ch=64)`: the file's own `param ch` takes the importer's value."""
        params = {i.name: i for i in items if isinstance(i, S.ParamDecl)}
        for kw in decl.kwargs:
            p = params.get(kw.name)
            if p is None:
                self.diags.error("E104", f"`{decl.path}` has no param `{kw.name}`", kw.span,
                                 did_you_mean(kw.name, params) or (
                                     f"its params: {', '.join(params)}" if params else
                                     "it declares no params"))
                continue
            p.value = kw.value


def _inside(file: Path, root: Path) -> bool:
    try:
        return file.resolve().is_relative_to(root.resolve())
    except OSError:
        return False


def _display(file: Path) -> str:
    """A path as messages show it: relative to the working directory when inside it."""
    try:
        return file.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except (ValueError, OSError):
        return file.as_posix()


__all__ = ["Imported", "resolve", "STDLIB"]
