"""Triton kernels of AdaIN, forward and backward, over x viewed as R = N·C rows of L = H·W.

Each row is one (sample, channel) plane with its own statistics and its own scale and bias,
so every reduction stays inside a row and a program never waits for another.

- Rows up to `TILE_MAX` elements (128×128 planes) are held whole in registers: a program
  loads its tile of `BLOCK_R` rows once, computes the mean, the centred variance (two passes
  over registers, not memory) and writes the output: one read and one write of x. Small planes
  (StyleGAN's 4×4 and 8×8) put several rows in one program so that a program still moves a
  few thousand elements, but never so many that the grid has fewer than two programs per SM.
- Longer rows are streamed in chunks: the statistics of each chunk are merged into the row's
  (Chan et al.'s parallel variance: a centred variance per chunk, exact merging), then a second
  pass writes the output. Two reads and one write.

All arithmetic is fp32 whatever the storage type (bf16 and fp16 are read and converted).
Backward: with x̂ = (x − μ)·rstd, dbias = Σ dy, dscale = Σ dy·x̂ (sums over the row), and
dx = rstd·scale·(dy − dbias/L − x̂·dscale/L).
"""

from __future__ import annotations

import functools

import triton
import triton.language as tl

TILE_MAX = 16384  # longest row held in registers whole (32 warps: no spills on sm_90)
TILE_ELEMENTS = 4096  # elements per program in the tiled kernels (rows × row length)
CHUNK = 4096  # chunk of a long row


@triton.jit
def adain_fwd_tile(x_ptr, scale_ptr, bias_ptr, y_ptr, mean_ptr, rstd_ptr, R, L, eps,
                   BLOCK_R: tl.constexpr, BLOCK_L: tl.constexpr):
    rows = tl.program_id(0) * BLOCK_R + tl.arange(0, BLOCK_R)
    cols = tl.arange(0, BLOCK_L)
    row_ok = rows < R
    mask = row_ok[:, None] & (cols[None, :] < L)
    offs = rows[:, None].to(tl.int64) * L + cols[None, :]
    x = tl.load(x_ptr + offs, mask=mask, other=0.0).to(tl.float32)
    mean = tl.sum(x, axis=1) / L
    centred = tl.where(mask, x - mean[:, None], 0.0)
    var = tl.sum(centred * centred, axis=1) / L
    rstd = 1.0 / tl.sqrt(var + eps)
    scale = tl.load(scale_ptr + rows, mask=row_ok, other=0.0).to(tl.float32)
    bias = tl.load(bias_ptr + rows, mask=row_ok, other=0.0).to(tl.float32)
    y = centred * (rstd * scale)[:, None] + bias[:, None]
    tl.store(y_ptr + offs, y.to(y_ptr.dtype.element_ty), mask=mask)
    tl.store(mean_ptr + rows, mean, mask=row_ok)
    tl.store(rstd_ptr + rows, rstd, mask=row_ok)


@triton.jit
def adain_fwd_rows(x_ptr, scale_ptr, bias_ptr, y_ptr, mean_ptr, rstd_ptr, L, eps,
                   BLOCK: tl.constexpr):
    row = tl.program_id(0)
    base = row.to(tl.int64) * L
    count = 0.0
    mean = 0.0
    m2 = 0.0  # Σ (x − mean)² of the elements merged so far
    for start in range(0, L, BLOCK):
        cols = start + tl.arange(0, BLOCK)
        ok = cols < L
        x = tl.load(x_ptr + base + cols, mask=ok, other=0.0).to(tl.float32)
        n = tl.minimum(L - start, BLOCK).to(tl.float32)
        chunk_mean = tl.sum(x, axis=0) / n
        d = tl.where(ok, x - chunk_mean, 0.0)
        chunk_m2 = tl.sum(d * d, axis=0)
        total = count + n
        delta = chunk_mean - mean
        mean = mean + delta * (n / total)
        m2 = m2 + chunk_m2 + delta * delta * (count * n / total)
        count = total
    rstd = 1.0 / tl.sqrt(m2 / L + eps)
    scale = tl.load(scale_ptr + row).to(tl.float32)
    bias = tl.load(bias_ptr + row).to(tl.float32)
    gain = rstd * scale
    for start in range(0, L, BLOCK):
        cols = start + tl.arange(0, BLOCK)
        ok = cols < L
        x = tl.load(x_ptr + base + cols, mask=ok, other=0.0).to(tl.float32)
        y = (x - mean) * gain + bias
        tl.store(y_ptr + base + cols, y.to(y_ptr.dtype.element_ty), mask=ok)
    tl.store(mean_ptr + row, mean)
    tl.store(rstd_ptr + row, rstd)


