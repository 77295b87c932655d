"""A 360° equirectangular panorama seen through perspective cameras."""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import torch
from torch import Tensor

from ..cameras import Cameras, intrinsics
from ..progress import steps
from ..spaces.base import CanonicalSpace
from ..spaces.fill import nearest_seen
from ..spaces.taps import bilinear_taps, gather_taps, unit_variance
from ..spaces.warp import BackwardWarp


@dataclass(frozen=True)
class PanoramaRig:
    """Perspective cameras at the panorama's centre at every azimuth ``theta`` and elevation ``phi`` of the ranges
    (degrees).

    Ranges are half-open like the original's ``range(start, end, interval)``; ``fov`` is the
    horizontal and vertical field of view of the square views.
    """

    theta_range: tuple[float, float] = (0.0, 360.0)
    theta_interval: float = 45.0
    phi_range: tuple[float, float] = (0.0, 1.0)
    phi_interval: float = 45.0
    fov: float = 72.0

    def __post_init__(self):
        if not 0 < self.fov < 180:
            raise ValueError(f"FOV must be between 0 and 180 degrees (exclusive); got {self.fov}.")
        if self.theta_interval <= 0 or self.phi_interval <= 0:
            raise ValueError("theta_interval and phi_interval must be positive.")
        if not self.angles():
            raise ValueError(f"theta_range {self.theta_range} and phi_range {self.phi_range} give no camera; "
                             "each range must contain its start.")
        for phi in self.phis():
            if not -90 <= phi <= 90:
                raise ValueError(f"Elevation {phi}° is outside [-90, 90]; use a phi_range within it.")

    def thetas(self) -> list[float]:
        return _steps(*self.theta_range, self.theta_interval)

    def phis(self) -> list[float]:
        return _steps(*self.phi_range, self.phi_interval)

    def angles(self) -> list[tuple[float, float]]:
        """``(theta, phi)`` of every view, azimuth-major like the original."""
        return [(theta, phi) for theta in self.thetas() for phi in self.phis()]

    def cameras(self, view_size: int) -> Cameras:
        """The rig's cameras (float64) for ``view_size`` × ``view_size`` views."""
        viewmats = torch.eye(4, dtype=torch.float64).repeat(len(self.angles()), 1, 1)
        viewmats[:, :3, :3] = (_rotations(self) * _Y_DOWN).transpose(1, 2)
        return Cameras(viewmats, intrinsics(math.radians(self.fov), view_size, len(viewmats), torch.float64),
                       view_size)


def _steps(start: float, end: float, interval: float) -> list[float]:
    count = max(0, math.ceil((end - start) / interval))
    return [start + k * interval for k in range(count)]


_Y_DOWN = torch.tensor([1.0, -1.0, 1.0], dtype=torch.float64)
"""Flips the panorama's camera axes (x right, y up, z forward) to OpenCV's (y down), column-wise."""


def _rotations(cameras: PanoramaRig) -> Tensor:
    """Camera-to-world rotations ``[N, 3, 3]`` (x right, y up, z forward; yaw about y, then pitch)."""
    mats = []
    for theta, phi in cameras.angles():
        t, p = math.radians(theta), math.radians(phi)
        yaw = torch.tensor([[math.cos(t), 0, math.sin(t)], [0, 1, 0], [-math.sin(t), 0, math.cos(t)]],
                           dtype=torch.float64)
        pitch = torch.tensor([[1, 0, 0], [0, math.cos(p), math.sin(p)], [0, -math.sin(p), math.cos(p)]],
                             dtype=torch.float64)
        mats.append(yaw @ pitch)
    return torch.stack(mats)


def _feather(coordinate: Tensor, size: int) -> Tensor:
    """Weight of a view pixel at ``coordinate`` (pixel centres, ``[-0.5, size - 0.5]``): 1 in the middle,
    falling smoothly to nearly 0 at the view's edge, so that views blend in and out without seams."""
    return torch.sin(math.pi * (coordinate + 0.5).clamp(0, size) / size).clamp_min(1e-3)


