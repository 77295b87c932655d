"""Cameras for Gaussian scenes: Blender-style transforms json, COLMAP text models, or an orbit rig."""
from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from ..mesh.cameras import look_at, quaternion_matrix

OPENGL_TO_OPENCV = torch.diag(torch.tensor([1.0, -1.0, -1.0]))
"""Flips camera axes between OpenGL (y up, looking down -z) and OpenCV (y down, looking down +z)."""

@dataclass
class ViewCameras:
    """``N`` pinhole cameras: world-to-camera ``viewmats`` ``[N, 4, 4]`` (OpenCV axes: x right, y down, z forward)
    and intrinsics ``Ks`` ``[N, 3, 3]`` of ``size`` × ``size`` views."""

    viewmats: Tensor
    Ks: Tensor
    size: int

    def __len__(self) -> int:
        return len(self.viewmats)

    def resized(self, size: int) -> ViewCameras:
        """The same cameras for ``size`` × ``size`` views."""
        scale = torch.tensor([size / self.size, size / self.size, 1.0], device=self.Ks.device)[:, None]
        return ViewCameras(self.viewmats, self.Ks * scale, size)

    def to(self, device: torch.device | str) -> ViewCameras:
        return ViewCameras(self.viewmats.to(device), self.Ks.to(device), self.size)

    def subset(self, count: int) -> ViewCameras:
        """``count`` cameras spread evenly over these (the original's ``total_image_to_use``)."""
        if count <= 0 or count >= len(self):
            return self
        pick = [(i * len(self)) // count for i in range(count)]
        return ViewCameras(self.viewmats[pick], self.Ks[pick], self.size)


def intrinsics(fov_x: float, size: int, count: int) -> Tensor:
    """``[count, 3, 3]`` intrinsics of a horizontal field of view ``fov_x`` (radians), square pixels."""
    focal = size / 2 / math.tan(fov_x / 2)
    return torch.tensor([[focal, 0, size / 2], [0, focal, size / 2], [0, 0, 1]]).expand(count, 3, 3).clone()


def blender_cameras(path: str | Path, size: int) -> ViewCameras:
    """The cameras of a NeRF-synthetic ``transforms_*.json`` (``camera_angle_x``, OpenGL camera-to-world ``frames``)."""
    path = Path(path)
    try:
        document = json.loads(path.read_text())
        fov_x, frames = float(document["camera_angle_x"]), document["frames"]
        c2w = torch.tensor([frame["transform_matrix"] for frame in frames], dtype=torch.float32)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ValueError(f"{path.name} is not a Blender transforms file (camera_angle_x and frames with "
                         f"transform_matrix): {error}") from None
    c2w[:, :3, :3] = c2w[:, :3, :3] @ OPENGL_TO_OPENCV
    return ViewCameras(torch.linalg.inv(c2w), intrinsics(fov_x, size, len(c2w)), size)


COLMAP_MODELS = {0: ("SIMPLE_PINHOLE", 3), 1: ("PINHOLE", 4), 2: ("SIMPLE_RADIAL", 4), 3: ("RADIAL", 5),
                 4: ("OPENCV", 8), 5: ("OPENCV_FISHEYE", 8), 6: ("FULL_OPENCV", 12), 7: ("FOV", 5),
                 8: ("SIMPLE_RADIAL_FISHEYE", 4), 9: ("RADIAL_FISHEYE", 5), 10: ("THIN_PRISM_FISHEYE", 12)}
"""COLMAP's camera models by id: (name, number of parameters)."""


def colmap_cameras(folder: str | Path, size: int) -> ViewCameras:
    """The cameras of a COLMAP model in ``folder`` (``cameras.txt`` + ``images.txt``, or ``cameras.bin`` +
    ``images.bin``), sorted by image name; each image is resized to a ``size`` square (lens distortion is
    ignored)."""
    folder = Path(folder)
    try:
        if (folder / "images.bin").is_file():
            intrinsics_by_id, images = _colmap_binary(folder)
        else:
            intrinsics_by_id, images = _colmap_text(folder)
    except (OSError, ValueError, IndexError, KeyError, struct.error) as error:
        raise ValueError(f"{folder} does not hold a COLMAP model (cameras.txt and images.txt, or the .bin pair): "
                         f"{error}") from None
    if not images:
        raise ValueError(f"The COLMAP model in {folder} has no images.")
    images.sort(key=lambda image: image[0])
    viewmats, Ks = [], []
    for _, pose, camera in images:
        viewmat = torch.eye(4)
        viewmat[:3, :3] = quaternion_matrix(torch.tensor(pose[:4]))
        viewmat[:3, 3] = torch.tensor(pose[4:])
        viewmats.append(viewmat)
        model, width, height, params = intrinsics_by_id[camera]
        one_focal = model.startswith("SIMPLE") or model in ("RADIAL", "RADIAL_FISHEYE")  # f, cx, cy, ...
        fx, fy, cx, cy = (params[0], *params[:3]) if one_focal else params[:4]
        Ks.append(torch.tensor([[fx * size / width, 0, cx * size / width], [0, fy * size / height, cy * size / height],
                                [0, 0, 1]], dtype=torch.float32))
    return ViewCameras(torch.stack(viewmats), torch.stack(Ks), size)


def _colmap_text(folder: Path) -> tuple[dict, list]:
    cameras = {}
    for line in (folder / "cameras.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            parts = line.split()
            cameras[int(parts[0])] = (parts[1], int(parts[2]), int(parts[3]), [float(p) for p in parts[4:]])
    lines = [line for line in (folder / "images.txt").read_text().splitlines() if not line.startswith("#")]
    images = [(parts[9], [float(p) for p in parts[1:8]], int(parts[8]))
              for parts in (line.split() for line in lines[::2]) if len(parts) >= 10]
    return cameras, images


def _colmap_binary(folder: Path) -> tuple[dict, list]:
    data, at = (folder / "cameras.bin").read_bytes(), 8
    cameras = {}
    for _ in range(struct.unpack_from("<Q", data)[0]):
        camera, model, width, height = struct.unpack_from("<iiQQ", data, at)
        name, count = COLMAP_MODELS[model]
        cameras[camera] = (name, width, height, list(struct.unpack_from(f"<{count}d", data, at + 24)))
        at += 24 + 8 * count
    data, at = (folder / "images.bin").read_bytes(), 8
    images = []
    for _ in range(struct.unpack_from("<Q", data)[0]):
        pose, camera = struct.unpack_from("<7d", data, at + 4), struct.unpack_from("<i", data, at + 60)[0]
        end = data.index(b"\0", at + 64)
        points = struct.unpack_from("<Q", data, end + 1)[0]
        images.append((data[at + 64:end].decode(), list(pose), camera))
        at = end + 9 + 24 * points
    return cameras, images


def orbit_view_cameras(centre: Tensor, distance: float, azimuths: list[float], elevations: list[float],
                       fov: float, size: int, up: str = "z") -> ViewCameras:
    """Cameras at ``azimuths``/``elevations`` (degrees) around ``centre`` at ``distance``, looking at it, with
    ``up`` ("z" or "y") the scene's up axis."""
    up_vector = torch.tensor([0.0, 0.0, 1.0]) if up == "z" else torch.tensor([0.0, 1.0, 0.0])
    viewmats = []
    for azimuth, elevation in zip(azimuths, elevations):
        a, e = math.radians(azimuth), math.radians(elevation)
        offset = [math.cos(e) * math.sin(a), math.cos(e) * math.cos(a), math.sin(e)] if up == "z" \
            else [math.cos(e) * math.sin(a), math.sin(e), math.cos(e) * math.cos(a)]
        position = centre + distance * torch.tensor(offset)
        rotation = OPENGL_TO_OPENCV @ look_at(position, centre, up_vector)
        viewmat = torch.eye(4)
        viewmat[:3, :3], viewmat[:3, 3] = rotation, -rotation @ position
        viewmats.append(viewmat)
    return ViewCameras(torch.stack(viewmats), intrinsics(math.radians(fov), size, len(viewmats)), size)
