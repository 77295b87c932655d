"""The original research code's flags, by application: their names, meanings and defaults
(:mod:`synctweedies.original`), the flags it has that this command does not support (refused by name, never
ignored), and the numbers the nodes would refuse (refused before anything is allocated)."""
from __future__ import annotations

import argparse

from .. import original
from ..original import MAX_CAMERAS, range_problem
from .apps import APPS

UNSUPPORTED = {
    "--stage_1_path": "DeepFloyd IF", "--stage_2_path": "DeepFloyd IF", "--stage2_noise_level": "DeepFloyd IF",
    "--initialize_same_xt": "identical per-view noise", "--eval_w": "evaluation crops", "--eval_h": "evaluation crops",
    "--num_of_zs": "several canonical variables", "--scaling_factor": "latent rescaling",
    "--guess_mode": "ControlNet guess mode", "--guidance_rescale": "guidance rescale (untested in the original)",
    "--noise_space": "noise in texture space (use --initialize_xt_from_zt)",
    "--rasterize_mode": "the rasteriser's sampling mode", "--disable_voronoi": "turning off the texture fill",
    "--mesh_config_relative": "config-relative mesh paths",
}
"""Flags of the original that this command does not support, and what they are for."""

def common_parser(app: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"python -m synctweedies --app {app}",
                                     description=f"SyncTweedies {app.replace('_', ' ')} on a diffusers model.")
    parser.add_argument("--app", choices=tuple(APPS), required=True)
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
    parser.add_argument("--log_step", "--log_interval", dest="log_step", type=int, default=10,
                        help="save every view's x0 (one grid image) every this many steps (0: none)")
    parser.add_argument("--gpu", type=int, default=0)
    parser.add_argument("--max_batch_size", "--views_per_batch", dest="views_per_batch", type=int, default=8,
                        help="views per UNet call (cross-view attention puts all views in one call)")
    return parser


def attention_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ref_attention_end", type=float, default=0.2,
                        help="fraction of the steps in which every view also attends to a reference view (views "
                             "always attend to their neighbours, as in the original)")


def turntable_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--turntable_frames", type=int, default=36, help="frames of results/turntable.gif (0: none)")
    parser.add_argument("--turntable_size", type=int, default=512, help="side of the turntable's frames in pixels")


def controlnet_flags(parser: argparse.ArgumentParser, model: str) -> None:
    parser.add_argument("--model", default=model, choices=["controlnet", "sd"],
                        help="controlnet: guide every view by its depth (needs --controlnet_path); sd: no ControlNet")
    parser.add_argument("--controlnet_path", default=None,
                        help="a local diffusers ControlNet folder or single file (the original: "
                             "lllyasviel/control_v11f1p_sd15_depth)")
    parser.add_argument("--cond_type", default="depth", choices=["depth"])
    for name, value in original.CONTROLNET_RAMP.items():
        parser.add_argument(f"--{name}", type=float, default=value)


def wide_image_parser() -> argparse.ArgumentParser:
    parser = common_parser("wide_image")
    parser.add_argument("--prompt", required=True)
    parser.add_argument("--panorama_height", type=int, default=512)
    parser.add_argument("--panorama_width", type=int, default=3072)
    parser.add_argument("--latent_instance_size", type=int, default=64)
    parser.add_argument("--window_stride", type=int, default=8, help="latent pixels between windows")
    attention_flags(parser)
    parser.set_defaults(**original.WIDE_IMAGE)
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
    parser.set_defaults(**original.AMBIGUOUS_IMAGE)
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
    parser.add_argument("--depth_data_path", default=None,
                        help="an equirectangular depth map (.dpt, 16-bit .png, .npy, .exr) to guide every view "
                             "through a depth ControlNet (--controlnet_path)")
    attention_flags(parser)
    controlnet_flags(parser, "controlnet")
    parser.set_defaults(**original.PANORAMA)
    return parser


def mesh_parser() -> argparse.ArgumentParser:
    parser = common_parser("mesh")
    parser.add_argument("--mesh", required=True, help="an .obj (with .mtl and texture), .glb/.gltf or .ply mesh")
    parser.add_argument("--prompt", required=True)
    parser.add_argument("--latent_view_size", type=int, default=96)
    parser.add_argument("--latent_tex_size", type=int, default=1536)
    parser.add_argument("--rgb_view_size", type=int, default=768)
    parser.add_argument("--rgb_tex_size", type=int, default=1024)
    parser.add_argument("--camera_azims", type=float, nargs="+", default=[-180, -135, -90, -45, 0, 45, 90, 135])
    parser.add_argument("--top_cameras", action="store_false",
                        help="the original's switch: given, it REMOVES the two cameras above the front and back")
    parser.add_argument("--shuffle_bg_change", type=float, default=0.4)
    parser.add_argument("--shuffle_bg_end", type=float, default=0.8)
    parser.add_argument("--mesh_scale", type=float, default=1.0)
    parser.add_argument("--mesh_autouv", action="store_true", help="unwrap new UVs with xatlas")
    parser.add_argument("--sdedit", action="store_true", help="edit the mesh's own texture")
    parser.add_argument("--sdedit_prompt", default=None, help="the editing prompt (replaces --prompt)")
    parser.add_argument("--sdedit_timestep", type=float, default=original.SDEDIT_TIMESTEP,
                        help="where editing starts: 0.0 = x_T (full generation), 1.0 = x_0 (no change)")
    parser.add_argument("--save_gif", action="store_true", help="the turntable GIF (always saved here)")
    attention_flags(parser)
    controlnet_flags(parser, "controlnet")
    turntable_flags(parser)
    parser.set_defaults(**original.MESH, sd_path="runwayml/stable-diffusion-v1-5", views_per_batch=48, log_step=5)
    return parser


