"""3D Gaussian colours: the reference renderer against gsplat, and the costs of one run at the original's defaults.

    python benchmarks/gaussians.py [--gaussians 300000] [--views 50] [--json out.json]

Agreement: a 2,000-Gaussian sphere scene, 10 views of 64 px, rendered by both backends (classic and
antialiased). Costs (on the GPU, gsplat): rendering all views at 512 px, one fit of the colours to them
(``--iterations`` Adam steps of one view each, the original's 1000 per step) and the splat that starts it.
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import torch

import pack_paths  # noqa: E402,F401  (the pack and its test helpers on sys.path)
from gaussian_scenes import sphere_scene  # noqa: E402
from synctweedies.cameras import orbit  # noqa: E402
from synctweedies.gaussians import GaussianColours, load_gaussians, render  # noqa: E402
from timing import machine, report, timed  # noqa: E402


def rig(views: int, size: int):
    azimuths = [360.0 * k / views for k in range(views)]
    return orbit(azimuths, [20.0 * (-1) ** k for k in range(views)], 3.0, 50.0, size, up="z")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gaussians", type=int, default=300000)
    parser.add_argument("--views", type=int, default=50)
    parser.add_argument("--iterations", type=int, default=1000)
    parser.add_argument("--json", type=Path)
    options = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    result = {}
    small = load_gaussians(sphere_scene(folder / "small.ply", 2000)).to("cuda")
    colours = torch.rand(2000, 3, device="cuda", generator=torch.Generator("cuda").manual_seed(0))
    for antialiased in (False, True):
        outs = [render(small, colours, rig(10, 64), antialiased=antialiased, backend=b)
                for b in ("reference", "gsplat")]
        key = "antialiased" if antialiased else "classic"
        result[f"{key}_image_mean_abs_diff"] = round((outs[0].images - outs[1].images).abs().mean().item(), 5)
        result[f"{key}_image_max_abs_diff"] = round((outs[0].images - outs[1].images).abs().max().item(), 4)
        result[f"{key}_alpha_mean_abs_diff"] = round((outs[0].alpha - outs[1].alpha).abs().mean().item(), 5)
    scene = load_gaussians(sphere_scene(folder / "big.ply", options.gaussians, radius=1.0)).to("cuda")
    scene.scales.fill_(torch.log(torch.tensor(0.01)).item())
    build_s, space = timed(lambda: GaussianColours(scene, rig(options.views, 512), 512, torch.ones(3),
                                                   iterations=options.iterations, antialiased=True))
    truth = torch.rand(3, 1, options.gaussians, device="cuda") * 2 - 1
    render_s, views = timed(lambda: space.project(truth))
    space.iterations = 0
    splat_s, _ = timed(lambda: space.unproject(views))
    space.iterations = options.iterations
    fit_s, (fitted, coverage) = timed(lambda: space.unproject(views))
    seen = coverage[0, 0] > 0
    result.update({
        "gaussians": options.gaussians, "views": options.views, "view_px": 512, "iterations": options.iterations,
        "space_build_s": round(build_s, 3), "render_all_views_s": round(render_s, 4), "splat_s": round(splat_s, 4),
        "fit_s": round(fit_s, 3), "fit_error_seen": round((fitted - truth)[:, :, seen].abs().mean().item(), 4),
        "fits_per_run": 24, "fitting_per_run_s": round(24 * fit_s, 1), **machine(),
    })
    report(result, options.json)


if __name__ == "__main__":
    main()
