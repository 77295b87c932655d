"""Upscaling beside the tiling packs users reach for: the pack's upscale template against TiledDiffusion
(MultiDiffusion, Mixture of Diffusers) and Ultimate SD Upscale, in the same host with the same random-weight SD1.5,
image, steps, denoise, CFG and 512 px tiles overlapping by 128 px. Each whole job is timed from the enlarged image
to the decoded result (VAE included), with its peak GPU memory.

    python benchmarks/upscale_peers.py --comfyui .host --peers .peers --json out.json

``--peers`` holds checkouts of github:shiimizu/ComfyUI-TiledDiffusion and github:ssitu/ComfyUI_UltimateSDUpscale
(its ``repositories/ultimate_sd_upscale`` filled from github:Coyote-A/ultimate-upscale-for-automatic1111).
"""
from __future__ import annotations

import argparse
import importlib
import types
from pathlib import Path

import torch

from pack_paths import add  # noqa: E402
from sync_overhead import import_host, random_unet, random_vae  # noqa: E402
from host_support import SD15_UNET, TINY_UNET  # noqa: E402
from timing import machine, report, timed  # noqa: E402

SETTINGS = {"steps": 20, "denoise": 0.35, "cfg": 7.5, "sampler": "euler", "scheduler": "normal", "tile": 512,
            "overlap": 128}
"""The job: the upscale template's sampler settings and windows (512 px every 384 px)."""


def pack_nodes():
    """The pack's node modules the upscale template uses, inside the host."""
    names = ("image_canvas", "decode", "sampling")
    return types.SimpleNamespace(**{name: importlib.import_module(f"comfyui_synctweedies.nodes.{name}")
                                    for name in names})


def ours(nodes, model, vae, positive, negative, image):
    space = nodes.image_canvas.ImageCanvasNode.execute(image, SETTINGS["tile"], SETTINGS["tile"] - SETTINGS["overlap"],
                                                       "taper", False, False).args[0]
    latent = nodes.decode.EncodeNode.execute(vae, image, space).args[0]
    mode = next(option for option in nodes.sampling.SamplerNode.define_schema().inputs if option.id == "mode")
    views = nodes.sampling.SamplerNode.execute(model, positive, negative, 0, SETTINGS["steps"], SETTINGS["cfg"],
                                               SETTINGS["sampler"], SETTINGS["scheduler"], SETTINGS["denoise"], space,
                                               mode.default, 1.0, 0, latent_image=latent).args[0]
    return nodes.decode.DecodeNode.execute(vae, views, space).args[0]


def tiled_diffusion(method: str, batch: int):
    def run(model, vae, positive, negative, image):
        import nodes as host_nodes

        module = importlib.import_module("ComfyUI-TiledDiffusion.tiled_diffusion")
        tiled = module.TiledDiffusion().apply(model, method, SETTINGS["tile"], SETTINGS["tile"], SETTINGS["overlap"],
                                              batch)[0]
        latent = host_nodes.VAEEncode().encode(vae, image)[0]
        samples = host_nodes.common_ksampler(tiled, 0, SETTINGS["steps"], SETTINGS["cfg"], SETTINGS["sampler"],
                                             SETTINGS["scheduler"], positive, negative, latent,
                                             denoise=SETTINGS["denoise"])[0]
        return host_nodes.VAEDecode().decode(vae, samples)[0]
    return run


