"""IR → Python source, through one jinja2 template. Same spec, same bytes."""

from __future__ import annotations

import functools
import shlex
import textwrap
from pathlib import Path

import jinja2

from ..ir import Spec
from ..naming import MODULE_NAMES, RESERVED, Namespace, comment, docstring, literal, sanitize
from ..version import __version__
from .blocks import plan_blocks
from .constants import module_constants
from .network import (
    WIDTH,
    BlockUses,
    ClassSource,
    build_block_class,
    build_network_class,
    code_uses,
    probe_block,
)
from .objective import build_objective
from .symbolic import Renderer
from .wrap import wrap_module

_TEMPLATES = Path(__file__).with_name("templates")


@functools.cache
def _template() -> jinja2.Template:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        autoescape=False,  # Python source, not HTML: every spec-derived string is made safe here
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["pyrepr"] = repr
    return env.get_template("module.py.j2")


def classes(spec: Spec) -> tuple[list[ClassSource], dict[str, str], list[Renderer]]:
    """The classes of the module (blocks first, then networks), each network's class, and the
    renderers that printed their numbers (which count the float literals written)."""
    return _classes(spec, {}, None)[:3]


def _classes(spec: Spec, constants: dict[float, str], uses: BlockUses | None
             ) -> tuple[list[ClassSource], dict[str, str], list[Renderer], BlockUses]:
    """`classes`, with the module's constants (float → its name) and, on a second pass, the
    block classes the first one planned (probing every use of a block is most of the work)."""
    module_names = Namespace(RESERVED | {e.alias for e in spec.externs})
    network_names = {}
    for net in spec.networks:  # network classes are named first: they keep the spec's names
        if net.copy_of is None:
            network_names[net.name] = module_names.create(net.name)
    if uses is None:
        probe_reserved = RESERVED | MODULE_NAMES
        uses = plan_blocks([n for n in spec.networks if n.copy_of is None], module_names,
                           lambda body: probe_block(body, probe_reserved))
    else:  # the names the plan gave, in the order it gave them
        for bc in {id(bc): bc for bc, _ in uses.values()}.values():
            module_names.create(bc.name)
    output_names = {n.name: module_names.create(f"{n.name}Output") for n in spec.networks
                    if n.copy_of is None and not n.single_output}
    # locals never shadow the module's own names (its classes, imports and tables)
    taken = RESERVED | module_names.used | MODULE_NAMES | {e.alias for e in spec.externs}
    block_classes = list({id(bc): bc for bc, _ in uses.values()}.values())
    out = [build_block_class(bc, taken, spec.where, constants) for bc in block_classes]
    renderers = [bc.renderer for bc in block_classes]
    class_of: dict[str, str] = {}
    for net in spec.networks:
        if net.copy_of is not None:
            class_of[net.name] = class_of[net.copy_of]
            continue
        renderers.append(Renderer(constants=constants))
        out.append(build_network_class(net, network_names[net.name], output_names.get(net.name),
                                       uses, taken, spec.where, renderers[-1]))
        class_of[net.name] = network_names[net.name]
    return out, class_of, renderers, uses


def emit(spec: Spec, display_path: str | None = None) -> str:
    path = comment((display_path or spec.path).replace("\\", "/"))
    sources, class_of, renderers, planned = _classes(spec, {}, None)
    constants = module_constants(renderers, RESERVED | MODULE_NAMES |
                                 {c.name for c in sources} | {c.output_class for c in sources})
    if constants:  # again, with the module's repeated numbers named
        sources, class_of, _, _ = _classes(spec, {v: name for name, v in constants}, planned)
    uses = set().union(*(c.uses() for c in sources)) if sources else set()
    objective = build_objective(spec) if spec.objective and spec.objective.players else None
    if objective is not None:
        uses |= {"torch", "rt"} | code_uses([*objective.pipelines, *objective.body,
                                             *objective.samples])
    overridden = [p for p in spec.params if p.overridden]
    flags = [arg for p in overridden for arg in ("--param", f"{p.name}={_flag(p.value)}")]
    command = comment(shlex.join(["gandsl", "compile", path, *flags]))
    return wrap_module(_template().render(
        version=__version__,
        path=path,
        command=command,
        sha256=spec.sha256,
        imports=[comment(f.replace("\\", "/")) for f in spec.imports],
        # the user's modules (`extern`): `module.path:Name` is checked to be dotted names
        externs=[f"from {e.target.split(':')[0]} import {e.target.split(':')[1]} as {e.alias}"
                 for e in spec.externs],
        # The spec's title is its text: a comment, never part of a docstring.
        title=[comment(line) for line in textwrap.wrap(comment(spec.title or ""), 98)],
        doc=docstring(f"The networks{' and objective' if objective else ''} of "
                      f"`{display_name(spec)}`."),
        classes=sources,
        any_outputs=any(c.output_class for c in sources),
        uses_F="F" in uses,
        uses_rt="rt" in uses,
        uses_torch="torch" in uses,
        params=_params_literal(spec),
        constants=constants,
        networks=[(literal(net.name), class_of[net.name], net.copy_of)
                  for net in spec.networks],
        counts=[(net.name, sum(n.params for n in net.nodes)) for net in spec.networks],
        objective=objective,
    ))


def display_name(spec: Spec) -> str:
    """The spec's name as docstrings show it: its header's name, or the file's name made an
    identifier."""
    return sanitize(spec.name, frozenset())


def _flag(value) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _literal(value) -> str:
    return literal(value) if isinstance(value, str) else repr(value)


def _params_literal(spec: Spec) -> str:
    """`PARAMS = {...}`: on one line when it fits, else one param per line."""
    items = [f"{literal(p.name)}: {_literal(p.value)}" for p in spec.params]
    one = "PARAMS = {" + ", ".join(items) + "}"
    if len(one) <= WIDTH:
        return one
    return "PARAMS = {\n" + "".join(f"    {item},\n" for item in items) + "}"


__all__ = ["emit", "classes"]
