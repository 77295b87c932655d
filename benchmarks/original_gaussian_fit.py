"""Gaussian colour fitting, this pack beside the original, in one run on the same scene, cameras, targets, iterations
and renderer settings (antialiased, white background, sigmoid colours, L1, Adam 0.025, one view per step).

The scene is ``--gaussians`` small opaque Gaussians on a sphere of radius 0.7 written as a 3DGS PLY and loaded by
both (the original's ``GSModel``, this pack's ``load_gaussians``); the cameras are 50 of a Blender
``transforms_test.json`` (the original's chair), 512 px; the targets are renders of random colours, so both fits
can reach them. The original renders with its vendored gsplat (compiled on first use); this pack builds every
view's blending weights once with gsplat (``weights_build_s``, not in the fit's time: a run builds them once for
all its fits) and fits through them:

    python benchmarks/build_original_gsplat.py path/to/SyncTweedies --out .orig-build
    python benchmarks/original_gaussian_fit.py --original .orig-build FOLDER_WITH_transforms_test.json

``--original`` is what ``build_original_gsplat.py`` wrote: the original's renderer with its vendored gsplat built
(the original's package shares this pack's name, so its renderer folder is imported on its own).
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import torch

import pack_paths  # noqa: F401  (the pack and its test helpers on sys.path)
from build_original_gsplat import use  # noqa: E402
from synctweedies.gaussians import GaussianColours, blender_cameras, load_gaussians  # noqa: E402
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
    parser.add_argument("--original", type=Path, required=True,
                        help="the original's renderer as build_original_gsplat.py wrote it")
    parser.add_argument("cameras", type=Path, help="a folder holding transforms_test.json")
    parser.add_argument("--gaussians", type=int, default=300000)
    parser.add_argument("--iterations", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path)
    options = parser.parse_args()
    ply = sphere_ply(Path(tempfile.mkdtemp()) / "scene.ply", options.gaussians)
    white = torch.ones(3, device="cuda")

    # this pack
    ours = GaussianColours(load_gaussians(ply).to("cuda"), blender_cameras(options.cameras / "transforms_test.json",
                                                                           512).subset(50),
                           512, white, iterations=options.iterations, lr=0.025, color_assign="zero", antialiased=True,
                           backend="gsplat", logits=True)
    truth = torch.rand(3, 1, options.gaussians, device="cuda", generator=torch.Generator("cuda").manual_seed(0)) * 2 - 1
    targets = ours.project(truth)  # [-1, 1]

    # the original, after this pack's gsplat has built its extension (both name theirs gsplat_cuda)
    use(options.original)
    from gaussian.dataset_loader import load_cameras
    from gaussian.gaussian import GSModel, render

    scene = GSModel({"plyfile": str(ply)})
    cameras = load_cameras("blender", size=[512, 512], source_path=str(options.cameras)).to("cuda")
    count = len(cameras.C2Ws)
    cameras = cameras[[(i * count) // 50 for i in range(50)]]
    targets01 = (targets + 1) / 2

    def original_fit(iterations: int) -> torch.Tensor:
        features = torch.zeros(len(scene), 3, device="cuda", requires_grad=True)
        scene.features = features
        scene.prepare_optimizer(["features"])
        order = np.concatenate([np.random.permutation(50) for _ in range(-(-iterations // 50))])
        for view in order[:iterations]:
            rendered = render(scene, cameras[int(view)], override_color=torch.sigmoid(features),
                              rasterize_mode="antialiased", render_mode="RGB")
            image = rendered["image"] + white[None, :, None, None] * (1 - rendered["alpha"])
            loss = (image[0] - targets01[view]).abs().mean()
            loss.backward()
            scene.step()
            scene.zero_grad()
        return features.detach()

    def original_error(features: torch.Tensor) -> float:
        errors = []
        for view in range(50):
            rendered = render(scene, cameras[view], override_color=torch.sigmoid(features),
                              rasterize_mode="antialiased", render_mode="RGB")
            image = rendered["image"] + white[None, :, None, None] * (1 - rendered["alpha"])
            errors.append((image[0] - targets01[view]).abs().mean().item())
        return float(np.mean(errors))

    weights_s, weights = timed(ours.blending_weights)
    warm_original = timed(lambda: original_fit(2))[0]
    warm_ours = timed(lambda: ours.unproject(targets, iterations=2))[0]
    times = {"original": [], "ours": []}
    for _ in range(options.repeats):
        seconds, original_features = timed(lambda: original_fit(options.iterations))
        times["original"].append(seconds)
        seconds, (fitted, _) = timed(lambda: ours.unproject(targets))
        times["ours"].append(seconds)
    ours_error = ((ours.project(fitted) - targets).abs().mean() / 2).item()  # in [0, 1] units, as the original's
    best = {name: min(values) for name, values in times.items()}
    report({"benchmark": "gaussian_fit_vs_original", **machine(), "gaussians": options.gaussians, "views": 50,
            "view_px": 512, "iterations": options.iterations, "first_calls_s": [round(warm_original, 1),
                                                                                  round(warm_ours, 1)],
            "weights_build_s": round(weights_s, 2), "weights_gib": round(weights.nbytes / 2 ** 30, 2),
            "weights_per_pixel": round(sum(m.values().numel() for m in weights.matrices) / (50 * 512 ** 2), 1),
            "original_fit_s": round(best["original"], 3), "ours_fit_s": round(best["ours"], 3),
            "fit_vs_original": round(best["ours"] / best["original"], 3),
            "original_rerender_error": round(original_error(original_features), 5),
            "ours_rerender_error": round(ours_error, 5),
            "runs_s": {name: [round(t, 3) for t in values] for name, values in times.items()}}, options.json)


if __name__ == "__main__":
    main()
