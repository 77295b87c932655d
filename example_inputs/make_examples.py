"""Writes the small example inputs the bundled workflows start from, so every template runs on a fresh install:
``vase.obj`` (a UV-mapped vase, with ``vase.mtl`` and its texture ``vase.png`` for texture editing),
``gaussians.ply`` (a 3DGS scene: a shell of coloured Gaussians) and ``room_depth.png`` (the 16-bit 360° depth map
of a box-shaped room). ``python example_inputs/make_examples.py``; a test checks the files are what it writes."""
from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import plyfile
import torch
from PIL import Image

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from synctweedies.gaussians.scene import SH_C0  # noqa: E402
from synctweedies.mesh import Mesh  # noqa: E402
from synctweedies.mesh.export import write_obj  # noqa: E402
from synctweedies.ply import write_ply  # noqa: E402


def vase(around: int = 48, up: int = 24) -> Mesh:
    """A surface of revolution about y, height 2, with a closed base; u runs around, v up (the seam duplicated)."""
    heights = np.linspace(-1.0, 1.0, up + 1)
    radius = 0.45 + 0.25 * np.sin(np.pi * (heights + 1) * 0.75) - 0.1 * heights
    angles = np.linspace(0.0, 2 * math.pi, around + 1)
    vertices = [[r * math.cos(a), y, r * math.sin(a)] for y, r in zip(heights, radius) for a in angles]
    uvs = [[j / around, 0.1 + 0.9 * i / up] for i in range(up + 1) for j in range(around + 1)]
    faces = []
    for i in range(up):
        for j in range(around):
            a, b = i * (around + 1) + j, i * (around + 1) + j + 1
            c, d = a + around + 1, b + around + 1
            faces += [[a, c, b], [b, c, d]]
    centre = len(vertices)
    vertices.append([0.0, -1.0, 0.0])
    uvs.append([0.5, 0.05])
    faces += [[centre, j, j + 1] for j in range(around)]
    faces = torch.tensor(faces)
    return Mesh(torch.tensor(vertices, dtype=torch.float32), faces, torch.tensor(uvs, dtype=torch.float32),
                faces.clone())


def vase_texture(size: int = 256) -> Image.Image:
    """Terracotta with two glazed bands: the texture the editing workflow repaints."""
    v = np.linspace(1, 0, size)[:, None] * np.ones((1, size))
    band = (np.abs(v - 0.55) < 0.06) | (np.abs(v - 0.8) < 0.04)
    colour = np.where(band[..., None], [40, 70, 120], [176, 96, 60]).astype(np.uint8)
    return Image.fromarray(colour)


def gaussian_shell(path: Path, count: int = 6000, seed: int = 0) -> Path:
    """``count`` small opaque Gaussians on a slightly squashed sphere, smoothly coloured (3DGS PLY, SH degree 0)."""
    rng = np.random.default_rng(seed)
    points = rng.normal(size=(count, 3))
    points = points / np.linalg.norm(points, axis=1, keepdims=True) * [0.8, 0.6, 0.8]
    names = ["x", "y", "z", "f_dc_0", "f_dc_1", "f_dc_2", "opacity", "scale_0", "scale_1", "scale_2",
             "rot_0", "rot_1", "rot_2", "rot_3"]
    data = np.zeros(count, [(name, "<f4") for name in names])
    for k, axis in enumerate("xyz"):
        data[axis] = points[:, k]
        data[f"f_dc_{k}"] = (0.5 + 0.4 * points[:, k] - 0.5) / SH_C0
        data[f"scale_{k}"] = np.log(0.04)
    data["opacity"], data["rot_0"] = 4.0, 1.0
    return write_ply(path, plyfile.PlyData([plyfile.PlyElement.describe(data, "vertex")]))


def room_depth(height: int = 256) -> np.ndarray:
    """Distance along each ray of an equirectangular image ``[height, 2 height]`` from the middle of a 6 × 3 × 4
    room, in millimetres as uint16."""
    lat = (0.5 - (np.arange(height) + 0.5) / height) * np.pi
    lon = ((np.arange(2 * height) + 0.5) / (2 * height) - 0.5) * 2 * np.pi
    lon, lat = np.meshgrid(lon, lat)
    direction = np.stack([np.cos(lat) * np.sin(lon), np.sin(lat), np.cos(lat) * np.cos(lon)])
    half = np.array([3.0, 1.5, 2.0])[:, None, None]
    distance = np.min(half / np.maximum(np.abs(direction), 1e-6), axis=0)
    return (distance * 1000).round().astype(np.uint16)


FILES = ("vase.obj", "vase.mtl", "vase.png", "gaussians.ply", "room_depth.png")


def write_examples(folder: Path = HERE) -> None:
    """Write :data:`FILES` into ``folder``, replacing them."""
    for name in FILES:
        (folder / name).unlink(missing_ok=True)
    write_obj(vase(), folder / "vase.obj", vase_texture())
    gaussian_shell(folder / "gaussians.ply")
    Image.fromarray(room_depth()).save(folder / "room_depth.png")


if __name__ == "__main__":
    write_examples()
