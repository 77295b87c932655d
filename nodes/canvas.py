"""Wide canvas space and an empty latent of a space's views."""
from __future__ import annotations

import torch
from comfy_api.v0_0_2 import io

from ..synctweedies import WideCanvas
from ..synctweedies.spaces.wide_canvas import WEIGHTINGS
from .types import LATENT_SCALE, SAMPLING, SPACES, SPACE_TOOLTIP, SyncSpace
from .validation import option_problem


def to_latent(pixels: int, name: str) -> int:
    """Pixels → latent pixels; a ValueError that names the input when not a multiple of 8."""
    if pixels % LATENT_SCALE:
        raise ValueError(f"{name} is {pixels} px, which is not divisible by {LATENT_SCALE}. "
                         f"Use a multiple of {LATENT_SCALE}, e.g. {pixels // LATENT_SCALE * LATENT_SCALE}.")
    return pixels // LATENT_SCALE


class WideCanvasNode(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="SyncTweediesWideCanvas",
            display_name="SyncTweedies Wide Canvas",
            category=SPACES,
            description="A canvas larger than the model's image size, painted as overlapping windows.",
            inputs=[
                io.Int.Input("width", default=3072, min=64, max=16384, step=8,
                             tooltip="Canvas width in pixels (a multiple of 8)."),
                io.Int.Input("height", default=512, min=64, max=16384, step=8,
                             tooltip="Canvas height in pixels (a multiple of 8)."),
                io.Int.Input("window", default=512, min=64, max=4096, step=8,
                             tooltip="Size of each square view in pixels: the model's native resolution."),
                io.Int.Input("stride", default=64, min=8, max=4096, step=8,
                             tooltip="Pixels between neighbouring windows; smaller means more views and overlap."),
                io.Boolean.Input("wrap", default=False,
                                 tooltip="Make the canvas a horizontal loop that tiles seamlessly left to right."),
                io.Combo.Input("weighting", options=list(WEIGHTINGS), default="taper",
                               tooltip="How overlapping windows are averaged: taper (windows enter and leave the "
                                       "mean over half a stride: no seams), flat (the original's plain mean; "
                                       "seams at window borders), pyramid (ComfyUI's context windows)."),
            ],
            outputs=[SyncSpace.Output(display_name="space")],
        )

    @classmethod
    def validate_inputs(cls, weighting) -> bool | str:
        return option_problem(cls, weighting=weighting) or True

    @classmethod
    def execute(cls, width: int, height: int, window: int, stride: int, wrap: bool,
                weighting: str = "taper") -> io.NodeOutput:
        return io.NodeOutput(WideCanvas(to_latent(height, "height"), to_latent(width, "width"),
                                        to_latent(window, "window"), to_latent(stride, "stride"), wrap, weighting))


class EmptyLatentNode(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="SyncTweediesEmptyLatent",
            display_name="SyncTweedies Empty Latent",
            category=SAMPLING,
            description="An empty LATENT holding one image per view of the space.",
            inputs=[io.Int.Input("channels", default=4, min=1, max=128,
                                 tooltip="Latent channels; an empty latent is adapted to the model's own count."),
                    SyncSpace.Input("space", tooltip=SPACE_TOOLTIP)],
            outputs=[io.Latent.Output()],
        )

    @classmethod
    def execute(cls, channels: int, space) -> io.NodeOutput:
        return io.NodeOutput({"samples": torch.zeros(space.num_views, channels, *space.view_size)})
