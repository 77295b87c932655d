"""A canvas of windows fitted to an image (upscaling, refining), and a tiled preview of a seamless texture."""
from __future__ import annotations

import torch
from comfy_api.v0_0_2 import io, ui

from ..synctweedies.canvas import WEIGHTINGS, ImageCanvas
from .canvas import scaled_space
from .sockets import OUTPUT, SCALE_TOOLTIP, SPACES, SyncSpace, latent_scale
from .validation import option_problem


class ImageCanvasNode(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="SyncTweediesImageCanvas",
            display_name="SyncTweedies Image Canvas",
            category=SPACES,
            description="A canvas of overlapping windows fitted to an image of any size, for upscaling or refining "
                        "it with 'SyncTweedies Encode' and the sampler at denoise < 1. Sizes that are not whole "
                        "latent pixels are padded for sampling and cropped back by 'SyncTweedies Decode'.",
            inputs=[
                io.Image.Input("image", tooltip="The image to be refined (enlarged first, for upscaling)."),
                io.Int.Input("window", default=512, min=64, max=4096, step=8,
                             tooltip="Size of each square window in pixels: the model's native resolution. An "
                                     "image smaller than a window gets one window its size."),
                io.Int.Input("stride", default=384, min=8, max=4096, step=8,
                             tooltip="Pixels between neighbouring windows (window minus overlap); 384 with 512 px "
                                     "windows overlaps them by 128 px."),
                io.Combo.Input("weighting", options=list(WEIGHTINGS), default="taper",
                               tooltip="How overlapping windows are averaged: taper (no seams), flat (plain mean), "
                                       "pyramid (ComfyUI's context windows)."),
                io.Boolean.Input("wrap", default=False, tooltip="Tile seamlessly left to right (a texture)."),
                io.Boolean.Input("wrap_vertical", default=False, tooltip="Tile seamlessly top to bottom."),
                io.Vae.Input("vae", optional=True, tooltip=SCALE_TOOLTIP),
            ],
            outputs=[SyncSpace.Output(display_name="space")],
        )

    @classmethod
    def validate_inputs(cls, weighting="taper") -> bool | str:
        return option_problem(cls, weighting=weighting) or True

    @classmethod
    def execute(cls, image, window: int, stride: int, weighting: str, wrap: bool, wrap_vertical: bool,
                vae=None) -> io.NodeOutput:
        if image.shape[0] != 1:
            raise ValueError(f"The image input holds {image.shape[0]} images; the canvas is fitted to one. Pick one "
                             "(e.g. with 'Image From Batch').")
        scale = latent_scale(vae)
        space = ImageCanvas(image.shape[1], image.shape[2], window, stride, scale, weighting, wrap, wrap_vertical)
        return io.NodeOutput(scaled_space(space, scale))


class TiledPreviewNode(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="SyncTweediesTiledPreview",
            display_name="SyncTweedies Tiled Preview",
            category=OUTPUT,
            description="Shows an image repeated in a grid, so that a seamless texture's borders can be checked.",
            inputs=[io.Image.Input("image"),
                    io.Int.Input("columns", default=2, min=1, max=8),
                    io.Int.Input("rows", default=2, min=1, max=8)],
            outputs=[io.Image.Output(display_name="tiled")],
            is_output_node=True,
        )

    @classmethod
    def execute(cls, image, columns: int, rows: int) -> io.NodeOutput:
        tiled = torch.tile(image, (1, rows, columns, 1))
        return io.NodeOutput(tiled, ui=ui.PreviewImage(tiled, cls=cls))
