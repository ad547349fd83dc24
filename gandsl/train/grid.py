"""Sample grids: one row per named image tensor (real inputs, generator outputs), one column
per sample, saved as PNG with the row names in a margin."""

from __future__ import annotations

from pathlib import Path

import torch
from PIL import Image, ImageDraw

from ..atomic import replace_file


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) in [-1, 1] → (N, H, W, 3) uint8."""
    x = ((images.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).cpu()
    if x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)
    elif x.shape[1] != 3:
        x = x[:, :3] if x.shape[1] > 3 else torch.cat(
            [x, x[:, -1:].expand(-1, 3 - x.shape[1], -1, -1)], dim=1)
    return x.permute(0, 2, 3, 1).contiguous()


def save_grid(rows: dict[str, torch.Tensor], path: Path, columns: int = 8, pad: int = 2,
              scale: int = 0) -> Path:
    """Write the grid: each named row wraps onto lines of `columns` images (the name on its
    first line); small images are scaled up so that 8×8 digits stay visible."""
    lines = [(name if k == 0 else "", images[k:k + columns])
             for name, images in rows.items() if images.dim() == 4
             for k in range(0, images.shape[0], columns)]
    h, w = lines[0][1].shape[2:]
    scale = scale or max(1, 64 // max(h, w))
    cell_h, cell_w = h * scale + pad, w * scale + pad
    margin = 8 + 7 * max(len(name) for name, _ in lines)
    canvas = Image.new("RGB", (margin + columns * cell_w + pad, len(lines) * cell_h + pad),
                       (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    for r, (name, images) in enumerate(lines):
        draw.text((4, pad + r * cell_h + cell_h // 2 - 6), name, fill=(0, 0, 0))
        for c, img in enumerate(to_uint8(images)):
            tile = Image.fromarray(img.numpy()).resize((w * scale, h * scale), Image.NEAREST)
            canvas.paste(tile, (margin + pad + c * cell_w, pad + r * cell_h))
    return replace_file(path, lambda tmp: canvas.save(tmp, format="PNG"), "sample grid")
