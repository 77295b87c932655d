"""Seams and closeness to the image of the upscale job under an exact Tweedie denoiser, this pack beside
TiledDiffusion's MultiDiffusion and Mixture of Diffusers, in one host process (CPU). The host model's denoiser is
replaced by the posterior mean E[x0 | x] of a small image set (photo or texture patches of one window's size), so
each method's sampler, tiling and averaging run as they do for users while the model's answer is exact. The job is
the template's: windows of 64 latent px every 48 (512 px overlapping by 128), 20 euler steps on the normal schedule
at denoise 0.35, on a 176 x 224 latent image (a photo or a texture). Latent space throughout: no VAE. Ultimate SD
Upscale encodes and decodes each tile, so it is not measured here.

    python benchmarks/upscale_quality.py --comfyui /path/to/ComfyUI --peers .peers [--seeds 4] [--json out.json]
"""
from __future__ import annotations

import argparse
import importlib
from pathlib import Path

import torch

from pack_paths import add  # noqa: E402
from sync_overhead import import_host, random_unet  # noqa: E402
from host_support import TINY_UNET  # noqa: E402
from synctweedies import ImageCanvas, PosteriorMeanDenoiser  # noqa: E402
from synctweedies.canvas.wide_canvas import window_starts  # noqa: E402
from test_tiling_templates import DATA, borders, input_image, window_seams  # noqa: E402
from timing import machine, report  # noqa: E402

SETTINGS = {"steps": 20, "denoise": 0.35, "cfg": 1.0, "sampler": "euler", "scheduler": "normal"}


def four_channels(images: torch.Tensor) -> torch.Tensor:
    """``[..., 3, h, w]`` → ``[..., 4, h, w]`` with a zero fourth channel (an SD latent's channels)."""
    return torch.cat([images, torch.zeros_like(images[..., :1, :, :])], -3)


def evenly_spaced(length: int, window: int, overlap: int) -> list[int]:
    """TiledDiffusion's tile starts along one axis: as few tiles as overlap by at least ``overlap``, evenly spread."""
    count = -(-(length - overlap) // (window - overlap))
    step = (length - window) / (count - 1) if count > 1 else 0
    return [min(int(k * step), length - window) for k in range(count)]


def exact_model(data: torch.Tensor):
    """A host ModelPatcher whose model answers with the posterior mean of latents ``data`` ``[M, 4, h, w]`` (scaled
    as the sampler scales latents) at the sampler's own sigma."""
    model = random_unet(TINY_UNET, torch.float32)
    denoiser = PosteriorMeanDenoiser(model.model.process_latent_in(data))
    model.model._apply_model = lambda x, sigma, *args, **kwargs: denoiser(x.float(), sigma.view(-1)[0].float())
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comfyui", type=Path, required=True)
    parser.add_argument("--peers", type=Path, required=True)
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--json", type=Path)
    options = parser.parse_args()
    import_host(options.comfyui)
    add(options.peers)
    import nodes as host_nodes

    sampling = importlib.import_module("comfyui_synctweedies.nodes.sampling")
    tiled = importlib.import_module("ComfyUI-TiledDiffusion.tiled_diffusion").TiledDiffusion
    mode = next(option for option in sampling.SamplerNode.define_schema().inputs if option.id == "mode").default
    space = ImageCanvas(176 * 8, 224 * 8, 512, 384, 8)
    conditioning = [[torch.zeros(1, 77, 768), {}]]
    results = {}
    for kind in ("photos", "textures"):
        data = four_channels(DATA[kind](space.window))
        model = exact_model(data)
        image = four_channels(input_image(kind, space.height, space.width))
        rms = data[:, :3].square().mean().sqrt().item()

        def ours(seed: int) -> torch.Tensor:
            views = sampling.SamplerNode.execute(model, conditioning, conditioning, seed, SETTINGS["steps"],
                                                 SETTINGS["cfg"], SETTINGS["sampler"], SETTINGS["scheduler"],
                                                 SETTINGS["denoise"], space, mode, 1.0, 0,
                                                 latent_image={"samples": space.project(image)}).args[0]
            return space.unproject(views["samples"].float())[0]

        def peer(method: str):
            patched = tiled().apply(model, method, 512, 512, 128, 16)[0]

            def run(seed: int) -> torch.Tensor:
                return host_nodes.common_ksampler(patched, seed, SETTINGS["steps"], SETTINGS["cfg"],
                                                  SETTINGS["sampler"], SETTINGS["scheduler"], conditioning,
                                                  conditioning, {"samples": image[None]},
                                                  denoise=SETTINGS["denoise"], disable_noise=False)[0]["samples"][0]
            return run

        grids = {"synctweedies": [borders(window_starts(n, 64, 48, False), 64, n) for n in (176, 224)],
                 "tiled": [borders(evenly_spaced(n, 64, 16), 64, n) for n in (176, 224)]}
        results[kind] = {}
        for name, run in {"synctweedies": ours, "multidiffusion": peer("MultiDiffusion"),
                          "mixture_of_diffusers": peer("Mixture of Diffusers")}.items():
            seams, closeness = [], []
            for seed in range(options.seeds):
                with torch.inference_mode():
                    result = run(seed).float()[:3]
                rows, cols = grids["synctweedies" if name == "synctweedies" else "tiled"]
                seams.append(window_seams(result, rows, cols) / window_seams(image[:3], rows, cols))
                closeness.append(((result - image[:3]).square().mean().sqrt() / rms).item())
            results[kind][name] = {"seams_over_input": round(sum(seams) / len(seams), 4),
                                   "distance_to_input": round(sum(closeness) / len(closeness), 4)}
            print(kind, name, results[kind][name], flush=True)
    report({"benchmark": "upscale_quality", **machine(), "settings": SETTINGS, "latent": "176x224",
            "windows": "64 latent px every 48", "seeds": options.seeds, "data": results}, options.json)


if __name__ == "__main__":
    main()
