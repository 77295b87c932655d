"""The original's consistent initial noise for Gaussian scenes (its ``zt_init``): noise carried by the Gaussians
as points, and a sphere of noise behind them, so that views agree wherever they see the same thing."""
from __future__ import annotations

import math

import torch
from torch import Tensor

from ..progress import checkpoint
from ..cameras import Cameras
from .scene import Gaussians


def point_opacity(points: int, pixels: int, depth: float = 0.3) -> float:
    """The original's uniform opacity for ``points`` drawn into views of ``pixels`` pixels: with ``points / pixels``
    points on a pixel on average, ``depth`` of them already hide 99 % of what is behind."""
    return max(1 - 0.01 ** (depth * pixels / points), 0.0)


def sky_noise(directions: Tensor, sky: Tensor) -> Tensor:
    """``sky`` ``[C, H, 2H]`` (an equirectangular noise map, fixed in direction) read nearest at the unit
    ``directions`` ``[..., 3]``: ``[C, ...]``."""
    height, width = sky.shape[-2:]
    lon = torch.atan2(directions[..., 0], directions[..., 2])
    lat = torch.asin(directions[..., 1].clamp(-1, 1))
    col = ((lon / (2 * math.pi) + 0.5) * width).long().clamp(0, width - 1)
    row = ((0.5 - lat / math.pi) * height).long().clamp(0, height - 1)
    return sky[:, row, col]


def consistent_noise(gaussians: Gaussians, cameras: Cameras, channels: int,
                     generator: torch.Generator | None = None, sky_height: int = 1024) -> Tensor:
    """Unit-variance noise ``[N, C, S, S]`` for the views: every Gaussian is a point with its own noise, drawn
    front to back with :func:`point_opacity` and square-root weights (so the weights' squares sum to the
    pixel's alpha); what the points leave shows a sky of noise fixed in direction (the original draws 8M
    points on a sphere around the scene), weighted by the square root of the transmittance."""
    device, size = gaussians.means.device, cameras.size
    noise = torch.randn(len(gaussians), channels, generator=generator).to(device)
    sky = torch.randn(channels, sky_height, 2 * sky_height, generator=generator).to(device)
    opacity = point_opacity(len(gaussians), size * size)
    centres = torch.arange(size, device=device, dtype=torch.float32) + 0.5
    rows, cols = torch.meshgrid(centres, centres, indexing="ij")
    views = []
    for viewmat, K in zip(cameras.viewmats.to(device), cameras.Ks.to(device)):
        checkpoint()
        camera = gaussians.means @ viewmat[:3, :3].T + viewmat[:3, 3]
        depth = camera[:, 2]
        pixel = (camera[:, :2] / depth.clamp_min(1e-6)[:, None] @ K[:2, :2].T + K[:2, 2]).floor().long()
        inside = (depth > 1e-6) & (pixel >= 0).all(1) & (pixel < size).all(1)
        flat = (pixel[:, 1] * size + pixel[:, 0])[inside]
        by_depth = depth[inside].argsort()
        order = by_depth[flat[by_depth].argsort(stable=True)]  # by pixel, nearest first within each pixel
        counts = torch.bincount(flat, minlength=size * size)
        first = counts.cumsum(0) - counts
        rank = torch.arange(len(order), device=device) - first[flat[order]]
        weight = (opacity * (1 - opacity) ** rank.float()).sqrt()
        image = torch.zeros(channels, size * size, device=device).index_add_(
            1, flat[order], (noise[inside][order] * weight[:, None]).T)
        transmittance = (1 - opacity) ** counts.float()
        rays = torch.stack([(cols - K[0, 2]) / K[0, 0], (rows - K[1, 2]) / K[1, 1], torch.ones_like(rows)], -1)
        directions = rays @ viewmat[:3, :3]  # camera to world: the rotation's transpose, applied on the right
        behind = sky_noise(directions / directions.norm(dim=-1, keepdim=True), sky).reshape(channels, -1)
        views.append((image + transmittance.sqrt() * behind).reshape(channels, size, size))
    return torch.stack(views)
