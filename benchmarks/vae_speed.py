"""The VAE work of RGB-space synchronization (one decode and one encode of every view per step), done several ways:
the host's decode/encode as they are (images to the intermediate device, the CPU by default, and back), kept on
the GPU, in other precisions and memory formats, and compiled (the host's VAE through 'SyncTweedies Compile VAE', and
the bare autoencoder), with each compiled route's difference from the host's and from a float32 decode and encode.
Random-weight SD KL VAE, batch of 8 views of 512 px:

    python benchmarks/vae_speed.py --comfyui /path/to/ComfyUI [--json out.json]
"""
from __future__ import annotations

import argparse
import copy
from pathlib import Path

import torch

import pack_paths  # noqa: E402,F401  (the pack and its test helpers on sys.path)
from sync_overhead import import_host, random_vae  # noqa: E402
from timing import machine, report, timed  # noqa: E402


def best_ms(run, repeats: int = 10) -> float:
    run()
    return round(min(timed(run)[0] for _ in range(repeats)) * 1000, 2)


def largest_difference(a: torch.Tensor, b: torch.Tensor) -> float:
    """max |a - b| over the range of ``b``."""
    a, b = a.float(), b.float().to(a.device)
    return round(((a - b).abs().max() / (b.max() - b.min())).item(), 6)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comfyui", type=Path, required=True)
    parser.add_argument("--views", type=int, default=8)
    parser.add_argument("--json", type=Path)
    options = parser.parse_args()
    import_host(options.comfyui)
    with torch.inference_mode():  # as the host runs its nodes
        measure(options)


def measure(options: argparse.Namespace) -> None:
    torch.backends.cudnn.benchmark = True
    vae = random_vae(torch.float32)
    device = torch.device("cuda")
    latents = torch.randn(options.views, 4, 64, 64, device=device)
    images = torch.rand(options.views, 512, 512, 3, device=device)
    result = {"views": options.views, "host_vae_dtype": str(vae.vae_dtype)}
    result["host_decode_ms"] = best_ms(lambda: vae.decode(latents))
    result["host_encode_ms"] = best_ms(lambda: vae.encode(images))
    vae.output_device = device
    result["host_on_gpu_decode_ms"] = best_ms(lambda: vae.decode(latents))
    result["host_on_gpu_encode_ms"] = best_ms(lambda: vae.encode(images))
    from comfyui_synctweedies.nodes.vae_compile import compiled_vae

    compiled = compiled_vae(vae)
    result["host_compiled_compile_s"] = round(timed(lambda: (compiled.decode(latents), compiled.encode(images)))[0], 1)
    result["host_compiled_decode_ms"] = best_ms(lambda: compiled.decode(latents))
    result["host_compiled_encode_ms"] = best_ms(lambda: compiled.encode(images))
    model = vae.first_stage_model
    pixels = images.movedim(-1, 1) * 2 - 1
    reference = copy.deepcopy(model).float()
    exact = {"decode": ((reference.decode(latents) + 1) / 2).clamp(0, 1).movedim(1, -1),
             "encode": reference.encode(pixels)}
    del reference
    for name, run in (("decode", lambda codec: codec.decode(latents)), ("encode", lambda codec: codec.encode(images))):
        host, fast = run(vae), run(compiled)
        result[f"host_{name}_vs_float32"] = largest_difference(host, exact[name])
        result[f"host_compiled_{name}_vs_float32"] = largest_difference(fast, exact[name])
        result[f"host_compiled_{name}_vs_host"] = largest_difference(fast, host)
    for dtype in (torch.float32, torch.bfloat16, torch.float16):
        for layout in (torch.contiguous_format, torch.channels_last):
            model.to(device=device, dtype=dtype, memory_format=layout)
            z, x = latents.to(dtype).contiguous(memory_format=layout), pixels.to(dtype).contiguous(memory_format=layout)
            key = f"{str(dtype).split('.')[-1]}_{'channels_last' if layout == torch.channels_last else 'nchw'}"
            result[f"{key}_decode_ms"] = best_ms(lambda: model.decode(z))
            result[f"{key}_encode_ms"] = best_ms(lambda: model.encode(x))
    model.to(dtype=torch.bfloat16, memory_format=torch.channels_last)
    torch._dynamo.reset()  # what was compiled for the host's layout would otherwise be reused for these weights
    decode, encode = torch.compile(model.decode), torch.compile(model.encode)
    z, x = latents.to(torch.bfloat16).contiguous(memory_format=torch.channels_last), \
        pixels.to(torch.bfloat16).contiguous(memory_format=torch.channels_last)
    result["compile_s"] = round(timed(lambda: (decode(z), encode(x)))[0], 1)
    result["bfloat16_channels_last_compiled_decode_ms"] = best_ms(lambda: decode(z))
    result["bfloat16_channels_last_compiled_encode_ms"] = best_ms(lambda: encode(x))
    report({"benchmark": "vae_speed", **machine(), **result}, options.json)


if __name__ == "__main__":
    main()
