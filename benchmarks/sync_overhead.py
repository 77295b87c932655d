"""Synchronization overhead: plain batched sampling of N views vs SyncTweedies sampling of the same views.

Both runs use the host's CFG guider machinery, the same random-weight SD1.5-shaped UNet, noise,
sampler (euler) and schedule; overhead = sync time / plain time - 1. Needs a ComfyUI checkout:

    python benchmarks/sync_overhead.py --comfyui /path/to/ComfyUI              # GPU, 512x3072, 50 steps
    python benchmarks/sync_overhead.py --comfyui /path/to/ComfyUI --width 1024 --height 256 \
        --window 256 --stride 128 --steps 4 --unet tiny                      # a small CPU figure
    python benchmarks/sync_overhead.py --comfyui /path/to/ComfyUI --anagram identity rotate_cw
        # a 512 px anagram, one prompt per view, vs plain sampling of a batch of as many images
    python benchmarks/sync_overhead.py --comfyui /path/to/ComfyUI --template --coarse-until 0 0.8 0.9
        # the wide-image template's canvas and sampling (ddim_uniform, cross-view attention: neighbours always,
        # the reference view until 0.2); every window at every step, then every other window for the first 0.8
        # or 0.9 of the steps
"""
from __future__ import annotations

import argparse
import importlib
import json
import sys
import types
from pathlib import Path

import torch

from pack_paths import REPO, add  # noqa: E402  (and the pack and its test helpers on sys.path)
from host_support import SD15_UNET, TINY_UNET, load_pack, randomize, unet_state  # noqa: E402
from timing import machine, report, timed  # noqa: E402


def import_host(comfyui: Path):
    """Import the host's sampling core and the pack's guider (without the pack's node registry)."""
    add(str(comfyui))
    from comfy.cli_args import args

    args.cpu = not torch.cuda.is_available()
    import comfy.samplers  # noqa: F401

    load_pack()
    nodes = types.ModuleType("comfyui_synctweedies.nodes")
    nodes.__path__ = [str(REPO / "nodes")]
    sys.modules["comfyui_synctweedies.nodes"] = nodes
    return importlib.import_module("comfyui_synctweedies.nodes.guider")


def random_unet(config: dict, dtype: torch.dtype):
    """A ModelPatcher of an SD1.5-detected UNet with random weights."""
    import comfy.model_management
    import comfy.sd

    state = unet_state(config, dtype, comfy.model_management.get_torch_device())
    return comfy.sd.load_diffusion_model_state_dict(state, model_options={"dtype": dtype})


SD_VAE = {"double_z": True, "z_channels": 4, "resolution": 256, "in_channels": 3, "out_ch": 3, "ch": 128,
          "ch_mult": [1, 2, 4, 4], "num_res_blocks": 2, "attn_resolutions": [], "dropout": 0.0}


def random_vae(dtype: torch.dtype):
    """The host's VAE wrapper around a random-weight SD KL autoencoder."""
    import comfy.sd
    from comfy.ldm.models.autoencoder import AutoencoderKL

    state = randomize(AutoencoderKL(ddconfig=SD_VAE, embed_dim=4), 5)
    return comfy.sd.VAE(sd={k: v.to(dtype) for k, v in state.items()})


