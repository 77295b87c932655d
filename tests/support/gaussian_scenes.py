"""Small 3D Gaussian scenes the tests make themselves, written as standard 3DGS PLY files."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import plyfile

from synctweedies.gaussians.scene import SH_C0
from synctweedies.ply import write_ply


def sphere_scene(path: Path, count: int = 300, seed: int = 0, radius: float = 1.0) -> Path:
    """``count`` small opaque Gaussians on a sphere, random colours, degree-1 SH (f_rest_0..8) and normals."""
    rng = np.random.default_rng(seed)
    points = rng.normal(size=(count, 3))
    points = points / np.linalg.norm(points, axis=1, keepdims=True) * radius
    names = ["x", "y", "z", "nx", "ny", "nz", *[f"f_dc_{k}" for k in range(3)], *[f"f_rest_{k}" for k in range(9)],
             "opacity", "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3"]
    data = np.zeros(count, [(name, "<f4") for name in names])
    for k, axis in enumerate("xyz"):
        data[axis] = points[:, k]
        data["n" + axis] = points[:, k]
    colours = rng.random((count, 3))
    for k in range(3):
        data[f"f_dc_{k}"] = (colours[:, k] - 0.5) / SH_C0
    for k in range(9):
        data[f"f_rest_{k}"] = rng.normal(size=count) * 0.1
    data["opacity"] = 4.0
    for k in range(3):
        data[f"scale_{k}"] = np.log(0.15 * radius)
    quats = rng.normal(size=(count, 4))
    for k in range(4):
        data[f"rot_{k}"] = quats[:, k]
    return write_ply(path, plyfile.PlyData([plyfile.PlyElement.describe(data, "vertex")]))
