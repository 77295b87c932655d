"""360° panoramas: the camera rig, per-view depth hints from a 360 depth map, and saving with GPano XMP."""
from __future__ import annotations

import os
import warnings
from pathlib import Path

import folder_paths
import numpy as np
from comfy_api.v0_0_2 import io, ui
from PIL import Image

from ..synctweedies import Panorama, PanoramaRig
from ..synctweedies.depth import DEPTH_SUFFIXES, depth_hint, read_depth
from ..synctweedies.panorama import perspective_views, save_equirectangular
from .canvas import scaled_space, to_latent
from .files import input_files, input_path
from .notices import warn_user
from .sockets import GUIDANCE, OUTPUT, SCALE_TOOLTIP, SPACES, SyncSpace, latent_scale
from .validation import file_problem, option_problem

MAX_VIEWS = 256
"""The most views a panorama may have (the original uses 8 to 26): each is a view in every model call."""


class PanoramaNode(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        angle = dict(min=-360.0, max=360.0, step=1.0)
        return io.Schema(
            node_id="SyncTweediesPanorama",
            display_name="SyncTweedies 360° Panorama",
            category=SPACES,
            description="A 360° equirectangular panorama painted through perspective views.",
            inputs=[
                io.Float.Input("theta_start", default=0.0, **angle, tooltip="First camera azimuth (degrees)."),
                io.Float.Input("theta_end", default=360.0, **angle, tooltip="Azimuths stop before this."),
                io.Float.Input("theta_interval", default=45.0, min=1.0, max=360.0, step=1.0,
                               tooltip="Degrees between camera azimuths."),
                io.Float.Input("phi_start", default=0.0, min=-90.0, max=90.0, step=1.0,
                               tooltip="First camera elevation (degrees; 0 is the horizon)."),
                io.Float.Input("phi_end", default=1.0, min=-90.0, max=91.0, step=1.0,
                               tooltip="Elevations stop before this (the default gives the horizon only)."),
                io.Float.Input("phi_interval", default=45.0, min=1.0, max=180.0, step=1.0,
                               tooltip="Degrees between camera elevations."),
                io.Float.Input("fov", default=72.0, min=1.0, max=179.0, step=1.0,
                               tooltip="Field of view of each view."),
                io.Int.Input("view_size", default=512, min=64, max=2048, step=8,
                             tooltip="Side of each perspective view in pixels: the model's native resolution."),
                io.Int.Input("latent_height", default=256, min=8, max=1024, step=8,
                             tooltip="Height of the latent equirectangular canvas (width is twice this)."),
                io.Int.Input("rgb_height", default=1024, min=64, max=4096, step=8,
                             tooltip="Height of the decoded equirectangular image (width is twice this)."),
                io.Boolean.Input("feather", optional=True, default=True,
                                 tooltip="Weigh each view less towards its edges when averaging, so views blend "
                                         "in and out; off: a plain mean, as the original."),
                io.Vae.Input("vae", optional=True, tooltip=SCALE_TOOLTIP),
            ],
            outputs=[SyncSpace.Output(display_name="space")],
            hidden=[io.Hidden.unique_id],
        )

    @classmethod
    def execute(cls, theta_start, theta_end, theta_interval, phi_start, phi_end, phi_interval, fov, view_size,
                latent_height, rgb_height, feather=True, vae=None) -> io.NodeOutput:
        cameras = PanoramaRig((theta_start, theta_end), theta_interval, (phi_start, phi_end), phi_interval, fov)
        if len(cameras.angles()) > MAX_VIEWS:
            raise ValueError(f"These angles make {len(cameras.angles())} views; a panorama takes at most {MAX_VIEWS}. "
                             "Widen theta_interval or phi_interval.")
        scale = latent_scale(vae)
        space = scaled_space(Panorama(cameras, to_latent(view_size, "view_size", scale), latent_height, rgb_height,
                                      feather), scale)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            space.check_coverage()
        for warning in caught:
            warn_user(cls, "SyncTweedies 360° Panorama", str(warning.message))
        return io.NodeOutput(space)


class PanoramaDepthNode(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="SyncTweediesPanoramaDepth",
            display_name="SyncTweedies 360° Depth Views",
            category=GUIDANCE,
            description="Cuts a 360° depth map into one depth hint per view, for ControlNet (depth) apply nodes.",
            inputs=[
                io.Combo.Input("depth_map", options=input_files(suffixes=DEPTH_SUFFIXES, what="Depth map"),
                               tooltip=f"A 2:1 equirectangular depth map in the input folder "
                                       f"({', '.join(DEPTH_SUFFIXES)}; 16-bit PNG for integer depth)."),
                SyncSpace.Input("space", tooltip="The space from 'SyncTweedies 360° Panorama'."),
            ],
            outputs=[io.Image.Output(display_name="view_hints", tooltip="One depth hint per view (near is bright)."),
                     io.Image.Output(display_name="equirect", tooltip="The whole depth hint, equirectangular.")],
        )

    @classmethod
    def validate_inputs(cls, depth_map) -> bool | str:
        return file_problem(depth_map, "Depth map", suffixes=DEPTH_SUFFIXES) or True

    @classmethod
    def execute(cls, depth_map: str, space) -> io.NodeOutput:
        if not isinstance(space, Panorama):
            raise ValueError("Depth views need the space from 'SyncTweedies 360° Panorama'.")
        hint = depth_hint(read_depth(input_path(depth_map, "Depth map", DEPTH_SUFFIXES)))[None]
        views = perspective_views(hint, space.rig, space.view_size[0] * space.latent_scale)
        return io.NodeOutput(views.movedim(1, -1).expand(-1, -1, -1, 3).contiguous(),
                             hint.movedim(0, -1).expand(-1, -1, 3)[None].contiguous())


class SavePanoramaNode(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="SyncTweediesSavePanorama",
            display_name="SyncTweedies Save 360° Panorama",
            category=OUTPUT,
            description="Saves equirectangular images with the GPano XMP metadata 360° viewers read, and shows "
                        "them in a 360° viewer (drag to look around).",
            inputs=[io.Image.Input("images", tooltip="Equirectangular images (twice as wide as high)."),
                    io.String.Input("filename_prefix", default="SyncTweedies/panorama"),
                    io.Combo.Input("format", options=["jpg", "png"], default="jpg")],
            outputs=[],
            is_output_node=True,
        )

    @classmethod
    def validate_inputs(cls, format) -> bool | str:
        return option_problem(cls, format=format) or True

    @classmethod
    def execute(cls, images, filename_prefix: str, format: str) -> io.NodeOutput:
        height, width = images.shape[1:3]
        if width != 2 * height:
            raise ValueError(f"The image is {width}x{height}; a 360° panorama is twice as wide as it is high. "
                             "Connect the canvas of 'SyncTweedies Decode' with a panorama space.")
        folder, name, counter, subfolder, _ = folder_paths.get_save_image_path(
            filename_prefix, folder_paths.get_output_directory(), width, height)
        results = []
        for offset, image in enumerate(images):
            file = f"{name}_{counter + offset:05}_.{format}"
            pixels = (image.detach().cpu().numpy().clip(0, 1) * 255).round().astype(np.uint8)
            save_equirectangular(Image.fromarray(pixels), Path(os.path.join(folder, file)))
            results.append(ui.SavedResult(file, subfolder, io.FolderType.output))
        return io.NodeOutput(ui={"panorama": results})  # shown in the 360° viewer (web/), not as a flat preview
