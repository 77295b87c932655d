"""``python -m synctweedies --app ...``: the original research code's command line, on this library.

The flags keep the original's names, meanings and defaults; a flag of the original that is not
supported yet is refused with a message, never ignored.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

from .sampling import sample_euler
from .spaces import (AnagramSpace, CanonicalSpace, Panorama, PanoramaCameras, PixelSynchronizedSpace, ViewOptions,
                     WideCanvas)
from .sync import SyncMode, sample_synchronized

APPS = ("wide_image", "ambiguous_image", "panorama", "mesh", "gs")
NOT_YET = {"mesh": "3D mesh texturing", "gs": "3D Gaussian splat texturing"}
UNSUPPORTED = {
    "--ref_attention_end": "cross-view attention", "--depth_data_path": "depth ControlNet guidance",
    "--controlnet_path": "ControlNet guidance", "--cond_type": "ControlNet guidance",
    "--conditioning_scale": "ControlNet guidance", "--conditioning_scale_end": "ControlNet guidance",
    "--control_guidance_start": "ControlNet guidance", "--control_guidance_end": "ControlNet guidance",
    "--stage_1_path": "DeepFloyd IF", "--stage_2_path": "DeepFloyd IF", "--stage2_noise_level": "DeepFloyd IF",
    "--initialize_same_xt": "identical per-view noise", "--eval_w": "evaluation crops", "--eval_h": "evaluation crops",
    "--num_of_zs": "several canonical variables", "--scaling_factor": "latent rescaling",
}
"""Flags of the original that this command does not support yet, and what they are for."""


def common_parser(app: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"python -m synctweedies --app {app}",
                                     description=f"SyncTweedies {app.replace('_', ' ')} on a diffusers model.")
    parser.add_argument("--app", choices=APPS, required=True)
    parser.add_argument("--sd_path", default="stabilityai/stable-diffusion-2-base",
                        help="a local diffusers model folder or a single-file checkpoint (nothing is downloaded)")
    parser.add_argument("--negative_prompt", default="")
    parser.add_argument("--case_num", default="2", choices=[str(m) for m in range(6)],
                        help="synchronization case of the paper (2: SyncTweedies)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sampling_method", default="ddim", choices=["ddim"],
                        help="ddim (deterministic; the Euler step of the probability-flow ODE)")
    parser.add_argument("--num_inference_steps", "--steps", dest="num_inference_steps", type=int, default=50)
    parser.add_argument("--guidance_scale", type=float, default=7.5)
    parser.add_argument("--mvd_end", type=float, default=1.0, help="fraction of the steps that are synchronized")
    parser.add_argument("--initialize_xt_from_zt", "--zt_init", dest="initialize_xt_from_zt", action="store_true",
                        help="draw the views' initial noise in the canonical space")
    parser.add_argument("--save_top_dir", default="./output")
    parser.add_argument("--tag", default=app)
    parser.add_argument("--save_dir_now", action="store_true", help="add the current time to the run folder")
    parser.add_argument("--log_step", type=int, default=10, help="save previews every this many steps")
    parser.add_argument("--gpu", type=int, default=0)
    parser.add_argument("--max_batch_size", "--views_per_batch", dest="views_per_batch", type=int, default=8,
                        help="views per UNet call")
    return parser


def wide_image_parser() -> argparse.ArgumentParser:
    parser = common_parser("wide_image")
    parser.add_argument("--prompt", required=True)
    parser.add_argument("--panorama_height", type=int, default=512)
    parser.add_argument("--panorama_width", type=int, default=3072)
    parser.add_argument("--latent_instance_size", type=int, default=64)
    parser.add_argument("--window_stride", type=int, default=8, help="latent pixels between windows")
    parser.set_defaults(num_inference_steps=50, mvd_end=0.8)
    return parser


def ambiguous_image_parser() -> argparse.ArgumentParser:
    parser = common_parser("ambiguous_image")
    parser.add_argument("--prompts", nargs="*", default=["a horse", "a snowy mountain village"])
    parser.add_argument("--style", default="an oilpainting of")
    parser.add_argument("--views_names", nargs="*", default=["identity", "rotate_cw"])
    parser.add_argument("--rotate_angle", type=float, default=45)
    parser.add_argument("--optimize_inverse_mapping", action="store_true")
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--latent_instance_size", type=int, default=64)
    parser.set_defaults(num_inference_steps=30, guidance_scale=10.0)
    return parser


def panorama_parser() -> argparse.ArgumentParser:
    parser = common_parser("panorama")
    parser.add_argument("--prompt", default="a bedroom with a window")
    parser.add_argument("--theta_range", nargs=2, type=float, default=[0, 360])
    parser.add_argument("--theta_interval", type=float, default=45)
    parser.add_argument("--phi_range", nargs=2, type=float, default=[0, 1])
    parser.add_argument("--phi_interval", type=float, default=45)
    parser.add_argument("--FOV", type=float, default=72)
    parser.add_argument("--instance_latent_size", type=int, default=64)
    parser.add_argument("--canonical_latent_h", type=int, default=256)
    parser.add_argument("--canonical_rgb_h", type=int, default=1024)
    parser.add_argument("--average_rgb", action="store_true",
                        help="average x0 on the RGB canvas (decode, average, encode every step; case 2)")
    parser.set_defaults(num_inference_steps=30, mvd_end=0.8, negative_prompt=(
        "oversmoothed, blurry, depth of field, out of focus, low quality, bloom, glowing effect."))
    return parser


def build_space(app: str, args: argparse.Namespace) -> tuple[CanonicalSpace, list[str]]:
    """The latent canonical space and one prompt per view (or one for all)."""
    if app == "wide_image":
        for name in ("panorama_height", "panorama_width"):
            if getattr(args, name) % 8:
                raise ValueError(f"--{name} {getattr(args, name)} is not divisible by 8.")
        space = WideCanvas(args.panorama_height // 8, args.panorama_width // 8, args.latent_instance_size,
                           args.window_stride)
        return space, [args.prompt]
    if app == "ambiguous_image":
        if len(args.prompts) != len(args.views_names):
            raise ValueError(f"{len(args.prompts)} --prompts for {len(args.views_names)} --views_names: give one "
                             "prompt per view.")
        space = AnagramSpace(args.views_names, args.latent_instance_size, options=ViewOptions(args.rotate_angle),
                             inverse_iterations=args.iterations if args.optimize_inverse_mapping else 0,
                             inverse_lr=args.lr)
        if space.pixel_space_reason:
            raise ValueError(f"{space.pixel_space_reason} The command averages in latent space; pick other views.")
        return space, [f"{args.style} {prompt}".strip() for prompt in args.prompts]
    cameras = PanoramaCameras(tuple(args.theta_range), args.theta_interval, tuple(args.phi_range), args.phi_interval,
                              args.FOV)
    space = Panorama(cameras, args.instance_latent_size, args.canonical_latent_h, args.canonical_rgb_h)
    space.check_coverage()
    return space, [args.prompt]


def run_folder(args: argparse.Namespace) -> Path:
    """``save_top_dir/tag[/time]``, made new: an existing run is never written over."""
    folder = Path(args.save_top_dir) / args.tag
    if args.save_dir_now:
        folder = folder / time.strftime("%Y%m%d-%H%M%S")
    if folder.exists() and any(folder.iterdir()):
        raise ValueError(f"{folder} already holds a run; pass --save_dir_now or another --tag.")
    (folder / "results").mkdir(parents=True, exist_ok=True)
    (folder / "intermediate").mkdir(exist_ok=True)
    return folder


def save_images(images: torch.Tensor, folder: Path, name: str) -> list[Path]:
    """Images ``[N, 3, H, W]`` in [-1, 1] → ``name.png`` (one) or ``name_{i}.png``."""
    from PIL import Image

    paths = []
    for index, image in enumerate(images):
        pixels = ((image.clamp(-1, 1) + 1) * 127.5).round().byte().permute(1, 2, 0).numpy()
        path = folder / (f"{name}.png" if len(images) == 1 else f"{name}_{index}.png")
        Image.fromarray(pixels).save(path)
        paths.append(path)
    return paths


def parse(argv: list[str]) -> tuple[str, argparse.Namespace]:
    app = argv[argv.index("--app") + 1] if "--app" in argv[:-1] else None
    if app not in APPS:
        raise ValueError(f"Give --app, one of: {', '.join(APPS)}.")
    if app in NOT_YET:
        raise ValueError(f"--app {app} ({NOT_YET[app]}) is not supported by this command yet.")
    parser = {"wide_image": wide_image_parser, "ambiguous_image": ambiguous_image_parser,
              "panorama": panorama_parser}[app]()
    args, unknown = parser.parse_known_args(argv)
    for flag in unknown:
        name = flag.split("=", 1)[0]
        if name in UNSUPPORTED:
            raise ValueError(f"{name} ({UNSUPPORTED[name]}) is a flag of the original that this command does not "
                             "support yet.")
        if name.startswith("-"):
            parser.error(f"unrecognized argument {name}")
    if unknown:
        parser.error(f"unexpected values {' '.join(unknown)}")
    return app, args


def run(app: str, args: argparse.Namespace) -> Path:
    """Sample, decode and save; returns the run folder."""
    from tqdm import tqdm

    from .diffusers_backend import DiffusersDenoiser, load_pipeline

    space, prompts = build_space(app, args)
    mode = SyncMode(int(args.case_num))
    average_rgb = getattr(args, "average_rgb", False)
    if average_rgb and int(mode) not in PixelSynchronizedSpace.supported_modes:
        raise ValueError(f"--average_rgb averages x0 in RGB: use --case_num 2 (or 0), not {int(mode)}.")
    device = torch.device(f"cuda:{args.gpu}" if torch.cuda.is_available() else "cpu")
    dtype = torch.float16 if device.type == "cuda" else torch.float32
    backend = DiffusersDenoiser(load_pipeline(args.sd_path, device, dtype), args.guidance_scale, args.views_per_batch)
    folder = run_folder(args)
    (folder / "config.json").write_text(json.dumps(vars(args), indent=2))
    denoise = backend.view_denoiser(backend.encode_prompts(prompts), backend.encode_prompts([args.negative_prompt]))
    sigmas = backend.sigmas(args.num_inference_steps)
    generator = torch.Generator().manual_seed(args.seed)
    channels = backend.unet.config.in_channels
    if args.initialize_xt_from_zt or mode.on_canonical:
        noise = space.initial_noise(channels, generator)
    else:
        noise = torch.randn(space.num_views, channels, *space.view_size, generator=generator)
    noise = noise.to(device)
    pixels = space.scaled(8)

    def preview(step: int, canvas_x0: torch.Tensor) -> None:
        """Save the decoded canonical x0 every ``log_step`` steps."""
        if args.log_step > 0 and (step + 1) % args.log_step == 0:
            canvas = pixels.unproject(backend.decode(space.project(canvas_x0[0].cpu())))[0]
            save_images(canvas[None], folder / "intermediate", f"x0_step{step + 1:03d}")

    progress = tqdm(total=args.num_inference_steps, desc="SyncTweedies", unit="step")

    def sampler(sync, noise, latent, phase_sigmas, first_step):
        def callback(step, x0):
            progress.update(1)
            preview(first_step + step, sync.canvas(x0))
        x = latent + noise * phase_sigmas[0]
        return sample_euler(lambda x, s: sync.denoise(denoise, x, s), x, phase_sigmas, callback)

    sync_space = space
    if average_rgb:
        sync_space = PixelSynchronizedSpace(space, lambda views: backend.decode(views).to(device), backend.encode)
    views = sample_synchronized(sampler, sync_space, mode, args.mvd_end, noise, torch.zeros_like(noise), sigmas)
    progress.close()
    images = backend.decode(views)
    canvas = pixels.unproject(images)[0]
    save_images(canvas[None], folder / "results", "final")
    save_images(pixels.project(canvas), folder / "results", "view")
    return folder


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        app, args = parse(argv)
        folder = run(app, args)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(folder)
    return 0
