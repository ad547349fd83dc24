"""Compile every Triton kernel of gandsl to GPU machine code, without a GPU.

The interpreter runs kernels as NumPy and accepts programs the compiler rejects (types of loop
variables, shapes, casts); this compiles each kernel ahead of time for an NVIDIA target with
Triton's own compiler and ptxas, at the block sizes and dtypes the launchers use. Prints one
line per kernel and exits 1 if any fails. Run without TRITON_INTERPRET.
"""

from __future__ import annotations

import sys

import triton
from triton.backends.compiler import GPUTarget
from triton.compiler import ASTSource

from gandsl.kernels import adain_triton as A
from gandsl.kernels import penalty_triton as P


def signature(kernel, types: dict[str, str], constants: dict[str, int]) -> dict[str, str]:
    """Every argument's type: pointers and scalars from `types`, the rest constexpr."""
    return {name: "constexpr" if name in constants else types[name]
            for name in kernel.arg_names}


def cases():
    for io in ("fp32", "bf16"):
        ptr = f"*{io}"
        rows = {"x_ptr": ptr, "y_ptr": ptr, "dy_ptr": ptr, "dx_ptr": ptr, "scale_ptr": "*fp32",
                "bias_ptr": "*fp32", "mean_ptr": "*fp32", "rstd_ptr": "*fp32",
                "dscale_ptr": "*fp32", "dbias_ptr": "*fp32", "R": "i32", "L": "i32",
                "eps": "fp32"}
        for length in (16, 63, 4096, A.TILE_MAX):
            block_r, block_l, warps = A.tile_shape(16384, length)
            const = {"BLOCK_R": block_r, "BLOCK_L": block_l}
            yield A.adain_fwd_tile, rows, const, warps, f"{io} L={length}"
            yield A.adain_bwd_tile, rows, const, warps, f"{io} L={length}"
        yield A.adain_fwd_rows, rows, {"BLOCK": A.CHUNK}, 8, io
        yield A.adain_bwd_rows, rows, {"BLOCK": A.CHUNK}, 8, io
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


def main(capability: int) -> int:
    target = GPUTarget("cuda", capability, 32)
    failed = 0
    for kernel, types, constants, warps, what in cases():
        name = f"{kernel.fn.__name__} [{what}] sm_{capability}"
        try:
            source = ASTSource(fn=kernel, signature=signature(kernel, types, constants),
                               constexprs=constants)
            compiled = triton.compile(source, target=target,
                                      options={"num_warps": warps, "enable_fp_fusion": True})
            print(f"ok {name}: {len(compiled.asm['cubin'])} bytes of cubin")
        except Exception as e:  # report every kernel, then fail
            failed += 1
            print(f"FAILED {name}: {type(e).__name__}: {e}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 90))
