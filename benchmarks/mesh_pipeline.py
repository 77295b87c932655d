"""A whole mesh texturing run at the original's defaults, with synchronization's share of the sampling time.

10 views at 768 px (96 latent), a 1536² latent texture, 30 euler steps on ddim_uniform, CFG, mode 2 until 0.8 of
the steps, neighbour attention throughout and reference attention until 0.2, shuffled backgrounds; random-weight
full SD1.5 UNet. Needs a ComfyUI checkout:

    python benchmarks/mesh_pipeline.py --comfyui /path/to/ComfyUI path/to/mesh.obj [--json out.json]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import torch

import pack_paths  # noqa: E402,F401  (the pack and its test helpers on sys.path)
from sync_overhead import import_host, random_unet  # noqa: E402
from timing import machine, report, timed  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comfyui", type=Path, required=True)
    parser.add_argument("mesh", type=Path)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--json", type=Path)
    options = parser.parse_args()
    guider_module = import_host(options.comfyui)
    import comfy.samplers
    from comfyui_synctweedies.synctweedies.mesh import MeshTexture, load_mesh, orbit_cameras
    from host_support import SD15_UNET
    from comfyui_synctweedies.synctweedies.mesh.background import BackgroundSchedule

    dtype = torch.float16 if torch.cuda.is_available() else torch.float32
    model = random_unet(SD15_UNET, dtype)
    seconds_load, (mesh, _) = timed(lambda: load_mesh(options.mesh))
    mesh = mesh.normalized()
    build_s, space = timed(lambda: MeshTexture(mesh, orbit_cameras(distance=2.0, fov=60.0), 96, 1536, 1024,
                                               schedule=BackgroundSchedule(), device=model.load_device))
    space.palette = torch.randn(14, 4)
    generator = torch.Generator().manual_seed(0)
    prompt = lambda: [[torch.randn(1, 77, 768, generator=generator), {}]]  # noqa: E731
    positive, negative = prompt(), prompt()
    noise = space.initial_noise(4, torch.Generator().manual_seed(0))
    latent = torch.zeros_like(noise)
    sampler = comfy.samplers.sampler_object("euler")
    sigmas = comfy.samplers.calculate_sigmas(model.get_model_object("model_sampling"), "ddim_uniform", options.steps)
    plain = comfy.samplers.CFGGuider(model)
    synced = guider_module.SyncTweediesGuider(model, space,
                                              guider_module.SyncSettings(2, 0.8, views_per_batch=space.num_views,
                                                                         ref_attention_end=0.2,
                                                                         neighbour_attention=True))
    for guider in (plain, synced):
        guider.set_conds(positive, negative)
        guider.set_cfg(15.5)

    sync_seconds = []
    synchronize = space.synchronize

    def timed_synchronize(views):
        seconds, result = timed(lambda: synchronize(views))
        sync_seconds.append(seconds)
        return result

    space.synchronize = timed_synchronize
    run = lambda guider, s: lambda: guider.sample(noise, latent, sampler, s, disable_pbar=True, seed=0)  # noqa: E731
    for guider in (plain, synced):
        run(guider, sigmas[-3:])()
    plain_s = min(timed(run(plain, sigmas))[0] for _ in range(2))
    sync_runs = []
    for _ in range(2):
        sync_seconds.clear()
        sync_runs.append((timed(run(synced, sigmas))[0], sum(sync_seconds), len(sync_seconds)))
    sync_s, in_sync_s, calls = min(sync_runs)
    pixels_s, pixel_space = timed(lambda: space.scaled(8))
    images = torch.rand(space.num_views, 3, 768, 768, device=noise.device)
    texture_s, _ = timed(lambda: pixel_space.unproject_final(images.to(model.load_device)))
    result = {
        **machine(), "dtype": str(dtype), "space": repr(space), "steps": options.steps,
        "mesh_load_s": round(seconds_load, 3), "space_build_s": round(build_s, 3),
        "plain_sampling_s": round(plain_s, 3), "sync_sampling_s": round(sync_s, 3),
        "synchronize_s": round(in_sync_s, 3), "synchronize_calls": calls,
        "sync_share_of_sampling": round(in_sync_s / sync_s, 4),
        "rgb_space_build_s": round(pixels_s, 3), "rgb_texture_unproject_s": round(texture_s, 3),
        "total_s": round(seconds_load + build_s + sync_s + pixels_s + texture_s, 3),
    }
    report(result, options.json)


if __name__ == "__main__":
    main()
