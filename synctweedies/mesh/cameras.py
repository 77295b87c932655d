"""Cameras around an object: the original's orbit rig, perspective or orthographic."""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from ..cameras import look_at, orbit_positions


@dataclass
class Cameras:
    """``N`` cameras: world-to-camera rotations ``[N, 3, 3]`` and positions ``[N, 3]`` (x right, y up, looking
    down -z), with a field of view in degrees (perspective) or a half-width in world units (orthographic)."""

    rotations: Tensor
    positions: Tensor
    fov: float = 50.0
    orthographic: bool = False
    ortho_scale: float = 1.1

    def __len__(self) -> int:
        return len(self.positions)

    def to(self, device: torch.device | str) -> Cameras:
        return Cameras(self.rotations.to(device), self.positions.to(device), self.fov, self.orthographic,
                       self.ortho_scale)

    def to_camera(self, points: Tensor) -> Tensor:
        """World points ``[P, 3]`` → camera coordinates ``[N, P, 3]``."""
        return torch.einsum("nij,npj->npi", self.rotations, points[None] - self.positions[:, None])

    def to_pixels(self, camera: Tensor, size: int) -> Tensor:
        """Camera coordinates ``[N, P, 3]`` → pixel coordinates ``[N, P, 2]`` (x right, y down; pixel centres at
        ``i + 0.5``) of a ``size`` × ``size`` view."""
        if self.orthographic:
            xy = camera[..., :2] / self.ortho_scale
        else:
            xy = camera[..., :2] / (-camera[..., 2:3]).clamp_min(1e-8) / math.tan(math.radians(self.fov) / 2)
        return torch.stack([(xy[..., 0] + 1) * size / 2, (1 - xy[..., 1]) * size / 2], -1)


def orbit_cameras(azimuths: list[float] = (-180, -135, -90, -45, 0, 45, 90, 135),
                  elevations: list[float] = (0,) * 8, distance: float = 2.0, fov: float = 50.0,
                  top_views: bool = True, orthographic: bool = False) -> Cameras:
    """The original rig: cameras at ``azimuths``/``elevations`` (degrees) looking at the origin from ``distance``;
    ``top_views`` adds the original's two top cameras, 30° above the front and the back."""
    angles = list(zip(azimuths, elevations))
    if top_views:
        angles += [(0.0, 30.0), (180.0, 30.0)]
    positions = orbit_positions([a for a, _ in angles], [e for _, e in angles], distance)
    rotations = torch.stack([look_at(p) for p in positions])
    return Cameras(rotations, positions, fov, orthographic)
