"""Cameras of Gaussian scenes: Blender-style transforms json, COLMAP models, or an orbit rig around the scene.

kornia does the geometry (quaternions, the OpenGL-to-OpenCV flip). COLMAP's text and binary models are read
here: the library that reads them (pycolmap) is a compiled build of COLMAP itself, too heavy for two tables.
"""
from __future__ import annotations

import json
import math
import struct
from pathlib import Path

import torch
from torch import Tensor

from ..cameras import Cameras, intrinsics, orbit
from ..files import reason


MAX_FOV = 179.0
"""The widest field of view (degrees) a pinhole camera here may have: at 180° it sees nothing in focus."""


def fov_problem(fov_x: float) -> str | None:
    """Why ``fov_x`` (radians) is not a pinhole camera's horizontal field of view (None when it is)."""
    if not 0 < fov_x < math.radians(MAX_FOV):
        return (f"{fov_x:g} radians ({math.degrees(fov_x):.1f}°) is not a pinhole camera's field of view, which "
                f"lies between 0 and {MAX_FOV:g}°")
    return None


def blender_cameras(path: str | Path, size: int) -> Cameras:
    """The cameras of a NeRF-synthetic ``transforms_*.json`` (``camera_angle_x``, OpenGL camera-to-world ``frames``)."""
    from kornia.geometry.conversions import camtoworld_graphics_to_vision_4x4

    path = Path(path)
    try:
        document = json.loads(path.read_text())
        fov_x, frames = float(document["camera_angle_x"]), document["frames"]
        c2w = torch.tensor([frame["transform_matrix"] for frame in frames], dtype=torch.float64).reshape(-1, 4, 4)
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as error:
        raise ValueError(f"{path.name} is not a Blender transforms file (camera_angle_x, and frames each with a 4x4 "
                         f"transform_matrix): {reason(error)}") from None
    if not frames:
        raise ValueError(f"{path.name} has no frames, so it gives no cameras.")
    if fov_problem(fov_x):
        raise ValueError(f"{path.name}: camera_angle_x is {fov_problem(fov_x)}; write it in radians.")
    return Cameras(world_to_camera(camtoworld_graphics_to_vision_4x4(c2w), path.name),
                   intrinsics(fov_x, size, len(c2w)), size)


def world_to_camera(c2w: Tensor, name: str) -> Tensor:
    """Camera-to-world matrices ``[N, 4, 4]`` → world-to-camera ``[N, 4, 4]`` (float32); a ValueError naming the
    first camera that is not a finite rigid motion."""
    rotation = c2w[:, :3, :3]
    rigid = (rotation.transpose(1, 2) @ rotation - torch.eye(3, dtype=c2w.dtype)).abs().amax((1, 2)) < 1e-3
    bad = ~(torch.isfinite(c2w).all((1, 2)) & rigid & (torch.linalg.det(rotation) > 0))
    if bad.any():
        raise ValueError(f"{name}: camera {int(bad.nonzero()[0])} is not a rotation and a translation (its matrix is "
                         "singular, scaled or not finite); fix or remove it.")
    return torch.linalg.inv(c2w).float()


COLMAP_MODELS = {0: ("SIMPLE_PINHOLE", 3), 1: ("PINHOLE", 4), 2: ("SIMPLE_RADIAL", 4), 3: ("RADIAL", 5),
                 4: ("OPENCV", 8), 5: ("OPENCV_FISHEYE", 8), 6: ("FULL_OPENCV", 12), 7: ("FOV", 5),
                 8: ("SIMPLE_RADIAL_FISHEYE", 4), 9: ("RADIAL_FISHEYE", 5), 10: ("THIN_PRISM_FISHEYE", 12)}
"""COLMAP's camera models by id: (name, number of parameters)."""


