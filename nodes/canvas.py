"""Wide canvas space and an empty latent of a space's views."""
from __future__ import annotations

import torch
from comfy_api.v0_0_2 import io

from ..synctweedies import WideCanvas
from ..synctweedies.canvas import WEIGHTINGS, coarse_problem, windows_problem
from ..synctweedies.original import span
from .sockets import LATENT_SCALE, SAMPLING, SCALE_TOOLTIP, SPACES, SPACE_TOOLTIP, SyncSpace, latent_scale
from .validation import option_problem


def to_latent(pixels: int, name: str, scale: int = LATENT_SCALE) -> int:
    """Pixels → latent pixels of a VAE of ``scale`` pixels per latent pixel; a ValueError that names the input
    when not a multiple of it."""
    if pixels % scale or pixels < scale:
        raise ValueError(f"{name} is {pixels} px, which is not a multiple of {scale} (the VAE's pixels per latent "
                         f"pixel). Use a multiple of {scale}, e.g. {max(pixels // scale, 1) * scale}.")
    return pixels // scale


def canvas_problem(width, height, window, stride, wrap, scale: int = LATENT_SCALE,
                   wrap_vertical: bool = False, coarse_until=0.0) -> str | None:
    """Why a canvas of these sizes in pixels cannot be sampled, for its coarse windows or its number of windows
    (None otherwise, and for values given by links or sizes not multiples of the VAE's scale, which execution
    reports)."""
    sizes = (width, height, window, stride)
    if not all(isinstance(value, int) and value >= scale and value % scale == 0 for value in sizes) \
            or not isinstance(coarse_until, (int, float)):
        return None
    width, height, window, stride = (value // scale for value in sizes)
    if window > min(width, height) or stride > window:
        return None
    return coarse_problem(window, stride, coarse_until, scale, "pixels") \
        or windows_problem(height, width, window, stride, bool(wrap), scale, "pixels", bool(wrap_vertical))


def scaled_space(space, scale: int):
    """``space`` marked with its VAE's pixels per latent pixel (hint nodes size their images by it)."""
    space.latent_scale = scale
    return space


class WideCanvasNode(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="SyncTweediesWideCanvas",
            display_name="SyncTweedies Wide Canvas",
            category=SPACES,
            description="A canvas larger than the model's image size, painted as overlapping windows.",
            inputs=[
                io.Int.Input("width", default=3072, **span("panorama_width"), step=8,
                             tooltip="Canvas width in pixels (a multiple of 8)."),
                io.Int.Input("height", default=512, **span("panorama_height"), step=8,
                             tooltip="Canvas height in pixels (a multiple of 8)."),
                io.Int.Input("window", default=512, min=64, max=4096, step=8,
                             tooltip="Size of each square view in pixels: the model's native resolution."),
                io.Int.Input("stride", default=64, min=8, max=4096, step=8,
                             tooltip="Pixels between neighbouring windows; smaller means more views and overlap."),
                io.Boolean.Input("wrap", default=False,
                                 tooltip="Make the canvas a horizontal loop that tiles seamlessly left to right."),
                io.Combo.Input("weighting", options=list(WEIGHTINGS), optional=True, default="taper",
                               tooltip="How overlapping windows are averaged: taper (windows enter and leave the "
                                       "mean over half a stride: no seams), flat (the original's plain mean; "
                                       "seams at window borders), pyramid (ComfyUI's context windows)."),
                io.Vae.Input("vae", optional=True, tooltip=SCALE_TOOLTIP),
                io.Boolean.Input("wrap_vertical", optional=True, default=False,
                                 tooltip="Make the canvas a vertical loop too: with wrap, a texture that tiles "
                                         "seamlessly in both directions."),
                io.Float.Input("coarse_until", optional=True, default=0.0, min=0.0, max=1.0, step=0.05,
                               tooltip="For this first fraction of the steps the model runs only every other window "
                                       "(windows twice the stride apart), and their mean gives the rest theirs: "
                                       "fewer model calls. 0 runs every window at every step (the original). At "
                                       "0.8 the 512x3072 canvas runs 25 windows a step for 41, as seamless and as "
                                       "close to the data. Needs a stride of at most half the window."),
            ],
            outputs=[SyncSpace.Output(display_name="space")],
        )

    @classmethod
    def validate_inputs(cls, width, height, window, stride, wrap, weighting="flat",
                        wrap_vertical=False, coarse_until=0.0) -> bool | str:
        """Refuses, before anything runs, a canvas of more windows than can be sampled (sized for an 8x VAE)."""
        return option_problem(cls, weighting=weighting) \
            or canvas_problem(width, height, window, stride, wrap, wrap_vertical=wrap_vertical,
                              coarse_until=coarse_until) or True

    @classmethod
    def execute(cls, width: int, height: int, window: int, stride: int, wrap: bool,
                weighting: str = "flat", vae=None, wrap_vertical: bool = False,
                coarse_until: float = 0.0) -> io.NodeOutput:
        scale = latent_scale(vae)
        size = lambda pixels, name: to_latent(pixels, name, scale)  # noqa: E731
        problem = canvas_problem(width, height, window, stride, wrap, scale, wrap_vertical, coarse_until)
        if problem:
            raise ValueError(problem)
        space = WideCanvas(size(height, "height"), size(width, "width"), size(window, "window"),
                           size(stride, "stride"), wrap, weighting, wrap_vertical, coarse_until)
        return io.NodeOutput(scaled_space(space, scale))


class EmptyLatentNode(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="SyncTweediesEmptyLatent",
            display_name="SyncTweedies Empty Latent",
            category=SAMPLING,
            description="An empty LATENT holding one image per view of the space; samplers give it the model's own "
                        "channels (and a time axis for video-VAE models such as Qwen-Image).",
            inputs=[SyncSpace.Input("space", tooltip=SPACE_TOOLTIP)],
            outputs=[io.Latent.Output()],
        )

    @classmethod
    def execute(cls, space) -> io.NodeOutput:
        return io.NodeOutput({"samples": torch.zeros(space.num_views, 4, *space.view_size)})
