"""The one camera type of every application: ``Cameras``, world-to-camera view matrices and pinhole intrinsics as
gsplat takes them, with the builders every rig is made from (a camera looking at a point, an orbit). Meshes,
Gaussians and panoramas all hold their views' cameras as ``Cameras``."""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

OPENGL_TO_OPENCV = torch.diag(torch.tensor([1.0, -1.0, -1.0]))
"""Flips camera axes between OpenGL (y up, looking down -z) and OpenCV (y down, looking down +z)."""

REFERENCE_SIZE = 512
"""The view size a rig's intrinsics are written for when its views' size is set later (``to_pixels`` rescales)."""


@dataclass
class Cameras:
    """``N`` cameras: world-to-camera ``viewmats`` ``[N, 4, 4]`` (OpenCV axes: x right, y down, z forward) and
    intrinsics ``Ks`` ``[N, 3, 3]`` of ``size`` × ``size`` views (pixel centres at ``i + 0.5``). An orthographic
    camera maps camera x and y to pixels through ``Ks`` without dividing by depth."""

    viewmats: Tensor
    Ks: Tensor
    size: int
    orthographic: bool = False

    @classmethod
    def from_poses(cls, rotations: Tensor, positions: Tensor, size: int = REFERENCE_SIZE, fov: float = 50.0,
                   ortho_scale: float | None = None) -> Cameras:
        """Cameras at ``positions`` ``[N, 3]`` with world-to-camera ``rotations`` ``[N, 3, 3]`` in OpenGL axes (as
        ``look_at`` gives): perspective with a field of view ``fov`` (degrees), or orthographic seeing
        ``ortho_scale`` world units either side of the centre when that is given."""
        opencv = OPENGL_TO_OPENCV.to(rotations) @ rotations
        viewmats = torch.eye(4, dtype=rotations.dtype, device=rotations.device).repeat(len(rotations), 1, 1)
        viewmats[:, :3, :3] = opencv
        viewmats[:, :3, 3] = -(opencv @ positions.to(rotations)[..., None])[..., 0]
        half_width = math.tan(math.radians(fov) / 2) if ortho_scale is None else ortho_scale
        Ks = pinhole(size / 2 / half_width, size, len(rotations), rotations.dtype).to(rotations.device)
        return cls(viewmats, Ks, size, ortho_scale is not None)

    def __len__(self) -> int:
        return len(self.viewmats)

    def __getitem__(self, index: int | slice | list[int]) -> Cameras:
        """The cameras at ``index`` (an int keeps one camera)."""
        index = [index] if isinstance(index, int) else index
        return Cameras(self.viewmats[index], self.Ks[index], self.size, self.orthographic)

    def to(self, device: torch.device | str) -> Cameras:
        return Cameras(self.viewmats.to(device), self.Ks.to(device), self.size, self.orthographic)

    def resized(self, size: int) -> Cameras:
        """The same cameras for ``size`` × ``size`` views."""
        return Cameras(self.viewmats, self._Ks_for(size), size, self.orthographic)

    def subset(self, count: int) -> Cameras:
        """``count`` cameras spread evenly over these (the original's ``total_image_to_use``)."""
        if count <= 0 or count >= len(self):
            return self
        return self[[(i * len(self)) // count for i in range(count)]]

    @property
    def rotations(self) -> Tensor:
        """World-to-camera rotations ``[N, 3, 3]`` in OpenGL axes (x right, y up, looking down -z)."""
        return OPENGL_TO_OPENCV.to(self.viewmats) @ self.viewmats[:, :3, :3]

    @property
    def positions(self) -> Tensor:
        """Camera centres ``[N, 3]`` in the world."""
        rotation, translation = self.viewmats[:, :3, :3], self.viewmats[:, :3, 3:]
        return -(rotation.transpose(1, 2) @ translation)[..., 0]

    @property
    def fov(self) -> float:
        """The first camera's horizontal field of view in degrees (perspective cameras)."""
        return math.degrees(2 * math.atan(self.size / 2 / float(self.Ks[0, 0, 0])))

    @property
    def ortho_scale(self) -> float:
        """The world units the first (orthographic) camera sees either side of its centre."""
        return self.size / 2 / float(self.Ks[0, 0, 0])

    def to_camera(self, points: Tensor) -> Tensor:
        """World points ``[P, 3]`` → camera coordinates ``[N, P, 3]`` in OpenGL axes."""
        opencv = torch.einsum("nij,pj->npi", self.viewmats[:, :3, :3], points) + self.viewmats[:, None, :3, 3]
        return opencv * OPENGL_TO_OPENCV.diagonal().to(opencv)

    def to_pixels(self, camera: Tensor, size: int) -> Tensor:
        """Camera coordinates ``[N, P, 3]`` (OpenGL axes, as ``to_camera`` gives) → pixel coordinates ``[N, P, 2]``
        (x right, y down; pixel centres at ``i + 0.5``) in ``size`` × ``size`` views."""
        Ks = self._Ks_for(size).to(camera)
        depth = 1.0 if self.orthographic else (-camera[..., 2]).clamp_min(1e-8)
        x, y = camera[..., 0] / depth, -camera[..., 1] / depth
        return torch.stack([Ks[:, None, 0, 0] * x + Ks[:, None, 0, 2], Ks[:, None, 1, 1] * y + Ks[:, None, 1, 2]], -1)

    def _Ks_for(self, size: int) -> Tensor:
        if size == self.size:
            return self.Ks
        scale = torch.tensor([size / self.size, size / self.size, 1.0], dtype=self.Ks.dtype, device=self.Ks.device)
        return self.Ks * scale[:, None]


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


def orbit(azimuths: list[float], elevations: list[float], distance: float, fov: float = 50.0,
          size: int = REFERENCE_SIZE, centre: Tensor = torch.zeros(3), up: str = "y",
          ortho_scale: float | None = None) -> Cameras:
    """Cameras at ``azimuths``/``elevations`` (degrees) around ``centre`` at ``distance``, looking at it, with
    ``up`` ("y" or "z") the scene's up axis; perspective with ``fov`` (degrees), or orthographic seeing
    ``ortho_scale`` either side of the centre."""
    up_vector = torch.tensor([0.0, 0.0, 1.0]) if up == "z" else torch.tensor([0.0, 1.0, 0.0])
    positions = orbit_positions(azimuths, elevations, distance, centre, up)
    rotations = torch.stack([look_at(position, centre.float(), up_vector) for position in positions])
    return Cameras.from_poses(rotations, positions, size, fov, ortho_scale)


def intrinsics(fov_x: float, size: int, count: int, dtype: torch.dtype = torch.float32) -> Tensor:
    """``[count, 3, 3]`` intrinsics of a horizontal field of view ``fov_x`` (radians), square pixels."""
    return pinhole(size / 2 / math.tan(fov_x / 2), size, count, dtype)


def pinhole(focal: float, size: int, count: int, dtype: torch.dtype = torch.float32) -> Tensor:
    """``[count, 3, 3]`` intrinsics of ``focal`` pixels (world units to pixels, orthographic) for ``size`` square
    views centred on the optical axis."""
    matrix = torch.tensor([[focal, 0, size / 2], [0, focal, size / 2], [0, 0, 1]], dtype=dtype)
    return matrix.expand(count, 3, 3).clone()