def perspective_taps(cameras: Cameras, canvas_size: tuple[int, int]) -> tuple[Tensor, Tensor]:
    """Bilinear taps ``[N, S, S, 4]`` (flat canvas index, weight) of each view pixel's ray on the canvas seen by
    ``cameras`` at its centre."""
    height, width = canvas_size
    view_size, focal = cameras.size, float(cameras.Ks[0, 0, 0])
    pixels = torch.arange(view_size, dtype=torch.float64) + 0.5 - view_size / 2
    rows, cols = torch.meshgrid(pixels, pixels, indexing="ij")
    rays = torch.stack([cols / focal, -rows / focal, torch.ones_like(rows)], -1)
    taps = []
    for rotation in steps(panorama_rotations(cameras)):
        world = rays @ rotation.T
        lon = torch.atan2(world[..., 0], world[..., 2])
        lat = torch.asin(world[..., 1] / world.norm(dim=-1))
        x = (lon / (2 * math.pi) + 0.5) * width - 0.5
        y = (0.5 - lat / math.pi) * height - 0.5
        taps.append(bilinear_taps(x, y, width, height, wrap=True))
    return torch.stack([index for index, _ in taps]), torch.stack([weight for _, weight in taps])


def panorama_rotations(cameras: Cameras) -> Tensor:
    """Camera-to-world rotations ``[N, 3, 3]`` of ``cameras`` in the panorama's camera axes (x right, y up, z
    forward)."""
    return cameras.viewmats[:, :3, :3].transpose(1, 2) * _Y_DOWN.to(cameras.viewmats)


def perspective_views(canvas: Tensor, rig: PanoramaRig, view_size: int) -> Tensor:
    """Equirectangular ``canvas`` ``[C, H, 2H]`` seen by ``rig``: views ``[N, C, S, S]`` (bilinear)."""
    index, weight = perspective_taps(rig.cameras(view_size), tuple(canvas.shape[-2:]))
    return gather_taps(canvas, index, weight)