@triton.jit
def adain_bwd_tile(dy_ptr, x_ptr, scale_ptr, mean_ptr, rstd_ptr, dx_ptr, dscale_ptr,
                   dbias_ptr, R, L, BLOCK_R: tl.constexpr, BLOCK_L: tl.constexpr):
    rows = tl.program_id(0) * BLOCK_R + tl.arange(0, BLOCK_R)
    cols = tl.arange(0, BLOCK_L)
    row_ok = rows < R
    mask = row_ok[:, None] & (cols[None, :] < L)
    offs = rows[:, None].to(tl.int64) * L + cols[None, :]
    x = tl.load(x_ptr + offs, mask=mask, other=0.0).to(tl.float32)
    dy = tl.load(dy_ptr + offs, mask=mask, other=0.0).to(tl.float32)
    mean = tl.load(mean_ptr + rows, mask=row_ok, other=0.0)
    rstd = tl.load(rstd_ptr + rows, mask=row_ok, other=0.0)
    scale = tl.load(scale_ptr + rows, mask=row_ok, other=0.0).to(tl.float32)
    xhat = tl.where(mask, (x - mean[:, None]) * rstd[:, None], 0.0)
    dbias = tl.sum(dy, axis=1)
    dscale = tl.sum(dy * xhat, axis=1)
    dx = (rstd * scale)[:, None] * (dy - (dbias / L)[:, None] - xhat * (dscale / L)[:, None])
    tl.store(dx_ptr + offs, dx.to(dx_ptr.dtype.element_ty), mask=mask)
    tl.store(dscale_ptr + rows, dscale.to(dscale_ptr.dtype.element_ty), mask=row_ok)
    tl.store(dbias_ptr + rows, dbias.to(dbias_ptr.dtype.element_ty), mask=row_ok)


@triton.jit
def adain_bwd_rows(dy_ptr, x_ptr, scale_ptr, mean_ptr, rstd_ptr, dx_ptr, dscale_ptr,
                   dbias_ptr, L, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    base = row.to(tl.int64) * L
    mean = tl.load(mean_ptr + row)
    rstd = tl.load(rstd_ptr + row)
    scale = tl.load(scale_ptr + row).to(tl.float32)
    sum_dy = tl.zeros([BLOCK], dtype=tl.float32)
    sum_dy_xhat = tl.zeros([BLOCK], dtype=tl.float32)
    for start in range(0, L, BLOCK):
        cols = start + tl.arange(0, BLOCK)
        ok = cols < L
        x = tl.load(x_ptr + base + cols, mask=ok, other=0.0).to(tl.float32)
        dy = tl.load(dy_ptr + base + cols, mask=ok, other=0.0).to(tl.float32)
        sum_dy += dy
        sum_dy_xhat += tl.where(ok, dy * (x - mean) * rstd, 0.0)
    dbias = tl.sum(sum_dy, axis=0)
    dscale = tl.sum(sum_dy_xhat, axis=0)
    gain = rstd * scale
    for start in range(0, L, BLOCK):
        cols = start + tl.arange(0, BLOCK)
        ok = cols < L
        x = tl.load(x_ptr + base + cols, mask=ok, other=0.0).to(tl.float32)
        dy = tl.load(dy_ptr + base + cols, mask=ok, other=0.0).to(tl.float32)
        xhat = (x - mean) * rstd
        dx = gain * (dy - dbias / L - xhat * (dscale / L))
        tl.store(dx_ptr + base + cols, dx.to(dx_ptr.dtype.element_ty), mask=ok)
    tl.store(dscale_ptr + row, dscale.to(dscale_ptr.dtype.element_ty))
    tl.store(dbias_ptr + row, dbias.to(dbias_ptr.dtype.element_ty))


def tile_shape(rows: int, length: int, min_programs: int = 1) -> tuple[int, int, int]:
    """(BLOCK_R, BLOCK_L, num_warps) of the tiled kernels for rows of `length` elements: about
    TILE_ELEMENTS per program, and at least `min_programs` programs where there are rows."""
    block_l = max(16, triton.next_power_of_2(length))
    block_r = max(1, min(TILE_ELEMENTS // block_l, triton.next_power_of_2(rows)))
    while block_r > 1 and triton.cdiv(rows, block_r) < min_programs:
        block_r //= 2
    elements = block_r * block_l
    warps = 4 if elements <= 2048 else 8 if elements <= 4096 else 16 if elements <= 8192 else 32
    return block_r, block_l, warps


def _min_programs(t) -> int:
    """Two programs per SM on a GPU, so that small planes still fill it; 1 elsewhere."""
    return 2 * _sm_count(t.device.index or 0) if t.is_cuda else 1


@functools.cache
def _sm_count(index: int) -> int:
    import torch

    return torch.cuda.get_device_properties(index).multi_processor_count


def forward(x, scale, bias, y, mean, rstd, eps: float) -> None:
    """y, mean, rstd ← AdaIN of x (contiguous (R, L) views; scale and bias (R,))."""
    rows, length = x.shape
    if length <= TILE_MAX:
        block_r, block_l, warps = tile_shape(rows, length, _min_programs(x))
        adain_fwd_tile[(triton.cdiv(rows, block_r),)](
            x, scale, bias, y, mean, rstd, rows, length, eps, BLOCK_R=block_r,
            BLOCK_L=block_l, num_warps=warps, enable_fp_fusion=True)
    else:
        adain_fwd_rows[(rows,)](x, scale, bias, y, mean, rstd, length, eps, BLOCK=CHUNK,
                                num_warps=8, enable_fp_fusion=True)


def backward(dy, x, scale, mean, rstd, dx, dscale, dbias) -> None:
    """dx, dscale, dbias ← the gradients of AdaIN for the output gradient dy (dscale and
    dbias are stored in their own dtype)."""
    rows, length = x.shape
    if length <= TILE_MAX:
        block_r, block_l, warps = tile_shape(rows, length, _min_programs(x))
        adain_bwd_tile[(triton.cdiv(rows, block_r),)](
            dy, x, scale, mean, rstd, dx, dscale, dbias, rows, length, BLOCK_R=block_r,
            BLOCK_L=block_l, num_warps=warps, enable_fp_fusion=True)
    else:
        adain_bwd_rows[(rows,)](dy, x, scale, mean, rstd, dx, dscale, dbias, length,
                                BLOCK=CHUNK, num_warps=8, enable_fp_fusion=True)
