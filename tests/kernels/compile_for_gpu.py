"""Compile every Triton kernel of gandsl to GPU machine code, without a GPU.

The interpreter runs kernels as NumPy and accepts programs the compiler rejects (types of loop
variables, shapes, casts); this compiles each kernel ahead of time for NVIDIA targets with
Triton's own compiler and ptxas, at the block sizes, warp counts and dtypes the launchers use,
each twice: as is, and specialised the way a launch specialises it when the pointers are
16-byte aligned and the row length is a multiple of 16, where the loads must then be
vectorised (the code a GPU runs for the shapes that matter). It also checks that the
penalty's reductions contain no atomics (`atom` in the PTX), which is what makes their sums
the same bits on every run.

    python tests/kernels/compile_for_gpu.py 90 70      # targets; run without TRITON_INTERPRET

Prints one line per compiled kernel and exits 1 if any fails.
"""

from __future__ import annotations

import sys

import triton
from triton.backends.compiler import GPUTarget
from triton.compiler import ASTSource

from gandsl.kernels import adain_triton as A
from gandsl.kernels import penalty_triton as P

LENGTHS = ("L", "D")  # integer arguments that are row lengths
DETERMINISTIC = {"sum_squares_kernel", "finish_kernel"}  # reductions that must not use atomics
SMALL = {"finish_kernel"}  # reads a few hundred partial sums: its loads need no vectors


def signature(kernel, types: dict[str, str], constants: dict[str, int]) -> dict[str, str]:
    """Every argument's type: pointers and scalars from `types`, the rest constexpr."""
    return {name: "constexpr" if name in constants else types[name]
            for name in kernel.arg_names}


def aligned(kernel, types: dict[str, str]) -> dict:
    """Triton's launch-time specialisation: 16-byte aligned pointers, lengths divisible by 16."""
    return {(i,): [["tt.divisibility", 16]] for i, name in enumerate(kernel.arg_names)
            if name in types and (types[name].startswith("*") or name in LENGTHS)}


def cases():
    for io, params in (("fp32", "fp32"), ("bf16", "bf16"), ("bf16", "fp32"), ("fp16", "fp16")):
        ptr = f"*{io}"
        rows = {"x_ptr": ptr, "y_ptr": ptr, "dy_ptr": ptr, "dx_ptr": ptr,
                "scale_ptr": f"*{params}", "bias_ptr": f"*{params}", "dscale_ptr": f"*{params}",
                "dbias_ptr": f"*{params}", "mean_ptr": "*fp32", "rstd_ptr": "*fp32",
                "R": "i32", "L": "i32", "eps": "fp32"}
        what = f"{io} x, {params} scale"
        for length in (16, 63, 4096, 8192, A.TILE_MAX):
            block_r, block_l, warps = A.tile_shape(32 * 512, length, 264)
            const = {"BLOCK_R": block_r, "BLOCK_L": block_l}
            yield A.adain_fwd_tile, rows, const, warps, f"{what} L={length}"
            yield A.adain_bwd_tile, rows, const, warps, f"{what} L={length}"
        yield A.adain_fwd_rows, rows, {"BLOCK": A.CHUNK}, 8, what
        yield A.adain_bwd_rows, rows, {"BLOCK": A.CHUNK}, 8, what
        if io != params:
            continue
        pen = {"real_ptr": ptr, "fake_ptr": ptr, "out_ptr": ptr, "alpha_ptr": "*fp32",
               "g_ptr": ptr, "dg_ptr": ptr, "partial_ptr": "*fp32", "norm_ptr": "*fp32",
               "loss_ptr": "*fp32", "upstream_ptr": "*fp32", "D": "i32", "B": "i32",
               "CHUNKS": "i32", "weight": "fp32", "center": "fp32"}
        yield P.interpolate_kernel, pen, {"BLOCK": P.CHUNK}, 8, io
        yield P.sum_squares_kernel, pen, {"BLOCK": P.CHUNK}, 8, io
        yield P.penalty_grad_kernel, pen, {"BLOCK": P.CHUNK}, 8, io
    yield (P.finish_kernel, {"partial_ptr": "*fp32", "norm_ptr": "*fp32", "loss_ptr": "*fp32",
                             "B": "i32", "CHUNKS": "i32", "weight": "fp32", "center": "fp32"},
           {"BLOCK_B": P.FINISH_ROWS, "BLOCK_C": P.FINISH_CHUNKS}, 4, "fp32")


def main(capabilities: list[int]) -> int:
    failed = 0
    for capability in capabilities:
        target = GPUTarget("cuda", capability, 32)
        for kernel, types, constants, warps, what in cases():
            for specialised in (False, True):
                name = (f"{kernel.fn.__name__} [{what}{', aligned' if specialised else ''}] "
                        f"sm_{capability}")
                try:
                    source = ASTSource(fn=kernel, signature=signature(kernel, types, constants),
                                       constexprs=constants,
                                       attrs=aligned(kernel, types) if specialised else None)
                    compiled = triton.compile(source, target=target, options={
                        "num_warps": warps, "enable_fp_fusion": True})
                    ptx = compiled.asm["ptx"]
                    if kernel.fn.__name__ in DETERMINISTIC and "atom" in ptx:
                        raise AssertionError("the reduction uses atomics")
                    if specialised and kernel.fn.__name__ not in SMALL and "ld.global.v" not in ptx:
                        raise AssertionError("aligned rows, yet the loads are not vectorised")
                    print(f"ok {name}: {len(compiled.asm['cubin'])} bytes of cubin")
                except Exception as e:  # report every kernel, then fail
                    failed += 1
                    print(f"FAILED {name}: {type(e).__name__}: {e}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main([int(a) for a in sys.argv[1:]] or [90]))
