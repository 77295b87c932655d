"""The original's colour fitting for 3D Gaussians, timed with its own renderer, beside ``gaussians_pipeline.py``.

Loads a synthetic scene like ``gaussians_pipeline.py``'s (``--gaussians`` small opaque Gaussians on a sphere of
radius 0.7) into the original code's ``GSModel``, takes 50 of the cameras of a Blender ``transforms_test.json``
with its loader, and runs one fit as its ``inverse_mapping`` does: ``--iterations`` Adam steps on the colour
features, each rendering one view (its vendored gsplat, antialiased) against a target image with an L1 loss.
Needs CUDA and the original checkout (its gsplat compiles on first use):

    python benchmarks/original_gaussian_fit.py --original path/to/SyncTweedies FOLDER_WITH_transforms_test.json
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import machine, report, timed  # noqa: E402


def sphere_ply(path: Path, count: int) -> Path:
    """A 3DGS PLY of ``count`` Gaussians of scale 0.01 and opacity logit 4 on a sphere of radius 0.7."""
    from plyfile import PlyData, PlyElement

    rng = np.random.default_rng(0)
    points = rng.normal(size=(count, 3))
    points = points / np.linalg.norm(points, axis=1, keepdims=True) * 0.7
    names = ["x", "y", "z", "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3", "opacity",
             "f_dc_0", "f_dc_1", "f_dc_2"]
    rows = np.zeros(count, [(name, "f4") for name in names])
    rows["x"], rows["y"], rows["z"] = points.T
    for k in range(3):
        rows[f"scale_{k}"] = np.log(0.01)
    rows["rot_0"], rows["opacity"] = 1.0, 4.0
    PlyData([PlyElement.describe(rows, "vertex")]).write(str(path))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--original", type=Path, required=True, help="a checkout of the original SyncTweedies")
    parser.add_argument("cameras", type=Path, help="a folder holding transforms_test.json")
    parser.add_argument("--gaussians", type=int, default=300000)
    parser.add_argument("--iterations", type=int, default=1000)
    parser.add_argument("--json", type=Path)
    options = parser.parse_args()
    sys.path.insert(0, str(options.original))
    from synctweedies.renderer.gaussian.dataset_loader import load_cameras
    from synctweedies.renderer.gaussian.gaussian import GSModel, render

    scene = GSModel({"plyfile": str(sphere_ply(Path(tempfile.mkdtemp()) / "scene.ply", options.gaussians))})
    cameras = load_cameras("blender", size=[512, 512], source_path=str(options.cameras)).to("cuda")
    count = len(cameras.C2Ws)
    cameras = cameras[[(i * count) // 50 for i in range(50)]]
    targets = torch.rand(50, 3, 512, 512, device="cuda", generator=torch.Generator("cuda").manual_seed(0))
    white = torch.ones(1, 3, 1, 1, device="cuda")

    def fit(iterations: int) -> torch.Tensor:
        features = torch.zeros(len(scene), 3, device="cuda", requires_grad=True)
        scene.features = features
        scene.prepare_optimizer(["features"])
        order = np.concatenate([np.random.permutation(50) for _ in range(-(-iterations // 50))])
        for view in order[:iterations]:
            rendered = render(scene, cameras[int(view)], override_color=torch.sigmoid(features),
                              rasterize_mode="antialiased", render_mode="RGB")
            image = rendered["image"] + white * (1 - rendered["alpha"])
            loss = (image[0] - targets[view]).abs().mean()
            loss.backward()
            scene.step()
            scene.zero_grad()
        return features.detach()

    compile_s, _ = timed(lambda: fit(2))
    fit_s, _ = timed(lambda: fit(options.iterations))
    report({**machine(), "gaussians": options.gaussians, "views": 50, "view_px": 512, "iterations": options.iterations,
            "first_call_s": round(compile_s, 1), "fit_s": round(fit_s, 3), "fits_per_run": 24,
            "fitting_per_run_s": round(24 * fit_s, 1)}, options.json)


if __name__ == "__main__":
    main()
