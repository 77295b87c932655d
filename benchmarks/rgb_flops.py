"""Why RGB-space synchronization costs what it does: the floating-point work of one sampling step, counted (not
timed) with ``torch.utils.flop_counter`` on the host's own SD1.5 UNet and KL VAE at the panorama workflow's
settings (8 views of 512 px, 64 latent px, CFG), on any machine:

    python benchmarks/rgb_flops.py --comfyui /path/to/ComfyUI [--json out.json]

``rgb_vs_plain_floor`` is the ratio of a whole panorama's work with RGB averaging (the UNet at every step, one
decode and one encode of every view at each synchronized step) to plain sampling's: no implementation of the same
computation that runs the VAE as efficiently as the UNet can beat it.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

import pack_paths  # noqa: E402,F401  (the pack and its test helpers on sys.path)
from sync_overhead import SD15_UNET, import_host, random_unet, random_vae  # noqa: E402
from timing import report  # noqa: E402


def tflops(run) -> float:
    """Tera floating-point operations of ``run()``, one image."""
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        run()
    return counter.get_total_flops() / 1e12


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comfyui", type=Path, required=True)
    parser.add_argument("--views", type=int, default=8)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--sync_end", type=float, default=0.8)
    parser.add_argument("--json", type=Path)
    options = parser.parse_args()
    import_host(options.comfyui)
    unet = random_unet(SD15_UNET, torch.float32).model.diffusion_model
    vae = random_vae(torch.float32).first_stage_model
    latent, context = torch.randn(1, 4, 64, 64), torch.randn(1, 77, 768)
    unet_image = tflops(lambda: unet(latent, torch.tensor([500.0]), context=context))
    decode = tflops(lambda: vae.decode(latent))
    encode = tflops(lambda: vae.encode(torch.randn(1, 3, 512, 512)))
    synchronized = round(options.steps * options.sync_end)
    plain = options.steps * 2 * options.views * unet_image
    rgb = plain + synchronized * options.views * (decode + encode)
    report({"benchmark": "rgb_flops", "views": options.views, "steps": options.steps,
            "synchronized_steps": synchronized, "unet_tflop_per_image": round(unet_image, 3),
            "vae_decode_tflop_per_view": round(decode, 3), "vae_encode_tflop_per_view": round(encode, 3),
            "vae_vs_unet_per_synchronized_step": round((decode + encode) / (2 * unet_image), 2),
            "rgb_vs_plain_floor": round(rgb / plain, 2)}, options.json)


if __name__ == "__main__":
    main()
