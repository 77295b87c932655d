"""The applications of the standalone command: each builds its space, prompts and guidance from the original's
flags, and saves what the ComfyUI nodes save (images; a textured .glb and turntable; a 3DGS .ply and turntable).

Every application is a :class:`Plan` that :func:`synctweedies.standalone.cli.run` samples the same way.
"""
from __future__ import annotations

import argparse
import math
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from PIL import Image
from torch import Tensor

from ..control import StrengthRamp
from ..depth import depth_hint, read_depth, view_depth_hints
from ..original import PROMPT_PREFIX
from ..anagram import AnagramSpace, ViewOptions
from ..canvas import WideCanvas
from ..panorama import Panorama, PanoramaRig, perspective_views
from ..spaces import CanonicalSpace
from .diffusers_backend import DiffusersDenoiser, ViewGuidance

Saver = Callable[["Plan", Tensor, Path], list[Path]]
"""``save(plan, images, folder)``: writes a run's results, returns their paths."""


@dataclass
class Plan:
    """What one run samples: ``space`` (latent), a prompt and a negative prompt per view (or one for all),
    ``guidance`` (ControlNet hints, cross-view attention), whether x0 is averaged as RGB images, an optional
    start for editing (``start_views`` ``[N, 3, H, W]`` in [-1, 1], entered ``start_at`` of the way through the
    steps), ``prepare``, what needs the loaded model before sampling, and ``save``, which writes the results of
    the decoded final views ``[N, 3, H, W]`` into a folder."""

    space: CanonicalSpace
    prompts: list[str]
    negatives: list[str]
    save: Saver
    guidance: ViewGuidance = field(default_factory=ViewGuidance)
    average_rgb: bool = False
    start_views: Tensor | None = None
    start_at: float = 0.0
    prepare: Callable[[DiffusersDenoiser], None] | None = None


def save_images(images: Tensor, folder: Path, name: str) -> list[Path]:
    """Images ``[N, 3, H, W]`` in [-1, 1] → ``name.png`` (one) or ``name_{i}.png``."""
    paths = []
    for index, image in enumerate(images):
        pixels = ((image.float().clamp(-1, 1) + 1) * 127.5).round().byte().permute(1, 2, 0).cpu().numpy()
        path = folder / (f"{name}.png" if len(images) == 1 else f"{name}_{index}.png")
        Image.fromarray(pixels).save(path)
        paths.append(path)
    return paths


def grid(images: Tensor) -> Tensor:
    """Images ``[N, C, H, W]`` → one image ``[C, rows * H, columns * W]``, ``ceil(sqrt(N))`` columns."""
    count, channels, height, width = images.shape
    columns = math.ceil(math.sqrt(count))
    rows = math.ceil(count / columns)
    padded = torch.cat([images, images.new_zeros(rows * columns - count, channels, height, width)])
    return padded.reshape(rows, columns, channels, height, width).permute(2, 0, 3, 1, 4).reshape(
        channels, rows * height, columns * width)


def save_gif(frames: Tensor, path: Path, fps: float = 12.0) -> Path:
    """Frames ``[F, 3, H, W]`` in [0, 1] → a looping GIF at ``path``."""
    images = [Image.fromarray((frame.clamp(0, 1) * 255).round().byte().permute(1, 2, 0).cpu().numpy())
              for frame in frames]
    images[0].save(path, save_all=True, append_images=images[1:], duration=round(1000 / fps), loop=0)
    return path


