"""The original's mesh synchronization at its defaults, to set beside ``mesh_pipeline.py``'s figures.

Drives the original code's ``UVProjection`` (pytorch3d rendering, CuPy Voronoi fill) from a checkout given on the
command line: building the latent (96 px views, 1536² texture) and RGB (768 px, 1024²) projections for the
original's 10 cameras, and one synchronization of x0 as its case 2 does it (``bake_texture`` then
``render_textured_views``). Needs CUDA, pytorch3d, CuPy (and xatlas when the mesh has no material):

    python benchmarks/original_mesh_sync.py --original path/to/SyncTweedies MESH.obj [--json out.json]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import torch

import pack_paths  # noqa: E402  (the pack and its test helpers on sys.path)
from timing import machine, report, timed  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--original", type=Path, required=True, help="a checkout of the original SyncTweedies")
    parser.add_argument("mesh", type=Path)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--json", type=Path)
    options = parser.parse_args()
    pack_paths.add(str(options.original))
    from synctweedies.renderer.mesh.mesh_renderer import UVProjection

    device = torch.device("cuda")
    poses = [(0, azimuth % 360) for azimuth in (-180, -135, -90, -45, 0, 45, 90, 135)] + [(30, 0), (30, 180)]

    def latent_projection():
        projection = UVProjection(texture_size=1536, render_size=96, sampling_mode="nearest", channels=4, device=device)
        projection.load_mesh(str(options.mesh), scale_factor=1.0)
        projection.set_cameras_and_render_settings(poses, centers=((0, 0, 0),), camera_distance=2.0)
        return projection

    latent_s, latent = timed(latent_projection)

    def rgb_projection():
        projection = UVProjection(texture_size=1024, render_size=768, sampling_mode="nearest", channels=3,
                                  device=device)
        projection.mesh = latent.mesh.clone()
        projection.set_cameras_and_render_settings(poses, centers=((0, 0, 0),), camera_distance=2.0)
        return projection

    rgb_s, _ = timed(rgb_projection)
    views = [torch.randn(4, 96, 96, device=device) for _ in poses]

    def synchronize():
        _, texture, _ = latent.bake_texture(views=views, main_views=[], exp=0)
        latent.set_texture_map(texture)
        return latent.render_textured_views()

    synchronize()
    sync_s, _ = timed(lambda: [synchronize() for _ in range(options.repeats)])
    report({**machine(), "views": len(poses), "latent_space_build_s": round(latent_s, 3),
            "rgb_space_build_s": round(rgb_s, 3), "synchronize_ms": round(1000 * sync_s / options.repeats, 1),
            "synchronize_per_run_s": round(24 * sync_s / options.repeats, 3)}, options.json)


if __name__ == "__main__":
    main()
