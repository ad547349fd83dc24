"""Which implementation runs: `ref` always the reference, `auto` Triton only on CUDA tensors,
`triton` wherever Triton can run, and a warning, once, when it cannot."""

from __future__ import annotations

import warnings
from types import SimpleNamespace

import pytest
import torch

from gandsl.kernels import dispatch
from gandsl.kernels.adain import fused_adain


@pytest.fixture(autouse=True)
def fresh_warnings(monkeypatch):
    monkeypatch.setattr(dispatch, "_warned", set())


def test_ref_and_auto_on_cpu_take_the_reference_silently():
    x = torch.zeros(2, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not dispatch.use_triton("op", "ref", x)
        assert not dispatch.use_triton("op", "auto", x)


def test_triton_on_cpu_runs_under_the_interpreter_only(monkeypatch):
    x = torch.zeros(2, 3)
    monkeypatch.setenv("TRITON_INTERPRET", "1")
    assert dispatch.use_triton("op", "triton", x)
    monkeypatch.setenv("TRITON_INTERPRET", "0")
    with pytest.warns(RuntimeWarning, match=r"op: Triton cannot run here \(CPU tensors need "
                                            r"TRITON_INTERPRET=1\); using the PyTorch reference"):
        assert not dispatch.use_triton("op", "triton", x)
    with warnings.catch_warnings():  # once per reason
        warnings.simplefilter("error")
        assert not dispatch.use_triton("op", "triton", x)


def test_float64_falls_back_with_a_warning(monkeypatch):
    monkeypatch.setenv("TRITON_INTERPRET", "1")
    x = torch.randn(1, 2, 3, 3, dtype=torch.float64)
    s = torch.ones(1, 2, dtype=torch.float64)
    with pytest.warns(RuntimeWarning, match="not torch.float64"):
        y = fused_adain(x, s, s * 0, impl="triton")
    assert y.dtype == torch.float64


def test_without_triton_installed(monkeypatch):
    monkeypatch.setattr(dispatch, "triton_installed", lambda: False)
    with pytest.warns(RuntimeWarning, match="triton is not installed"):
        assert not dispatch.use_triton("op", "triton", torch.zeros(1))


def test_an_unknown_impl_is_an_error():
    with pytest.raises(ValueError, match="impl must be one of ref, triton, auto, got 'fast'"):
        dispatch.use_triton("op", "fast", torch.zeros(1))


def cuda_tensor(dtype=torch.float32):
    """What `use_triton` looks at in a CUDA tensor, without a GPU."""
    return SimpleNamespace(is_cuda=True, dtype=dtype, device=torch.device("cuda", 0))


def test_auto_takes_triton_for_cuda_tensors(monkeypatch):
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: (9, 0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert dispatch.use_triton("op", "auto", cuda_tensor(), cuda_tensor(torch.bfloat16))
    assert not dispatch.use_triton("op", "ref", cuda_tensor())


def test_gandsl_kernels_ref_makes_auto_take_the_reference(monkeypatch):
    """`gandsl bench --kernels ref`: the same run with the references, for comparison."""
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: (9, 0))
    monkeypatch.setenv(dispatch.KERNELS_ENV, "ref")
    assert not dispatch.use_triton("op", "auto", cuda_tensor())
    if dispatch.triton_installed():
        assert dispatch.use_triton("op", "triton", cuda_tensor())  # an explicit choice stands


def test_an_old_gpu_falls_back_with_a_warning(monkeypatch):
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: (6, 1))
    with pytest.warns(RuntimeWarning, match="compute capability 6.1; the kernels need 7.0"):
        assert not dispatch.use_triton("op", "auto", cuda_tensor())
