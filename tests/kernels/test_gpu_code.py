"""What can be checked here of the GPU side without a GPU: every kernel compiles to NVIDIA
machine code (the interpreter accepts programs the compiler rejects), and the kernel benchmark
runs through all its code paths (`--dry-run`), so that a session with a GPU spends its time
measuring."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HAS_NVIDIA_BACKEND = importlib.util.find_spec("triton.backends.nvidia") is not None


def run(args: list[str], interpret: bool) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    if interpret:
        env["TRITON_INTERPRET"] = "1"
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=300)


@pytest.mark.skipif(not HAS_NVIDIA_BACKEND, reason="triton without its NVIDIA backend")
def test_every_kernel_compiles_for_the_oldest_and_newest_targets():
    """sm_90 (H100) and sm_70 (the oldest the dispatcher accepts), every dtype, with and
    without launch-time alignment (vectorised loads), and no atomics in the reductions."""
    out = run([str(ROOT / "tests" / "kernels" / "compile_for_gpu.py"), "90", "70"],
              interpret=False)
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    assert len(lines) == 232 and all(line.startswith("ok ") for line in lines)


def test_the_kernel_benchmark_runs_through():
    """Every code path at tiny shapes, the interpreter switched on by the script itself; every
    variant passes its check against the reference."""
    out = run([str(ROOT / "benchmarks" / "kernels.py"), "--dry-run"], interpret=False)
    assert out.returncode == 0, out.stdout + out.stderr
    section = out.stdout.split("## Kernels")[1]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) == 1 + 2 * 2 * 3 + 2 * 2 + 2  # header, AdaIN, penalty part, critic step
    assert not any("FAILED" in row for row in rows)
    assert "not a measurement" in section


def test_the_kernel_benchmark_says_it_needs_a_gpu():
    if sys.modules.get("torch") and sys.modules["torch"].cuda.is_available():
        pytest.skip("there is a GPU here")
    out = run([str(ROOT / "benchmarks" / "kernels.py")], interpret=False)
    assert out.returncode == 2 and "needs a CUDA GPU" in out.stderr
