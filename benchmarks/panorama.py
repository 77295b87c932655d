"""Panorama at the panorama workflow's defaults (8 views at 45°, FOV 72°, 512 px views, 30 steps, CFG 25, mode 2
until 0.8 of the steps): plain batched sampling of the 8 views vs SyncTweedies averaging in latent space and in RGB
(the full VAE every synchronized step; the same through the host's CPU round trip, as before; and a TAESD draft VAE
for the first half, or the first three quarters, of the steps; the full VAE compiled by 'SyncTweedies Compile VAE', and
compiled by Inductor with its own group norms),
with the VAE's share. Runs under ``torch.inference_mode``, as the host runs its nodes.

Random-weight, full-size SD1.5 UNet, KL VAE and TAESD; euler, normal schedule. Needs a ComfyUI checkout:

    python benchmarks/panorama.py --comfyui /path/to/ComfyUI [--json out.json]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import torch

import pack_paths  # noqa: E402,F401  (the pack and its test helpers on sys.path)
from sync_overhead import SD15_UNET, import_host, random_unet, random_vae  # noqa: E402
from host_support import taesd_state  # noqa: E402
from timing import machine, report, timed  # noqa: E402
from vae_floor import subpixel_upsample  # noqa: E402

class TimedVae:
    """A VAE whose decode/encode calls are counted and timed (CUDA-synchronized). With ``pinned``, setting its
    ``output_device`` does nothing: images go through the host's intermediate device (the CPU), as before."""

    def __init__(self, vae, pinned: bool = False):
        object.__setattr__(self, "vae", vae)
        object.__setattr__(self, "pinned", pinned)
        self.seconds, self.calls = 0.0, []

    def __getattr__(self, name):
        return getattr(self.vae, name)

    def __setattr__(self, name: str, value) -> None:
        if name in ("seconds", "calls"):
            object.__setattr__(self, name, value)
        elif not (self.pinned and name == "output_device"):
            setattr(self.vae, name, value)

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
    parser.add_argument("--runs", nargs="+", help="only these runs (plain, latent, rgb, rgb_compiled, ...); the "
                        "figures of runs left out are not reported")
    parser.add_argument("--json", type=Path)
    options = parser.parse_args()

    guider_module = import_host(options.comfyui)
    with torch.inference_mode():
        measure(guider_module, options)