def colmap_cameras(folder: str | Path, size: int) -> Cameras:
    """The cameras of a COLMAP model in ``folder`` (``cameras.txt`` + ``images.txt``, or ``cameras.bin`` +
    ``images.bin``), sorted by image name; each image is resized to a ``size`` square (lens distortion is
    ignored)."""
    from kornia.geometry.conversions import quaternion_to_rotation_matrix

    folder = Path(folder)
    try:
        if (folder / "images.bin").is_file():
            cameras, images = _colmap_binary(folder)
        else:
            cameras, images = _colmap_text(folder)
    except (OSError, ValueError, IndexError, struct.error, UnicodeDecodeError) as error:
        raise ValueError(f"{folder.name} does not hold a readable COLMAP model (cameras.txt and images.txt, or the "
                         f".bin pair): {reason(error)}.") from None
    if not images:
        raise ValueError(f"The COLMAP model in {folder.name} has no images.")
    images.sort(key=lambda image: image[0])
    Ks = []
    for name, _, camera in images:
        if camera not in cameras:
            raise ValueError(f"The COLMAP model in {folder.name}: image {name} uses camera {camera}, which "
                             "cameras.txt/.bin does not list.")
        model, width, height, params = cameras[camera]
        one_focal = model.startswith("SIMPLE") or model in ("RADIAL", "RADIAL_FISHEYE")  # f, cx, cy, ...
        if width <= 0 or height <= 0 or len(params) < (3 if one_focal else 4):
            raise ValueError(f"The COLMAP model in {folder.name}: camera {camera} ({model} {width}x{height}) has too "
                             "few parameters or no size.")
        fx, fy, cx, cy = (params[0], *params[:3]) if one_focal else params[:4]
        if not fx > 0 or fov_problem(2 * math.atan(width / 2 / fx)):
            raise ValueError(f"The COLMAP model in {folder.name}: camera {camera} has the focal length {fx:g} px for "
                             f"{width} px, not a pinhole camera's (its field of view must lie between 0 and "
                             f"{MAX_FOV:g}°).")
        Ks.append([[fx * size / width, 0, cx * size / width], [0, fy * size / height, cy * size / height], [0, 0, 1]])
    poses = torch.tensor([pose for _, pose, _ in images], dtype=torch.float64)
    if not torch.isfinite(poses).all() or (poses[:, :4].norm(dim=1) < 1e-8).any():
        raise ValueError(f"The COLMAP model in {folder.name} has an image pose that is not finite or has a zero "
                         "rotation quaternion.")
    viewmats = torch.eye(4).repeat(len(images), 1, 1)
    viewmats[:, :3, :3] = quaternion_to_rotation_matrix(poses[:, :4]).float()
    viewmats[:, :3, 3] = poses[:, 4:].float()
    return Cameras(viewmats, torch.tensor(Ks, dtype=torch.float32), size)


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
    for _ in range(_count(data, 24)):
        camera, model, width, height = struct.unpack_from("<iiQQ", data, at)
        if model not in COLMAP_MODELS:
            raise ValueError(f"unknown camera model id {model}")
        name, count = COLMAP_MODELS[model]
        cameras[camera] = (name, width, height, list(struct.unpack_from(f"<{count}d", data, at + 24)))
        at += 24 + 8 * count
    data, at = (folder / "images.bin").read_bytes(), 8
    images = []
    for _ in range(_count(data, 73)):
        pose, camera = struct.unpack_from("<7d", data, at + 4), struct.unpack_from("<i", data, at + 60)[0]
        end = data.index(b"\0", at + 64)
        points = struct.unpack_from("<Q", data, end + 1)[0]
        images.append((data[at + 64:end].decode(), list(pose), camera))
        at = end + 9 + 24 * points
        if at > len(data):
            raise ValueError(f"image {len(images)} declares {points:,} points, more than the file holds")
    return cameras, images


def _count(data: bytes, least_bytes: int) -> int:
    """The row count a COLMAP binary table starts with, checked against the bytes that follow it."""
    count = struct.unpack_from("<Q", data)[0]
    if count * least_bytes > len(data) - 8:
        raise ValueError(f"it declares {count:,} entries, more than its {len(data):,} bytes hold")
    return count


def scene_orbit_cameras(means: Tensor, scales: Tensor, size: int, up: str = "z") -> Cameras:
    """A rig for a scene without cameras: 8 views around it 15° up and 2 from 60° above the front and back, at a
    distance where the scene (95 % of its Gaussians' 3-sigma reach) fills most of a 50° view. ``means``
    ``[G, 3]``, log ``scales`` ``[G, 3]``, on any device (the rig is built on the CPU)."""
    means, scales = means.detach().float().cpu(), scales.detach().float().cpu()
    centre = means.mean(0)
    reach = (means - centre).norm(dim=1) + 3 * scales.exp().amax(1)
    radius = float(torch.quantile(reach[:100000], 0.95))
    distance = 1.2 * radius / math.sin(math.radians(50.0) / 2)
    azimuths = [45.0 * k for k in range(8)]
    return orbit(azimuths + [0.0, 180.0], [15.0] * 8 + [60.0, 60.0], distance, 50.0, size, centre, up)


def turntable_cameras(cameras: Cameras, centre: Tensor, frames: int, size: int,
                      elevation: float) -> Cameras:
    """One turn around ``centre`` at ``elevation``, at the distance and field of view of ``cameras``' first view
    and about the up axis ("y" or "z") it is closer to."""
    viewmat = cameras.viewmats[0].cpu()
    distance = float((cameras[0].positions[0].cpu() - centre).norm())
    up = "y" if abs(float(viewmat[1, :3] @ torch.tensor([0.0, 1.0, 0.0]))) > \
        abs(float(viewmat[1, :3] @ torch.tensor([0.0, 0.0, 1.0]))) else "z"
    return orbit([360.0 * k / frames for k in range(frames)], [elevation] * frames, distance, cameras.fov, size, centre,
                 up)
