"""IR → Python source, through one jinja2 template. Same spec, same bytes."""

from __future__ import annotations

import functools
from pathlib import Path

import jinja2

from .. import __version__
from ..ir import Spec
from .names import RESERVED, Namespace, docstring
from .network import build_class

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
    return env.get_template("module.py.j2")


def emit(spec: Spec, display_path: str | None = None) -> str:
    path = (display_path or spec.path).replace("\\", "/")
    module_names = Namespace(RESERVED)
    classes = []
    class_of: dict[str, str] = {}  # spec network → Python class (copies share their source's)
    for net in spec.networks:
        if net.copy_of is not None and net.copy_of in class_of:
            class_of[net.name] = class_of[net.copy_of]
            continue
        cls_name = module_names.create(net.name)
        out_cls = module_names.create(f"{net.name}Output") if not net.single_output else None
        classes.append(build_class(net, cls_name, out_cls, path))
        class_of[net.name] = cls_name
    overridden = [p for p in spec.params if p.overridden]
    param_flags = "".join(f" --param {p.name}={_flag(p.value)}" for p in overridden)
    params = "{" + ", ".join(f"{p.name!r}: {p.value!r}" for p in spec.params) + "}"
    return _template().render(
        version=__version__,
        path=path,
        param_flags=param_flags,
        sha256=spec.sha256,
        title=docstring(spec.title or f"The networks of {spec.name}."),
        classes=classes,
        any_outputs=any(c.output_class for c in classes),
        uses_F=any("F" in c.uses for c in classes),
        uses_rt=any("rt" in c.uses for c in classes),
        params=params,
        networks=[(net.name, class_of[net.name], net.copy_of) for net in spec.networks],
        counts=[(net.name, sum(n.params for n in net.nodes)) for net in spec.networks],
    )


def _flag(value) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


__all__ = ["emit"]