def measure(guider_module, options: argparse.Namespace) -> None:
    import comfy.samplers
    from comfyui_synctweedies.nodes.vae_codec import vae_codec
    from comfyui_synctweedies.nodes.vae_compile import compiled_vae
    from comfyui_synctweedies.synctweedies import Panorama, PanoramaRig

    dtype = torch.float16 if torch.cuda.is_available() else torch.float32
    model = random_unet(SD15_UNET, dtype)
    import comfy.sd

    full_vae = random_vae(dtype)
    vae, cpu_vae = TimedVae(full_vae), TimedVae(full_vae, pinned=True)
    taesd = TimedVae(comfy.sd.VAE(sd=taesd_state()))
    build_s, space = timed(lambda: Panorama(PanoramaRig(), view_size=64, canvas_height=256,
                                            pixel_canvas_height=1024))
    build_s += timed(lambda: space.scaled(8))[0]
    generator = torch.Generator().manual_seed(0)
    positive = [[torch.randn(1, 77, 768, generator=generator), {}]]
    negative = [[torch.randn(1, 77, 768, generator=generator), {}]]
    noise = space.initial_noise(4, torch.Generator().manual_seed(0))
    latent = torch.zeros_like(noise)
    sampler = comfy.samplers.sampler_object("euler")
    sigmas = comfy.samplers.calculate_sigmas(model.get_model_object("model_sampling"), "normal", options.steps)

    def synced(**options) -> object:
        return guider_module.SyncTweediesGuider(model, space,
                                                guider_module.SyncSettings(2, 0.8, space.num_views, **options))

    lowres_vae = random_vae(dtype)  # the same weights, its upsampling convolutions done at low resolution
    for module in lowres_vae.first_stage_model.decoder.modules():
        if type(module).__name__ == "Upsample" and getattr(module, "with_conv", False):
            subpixel_upsample(module)
    lowres = TimedVae(lowres_vae)
    compiled = TimedVae(compiled_vae(full_vae))  # with group norms from channel sums, as the node compiles it
    inductor = TimedVae(compiled_vae(full_vae, torch.compile))  # Inductor's own group norms
    guiders = {"plain": comfy.samplers.CFGGuider(model), "latent": synced(), "rgb": synced(vae=vae),
               "rgb_via_cpu": synced(vae=cpu_vae), "rgb_draft": synced(vae=vae, draft_vae=taesd, draft_vae_end=0.5),
               "rgb_draft_late": synced(vae=vae, draft_vae=taesd, draft_vae_end=0.75),
               "rgb_lowres": synced(vae=lowres), "rgb_benchmark": synced(vae=vae),
               "rgb_lowres_benchmark": synced(vae=lowres), "rgb_compiled": synced(vae=compiled),
               "rgb_compiled_inductor": synced(vae=inductor)}
    guiders = {name: guider for name, guider in guiders.items() if name in (options.runs or guiders)}
    views = torch.randn(space.num_views, 4, 64, 64, device=model.load_device, dtype=dtype)
    compile_s = {}
    for name, codec in (("rgb_compiled", compiled), ("rgb_compiled_inductor", inductor)):
        if name in guiders:  # compiled only for the runs asked for
            decode, encode = vae_codec(codec, model.model)  # the sampler's own calls, so their shapes and strides
            compile_s[name] = round(timed(lambda: encode(decode(views)))[0], 1)
    codecs = (vae, cpu_vae, taesd, lowres, compiled, inductor)
    for name, guider in guiders.items():
        guider.set_conds(positive, negative)
        guider.set_cfg(25.0)
        torch.backends.cudnn.benchmark = name.endswith("_benchmark")
        guider.sample(noise, latent, sampler, sigmas[-3:], disable_pbar=True, seed=0)
    times = {name: [] for name in guiders}
    vae_seconds, results, calls = {name: [] for name in guiders}, {}, {}
    for _ in range(options.repeats):
        for name, guider in guiders.items():
            for codec in codecs:
                codec.seconds, codec.calls = 0.0, []
            torch.backends.cudnn.benchmark = name.endswith("_benchmark")  # cuDNN picks its fastest convolutions
            seconds, results[name] = timed(lambda: guider.sample(noise, latent, sampler, sigmas, disable_pbar=True,
                                                                 seed=0))
            times[name].append(seconds)
            vae_seconds[name].append(sum(codec.seconds for codec in codecs))
            calls[name] = [call for codec in codecs for call in codec.calls]
    best = {name: min(values) for name, values in times.items()}
    result = {
        **machine(), "dtype": str(dtype),
        "space": repr(space), "steps": options.steps, "sync_end": 0.8, "space_build_s": round(build_s, 2),
        "vae_compile_s": compile_s,
        **{f"{name}_s": round(value, 3) for name, value in best.items()},
        **{f"{name}_vs_plain": round(best[name] / best["plain"], 3) for name in best if name != "plain"},
        **{f"{name}_vs_rgb_max_abs": round((results[name] - results["rgb"].to(results[name])).abs().max().item(), 5)
           for name in results if "rgb" in results and name != "rgb"},
        **{f"{name}_vae_s": round(vae_seconds[name][times[name].index(best[name])], 3)
           for name in best if name.startswith("rgb")},
        "vae_calls_per_run": {name: len(made) for name, made in calls.items() if made},
        "vae_batch_sizes": sorted({batch for made in calls.values() for _, batch in made}),
        "runs_s": {name: [round(t, 3) for t in values] for name, values in times.items()},
    }
    report(result, options.json)


if __name__ == "__main__":
    main()
