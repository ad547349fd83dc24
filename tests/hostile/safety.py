"""What a generated module may do when it is imported: define things, nothing else.

`definitions_only` reads the module's syntax tree and lists every statement that would run
something at import beyond its own definitions: an import other than torch, typing and
gandsl.runtime; a top-level value that is not a literal; a class body, decorator, default
value or annotation that could call anything but `torch.no_grad()`. The import guard
(`import_guard.py`) checks the same at run time with an audit hook.
"""

from __future__ import annotations

import ast

ALLOWED_IMPORTS = {
    ("typing", "NamedTuple", None), ("torch", "Tensor", None), ("torch", "nn", None),
    ("gandsl", "runtime", "rt"), ("torch", None, None), ("torch.nn.functional", None, "F")}


def definitions_only(source: str) -> list[str]:
    """Problems, each as `line N: what`; empty when importing the module only defines."""
    tree = ast.parse(source)
    problems: list[str] = []

    def bad(node: ast.AST, what: str) -> None:
        problems.append(f"line {getattr(node, 'lineno', '?')}: {what}")

    for k, node in enumerate(tree.body):
        if k == 0 and _docstring(node):
            continue
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if (node.module, alias.name, alias.asname) not in ALLOWED_IMPORTS:
                    bad(node, f"imports {node.module}.{alias.name}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if (alias.name, None, alias.asname) not in ALLOWED_IMPORTS:
                    bad(node, f"imports {alias.name}")
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            if isinstance(node, ast.AnnAssign):
                _annotation(node.annotation, bad)
            if node.value is not None and not _literal(node.value):
                bad(node, "a top-level value that is not a literal")
        elif isinstance(node, ast.ClassDef):
            _class(node, bad)
        else:
            bad(node, f"a top-level {type(node).__name__}")
    return problems


def _docstring(node: ast.AST) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and \
        isinstance(node.value.value, str)


def _literal(node: ast.AST) -> bool:
    """Constants, names (of the module's classes) and containers of them."""
    if isinstance(node, ast.Constant | ast.Name):
        return True
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return _literal(node.operand)
    if isinstance(node, ast.Dict):
        return all(k is not None and _literal(k) for k in node.keys) and \
            all(_literal(v) for v in node.values)
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return all(_literal(e) for e in node.elts)
    return False


def _annotation(node: ast.AST, bad) -> None:
    """Annotations run at definition: names, attributes, subscripts and `|` only."""
    for sub in ast.walk(node):
        if not isinstance(sub, ast.Name | ast.Attribute | ast.Subscript | ast.Tuple |
                          ast.Constant | ast.BinOp | ast.BitOr | ast.Load | ast.List):
            bad(node, f"an annotation that runs {type(sub).__name__}")
            return


def _no_grad(node: ast.AST) -> bool:
    return ast.unparse(node) == "torch.no_grad()"


def _class(node: ast.ClassDef, bad) -> None:
    if node.decorator_list or node.keywords:
        bad(node, f"class {node.name} has decorators or keywords")
    for base in node.bases:
        if ast.unparse(base) not in ("nn.Module", "NamedTuple"):
            bad(node, f"class {node.name} derives from {ast.unparse(base)}")
    for k, item in enumerate(node.body):
        if k == 0 and _docstring(item):
            continue
        if isinstance(item, ast.AnnAssign) and item.value is None:
            _annotation(item.annotation, bad)  # a NamedTuple field
        elif isinstance(item, ast.FunctionDef):
            for dec in item.decorator_list:
                if not _no_grad(dec):
                    bad(item, f"method {item.name} has decorator {ast.unparse(dec)}")
            for default in [*item.args.defaults, *item.args.kw_defaults]:
                if default is not None and not isinstance(default, ast.Constant):
                    bad(item, f"method {item.name} has a default that is not a constant")
            for arg in [*item.args.args, *item.args.kwonlyargs]:
                if arg.annotation is not None:
                    _annotation(arg.annotation, bad)
            if item.returns is not None:
                _annotation(item.returns, bad)
        else:
            bad(item, f"class {node.name} runs a {type(item).__name__} in its body")
