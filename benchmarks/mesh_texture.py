"""Mesh texture space costs: rasterising the views once, building the space, and one synchronization.

    python benchmarks/mesh_texture.py path/to/mesh.obj [--json out.json]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import torch

import pack_paths  # noqa: E402,F401  (the pack and its test helpers on sys.path)
from synctweedies.mesh import MeshTexture, load_mesh, orbit_cameras, rasterize  # noqa: E402
from timing import machine, report, timed  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mesh", type=Path)
    parser.add_argument("--json", type=Path)
    options = parser.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    mesh = load_mesh(options.mesh)[0].normalized().to(device)
    cameras = orbit_cameras(distance=2.0, fov=60.0).to(device)
    result = {"faces": len(mesh.faces), "views": len(cameras)}
    for size in (96, 768):
        seconds, fragments = timed(lambda: rasterize(mesh, cameras, size))
        result[f"rasterize_{size}px_s"] = round(seconds, 3)
        result[f"covered_{size}px"] = round(fragments.mask.float().mean().item(), 3)
    seconds, space = timed(lambda: MeshTexture(mesh, cameras, 96, 1536, device=device))
    result["latent_space_build_s"] = round(seconds, 3)
    views = torch.randn(len(cameras), 4, 96, 96, device=device)
    space.synchronize(views)
    seconds, _ = timed(lambda: [space.synchronize(views) for _ in range(20)])
    result["synchronize_ms"] = round(seconds / 20 * 1000, 3)
    report({**machine(), **result}, options.json)


if __name__ == "__main__":
    main()