def gs_parser() -> argparse.ArgumentParser:
    parser = common_parser("gs")
    parser.add_argument("--prompt", required=True)
    parser.add_argument("--plyfile", required=True, help="the 3DGS scene (.ply)")
    parser.add_argument("--source_path", default=None,
                        help="the scene's cameras: a Blender folder (transforms_test.json) or a COLMAP folder "
                             "(sparse/0); without it, an orbit around the scene")
    parser.add_argument("--dataset_type", default="colmap", choices=["colmap", "blender"])
    parser.add_argument("--up_vec", default="z", choices=["z", "y"])
    parser.add_argument("--antialiased", action="store_true")
    parser.add_argument("--no-antialiased", dest="antialiased", action="store_false")
    parser.add_argument("--background_color", default="white", choices=["white", "black"])
    parser.add_argument("--color_assign_method", default="previous", choices=["zero", "previous", "instance"])
    parser.add_argument("--canonical_domain", default="rgb", choices=["rgb", "latent"])
    parser.add_argument("--force_clean_composition", action="store_true")
    parser.add_argument("--total_image_to_use", type=int, default=50)
    parser.add_argument("--latent_view_size", type=int, default=64)
    parser.add_argument("--rgb_view_size", type=int, default=512)
    parser.add_argument("--iterations", type=int, default=1000)
    parser.add_argument("--final_iterations", type=int, default=4000)
    parser.add_argument("--feature_lr", type=float, default=0.025)
    parser.add_argument("--xyz_lr", type=float, default=3e-4)
    parser.add_argument("--scale_lr", type=float, default=0.005)
    parser.add_argument("--quat_lr", type=float, default=0.001)
    parser.add_argument("--opacity_lr", type=float, default=0.05)
    parser.add_argument("--enable_xyz", action="store_true")
    parser.add_argument("--enable_opacity", action="store_true")
    parser.add_argument("--enable_covariance", action="store_true")
    attention_flags(parser)
    controlnet_flags(parser, "controlnet")
    turntable_flags(parser)
    parser.set_defaults(**original.GAUSSIANS, sd_path="runwayml/stable-diffusion-v1-5", views_per_batch=50, log_step=2,
                        antialiased=True)
    return parser


PARSERS = {"wide_image": wide_image_parser, "ambiguous_image": ambiguous_image_parser, "panorama": panorama_parser,
           "mesh": mesh_parser, "gs": gs_parser}


def parse(argv: list[str]) -> tuple[str, argparse.Namespace]:
    app = argv[argv.index("--app") + 1] if "--app" in argv[:-1] else None
    if app not in APPS:
        raise ValueError(f"Give --app, one of: {', '.join(APPS)} (or run many jobs: python -m synctweedies batch "
                         "MANIFEST).")
    parser = PARSERS[app]()
    args, unknown = parser.parse_known_args(argv)
    for flag in unknown:
        name = flag.split("=", 1)[0]
        if name in UNSUPPORTED:
            raise ValueError(f"{name} ({UNSUPPORTED[name]}) is a flag of the original that this command does not "
                             "support.")
        if name.startswith("-"):
            parser.error(f"unrecognized argument {name}")
    if unknown:
        parser.error(f"unexpected values {' '.join(unknown)}")
    check_numbers(args)
    if getattr(args, "model", "sd") == "controlnet" and getattr(args, "depth_data_path", True) \
            and not args.controlnet_path:
        raise ValueError(f"--app {app} guides views with a depth ControlNet (--model controlnet, the original's "
                         "default): give it with --controlnet_path (a local folder or file; nothing is downloaded), "
                         "or pass --model sd to run without one.")
    return app, args


def check_numbers(args: argparse.Namespace) -> None:
    """A ValueError naming the first flag whose number the nodes would not take (before anything is allocated)."""
    if len(getattr(args, "camera_azims", ())) > MAX_CAMERAS:
        raise ValueError(f"--camera_azims gives {len(args.camera_azims)} cameras; at most {MAX_CAMERAS}.")
    for name, value in vars(args).items():
        problem = range_problem(name, value) if name in original.RANGES and value is not None else None
        if problem:
            raise ValueError(f"--{problem}.")
