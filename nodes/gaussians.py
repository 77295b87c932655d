"""3D Gaussian splat colouring: a 3DGS scene and its cameras as a colour space, and saving the recoloured PLY."""
from __future__ import annotations

from pathlib import Path

import comfy.model_management
import torch
from comfy_api.v0_0_2 import io

from ..synctweedies.gaussians import (GaussianColours, blender_cameras, colmap_cameras, load_gaussians, render,
                                      save_gaussians, scene_orbit_cameras, turntable_cameras)
from ..synctweedies.gaussians.space import (COLOUR_ASSIGN, GEOMETRY_LR, GEOMETRY_LR_OPTIONS, GEOMETRY_SWITCHES,
                                             optimised_geometry)
from ..synctweedies.original import span
from .animation import save_animation, turntable_inputs
from .canvas import scaled_space, to_latent
from .files import input_files, input_path, output_file, saved_files_ui
from .sockets import OUTPUT, SCALE_TOOLTIP, SPACES, SyncSpace, latent_scale
from .validation import file_problem, option_problem

ORBIT = "orbit (no camera file)"
"""The original's geometry options: what each enables, and the learning-rate input of each field."""


def camera_sources() -> list[str]:
    """Blender transforms files and COLMAP models (folders with images.txt or images.bin) in the input folder."""
    models = sorted({str(Path(p).parent) for p in input_files("images.txt") + input_files("images.bin")})
    return [ORBIT, *input_files("transforms*.json"), *models]


def load_cameras(source: str, gaussians, size: int, up: str):
    """Cameras from a camera file or folder in the input folder, or the orbit rig around ``gaussians``."""
    if source == ORBIT:
        return scene_orbit_cameras(gaussians.means, gaussians.scales, size, up)
    if source.endswith(".json"):
        return blender_cameras(input_path(source, "Cameras", (".json",)), size)
    return colmap_cameras(input_path(source, "The COLMAP model", folder=True), size)


def cameras_problem(source) -> str | None:
    """Why ``source`` is not a camera source in the input folder (None if it is, or is the orbit)."""
    if source is None or source == ORBIT:
        return None
    if isinstance(source, str) and source.endswith(".json"):
        return file_problem(source, "Cameras", suffixes=(".json",))
    return file_problem(source, "The COLMAP model", folder=True)


class GaussiansNode(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="SyncTweediesGaussians",
            display_name="SyncTweedies 3D Gaussians",
            category=SPACES,
            description="The colours of a 3D Gaussian Splatting scene painted through its cameras' views.",
            inputs=[
                io.Combo.Input("ply", options=input_files("*.ply", what="Gaussians"),
                               tooltip="A 3DGS .ply in the input folder."),
                io.Combo.Input("cameras", options=camera_sources(), default=ORBIT,
                               tooltip="A Blender transforms_*.json or a COLMAP model folder (text or binary) in the "
                                       "input folder, or an orbit of 10 cameras around the scene."),
                io.Int.Input("total_image_to_use", default=50, **span("total_image_to_use"),
                             tooltip="At most this many cameras, spread evenly over those of the camera file (the "
                                     "orbit has 10)."),
                io.Combo.Input("up_vec", options=["z", "y"], default="z", tooltip="The scene's up axis (orbit)."),
                io.Int.Input("view_size", default=512, **span("rgb_view_size"), step=8,
                             tooltip="View side in pixels."),
                io.Boolean.Input("antialiased", default=True,
                                 tooltip="On for scenes trained with gsplat's antialiased mode, off for the "
                                         "original 3DGS."),
                io.Combo.Input("background_color", options=["white", "black"], default="white"),
                io.Combo.Input("canonical_domain", options=["rgb", "latent"], default="rgb",
                               tooltip="rgb: colours are RGB, views averaged as images (connect the VAE to the "
                                       "sampler); latent: colours are latents."),
                io.Int.Input("iterations", default=1000, min=0, max=100000,
                             tooltip="Adam steps (one view each) fitting the colours to the views at every step."),
                io.Int.Input("final_iterations", default=4000, min=0, max=100000,
                             tooltip="Adam steps of the last fit, the colours that are saved (Decode)."),
                io.Float.Input("lr", default=0.025, min=0.0001, max=10.0, step=0.001, tooltip="Adam's learning rate."),
                io.Combo.Input("color_assign_method", options=list(COLOUR_ASSIGN), default="previous",
                               tooltip="Where each fit starts: previous (the last fit; the original's), zero, or "
                                       "instance (the views splatted into the Gaussians)."),
                io.Boolean.Input("zt_init", default=True,
                                 tooltip="Start from noise the Gaussians carry as points (consistent across views)."),
                io.Boolean.Input("force_clean_composition", default=True,
                                 tooltip="Synchronized views show the background colour behind the Gaussians (the "
                                         "original's flag, in its example); off: each keeps its own background."),
                *[io.Boolean.Input(name, default=False, tooltip=f"Also optimise the Gaussians' {', '.join(fields)} in "
                                   "every fit (the scene changes for the run; the saved .ply keeps it).")
                  for name, fields in GEOMETRY_SWITCHES.items()],
                *[io.Float.Input(name, default=GEOMETRY_LR[field], min=0.0, max=1.0, step=0.0001,
                                 tooltip=f"Adam's learning rate for the {field}.")
                  for field, name in GEOMETRY_LR_OPTIONS.items()],
                io.Vae.Input("vae", optional=True, tooltip=SCALE_TOOLTIP),
            ],
            outputs=[SyncSpace.Output(display_name="space"),
                     io.Image.Output(display_name="depth", tooltip="Inverse depth per view, for ControlNet apply.")],
        )

    @classmethod
    def validate_inputs(cls, ply, cameras, up_vec, background_color, canonical_domain,
                        color_assign_method) -> bool | str:
        return file_problem(ply, "Gaussians", suffixes=(".ply",)) or cameras_problem(cameras) \
            or option_problem(cls, up_vec=up_vec, background_color=background_color, canonical_domain=canonical_domain,
                              color_assign_method=color_assign_method) or True

    @classmethod
    def execute(cls, ply, cameras, total_image_to_use, up_vec, view_size, antialiased, background_color,
                canonical_domain, iterations, lr, color_assign_method, zt_init, final_iterations=4000,
                force_clean_composition=True, **geometry) -> io.NodeOutput:
        device = comfy.model_management.get_torch_device()
        gaussians = load_gaussians(input_path(ply, "Gaussians", (".ply",))).to(device)
        rig = load_cameras(cameras, gaussians, view_size, up_vec).subset(total_image_to_use)
        rgb = torch.full((3,), 1.0 if background_color == "white" else -1.0)
        scale = latent_scale(geometry.pop("vae", None))
        space = GaussianColours(gaussians, rig, to_latent(view_size, "view_size", scale), torch.zeros(1), iterations,
                                lr, color_assign_method, antialiased, pixel_background=rgb, zt_init=zt_init,
                                rgb_domain=canonical_domain == "rgb", final_iterations=final_iterations,
                                clean_background=force_clean_composition,
                                optimise=optimised_geometry(geometry))
        space = scaled_space(space, scale)
        depth = space.scaled(space.latent_scale).depth_hints()
        return io.NodeOutput(space, depth[..., None].expand(-1, -1, -1, 3).contiguous())


