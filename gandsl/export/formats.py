"""ONNX and TorchScript files of an exported `Model`, each read back and checked against it.

Both are made from the standalone module (`standalone.py`) with its noise given as inputs, so
that the graph holds no random draw: an ONNX file of StyleGAN2 takes `z`, `psi` and one noise
tensor per noise layer. Modulated convolutions are written in their unfused form (the styles
on the activations around one shared convolution), which ONNX's Conv can hold: its group
count cannot depend on the batch size.
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
import warnings
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from ..errors import UserError


def write(fmt: str, model: nn.Module, inputs: list[torch.Tensor], kwargs: dict,
          target: Path, names: list[str], where: Callable[[str | None], str]) -> float:
    """Write `model` to `target`; the largest difference from `model` on other inputs (a
    different batch size) when the file is read back. `where(path)` names the layer at a
    module path of `model` (None: the exported network) in a message."""
    batch = inputs[0].shape[0] + 1
    other = [_resized(x, batch) for x in inputs]
    other_kwargs = {k: ([_resized(x, batch) for x in v] if isinstance(v, list) else v)
                    for k, v in kwargs.items()}
    with torch.no_grad():  # the run's network, as it computes
        want = model(*other, **other_kwargs)
    for m in model.modules():  # the module's copy of `ModulatedConv2d`, not gandsl's class
        if hasattr(m, "fused"):
            m.fused = False
    write_file = _onnx if fmt == "onnx" else _torchscript
    try:
        check = write_file(model, inputs, kwargs, target, names)
    except UserError:
        raise
    except Exception as e:  # the exporter's own error: what it could not write, and where
        path = e.path if isinstance(e, _InModule) else _failing_module(model, e)
        first = next((line.strip() for line in str(_innermost(e)).splitlines()
                      if line.strip()), type(e).__name__)
        raise UserError(f"cannot export {where(path)} to {fmt}: {first}") from None
    got = check(other, other_kwargs)
    return float((got - want).abs().max())


class _InModule(Exception):
    """An export failure inside the submodule at `path` of the exported model."""

    def __init__(self, path: str | None) -> None:
        super().__init__(path)
        self.path = path


def _module_of(traced, e: BaseException) -> str | None:
    """The submodule holding the operation an exporter's message names (`%_linalg_svd`,
    `aten._linalg_svd`), looked up in the traced program and its decomposed form."""
    text = str(e)
    names = set(re.findall(r"%(\w+)", text))
    ops = set(re.findall(r"op='([\w.]+)'", text))
    for program in (traced, traced.run_decompositions()):
        for node in program.graph.nodes:
            op = str(node.target).rsplit(".", 1)[0] if node.op == "call_function" else ""
            stack = node.meta.get("nn_module_stack")
            if stack and (node.name in names or op in ops):
                return list(stack.values())[-1][0]
    return None


def _innermost(e: BaseException) -> BaseException:
    """The first cause of a chain of exceptions (the exporters wrap what went wrong)."""
    while (e.__cause__ or e.__context__) is not None:
        e = e.__cause__ or e.__context__
    return e


def _failing_module(model: nn.Module, e: BaseException) -> str | None:
    """The path of the innermost submodule of `model` whose `forward` was running when the
    export failed, from the tracebacks of the exception chain."""
    paths = {id(m): p for p, m in model.named_modules() if p}
    found = None
    while e is not None:
        tb = e.__traceback__
        while tb is not None:
            owner = tb.tb_frame.f_locals.get("self")
            if id(owner) in paths:
                found = paths[id(owner)]
            tb = tb.tb_next
        if found is not None:
            return found
        e = e.__cause__ or e.__context__
    return None


def _resized(x: torch.Tensor, batch: int) -> torch.Tensor:
    """`x` with `batch` rows (repeated), new values: the check does not reuse the export's."""
    rows = x.repeat(batch // x.shape[0] + 1, *([1] * (x.dim() - 1)))[:batch]
    if rows.is_floating_point():
        return rows + 0.25 * torch.randn(rows.shape, generator=torch.Generator().manual_seed(7))
    return rows.flip(0)


def _onnx(model, inputs, kwargs, target: Path, names: list[str]):
    try:
        import onnxruntime
    except ImportError:
        raise UserError("--format onnx needs onnxruntime and onnxscript: pip install "
                        "'gandsl[export]' (or onnxruntime onnxscript)") from None
    batch = torch.export.Dim("batch", min=1)
    dynamic = {n: {0: batch} for n in _parameters(model)[:len(inputs)]}
    flat_names = list(names)
    if "psi" in kwargs:
        dynamic["psi"] = None
        flat_names.append("psi")
    if "noise" in kwargs:
        dynamic["noise"] = [{0: batch} for _ in kwargs["noise"]]
        flat_names += [f"noise_{i}" for i in range(len(kwargs["noise"]))]
    with _quiet():
        traced = torch.export.export(model, tuple(inputs), kwargs=kwargs,
                                     dynamic_shapes=dynamic, strict=False)
        try:
            program = torch.onnx.export(traced, tuple(inputs), kwargs=kwargs, dynamo=True,
                                        input_names=flat_names, output_names=["output"],
                                        verbose=False)
        except Exception as e:  # an operation ONNX cannot hold: the module it is in
            raise _InModule(_module_of(traced, e)) from e
        program.save(str(target))
    session = onnxruntime.InferenceSession(str(target), providers=["CPUExecutionProvider"])

    def check(args, kw) -> torch.Tensor:
        values = [*args, *([kw["psi"]] if "psi" in kw else []), *kw.get("noise", [])]
        feed = {i.name: v.numpy() for i, v in zip(session.get_inputs(), values, strict=True)}
        return torch.from_numpy(session.run(None, feed)[0])
    return check


def _torchscript(model, inputs, kwargs, target: Path, names: list[str]):
    example = dict(zip(_parameters(model), inputs, strict=False)) | kwargs
    with _quiet(), torch.no_grad():
        traced = torch.jit.trace(model, example_kwarg_inputs=example, check_trace=False)
        torch.jit.save(traced, str(target))
        loaded = torch.jit.load(str(target))

    def check(args, kw) -> torch.Tensor:
        with _quiet(), torch.no_grad():
            return loaded(*args, *([kw["psi"]] if "psi" in kw else []),
                          *([kw["noise"]] if "noise" in kw else []))
    return check


def _parameters(model: nn.Module) -> list[str]:
    import inspect

    return [p for p in inspect.signature(model.forward).parameters]


@contextlib.contextmanager
def _quiet():
    """The exporters' progress lines and deprecation warnings kept off the user's terminal."""
    onnx_log = logging.getLogger("torch.onnx")
    level = onnx_log.level
    onnx_log.setLevel(logging.ERROR)  # "torchvision is not installed": nothing to do with us
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        onnx_log.setLevel(level)