def ultimate_sd_upscale(batch: int):
    def run(model, vae, positive, negative, image):
        module = importlib.import_module("ComfyUI_UltimateSDUpscale")
        node = module.NODE_CLASS_MAPPINGS["UltimateSDUpscaleNoUpscale"]()
        return node.upscale(image, model, positive, negative, vae, 0, SETTINGS["steps"], SETTINGS["cfg"],
                            SETTINGS["sampler"], SETTINGS["scheduler"], SETTINGS["denoise"], "Linear",
                            SETTINGS["tile"], SETTINGS["tile"], 8, SETTINGS["overlap"] // 2, "None", 1.0, 8, 64, 16,
                            True, False, batch)[0]
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comfyui", type=Path, required=True)
    parser.add_argument("--peers", type=Path, required=True)
    parser.add_argument("--size", type=int, default=2048, help="the input's side in px (enlarged 2x)")
    parser.add_argument("--warmup", type=int, default=512,
                        help="the input's side of each method's warm-up run (0: none)")
    parser.add_argument("--only", nargs="*", help="run only these methods")
    parser.add_argument("--unet", choices=["full", "tiny"], default="full", help="tiny: a smoke test on the CPU")
    parser.add_argument("--tile", type=int, default=SETTINGS["tile"], help="tile px (a smoke test's smaller)")
    parser.add_argument("--overlap", type=int, default=SETTINGS["overlap"])
    parser.add_argument("--json", type=Path)
    options = parser.parse_args()

    SETTINGS.update(tile=options.tile, overlap=options.overlap)
    import_host(options.comfyui)
    add(options.peers)
    import comfy.model_management
    import comfy.utils

    nodes = pack_nodes()
    dtype = torch.float16 if torch.cuda.is_available() else torch.float32
    model, vae = random_unet(SD15_UNET if options.unet == "full" else TINY_UNET, dtype), random_vae(dtype)
    generator = torch.Generator().manual_seed(0)
    prompt = lambda: [[torch.randn(1, 77, 768, generator=generator), {}]]  # noqa: E731
    positive, negative = prompt(), prompt()

    def enlarged(size: int) -> torch.Tensor:
        small = torch.nn.functional.interpolate(torch.rand(1, 3, size // 32, size // 32, generator=generator),
                                                size=(size, size), mode="bicubic").clamp(0, 1)
        return comfy.utils.common_upscale(small, 2 * size, 2 * size, "lanczos", "disabled").movedim(1, -1)

    methods = {"synctweedies": lambda *a: ours(nodes, *a),
               "multidiffusion": tiled_diffusion("MultiDiffusion", 16),
               "mixture_of_diffusers": tiled_diffusion("Mixture of Diffusers", 16),
               "ultimate_sd_upscale": ultimate_sd_upscale(1)}
    image = enlarged(options.size)
    result = {"settings": SETTINGS, "input_px": options.size, "output_px": 2 * options.size, "dtype": str(dtype),
              "unet": f"{options.unet} SD1.5-shaped UNet, random weights", "methods": {}}
    for name, method in methods.items():
        if options.only and name not in options.only:
            continue
        run = torch.inference_mode()(method)  # as the host runs every node
        if options.warmup:
            run(model, vae, positive, negative, enlarged(options.warmup))
        comfy.model_management.soft_empty_cache()
        if torch.cuda.is_available():
            torch.cuda.reset_peak_memory_stats()
        try:
            seconds, output = timed(lambda: run(model, vae, positive, negative, image))
        except Exception as error:  # one method failing still reports the others
            result["methods"][name] = {"error": f"{type(error).__name__}: {error}"}
            print(name, result["methods"][name], flush=True)
            continue
        result["methods"][name] = {"seconds": round(seconds, 2), **machine(), "output": list(output.shape)}
        print(name, result["methods"][name], flush=True)
    ours_s = result["methods"].get("synctweedies", {}).get("seconds")
    if ours_s:
        peers = {name: entry for name, entry in result["methods"].items()
                 if name != "synctweedies" and "seconds" in entry}
        result["time_ratio_vs"] = {name: round(ours_s / entry["seconds"], 3) for name, entry in peers.items()}
        ours_gib = result["methods"]["synctweedies"]["peak_gpu_gib"]
        if ours_gib:
            result["memory_ratio_vs"] = {name: round(ours_gib / entry["peak_gpu_gib"], 3)
                                         for name, entry in peers.items()}
    report(result, options.json)


if __name__ == "__main__":
    main()
