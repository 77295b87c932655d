"""The standalone command's wide image at the original's defaults, on a random-weight SD2-base-shaped pipeline.

Reports the whole command's time (loading the model from disk included) and the synchronization overhead: the same
views sampled with SyncTweedies (case 2) vs independently (case 0, plain batched sampling), same
backend, batching, noise and steps. Needs diffusers and transformers:

    python benchmarks/cli_wide_image.py [--json out.json]
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import torch

import pack_paths  # noqa: E402,F401  (the pack and its test helpers on sys.path)
from diffusers_support import write_sd_pipeline  # noqa: E402
from synctweedies import WideCanvas, sample_euler, sample_synchronized  # noqa: E402
from synctweedies.standalone.cli import main as command  # noqa: E402
from synctweedies.standalone.diffusers_backend import DiffusersDenoiser, load_pipeline  # noqa: E402
from timing import machine, report, timed  # noqa: E402


def sd2_base_folder(folder: Path) -> Path:
    """Write a random-weight pipeline shaped like stable-diffusion-2-base (UNet, KL VAE, 23-layer text encoder)."""
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig

    unet = UNet2DConditionModel(sample_size=64, cross_attention_dim=1024, attention_head_dim=(5, 10, 20, 20),
                                use_linear_projection=True)
    vae = AutoencoderKL(block_out_channels=(128, 256, 512, 512), down_block_types=("DownEncoderBlock2D",) * 4,
                        up_block_types=("UpDecoderBlock2D",) * 4, layers_per_block=2, sample_size=512)
    text = CLIPTextConfig(vocab_size=49408, hidden_size=1024, intermediate_size=4096, num_hidden_layers=23,
                          num_attention_heads=16, hidden_act="gelu", projection_dim=512, bos_token_id=0,
                          eos_token_id=1, pad_token_id=1)
    return write_sd_pipeline(folder, unet, vae, text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path)
    options = parser.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    work = Path(tempfile.mkdtemp())
    model = sd2_base_folder(work / "sd2_base")

    command_s, status = timed(lambda: command([
                    "--app", "wide_image", "--sd_path", str(model), "--prompt", "A photo of a mountain range at "
                    "twilight", "--save_top_dir", str(work / "out"), "--save_dir_now", "--tag", "wide_image",
                    "--case_num", "2", "--seed", "0", "--sampling_method", "ddim", "--num_inference_steps",
                    str(options.steps), "--panorama_height", "512", "--panorama_width", "3072", "--mvd_end", "1.0",
                    "--initialize_xt_from_zt"]))
    assert status == 0

    dtype = torch.float16 if device == "cuda" else torch.float32
    backend = DiffusersDenoiser(load_pipeline(str(model), torch.device(device), dtype), 7.5, 8)
    denoise = backend.view_denoiser(backend.encode_prompts(["a mountain"]), backend.encode_prompts([""]))
    space = WideCanvas(64, 384, 64, 8)
    noise = space.initial_noise(4, torch.Generator().manual_seed(0)).to(device)
    sigmas = backend.sigmas(options.steps)

    def sampler(sync, noise, latent, phase_sigmas, first_step):
        return sample_euler(lambda x, s: sync.denoise(denoise, x, s), latent + noise * phase_sigmas[0], phase_sigmas)

    times = {0: [], 2: []}
    for repeat in range(options.repeats + 1):
        for mode in (0, 2):
            seconds, _ = timed(lambda: sample_synchronized(sampler, space, mode, 1.0, noise, torch.zeros_like(noise),
                                                           sigmas if repeat else sigmas[-3:]))
            if repeat:
                times[mode].append(seconds)
    plain, sync = min(times[0]), min(times[2])
    result = {**machine(), "dtype": str(dtype),
              "model": "random-weight SD2-base-shaped UNet, VAE and 23-layer text encoder",
              "canvas": "512x3072", "views": space.num_views, "steps": options.steps,
              "command_s": round(command_s, 2),
              "plain_sampling_s": round(plain, 3), "synctweedies_sampling_s": round(sync, 3),
              "overhead": round(sync / plain - 1, 4),
              "runs_s": {str(mode): [round(t, 3) for t in values] for mode, values in times.items()}}
    report(result, options.json)


if __name__ == "__main__":
    main()
