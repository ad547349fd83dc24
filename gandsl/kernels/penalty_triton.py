"""Triton kernels of the gradient penalties, over per-sample rows of D = C·H·W elements.

- `interpolate`: x̂ = real + α·(fake − real) with one α per row: one pass instead of three.
- `penalty`: Σ g² of each row in chunks (one program per row and chunk, so that 32 rows of
  196,608 elements still occupy the whole GPU), then one small program sums each row's
  chunk partials in a fixed order, takes the norms and writes weight·mean((‖g‖ − center)²).
  No float atomics: the result is the same bits on every run.
- `penalty_grad`: the penalty's gradient, dg = g · (2·weight/B) · (‖g‖ − center)/‖g‖ ·
  upstream, one pass over g. At ‖g‖ = 0 the row is zero and so is its gradient.
"""

from __future__ import annotations

import triton
import triton.language as tl

CHUNK = 4096  # elements of a row per program
FINISH_ROWS = 64  # rows per step of the finishing program
FINISH_CHUNKS = 64  # chunk partials per step of the finishing program


@triton.jit
def interpolate_kernel(real_ptr, fake_ptr, alpha_ptr, out_ptr, D, CHUNKS,
                       BLOCK: tl.constexpr):
    row = tl.program_id(0) // CHUNKS  # one flat grid axis: no 65,535 limit on chunks
    cols = (tl.program_id(0) % CHUNKS) * BLOCK + tl.arange(0, BLOCK)
    ok = cols < D
    offs = row.to(tl.int64) * D + cols
    real = tl.load(real_ptr + offs, mask=ok, other=0.0).to(tl.float32)
    fake = tl.load(fake_ptr + offs, mask=ok, other=0.0).to(tl.float32)
    alpha = tl.load(alpha_ptr + row)
    out = real + alpha * (fake - real)
    tl.store(out_ptr + offs, out.to(out_ptr.dtype.element_ty), mask=ok)


@triton.jit
def sum_squares_kernel(g_ptr, partial_ptr, D, CHUNKS, BLOCK: tl.constexpr):
    row = tl.program_id(0) // CHUNKS
    chunk = tl.program_id(0) % CHUNKS
    cols = chunk * BLOCK + tl.arange(0, BLOCK)
    ok = cols < D
    g = tl.load(g_ptr + row.to(tl.int64) * D + cols, mask=ok, other=0.0).to(tl.float32)
    tl.store(partial_ptr + row * CHUNKS + chunk, tl.sum(g * g, axis=0))


@triton.jit
def finish_kernel(partial_ptr, norm_ptr, loss_ptr, B, CHUNKS, weight, center,
                  BLOCK_B: tl.constexpr, BLOCK_C: tl.constexpr):
    total = 0.0
    for first in range(0, B, BLOCK_B):
        rows = first + tl.arange(0, BLOCK_B)
        row_ok = rows < B
        squares = tl.zeros([BLOCK_B], dtype=tl.float32)
        for c0 in range(0, CHUNKS, BLOCK_C):
            chunks = c0 + tl.arange(0, BLOCK_C)
            ok = row_ok[:, None] & (chunks[None, :] < CHUNKS)
            part = tl.load(partial_ptr + rows[:, None] * CHUNKS + chunks[None, :], mask=ok,
                           other=0.0)
            squares += tl.sum(part, axis=1)
        norm = tl.sqrt(squares)
        tl.store(norm_ptr + rows, norm, mask=row_ok)
        excess = tl.where(row_ok, norm - center, 0.0)
        total += tl.sum(excess * excess, axis=0)
    tl.store(loss_ptr, total * weight / B)


@triton.jit
def penalty_grad_kernel(g_ptr, norm_ptr, upstream_ptr, dg_ptr, D, CHUNKS, B, weight, center,
                        BLOCK: tl.constexpr):
    row = tl.program_id(0) // CHUNKS
    cols = (tl.program_id(0) % CHUNKS) * BLOCK + tl.arange(0, BLOCK)
    ok = cols < D
    offs = row.to(tl.int64) * D + cols
    norm = tl.load(norm_ptr + row)
    upstream = tl.load(upstream_ptr).to(tl.float32)
    coef = upstream * (2.0 * weight / B) * (norm - center) / tl.maximum(norm, 1e-30)
    g = tl.load(g_ptr + offs, mask=ok, other=0.0).to(tl.float32)
    tl.store(dg_ptr + offs, (g * coef).to(dg_ptr.dtype.element_ty), mask=ok)


def interpolate(real, fake, alpha, out) -> None:
    """out ← real + α·(fake − real), rows of (B, D) contiguous views; α (B,) float32."""
    b, d = real.shape
    chunks = triton.cdiv(d, CHUNK)
    interpolate_kernel[(b * chunks,)](real, fake, alpha, out, d, chunks, BLOCK=CHUNK,
                                      num_warps=8, enable_fp_fusion=True)


def penalty(g, norms, loss, weight: float, center: float) -> None:
    """norms ← ‖g_i‖ of each row of g (B, D); loss ← weight·mean((‖g‖ − center)²)."""
    b, d = g.shape
    chunks = triton.cdiv(d, CHUNK)
    partial = g.new_empty((b, chunks), dtype=norms.dtype)
    sum_squares_kernel[(b * chunks,)](g, partial, d, chunks, BLOCK=CHUNK, num_warps=8,
                                      enable_fp_fusion=True)
    finish_kernel[(1,)](partial, norms, loss, b, chunks, weight, center, BLOCK_B=FINISH_ROWS,
                        BLOCK_C=FINISH_CHUNKS, num_warps=4, enable_fp_fusion=True)


def penalty_grad(g, norms, upstream, dg, weight: float, center: float) -> None:
    """dg ← the gradient of the penalty with respect to g, times upstream (a 0-d tensor)."""
    b, d = g.shape
    chunks = triton.cdiv(d, CHUNK)
    penalty_grad_kernel[(b * chunks,)](g, norms, upstream, dg, d, chunks, b, weight, center,
                                       BLOCK=CHUNK, num_warps=8, enable_fp_fusion=True)
