"""Panorama at the original's defaults (8 views at 45°, FOV 72°, 512 px views, 30 steps): plain batched sampling
of the 8 views vs SyncTweedies (mode 2) averaging in latent space and in RGB, with the VAE's share.

Random-weight, full-size SD1.5 UNet and KL VAE; CFG 7.5, euler, normal schedule. Needs a ComfyUI checkout:

    python benchmarks/panorama.py --comfyui /path/to/ComfyUI [--json out.json]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sync_overhead import SD15_UNET, import_host, random_unet, random_vae  # noqa: E402
from timing import machine, report, timed  # noqa: E402

class TimedVae:
    """A VAE whose decode/encode calls are counted and timed (CUDA-synchronized)."""

    def __init__(self, vae):
        self.vae, self.seconds, self.calls = vae, 0.0, []

    def __getattr__(self, name):
        return getattr(self.vae, name)

    def _timed(self, name: str, batch: torch.Tensor):
        seconds, out = timed(lambda: getattr(self.vae, name)(batch))
        self.seconds += seconds
        self.calls.append((name, batch.shape[0]))
        return out

    def decode(self, latents):
        return self._timed("decode", latents)

    def encode(self, pixels):
        return self._timed("encode", pixels)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comfyui", type=Path, required=True)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path)
    options = parser.parse_args()

    guider_module = import_host(options.comfyui)
    import comfy.samplers
    from comfyui_synctweedies.synctweedies import Panorama, PanoramaCameras

    dtype = torch.float16 if torch.cuda.is_available() else torch.float32
    model = random_unet(SD15_UNET, dtype)
    vae = TimedVae(random_vae(dtype))
    build_s, space = timed(lambda: Panorama(PanoramaCameras(), view_size=64, canvas_height=256,
                                            pixel_canvas_height=1024))
    build_s += timed(lambda: space.scaled(8))[0]
    generator = torch.Generator().manual_seed(0)
    positive = [[torch.randn(1, 77, 768, generator=generator), {}]]
    negative = [[torch.randn(1, 77, 768, generator=generator), {}]]
    noise = space.initial_noise(4, torch.Generator().manual_seed(0))
    latent = torch.zeros_like(noise)
    sampler = comfy.samplers.sampler_object("euler")
    sigmas = comfy.samplers.calculate_sigmas(model.get_model_object("model_sampling"), "normal", options.steps)

    guiders = {"plain": comfy.samplers.CFGGuider(model),
               "latent": guider_module.SyncTweediesGuider(model, space, 2, 1.0, space.num_views),
               "rgb": guider_module.SyncTweediesGuider(model, space, 2, 1.0, space.num_views, vae=vae)}
    for guider in guiders.values():
        guider.set_conds(positive, negative)
        guider.set_cfg(7.5)
        guider.sample(noise, latent, sampler, sigmas[-3:], disable_pbar=True, seed=0)
    times = {name: [] for name in guiders}
    vae_seconds = []
    for _ in range(options.repeats):
        for name, guider in guiders.items():
            vae.seconds, vae.calls = 0.0, []
            times[name].append(timed(lambda: guider.sample(noise, latent, sampler, sigmas, disable_pbar=True,
                                                           seed=0))[0])
            if name == "rgb":
                vae_seconds.append(vae.seconds)
                calls = list(vae.calls)
    best = {name: min(values) for name, values in times.items()}
    rgb_run = times["rgb"].index(best["rgb"])
    result = {
        **machine(), "dtype": str(dtype),
        "space": repr(space), "steps": options.steps, "space_build_s": round(build_s, 2),
        **{f"{name}_s": round(value, 3) for name, value in best.items()},
        "latent_overhead": round(best["latent"] / best["plain"] - 1, 4),
        "rgb_overhead": round(best["rgb"] / best["plain"] - 1, 4),
        "rgb_vae_s": round(vae_seconds[rgb_run], 3),
        "rgb_vae_share_of_overhead": round(vae_seconds[rgb_run] / max(best["rgb"] - best["plain"], 1e-9), 3),
        "vae_calls_per_run": len(calls), "vae_batch_sizes": sorted({batch for _, batch in calls}),
        "runs_s": {name: [round(t, 3) for t in values] for name, values in times.items()},
    }
    report(result, options.json)


if __name__ == "__main__":
    main()
