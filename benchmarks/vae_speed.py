"""The VAE work of RGB-space synchronization (one decode and one encode of every view per step), done several ways:
the host's decode/encode as they are (images to the intermediate device, the CPU by default, and back), kept on
the GPU, in other precisions and memory formats, and compiled. Random-weight SD KL VAE, batch of 8 views of 512 px:

    python benchmarks/vae_speed.py --comfyui /path/to/ComfyUI [--json out.json]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import torch

import pack_paths  # noqa: E402,F401  (the pack and its test helpers on sys.path)
from sync_overhead import import_host, random_vae  # noqa: E402
from timing import machine, report, timed  # noqa: E402


def best_ms(run, repeats: int = 10) -> float:
    run()
    return round(min(timed(run)[0] for _ in range(repeats)) * 1000, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comfyui", type=Path, required=True)
    parser.add_argument("--views", type=int, default=8)
    parser.add_argument("--json", type=Path)
    options = parser.parse_args()
    import_host(options.comfyui)
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
    model = vae.first_stage_model
    pixels = images.movedim(-1, 1) * 2 - 1
    for dtype in (torch.float32, torch.bfloat16, torch.float16):
        for layout in (torch.contiguous_format, torch.channels_last):
            model.to(device=device, dtype=dtype, memory_format=layout)
            z, x = latents.to(dtype).contiguous(memory_format=layout), pixels.to(dtype).contiguous(memory_format=layout)
            key = f"{str(dtype).split('.')[-1]}_{'channels_last' if layout == torch.channels_last else 'nchw'}"
            with torch.no_grad():
                result[f"{key}_decode_ms"] = best_ms(lambda: model.decode(z))
                result[f"{key}_encode_ms"] = best_ms(lambda: model.encode(x))
    model.to(dtype=torch.bfloat16, memory_format=torch.channels_last)
    decode, encode = torch.compile(model.decode), torch.compile(model.encode)
    z, x = latents.to(torch.bfloat16).contiguous(memory_format=torch.channels_last), \
        pixels.to(torch.bfloat16).contiguous(memory_format=torch.channels_last)
    with torch.no_grad():
        result["compile_s"] = round(timed(lambda: (decode(z), encode(x)))[0], 1)
        result["bfloat16_channels_last_compiled_decode_ms"] = best_ms(lambda: decode(z))
        result["bfloat16_channels_last_compiled_encode_ms"] = best_ms(lambda: encode(x))
    report({"benchmark": "vae_speed", **machine(), **result}, options.json)


if __name__ == "__main__":
    main()
