"""The standalone command's mesh texturing and Gaussian texturing at the original's defaults, and a batch of jobs,
on a random-weight SD1.5-shaped pipeline with a random depth ControlNet (fp16 on a GPU). Needs diffusers and
transformers:

    python benchmarks/cli_apps.py [--mesh example_inputs/vase.obj] [--jobs 4] [--json out.json]

Reports each whole command (model loading, space building, sampling, decoding and saving included) and the
batch's jobs per hour (the model loaded once for all jobs).
"""
from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import torch

from pack_paths import REPO as ROOT  # noqa: E402  (and the pack and its test helpers on sys.path)
from diffusers_support import write_sd_pipeline  # noqa: E402
from synctweedies.standalone.batch import main as batch  # noqa: E402
from synctweedies.standalone.cli import main as command  # noqa: E402
from synctweedies.gaussians import gsplat_available  # noqa: E402
from timing import machine, report, timed  # noqa: E402


def sd15_folder(folder: Path) -> Path:
    """A random-weight pipeline shaped like Stable Diffusion 1.5 (UNet, KL VAE, 12-layer CLIP text encoder)."""
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig

    unet = UNet2DConditionModel(sample_size=64, cross_attention_dim=768, attention_head_dim=8)
    vae = AutoencoderKL(block_out_channels=(128, 256, 512, 512), down_block_types=("DownEncoderBlock2D",) * 4,
                        up_block_types=("UpDecoderBlock2D",) * 4, layers_per_block=2, sample_size=512)
    text = CLIPTextConfig(vocab_size=49408, hidden_size=768, intermediate_size=3072, num_hidden_layers=12,
                          num_attention_heads=12, projection_dim=768, bos_token_id=0, eos_token_id=1, pad_token_id=1)
    return write_sd_pipeline(folder, unet, vae, text)


def controlnet_folder(pipeline: Path, folder: Path) -> Path:
    from diffusers import ControlNetModel, UNet2DConditionModel

    ControlNetModel.from_unet(UNet2DConditionModel.from_pretrained(pipeline / "unet")).save_pretrained(folder)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mesh", type=Path, default=ROOT / "example_inputs" / "vase.obj")
    parser.add_argument("--ply", type=Path, default=ROOT / "example_inputs" / "gaussians.ply")
    parser.add_argument("--jobs", type=int, default=4, help="mesh jobs in the batch")
    parser.add_argument("--gs_iterations", type=int, default=1000, help="fit steps per step (the original: 1000)")
    parser.add_argument("--gs_final_iterations", type=int, default=4000)
    parser.add_argument("--skip_gs", action="store_true",
                        help="leave the Gaussian run out (it needs gsplat to be fast)")
    parser.add_argument("--json", type=Path)
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp())
    model = sd15_folder(work / "sd15")
    control = controlnet_folder(model, work / "control")
    shared = ["--sd_path", str(model), "--controlnet_path", str(control), "--save_top_dir", str(work / "out"),
              "--case_num", "2", "--seed", "0", "--sampling_method", "ddim"]
    mesh_s, status = timed(lambda: command(["--app", "mesh", "--prompt", "A hand carved wood turtle", "--tag", "mesh",
                                            "--mesh", str(options.mesh), "--initialize_xt_from_zt", *shared]))
    assert status == 0
    gs_argv = ["--app", "gs", "--prompt", "A photo of majestic red throne, adorned with gold accents", "--tag", "gs",
               "--plyfile", str(options.ply), "--zt_init", "--force_clean_composition", "--iterations",
               str(options.gs_iterations), "--final_iterations", str(options.gs_final_iterations), *shared]
    gs_s, status = (0.0, 0) if options.skip_gs else timed(lambda: command(gs_argv))
    assert status == 0
    jobs = [{"app": "mesh", "prompt": f"A hand carved wood turtle {k}", "tag": f"batch{k}", "mesh": str(options.mesh),
             "sd_path": str(model), "controlnet_path": str(control), "save_top_dir": str(work / "out"),
             "initialize_xt_from_zt": True, "turntable_frames": 0} for k in range(options.jobs)]
    manifest = work / "jobs.json"
    manifest.write_text(json.dumps(jobs))
    batch_s, status = timed(lambda: batch([str(manifest)]))
    assert status == 0
    result = {**machine(), "dtype": "float16" if torch.cuda.is_available() else "float32",
              "model": "random-weight SD1.5-shaped UNet, VAE, text encoder and depth ControlNet",
              "mesh": options.mesh.name, "mesh_command_s": round(mesh_s, 2),
              **({} if options.skip_gs else {
                  "gs_ply": options.ply.name, "gs_command_s": round(gs_s, 2),
                  "gs_fit_iterations": [options.gs_iterations, options.gs_final_iterations],
                  "gs_renderer": "gsplat" if gsplat_available(torch.device("cuda")) else "reference (plain PyTorch)"}),
              "batch_jobs": options.jobs, "batch_s": round(batch_s, 2),
              "batch_jobs_per_hour": round(3600 * options.jobs / batch_s, 1)}
    report(result, options.json)


if __name__ == "__main__":
    main()