def colour_inputs() -> list[io.Input]:
    """The inputs of the nodes that use finished colours: the Decode canvas and its Gaussians space."""
    return [io.Image.Input("colours", tooltip="The canvas of 'SyncTweedies Decode'."),
            SyncSpace.Input("space", tooltip="The space from 'SyncTweedies 3D Gaussians'.")]


def require_gaussians(space, what: str) -> None:
    if not isinstance(space, GaussianColours):
        raise ValueError(f"{what} needs the space from 'SyncTweedies 3D Gaussians'.")


def colours_of(image: torch.Tensor, space) -> torch.Tensor:
    """The Decode canvas ``[1, 1, G, 3]`` → colours ``[G, 3]`` in [0, 1]."""
    if tuple(image.shape[1:3]) != (1, len(space.gaussians)):
        raise ValueError(f"The colours must be the Decode canvas of this space ([1, 1, {len(space.gaussians)}, 3]); "
                         f"got {list(image.shape)}.")
    return image[0, 0].float()


class SaveGaussiansNode(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="SyncTweediesSaveGaussians",
            display_name="SyncTweedies Save 3D Gaussians",
            category=OUTPUT,
            description="Saves the recoloured scene as a 3DGS .ply (only the colours change) for any 3DGS viewer.",
            inputs=[*colour_inputs(), io.String.Input("filename_prefix", default="SyncTweedies/gaussians")],
            outputs=[io.String.Output(display_name="path")],
            is_output_node=True,
        )

    @classmethod
    def execute(cls, colours, space, filename_prefix) -> io.NodeOutput:
        require_gaussians(space, "Saving Gaussians")
        path, _ = output_file(filename_prefix, ".ply")
        path = save_gaussians(space.gaussians, colours_of(colours, space), path)
        return io.NodeOutput(str(path), ui=saved_files_ui([path]))


class GaussiansTurntableNode(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="SyncTweediesGaussiansTurntable",
            display_name="SyncTweedies 3D Gaussians Turntable",
            category=OUTPUT,
            description="Renders the recoloured scene turning once around, saves the animation and previews it.",
            inputs=[*colour_inputs(), *turntable_inputs("SyncTweedies/gaussians_turntable")],
            outputs=[io.Image.Output(display_name="frames")],
            is_output_node=True,
            hidden=[io.Hidden.prompt, io.Hidden.extra_pnginfo],
        )

    @classmethod
    def validate_inputs(cls, format) -> bool | str:
        return option_problem(cls, format=format) or True

    @classmethod
    def execute(cls, colours, space, frames, size, elevation, fps, format, filename_prefix) -> io.NodeOutput:
        require_gaussians(space, "The turntable")
        gaussians = space.gaussians
        rig = turntable_cameras(space.cameras, gaussians.means.mean(0).cpu(), frames, size, elevation)
        background = (space.pixel_background + 1) / 2
        device = gaussians.means.device
        shown = render(gaussians, colours_of(colours, space).to(device), rig, background.to(device),
                       space.antialiased, space.backend).images
        images = shown.movedim(1, -1).clamp(0, 1).cpu()
        return io.NodeOutput(images, ui=save_animation(cls, images, filename_prefix, fps, format))
