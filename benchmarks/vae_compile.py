"""The host's VAE compiled as 'SyncTweedies Compile VAE' compiles it (group norms from per-channel sums) and by
Inductor with its own group norms: time of the first call (the compile), mean time of a decode of 8 views' latents
(64²) and of an encode of 8 images of 512 px (``--views``, ``--size``), and each result's largest difference from
a float32 decode or encode (over the float32 result's range). Random-weight SD KL VAE in the host's own precision, under
``torch.inference_mode`` as the host runs its nodes:

    python benchmarks/vae_compile.py --comfyui /path/to/ComfyUI [--json out.json]
"""
from __future__ import annotations

import argparse
import copy
from pathlib import Path

import torch

import pack_paths  # noqa: E402,F401  (the pack and its test helpers on sys.path)
from sync_overhead import import_host, random_vae  # noqa: E402
from timing import machine, report, timed  # noqa: E402
from vae_speed import largest_difference  # noqa: E402


def mean_ms(run, calls: int = 10) -> float:
    """Mean time of ``calls`` calls of ``run()`` after two warm-up calls, in ms."""
    run(), run()
    return round(timed(lambda: [run() for _ in range(calls)])[0] / calls * 1000, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comfyui", type=Path, required=True)
    parser.add_argument("--views", type=int, default=8)
    parser.add_argument("--size", type=int, default=512, help="image size in pixels")
    parser.add_argument("--json", type=Path)
    options = parser.parse_args()
    import_host(options.comfyui)
    from comfyui_synctweedies.nodes.vae_compile import compiled_vae

    vae = random_vae(torch.float32)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    vae.output_device = device
    latents = torch.randn(options.views, 4, options.size // 8, options.size // 8, device=device)
    images = torch.rand(options.views, options.size, options.size, 3, device=device)
    calls = {"decode": lambda codec: codec.decode(latents), "encode": lambda codec: codec.encode(images)}
    result = {"host_vae_dtype": str(vae.vae_dtype)}
    with torch.inference_mode():
        vae.decode(latents)  # loads the autoencoder onto the GPU
        reference = copy.deepcopy(vae.first_stage_model).float()
        exact = {"decode": ((reference.decode(latents) + 1) / 2).clamp(0, 1).movedim(1, -1),
                 "encode": reference.encode(images.movedim(-1, 1) * 2 - 1)}
        del reference
        for name, call in calls.items():
            result[f"host_{name}_ms"] = mean_ms(lambda: call(vae))
            result[f"host_{name}_vs_float32"] = largest_difference(call(vae), exact[name])
        for variant, compiler in (("fast_group_norm", None), ("inductor", torch.compile)):
            torch._dynamo.reset()
            codec = compiled_vae(vae) if compiler is None else compiled_vae(vae, compiler)
            for name, call in calls.items():
                result[f"{variant}_{name}_compile_s"] = round(timed(lambda: call(codec))[0], 1)
                result[f"{variant}_{name}_ms"] = mean_ms(lambda: call(codec))
                result[f"{variant}_{name}_vs_float32"] = largest_difference(call(codec), exact[name])
                print(variant, name, {key: value for key, value in result.items() if key.startswith(variant)},
                      flush=True)
    report({"benchmark": "vae_compile", **machine(), **result}, options.json)


if __name__ == "__main__":
    main()
