"""Choosing the default mesh rasteriser: the pack's plain-PyTorch rasteriser vs Embree ray casting (embreex) and
pytorch3d (where it is built).

    python benchmarks/rasteriser_choice.py MESH.obj [--size 768] [--json out.json]

Both find, for every pixel of the 10 orbit views, the visible face and the hit point; the figure is the
time for all views and how often the two agree on the face. Embree runs on the CPU only (pip install
embreex trimesh); the PyTorch rasteriser runs on the CPU and, where there is one, the GPU.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

import pack_paths  # noqa: E402,F401  (the pack and its test helpers on sys.path)
from synctweedies.mesh import load_mesh, orbit_cameras, rasterize  # noqa: E402
from synctweedies.mesh.rasterize import pytorch3d_available  # noqa: E402
from timing import machine, report, timed  # noqa: E402


def embree_faces(mesh, cameras, size: int) -> np.ndarray:
    """Visible face per pixel ``[N, S, S]`` (-1: none) by casting one ray through each pixel centre."""
    from embreex import rtcore_scene
    from embreex.mesh_construction import TriangleMesh

    scene = rtcore_scene.EmbreeScene()
    TriangleMesh(scene, mesh.vertices.numpy()[mesh.faces.numpy()].astype(np.float32))
    centres = (np.arange(size) + 0.5) / size * 2 - 1
    xs, ys = np.meshgrid(centres, -centres)
    tangent = np.tan(np.radians(cameras.fov) / 2)
    faces = []
    for rotation, position in zip(cameras.rotations.numpy(), cameras.positions.numpy()):
        directions = np.stack([xs * tangent, ys * tangent, -np.ones_like(xs)], -1).reshape(-1, 3) @ rotation
        directions /= np.linalg.norm(directions, axis=1, keepdims=True)
        origins = np.broadcast_to(position, directions.shape).astype(np.float32)
        faces.append(scene.run(origins, directions.astype(np.float32)).reshape(size, size))
    return np.stack(faces)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mesh", type=Path)
    parser.add_argument("--size", type=int, default=768)
    parser.add_argument("--json", type=Path)
    options = parser.parse_args()
    mesh = load_mesh(options.mesh)[0].normalized()
    cameras = orbit_cameras(distance=2.0, fov=60.0)
    result = {"faces": len(mesh.faces), "views": len(cameras), "size": options.size,
              "cpu_threads": torch.get_num_threads()}
    torch_s, fragments = timed(lambda: rasterize(mesh, cameras, options.size, backend="torch"))
    result["pytorch_cpu_s"] = round(torch_s, 2)
    backends = ["torch", "pytorch3d"] if pytorch3d_available() else ["torch"]
    if torch.cuda.is_available():
        for backend in backends:
            run = lambda: rasterize(mesh.to("cuda"), cameras.to("cuda"), options.size, backend=backend)  # noqa: E731
            run()
            seconds, gpu = timed(run)
            result[f"{backend}_gpu_s"] = round(seconds, 3)
            result[f"{backend}_gpu_same_face"] = round(float((gpu.face.cpu() == fragments.face).float().mean()), 4)
    try:
        embree_s, faces = timed(lambda: embree_faces(mesh, cameras, options.size))
    except ImportError:
        result["embree"] = "not installed (pip install embreex)"
    else:
        ours = fragments.face.numpy()
        result["embree_cpu_s"] = round(embree_s, 2)
        result["same_face"] = round(float((ours == faces).mean()), 4)
    report({**machine(), **result}, options.json)


if __name__ == "__main__":
    main()