class Panorama(CanonicalSpace):
    """An equirectangular canvas ``[C, H, 2H]`` and square perspective views ``[N, C, S, S]``.

    ``project`` samples each view pixel's ray from the canvas (bilinear; columns wrap at 0/360°,
    rows clamp at the poles). ``unproject`` warps the views back: every canvas pixel inside a
    view's frustum samples that view (bilinear), views are averaged with their weights — with
    ``feather``, times a weight that falls from 1 at a view's centre to nearly 0 at its edges, so that
    views blend in and out instead of starting abruptly — and pixels no view sees are filled from
    the nearest seen pixel (their coverage stays 0).
    """

    def __init__(self, rig: PanoramaRig, view_size: int = 64, canvas_height: int = 256,
                 pixel_canvas_height: int = 1024, feather: bool = True):
        if view_size <= 0 or canvas_height <= 0:
            raise ValueError("view_size and canvas_height must be positive.")
        self.rig = rig
        self.cameras = rig.cameras(view_size)
        self.view_size = (view_size, view_size)
        self.canonical_size = (canvas_height, 2 * canvas_height)
        self.pixel_canvas_height = pixel_canvas_height
        self.feather = feather
        self.rotations = panorama_rotations(self.cameras)
        self.num_views = len(self.rotations)
        self._build_forward()
        self._build_backward()
        self._on_device: dict[torch.device, tuple[Tensor, ...]] = {}

    def _build_forward(self) -> None:
        self.forward_index, self.forward_weight = perspective_taps(self.cameras, self.canonical_size)

    def _build_backward(self) -> None:
        """For every (canvas pixel, view) pair where the pixel is in the view: 4 taps into the views."""
        size, (height, width) = self.view_size[0], self.canonical_size
        focal = float(self.cameras.Ks[0, 0, 0])
        lat = (0.5 - (torch.arange(height, dtype=torch.float64) + 0.5) / height) * math.pi
        lon = ((torch.arange(width, dtype=torch.float64) + 0.5) / width - 0.5) * 2 * math.pi
        lat, lon = torch.meshgrid(lat, lon, indexing="ij")
        world = torch.stack([lat.cos() * lon.sin(), lat.sin(), lat.cos() * lon.cos()], -1).reshape(-1, 3)
        parts = []
        for view, rotation in steps(list(enumerate(self.rotations))):
            camera = world @ rotation
            ahead = camera[:, 2] > 1e-6
            u = camera[:, 0] / camera[:, 2].clamp_min(1e-6) * focal + size / 2 - 0.5
            v = -camera[:, 1] / camera[:, 2].clamp_min(1e-6) * focal + size / 2 - 0.5
            inside = ahead & (u >= -0.5) & (u <= size - 0.5) & (v >= -0.5) & (v <= size - 0.5)
            index, weight = bilinear_taps(u[inside], v[inside], size, size, wrap=False)
            feather = _feather(u[inside], size) * _feather(v[inside], size) if self.feather \
                else torch.ones(int(inside.sum()), dtype=torch.float64)
            parts.append(BackwardWarp(inside.nonzero()[:, 0], index + view * size * size, weight, feather.float(),
                                      (height, width)))
        self.warp = BackwardWarp.join(parts)
        self.seen = self.warp.seen()
        self.fill_index = nearest_seen(self.seen)

    def _buffers(self, device: torch.device) -> tuple[Tensor, Tensor, BackwardWarp, Tensor]:
        """(forward index, forward weight, the backward warp, the fill index), on ``device``, copied once."""
        if device not in self._on_device:
            self._on_device[device] = (self.forward_index.to(device), self.forward_weight.to(device),
                                       self.warp.to(device), self.fill_index.flatten().to(device))
        return self._on_device[device]

    def project(self, canonical: Tensor) -> Tensor:
        index, weight, *_ = self._buffers(canonical.device)
        return gather_taps(canonical, index, weight)

    def unproject(self, views: Tensor, weights: Tensor | None = None) -> tuple[Tensor, Tensor]:
        *_, warp, fill = self._buffers(views.device)
        canonical, coverage = warp.unproject(views, view_weights=weights)
        return canonical.flatten(1)[:, fill].reshape(canonical.shape), coverage

    def initial_noise(self, channels: int, generator: torch.Generator | None = None,
                      dtype: torch.dtype = torch.float32) -> Tensor:
        """Projected canvas noise, rescaled by the bilinear taps' norm to unit variance per pixel."""
        return unit_variance(super().initial_noise(channels, generator, dtype), self.forward_weight)

    def build_scaled(self, factor: int) -> Panorama:
        """The same cameras at ``factor`` times the view size, on the RGB canvas (``pixel_canvas_height``)."""
        return Panorama(self.rig, self.view_size[0] * factor, self.pixel_canvas_height, self.pixel_canvas_height,
                        self.feather)

    def uncovered(self) -> str:
        """A sentence naming the latitudes no view sees, or an empty string when views see everything."""
        rows = self.seen.any(1)
        if rows.all():
            return ""
        height = self.canonical_size[0]
        lat = lambda row: 90 - 180 * row / height  # noqa: E731
        seen_rows = rows.nonzero()[:, 0]
        parts = []
        if seen_rows[0] > 0:
            parts.append(f"north of {lat(int(seen_rows[0])):.0f}°")
        if seen_rows[-1] < height - 1:
            parts.append(f"south of {lat(int(seen_rows[-1]) + 1):.0f}°")
        return (f"No view sees latitudes {' and '.join(parts)}; those pixels are filled from the nearest seen "
                "pixel. Add elevations (phi_range, phi_interval) or widen the FOV to cover them.")

    def check_coverage(self) -> None:
        """Raise when views leave gaps between them (unseen azimuths, or unseen bands between elevations);
        warn about uncovered polar caps."""
        columns = self.seen.any(0)
        seen_rows = self.seen.float().cumsum(0)
        enclosed = ~self.seen & (seen_rows > 0) & (seen_rows < seen_rows[-1:])
        if not columns.all() or enclosed.any():
            column = int((~columns if not columns.all() else enclosed.any(0)).nonzero()[0, 0])
            lon = 360 * (column + 0.5) / self.canonical_size[1] - 180
            raise ValueError(f"The cameras leave gaps between views (e.g. at azimuth {lon:.0f}° from the centre): "
                             f"with FOV {self.rig.fov}°, use a theta_interval/phi_interval no larger than the "
                             "FOV, or widen the FOV.")
        if self.uncovered():
            warnings.warn(self.uncovered(), stacklevel=2)

    def __repr__(self) -> str:
        return (f"Panorama({self.canonical_size[0]}x{self.canonical_size[1]}, {self.num_views} views of "
                f"{self.view_size[0]} px, FOV {self.rig.fov}°)")
