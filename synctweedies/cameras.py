"""What every camera rig here is built from: a camera looking at a point, positions on an orbit, and pinhole
intrinsics as gsplat takes them. The mesh (``mesh/cameras.py``), Gaussian (``gaussians/cameras.py``) and panorama
rigs use these."""
from __future__ import annotations

import math

import torch
from torch import Tensor

OPENGL_TO_OPENCV = torch.diag(torch.tensor([1.0, -1.0, -1.0]))
"""Flips camera axes between OpenGL (y up, looking down -z) and OpenCV (y down, looking down +z)."""


def look_at(position: Tensor, target: Tensor = torch.zeros(3), up: Tensor = torch.tensor([0.0, 1.0, 0.0])) -> Tensor:
    """World-to-camera rotation ``[3, 3]`` (OpenGL axes) of a camera at ``position`` looking at ``target``."""
    back = position - target
    back = back / back.norm()
    if torch.cross(up, back, dim=0).norm() < 1e-6:  # looking along the up axis: roll about a level one
        up = torch.tensor([0.0, 0.0, -1.0 if back[1] > 0 else 1.0]) if back[2].abs() < 0.5 \
            else torch.tensor([0.0, 1.0 if back[2] > 0 else -1.0, 0.0])
    right = torch.cross(up, back, dim=0)
    right = right / right.norm()
    return torch.stack([right, torch.cross(back, right, dim=0), back])


def orbit_positions(azimuths: list[float], elevations: list[float], distance: float,
                    centre: Tensor = torch.zeros(3), up: str = "y") -> Tensor:
    """Camera positions ``[N, 3]`` at ``azimuths`` and ``elevations`` (degrees) around ``centre`` at ``distance``,
    about the ``up`` axis ("y" or "z"); azimuth 0 looks from the front (+z, or +y when z is up)."""
    offsets = []
    for azimuth, elevation in zip(azimuths, elevations):
        a, e = math.radians(azimuth), math.radians(elevation)
        level, height = [math.cos(e) * math.sin(a), math.cos(e) * math.cos(a)], math.sin(e)
        offsets.append([level[0], level[1], height] if up == "z" else [level[0], height, level[1]])
    return centre.float() + distance * torch.tensor(offsets, dtype=torch.float32).reshape(-1, 3)


def intrinsics(fov_x: float, size: int, count: int) -> Tensor:
    """``[count, 3, 3]`` intrinsics of a horizontal field of view ``fov_x`` (radians), square pixels."""
    focal = size / 2 / math.tan(fov_x / 2)
    return torch.tensor([[focal, 0, size / 2], [0, focal, size / 2], [0, 0, 1]]).expand(count, 3, 3).clone()
