"""Bilinear sampling written as taps (flat index, weight): the building block of interpolating maps."""
from __future__ import annotations

import torch
from torch import Tensor


def bilinear_taps(x: Tensor, y: Tensor, width: int, height: int, wrap: bool) -> tuple[Tensor, Tensor]:
    """Flat indices and weights ``[..., 4]`` of the 4 pixels around ``(x, y)`` (pixel-centre coordinates).

    Columns wrap around when ``wrap``; otherwise, like rows, they clamp to the edge.
    """
    x0, y0 = x.floor(), y.floor()
    index, weight = [], []
    for dy in (0, 1):
        for dx in (0, 1):
            xs, ys = x0 + dx, y0 + dy
            w = (1 - (x - xs).abs()) * (1 - (y - ys).abs())
            xs = torch.remainder(xs, width) if wrap else xs.clamp(0, width - 1)
            index.append((ys.clamp(0, height - 1) * width + xs).long())
            weight.append(w)
    return torch.stack(index, -1), torch.stack(weight, -1).float()


def gather_taps(canvas: Tensor, index: Tensor, weight: Tensor) -> Tensor:
    """``canvas`` ``[C, H, W]`` read through taps ``[N, h, w, K]`` (flat index, weight): ``[N, C, h, w]``."""
    c = canvas.shape[0]
    taps = canvas.reshape(c, -1)[:, index.reshape(-1)].reshape(c, *index.shape)
    return (taps * weight.to(canvas.dtype)).sum(-1).transpose(0, 1)


def unit_variance(noise: Tensor, weight: Tensor) -> Tensor:
    """White noise read through taps of ``weight`` ``[N, h, w, K]`` (``noise`` ``[N, C, h, w]``), rescaled by the
    taps' norm to unit variance per pixel; pixels without taps stay as they are."""
    norm = weight.square().sum(-1).sqrt().unsqueeze(1)
    return noise / torch.where(norm > 0, norm, torch.ones_like(norm)).to(noise.dtype)