def save_canvas(plan: Plan, images: Tensor, folder: Path) -> list[Path]:
    """``final.png`` (the canonical image) and ``view_{i}.png`` (it as each view shows it)."""
    pixels = plan.space.scaled(images.shape[-1] // plan.space.view_size[-1])
    canvas = pixels.unproject_final(images)[0]
    return save_images(canvas[None], folder, "final") + save_images(pixels.project(canvas), folder, "view")


def check_scale(rgb_view_size: int, latent_view_size: int) -> None:
    if rgb_view_size != 8 * latent_view_size:
        raise ValueError(f"--rgb_view_size {rgb_view_size} must be 8 × --latent_view_size ({8 * latent_view_size}): "
                         "the VAE maps 8 pixels to one latent.")


def control_guidance(args: argparse.Namespace, hints: Tensor) -> ViewGuidance:
    """Per-view hints ``[N, H, W]`` in [0, 1] with the original's ControlNet strength schedule."""
    return ViewGuidance(hints=hints[:, None].expand(-1, 3, -1, -1).contiguous(),
                        ramp=StrengthRamp(args.conditioning_scale, args.conditioning_scale_end,
                                          args.control_guidance_start, args.control_guidance_end),
                        control_start=args.control_guidance_start, control_end=args.control_guidance_end)


def with_attention(guidance: ViewGuidance, space: CanonicalSpace, args: argparse.Namespace) -> ViewGuidance:
    """``guidance`` plus the original's cross-view attention: neighbours always, the reference view until
    ``--ref_attention_end``."""
    guidance.neighbours = space.attention_neighbours
    guidance.reference, guidance.reference_end = space.reference_view, args.ref_attention_end
    return guidance


def wide_image(args: argparse.Namespace, device: torch.device) -> Plan:
    for name in ("panorama_height", "panorama_width"):
        if getattr(args, name) % 8:
            raise ValueError(f"--{name} {getattr(args, name)} is not divisible by 8.")
    space = WideCanvas(args.panorama_height // 8, args.panorama_width // 8, args.latent_instance_size,
                       args.window_stride)
    return Plan(space, [PROMPT_PREFIX + args.prompt], [args.negative_prompt], save_canvas,
                with_attention(ViewGuidance(), space, args))


def ambiguous_image(args: argparse.Namespace, device: torch.device) -> Plan:
    if len(args.prompts) != len(args.views_names):
        raise ValueError(f"{len(args.prompts)} --prompts for {len(args.views_names)} --views_names: give one "
                         "prompt per view.")
    space = AnagramSpace(args.views_names, args.latent_instance_size, options=ViewOptions(args.rotate_angle),
                         inverse_iterations=args.iterations if args.optimize_inverse_mapping else 0,
                         inverse_lr=args.lr)
    if space.pixel_space_reason:
        raise ValueError(f"{space.pixel_space_reason} The command averages in latent space; pick other views.")
    return Plan(space, [f"{args.style} {prompt}".strip() for prompt in args.prompts], [args.negative_prompt],
                save_canvas)


def panorama(args: argparse.Namespace, device: torch.device) -> Plan:
    cameras = PanoramaRig(tuple(args.theta_range), args.theta_interval, tuple(args.phi_range), args.phi_interval,
                              args.FOV)
    space = Panorama(cameras, args.instance_latent_size, args.canonical_latent_h, args.canonical_rgb_h)
    space.check_coverage()
    guidance = ViewGuidance()
    if args.depth_data_path and args.model == "controlnet":
        hint = depth_hint(read_depth(args.depth_data_path))[None]
        guidance = control_guidance(args, perspective_views(hint, cameras, args.instance_latent_size * 8)[:, 0])
    return Plan(space, [PROMPT_PREFIX + args.prompt], [args.negative_prompt], save_canvas,
                with_attention(guidance, space, args), args.average_rgb)


def mesh(args: argparse.Namespace, device: torch.device) -> Plan:
    """The original's mesh texturing (and texture editing with ``--sdedit``)."""
    from ..mesh import MeshTexture, load_mesh, orbit_cameras
    from ..mesh.background import BackgroundSchedule
    from ..mesh.directions import camera_angles, negative_direction, view_direction, with_direction

    check_scale(args.rgb_view_size, args.latent_view_size)
    loaded, texture = load_mesh(args.mesh, args.mesh_autouv)
    loaded = loaded.normalized(args.mesh_scale)
    cameras = orbit_cameras(args.camera_azims, [0.0] * len(args.camera_azims), 2.0, 60.0, args.top_cameras)
    space = MeshTexture(loaded, cameras, args.latent_view_size, args.latent_tex_size, args.rgb_tex_size,
                        schedule=BackgroundSchedule(args.shuffle_bg_change, args.shuffle_bg_end),
                        device=device)
    prompt = PROMPT_PREFIX + (args.sdedit_prompt if args.sdedit and args.sdedit_prompt else args.prompt)
    angles = camera_angles(cameras.positions)
    plan = Plan(space, [with_direction(prompt, view_direction(*angle)) for angle in angles],
                [with_direction(args.negative_prompt, negative_direction(azimuth)) for _, azimuth in angles],
                partial(save_mesh, frames=args.turntable_frames, size=args.turntable_size),
                prepare=lambda backend: set_palette(space, backend))
    pixels = space.scaled(args.rgb_view_size // args.latent_view_size)
    if args.model == "controlnet":
        plan.guidance = control_guidance(args, view_depth_hints(pixels.fragments.depth.cpu(),
                                                                pixels.fragments.mask.cpu()))
    plan.guidance = with_attention(plan.guidance, space, args)
    if args.sdedit:
        if texture is None:
            raise ValueError(f"--sdedit edits the mesh's own texture, and {Path(args.mesh).name} has none (an OBJ "
                             "names it in its .mtl as map_Kd; a glTF as its base colour).")
        image = torch.from_numpy(np.array(texture.convert("RGB").resize((args.rgb_tex_size,) * 2,
                                                                          Image.Resampling.LANCZOS))).float()
        plan.start_views = pixels.project((image.permute(2, 0, 1) / 127.5 - 1).to(pixels.device))
        plan.start_at = args.sdedit_timestep
    return plan


def set_palette(space, backend: DiffusersDenoiser) -> None:
    """Give a mesh space its background colours in the model's latent units."""
    from ..mesh.background import colour_images

    palette = backend.encode(colour_images().movedim(-1, 1) * 2 - 1).mean((2, 3))
    space.set_palette(palette.cpu())


def save_mesh(plan: Plan, images: Tensor, folder: Path, frames: int = 36, size: int = 512) -> list[Path]:
    """``texture.png``, ``mesh.glb`` with that texture, ``view_{i}.png`` and ``turntable.gif``."""
    from ..mesh import turntable, write_glb

    space = plan.space
    pixels = space.scaled(images.shape[-1] // space.view_size[-1])
    texture = pixels.unproject_final(images.to(pixels.device))[0].float()
    paths = save_images(texture[None], folder, "texture")
    paths.append(write_glb(space.mesh, folder / "mesh.glb", Image.open(paths[0])))
    paths += save_images(pixels.project(texture), folder, "view")
    if frames > 0:
        rig = space.cameras
        shown = turntable(space.mesh.to(pixels.device), (texture + 1) / 2, frames, size, 20.0,
                          float(rig.positions[0].norm()), rig.fov)
        paths.append(save_gif(shown, folder / "turntable.gif"))
    return paths


def gaussians(args: argparse.Namespace, device: torch.device) -> Plan:
    """The original's 3D Gaussian texturing."""
    from ..gaussians import (GaussianColours, blender_cameras, colmap_cameras, load_gaussians,
                            scene_orbit_cameras)
    from ..gaussians.space import optimised_geometry

    if not args.plyfile:
        raise ValueError("--app gs needs --plyfile, the 3DGS scene to texture.")
    check_scale(args.rgb_view_size, args.latent_view_size)
    scene = load_gaussians(args.plyfile).to(device)
    size = args.rgb_view_size
    if args.source_path is None:
        rig = scene_orbit_cameras(scene.means, scene.scales, size, args.up_vec)
    elif args.dataset_type == "blender":
        rig = blender_cameras(Path(args.source_path) / "transforms_test.json", size)
    else:
        model = Path(args.source_path) / "sparse" / "0"
        rig = colmap_cameras(model if model.is_dir() else Path(args.source_path), size)
    rig = rig.subset(args.total_image_to_use)
    background = torch.full((3,), 1.0 if args.background_color == "white" else -1.0)
    space = GaussianColours(scene, rig, args.latent_view_size, torch.zeros(4), args.iterations, args.feature_lr,
                            args.color_assign_method, args.antialiased, pixel_background=background,
                            zt_init=args.initialize_xt_from_zt, rgb_domain=args.canonical_domain == "rgb",
                            final_iterations=args.final_iterations, clean_background=args.force_clean_composition,
                            optimise=optimised_geometry(vars(args)))
    guidance = ViewGuidance()
    if args.model == "controlnet":
        guidance = control_guidance(args, space.scaled(size // args.latent_view_size).depth_hints())
    guidance = with_attention(guidance, space, args)
    save = partial(save_gaussians_run, frames=args.turntable_frames, size=args.turntable_size)
    return Plan(space, [PROMPT_PREFIX + args.prompt], [args.negative_prompt], save, guidance,
                args.canonical_domain == "rgb")


def save_gaussians_run(plan: Plan, images: Tensor, folder: Path, frames: int = 36, size: int = 512) -> list[Path]:
    """``gaussians.ply`` (only the colours changed), ``view_{i}.png`` and ``turntable.gif``."""
    from ..gaussians import render, save_gaussians, turntable_cameras

    space = plan.space
    pixels = space.scaled(images.shape[-1] // space.view_size[-1])
    colours = (pixels.unproject_final(images.to(space.gaussians.means.device))[0][:, 0].T.float() + 1) / 2
    paths = [save_gaussians(space.gaussians, colours.clamp(0, 1), folder / "gaussians.ply")]
    paths += save_images(pixels.project(colours.T[:, None] * 2 - 1), folder, "view")
    if frames > 0:
        rig = turntable_cameras(space.cameras, space.gaussians.means.mean(0).cpu(), frames, size, 20.0)
        background = ((space.pixel_background + 1) / 2).to(colours.device)
        shown = render(space.gaussians, colours, rig, background, space.antialiased, space.backend).images
        paths.append(save_gif(shown, folder / "turntable.gif"))
    return paths


APPS: dict[str, Callable[[argparse.Namespace, torch.device], Plan]] = {
    "wide_image": wide_image, "ambiguous_image": ambiguous_image, "panorama": panorama, "mesh": mesh,
    "gs": gaussians}
"""Each application of ``--app`` and how it builds its plan."""
