"""Filling what no view sees from the nearest pixel that some view does see."""
from __future__ import annotations

import torch
from torch import Tensor

from ..progress import checkpoint


def nearest_seen(seen: Tensor, wrap: bool = True) -> Tensor:
    """``[H, W]`` flat index of the nearest seen pixel (columns wrap around when ``wrap``), by jump flooding, on
    ``seen``'s device."""
    height, width = seen.shape
    rows, cols = torch.meshgrid(torch.arange(height, dtype=torch.int32, device=seen.device),
                                torch.arange(width, dtype=torch.int32, device=seen.device), indexing="ij")
    if not seen.any():
        return (rows * width + cols).long()
    far = torch.iinfo(torch.int32).max
    best_r, best_c = rows.clone(), cols.clone()
    best_d = torch.where(seen, 0, far)

    def distance(r: Tensor, c: Tensor) -> Tensor:
        dc = (c - cols).abs()
        return (r - rows).square() + (torch.minimum(dc, width - dc) if wrap else dc).square()

    step = 1 << max(height, width).bit_length()
    while step >= 1:
        for dr in (-step, 0, step):
            for dc in (-step, 0, step):
                if dr == dc == 0:
                    continue
                checkpoint()
                r = (rows + dr).clamp(0, height - 1).long()
                c = ((cols + dc) % width if wrap else (cols + dc).clamp(0, width - 1)).long()
                cand_r, cand_c, known = best_r[r, c], best_c[r, c], best_d[r, c] < far
                cand_d = torch.where(known, distance(cand_r, cand_c), far)
                better = cand_d < best_d
                best_r = torch.where(better, cand_r, best_r)
                best_c = torch.where(better, cand_c, best_c)
                best_d = torch.where(better, cand_d, best_d)
        step //= 2
    return (best_r * width + best_c).long()
