"""The compiler's layering (issue 16, item 4): its packages talk through the IR
(`gandsl.ir`), the catalog (`gandsl.layers`, `gandsl.functions`, `gandsl.catalog`) and shared
leaf modules, never through each other's internals.

Every .py under gandsl/ is read with `ast`; every import counts, at module level or inside a
function (or under `if TYPE_CHECKING`), relative ones resolved. A *package* is a folder of
gandsl/ (`gandsl.lower`) or a top-level module, which is its own (`gandsl.pipeline`);
`gandsl/__init__.py` is the package `gandsl`. The rules are the tables below; docs/
architecture.md states the same table (`test_architecture_doc_states_the_rules`).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "gandsl"
DOC = ROOT / "docs" / "architecture.md"

# ---- the rules ---------------------------------------------------------------------------

PARSER = ("parse", "syntax", "syntax_build", "imports")  # source → syntax tree
PASSES = (*PARSER, "consteval", "lower", "infer", "check", "emit")


@dataclass(frozen=True)
class Rule:
    name: str
    importers: tuple[str, ...]  # the packages the rule binds
    forbidden: tuple[str, ...] = ()  # packages they may not import...
    only: tuple[str, ...] = ()  # ...or the only packages they may import (besides their own)
    why: str = ""


RULES = (
    Rule("passes-check-emit", ("check", "emit"), forbidden=(*PARSER, "consteval", "lower"),
         why="check and emit read the IR, never the syntax tree or the lowering"),
    Rule("passes-lower", ("lower",), forbidden=("check", "emit"),
         why="lowering gives the IR; checking and emitting come after it"),
    Rule("fmt", ("fmt",), forbidden=("syntax_build", "imports", "consteval", "lower", "infer",
                                     "check", "emit"),
         why="fmt works from the parser's public functions (`parse`, `tokens`, `meaning`)"),
    Rule("lsp", ("lsp",), forbidden=("syntax_build", "imports", "consteval", "lower",
                                      "infer", "check", "emit"),
         why="the language server works from the parser's public functions and "
             "`pipeline.analyze`"),
    Rule("clients", ("data", "train", "eval", "export"), forbidden=PASSES,
         why="they reach the compiler through `gandsl.pipeline` and `gandsl.loader` only, "
             "and never parse a spec themselves"),
    Rule("runtime", ("runtime",), only=("kernels", "shard", "functions", "errors"),
         why="generated code runs on the runtime without the compiler"),
    Rule("kernels", ("kernels",), only=("shard", "errors"),
         why="the kernels sit below the runtime and import nothing of it or the compiler"),
)
# Rules of structure, for every package.
STRUCTURE = {
    "private-names": "no `_private` name is imported from another package, or read off a "
                     "module imported from one",
    "package-cycles": "no cycle of imports between packages",
    "module-cycles": "no cycle of imports between the modules of one package",
}


@dataclass(frozen=True)
class Exempt:
    rule: str
    importer: str  # module
    imported: str  # module
    why: str


# Imports a rule lets through, each with its reason. Empty is the goal; an entry that no longer
# matches an import fails `test_every_exception_is_still_needed`.
EXCEPTIONS: tuple[Exempt, ...] = ()

# ---- the import graph --------------------------------------------------------------------


@dataclass(frozen=True)
class Import:
    importer: str  # module, e.g. "gandsl.lower.network"
    imported: str  # module
    names: tuple[str, ...]  # names taken from it (`from m import a, b`), or attributes read
    line: int

    def where(self) -> str:
        return f"{self.importer} (line {self.line}) imports {self.imported}"


def package(module: str) -> str:
    parts = module.split(".")
    return "gandsl" if len(parts) == 1 else parts[1]


def _modules() -> dict[str, tuple[Path, bool]]:
    found = {}
    for path in sorted(SRC.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        found[".".join(parts[:-1] if is_pkg else parts)] = (path, is_pkg)
    return found


MODULES = _modules()


def _imports(module: str, path: Path, is_pkg: bool) -> list[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found: list[Import] = []
    aliases: dict[str, str] = {}  # local name → the gandsl module it is bound to

    def add(target: str, names: tuple[str, ...], line: int) -> None:
        assert target in MODULES, f"{module} (line {line}) imports {target}: no such module"
        if target != module:
            found.append(Import(module, target, names, line))

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "gandsl":
                    add(a.name, (), node.lineno)
                    aliases[a.asname or "gandsl"] = a.name if a.asname else "gandsl"
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")[:len(module.split(".")) - (not is_pkg)]
                base = base[:len(base) - (node.level - 1)] + ([node.module] if node.module
                                                              else [])
            else:
                base = (node.module or "").split(".")
            if base[0] != "gandsl":
                continue
            base_name = ".".join(base)
            for a in node.names:
                sub = f"{base_name}.{a.name}"
                if sub in MODULES:  # `from gandsl import shard`: the module itself
                    add(sub, (), node.lineno)
                    aliases[a.asname or a.name] = sub
                else:
                    add(base_name, (a.name,), node.lineno)
    for node in ast.walk(tree):  # `S._name` where `S` is a gandsl module
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and \
                node.value.id in aliases:
            found.append(Import(module, aliases[node.value.id], (node.attr,), node.lineno))
    return found


IMPORTS = [i for m, (path, is_pkg) in MODULES.items() for i in _imports(m, path, is_pkg)]


def _exempt(rule: str, imp: Import) -> bool:
    return any(e.rule == rule and (e.importer, e.imported) == (imp.importer, imp.imported)
               for e in EXCEPTIONS)


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _cycle_report(graph: nx.DiGraph, what: str, rule: str) -> list[str]:
    out = []
    for scc in nx.strongly_connected_components(graph):
        if len(scc) > 1:
            cycle = nx.find_cycle(graph.subgraph(scc))
            steps = "; ".join(graph.edges[a, b]["imp"].where() for a, b in cycle)
            out.append(f"[{rule}] {what} cycle {' → '.join([a for a, _ in cycle] + [cycle[0][0]])}"
                       f": {steps}")
    return out


# ---- the tests ---------------------------------------------------------------------------


def test_the_graph_sees_every_kind_of_import():
    edges = {(i.importer, i.imported) for i in IMPORTS}
    assert ("gandsl.pipeline", "gandsl.lower") in edges  # module level
    assert ("gandsl.pipeline", "gandsl.emit") in edges  # inside a function
    assert ("gandsl.lower.network", "gandsl.syntax") in edges  # `from .. import syntax as S`
    assert ("gandsl.train.trainer", "gandsl.shard") in edges  # `from .. import shard`


def test_every_package_a_rule_names_exists():
    packages = {package(m) for m in MODULES}
    named = {p for r in RULES for p in (*r.importers, *r.forbidden, *r.only)}
    assert named - packages == set(), "a rule names a package gandsl does not have"
    assert {e.rule for e in EXCEPTIONS} <= {r.name for r in RULES} | set(STRUCTURE)


@pytest.mark.parametrize("rule", RULES, ids=[r.name for r in RULES])
def test_package_rule(rule: Rule):
    bad = []
    for imp in IMPORTS:
        src, dst = package(imp.importer), package(imp.imported)
        if src not in rule.importers or src == dst or _exempt(rule.name, imp):
            continue
        if dst in rule.forbidden or rule.only and dst not in rule.only:
            bad.append(f"[{rule.name}] {imp.where()}: {rule.why}")
    assert not bad, "\n".join(sorted(set(bad)))


def test_no_private_names_across_packages():
    bad = [f"[private-names] {imp.where()}, taking `{name}`: {STRUCTURE['private-names']}"
           for imp in IMPORTS if package(imp.importer) != package(imp.imported)
           and not _exempt("private-names", imp)
           for name in (*imp.names, *imp.imported.split("."))
           if _private(name)]
    assert not bad, "\n".join(sorted(set(bad)))


def test_no_cycles_between_packages():
    graph = nx.DiGraph()
    for imp in IMPORTS:
        src, dst = package(imp.importer), package(imp.imported)
        if src != dst and not _exempt("package-cycles", imp):
            graph.add_edge(src, dst, imp=imp)
    bad = _cycle_report(graph, "package", "package-cycles")
    assert not bad, "\n".join(bad)


def test_no_cycles_between_modules_of_a_package():
    graph = nx.DiGraph()
    for imp in IMPORTS:
        if package(imp.importer) == package(imp.imported) and \
                not _exempt("module-cycles", imp):
            graph.add_edge(imp.importer, imp.imported, imp=imp)
    bad = _cycle_report(graph, "module", "module-cycles")
    assert not bad, "\n".join(bad)


def test_every_exception_is_still_needed():
    edges = {(i.importer, i.imported) for i in IMPORTS}
    stale = [e for e in EXCEPTIONS if (e.importer, e.imported) not in edges]
    assert not stale, f"these imports are gone; drop their exceptions: {stale}"
    assert all(e.why for e in EXCEPTIONS)


def _names(packages: tuple[str, ...]) -> str:
    return ", ".join(f"`{p}`" for p in packages)


def rule_table() -> list[str]:
    """The rows docs/architecture.md must hold, verbatim."""
    rows = []
    for r in RULES:
        kind, what = ("may not import", r.forbidden) if r.forbidden else \
            ("may import only", r.only)
        rows.append(f"| {r.name} | {_names(r.importers)} | {kind} {_names(what)} | {r.why} |")
    rows += [f"| {name} | every package | {text} | |" for name, text in STRUCTURE.items()]
    rows += [f"| exception to {e.rule} | `{e.importer}` → `{e.imported}` | | {e.why} |"
             for e in EXCEPTIONS]
    return rows


def test_architecture_doc_states_the_rules():
    text = DOC.read_text(encoding="utf-8")
    missing = [row for row in rule_table() if row not in text]
    assert not missing, "docs/architecture.md lacks these rows of the rule table:\n" + \
        "\n".join(missing)