def apply_template(options: argparse.Namespace) -> None:
    """Set ``options`` to the wide-image template's canvas and sampler inputs."""
    graph = json.loads((REPO / "workflows" / "api" / "wide_image.json").read_text())
    inputs = {node["class_type"]: node["inputs"] for node in graph.values()}
    canvas, sampler = inputs["SyncTweediesWideCanvas"], inputs["SyncTweediesSampler"]
    for name in ("width", "height", "window", "stride"):
        setattr(options, name, canvas[name])
    for name in ("steps", "cfg", "scheduler", "ref_attention_end", "neighbour_attention"):
        setattr(options, name, sampler[name])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comfyui", type=Path, required=True)
    parser.add_argument("--width", type=int, default=3072)
    parser.add_argument("--height", type=int, default=512)
    parser.add_argument("--window", type=int, default=512)
    parser.add_argument("--stride", type=int, default=64)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--cfg", type=float, default=7.5)
    parser.add_argument("--mode", type=int, default=2)
    parser.add_argument("--unet", choices=["full", "tiny"], default="full")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--scheduler", default="normal")
    parser.add_argument("--ref-attention-end", type=float, default=0.0)
    parser.add_argument("--neighbour-attention", action="store_true")
    parser.add_argument("--template", action="store_true", help="the wide-image template's canvas, steps, CFG, "
                        "scheduler and cross-view attention, read from workflows/api/wide_image.json (overriding "
                        "those options)")
    parser.add_argument("--coarse-until", type=float, nargs="+", default=[0.0],
                        help="time the synchronized run for each (every other window for this first fraction of the "
                             "steps); the first one's figures are the top-level ones")
    parser.add_argument("--anagram", nargs="+", metavar="VIEW",
                        help="sample an anagram of these views (window px square, a prompt each) instead")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    options = parser.parse_args()

    guider_module = import_host(options.comfyui)
    import comfy.samplers
    from comfyui_synctweedies.synctweedies import AnagramSpace, WideCanvas

    if options.template:
        apply_template(options)
    dtype = torch.float16 if torch.cuda.is_available() else torch.float32
    model = random_unet(SD15_UNET if options.unet == "full" else TINY_UNET, dtype)
    if options.anagram:
        spaces = {0.0: AnagramSpace(options.anagram, options.window // 8)}
    else:
        spaces = {coarse: WideCanvas(options.height // 8, options.width // 8, options.window // 8,
                                     options.stride // 8, coarse_until=coarse) for coarse in options.coarse_until}
    space = next(iter(spaces.values()))
    generator = torch.Generator().manual_seed(0)
    prompt = lambda: [[torch.randn(1, 77, 768, generator=generator), {}]]  # noqa: E731
    positive, negative = prompt(), prompt()
    per_view = [prompt() for _ in range(space.num_views)] if options.anagram else positive
    noise = space.initial_noise(4, torch.Generator().manual_seed(0))
    latent = torch.zeros_like(noise)
    sampler = comfy.samplers.sampler_object("euler")
    sigmas = comfy.samplers.calculate_sigmas(model.get_model_object("model_sampling"), options.scheduler,
                                             options.steps)
    settings = guider_module.SyncSettings(options.mode, 1.0, views_per_batch=space.num_views,
                                          ref_attention_end=options.ref_attention_end,
                                          neighbour_attention=options.neighbour_attention)
    guiders = {"plain": comfy.samplers.CFGGuider(model),
               **{coarse: guider_module.SyncTweediesGuider(model, each, settings) for coarse, each in spaces.items()}}
    for name, guider in guiders.items():
        guider.set_conds(positive if name == "plain" else per_view, negative)
        guider.set_cfg(options.cfg)

    def run(guider, steps_sigmas):
        return lambda: guider.sample(noise, latent, sampler, steps_sigmas, disable_pbar=True, seed=0)

    for guider in guiders.values():
        run(guider, sigmas[-3:])()
    times = {name: [] for name in guiders}
    for _ in range(options.repeats):
        for name, guider in guiders.items():
            times[name].append(timed(run(guider, sigmas))[0])
    views = noise.to(model.load_device, dtype)
    sync_op_s = timed(lambda: [space.synchronize(views) for _ in range(100)])[0] / 100
    plain_s = min(times["plain"])

    def figures(name) -> dict:
        sync_s = min(times[name])
        paired = sorted(s / p for p, s in zip(times["plain"], times[name]))
        return {"sync_s": round(sync_s, 3), "sync_ms_per_step": round(1000 * sync_s / options.steps, 1),
                "overhead": round(sync_s / plain_s - 1, 4), "median_paired_ratio": round(paired[len(paired) // 2], 4),
                "sync_runs_s": [round(t, 3) for t in times[name]]}

    result = {
        **machine(),
        "dtype": str(dtype), "unet": options.unet, "space": repr(space), "views": space.num_views,
        "steps": options.steps, "scheduler": options.scheduler, "ref_attention_end": options.ref_attention_end,
        "neighbour_attention": options.neighbour_attention,
        "mode": options.mode, "plain_s": round(plain_s, 3), **figures(options.coarse_until[0]),
        "plain_ms_per_step": round(1000 * plain_s / options.steps, 1),
        "synchronize_ms": round(1000 * sync_op_s, 3),
        "plain_runs_s": [round(t, 3) for t in times["plain"]],
    }
    if len(spaces) > 1:
        result["by_coarse_until"] = {str(coarse): figures(coarse) for coarse in spaces}
    report(result, options.json)


if __name__ == "__main__":
    main()
