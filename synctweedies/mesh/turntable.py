"""A turntable: the textured mesh rendered from cameras circling it."""
from __future__ import annotations

import torch
from torch import Tensor

from ..spaces.taps import gather_taps
from .rig import orbit_cameras
from .mesh import Mesh
from .rasterize import rasterize
from .texture import texel_taps


def turntable(mesh: Mesh, texture: Tensor, frames: int = 36, size: int = 512, elevation: float = 20.0,
              distance: float = 2.5, fov: float = 45.0, background: float = 1.0) -> Tensor:
    """Frames ``[F, C, size, size]`` of ``mesh`` with ``texture`` ``[C, T, T]``, one turn at ``elevation``."""
    azimuths = [360.0 * k / frames for k in range(frames)]
    cameras = orbit_cameras(azimuths, [elevation] * frames, distance, fov, top_views=False)
    fragments = rasterize(mesh, cameras.to(mesh.vertices.device), size)
    index, weight = texel_taps(fragments, texture.shape[-1])
    shown = gather_taps(texture, index.clamp(min=0), weight)
    return torch.where(fragments.mask.unsqueeze(1), shown, torch.full_like(shown, background))
