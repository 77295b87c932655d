"""A whole 3D Gaussian recolouring run at the original's defaults, with the colour fitting's share.

50 views of 512 px (64 latent) from a Blender transforms file, a synthetic scene of ``--gaussians`` small
Gaussians, 30 euler steps on ddim_uniform, CFG 35, mode 2 in RGB through the VAE until 0.8 of the steps, neighbour
attention throughout and reference attention until 0.2, 1,000 fitting iterations per synchronized step and 4,000 for
the final colours (the gaussians workflow's settings); random-weight full SD1.5 UNet and VAE, fp16.
Needs a ComfyUI checkout and gsplat (CUDA):

    python benchmarks/gaussians_pipeline.py --comfyui /path/to/ComfyUI transforms_test.json [--json out.json]
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import torch

import pack_paths  # noqa: F401  (the pack and its test helpers on sys.path)
from sync_overhead import import_host, random_unet, random_vae  # noqa: E402
from timing import machine, report, timed  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comfyui", type=Path, required=True)
    parser.add_argument("transforms", type=Path)
    parser.add_argument("--gaussians", type=int, default=300000)
    parser.add_argument("--iterations", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--json", type=Path)
    options = parser.parse_args()
    guider_module = import_host(options.comfyui)
    import comfy.samplers
    from comfyui_synctweedies.synctweedies.gaussians import (GaussianColours, blender_cameras, load_gaussians,
                                                             save_gaussians)
    from gaussian_scenes import sphere_scene
    from host_support import SD15_UNET

    dtype = torch.float16
    model, vae = random_unet(SD15_UNET, dtype), random_vae(dtype)
    folder = Path(tempfile.mkdtemp())
    scene = load_gaussians(sphere_scene(folder / "scene.ply", options.gaussians, radius=0.7)).to("cuda")
    scene.scales.fill_(torch.log(torch.tensor(0.01)).item())
    cameras = blender_cameras(options.transforms, 512).subset(50)
    build_s, space = timed(lambda: GaussianColours(scene, cameras, 64, torch.zeros(4), options.iterations,
                                                   antialiased=True, pixel_background=torch.ones(3),
                                                   rgb_domain=True, final_iterations=4000))
    fits = []
    pixels = space.scaled(8)
    unproject = pixels.unproject

    def timed_unproject(views, weights=None, **options):
        seconds, result = timed(lambda: unproject(views, weights, **options))
        fits.append(seconds)
        return result

    pixels.unproject = timed_unproject
    generator = torch.Generator().manual_seed(0)
    prompt = lambda: [[torch.randn(1, 77, 768, generator=generator), {}]]  # noqa: E731
    guider = guider_module.SyncTweediesGuider(model, space,
                                              guider_module.SyncSettings(2, 0.8, vae=vae, ref_attention_end=0.2,
                                                                         neighbour_attention=True))
    guider.set_conds(prompt(), prompt())
    guider.set_cfg(35.0)
    noise_s, noise = timed(lambda: space.initial_noise(4, torch.Generator().manual_seed(0)))
    sigmas = comfy.samplers.calculate_sigmas(model.get_model_object("model_sampling"), "ddim_uniform", options.steps)
    euler = comfy.samplers.sampler_object("euler")
    sample_s, views = timed(lambda: guider.sample(noise, torch.zeros_like(noise), euler, sigmas, disable_pbar=True,
                                                  seed=0))
    fitting_in_sampling = sum(fits)

    def finish():
        images = vae.decode(views.to(vae.device)).movedim(-1, 1) * 2 - 1
        colours, _ = pixels.unproject_final(images.float())
        return save_gaussians(scene, (colours[:, 0].T + 1) / 2, folder / "recoloured.ply")

    final_s, _ = timed(finish)
    total = build_s + noise_s + sample_s + final_s
    report({**machine(), "gaussians": options.gaussians, "views": len(cameras), "steps": options.steps,
            "iterations": options.iterations, "space_build_s": round(build_s, 2), "noise_s": round(noise_s, 2),
            "sampling_s": round(sample_s, 1), "fitting_in_sampling_s": round(fitting_in_sampling, 1),
            "fits": len(fits) - 1, "final_decode_fit_save_s": round(final_s, 1), "total_s": round(total, 1),
            "fitting_share": round((fitting_in_sampling + fits[-1]) / total, 3)}, options.json)


if __name__ == "__main__":
    main()
