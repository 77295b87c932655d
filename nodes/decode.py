"""Decoding views and stitching them into the canonical image."""
from __future__ import annotations

from comfy_api.latest import io
from torch import Tensor

from .types import CATEGORY, SPACE_TOOLTIP, SyncSpace


def view_latents(space, latent: Tensor) -> Tensor:
    """A LATENT of views ``[N, C, h, w]`` or of the canonical canvas ``[1, C, H, W]`` → views."""
    if latent.ndim == 4 and latent.shape[0] == 1 and tuple(latent.shape[2:]) == tuple(space.canonical_size):
        return space.project(latent[0])
    space.check_views(latent)
    return latent


class DecodeNode(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="SyncTweediesDecode",
            display_name="SyncTweedies Decode",
            category=CATEGORY,
            description="Decodes every view and stitches them into the canonical image.",
            inputs=[io.Vae.Input("vae"),
                    io.Latent.Input("samples", tooltip="The views from a SyncTweedies sampler (or its canvas)."),
                    SyncSpace.Input("space", tooltip=SPACE_TOOLTIP)],
            outputs=[io.Image.Output(display_name="canvas", tooltip="The canonical image, stitched from the views."),
                     io.Image.Output(display_name="views",
                                     tooltip="The canonical image as each view shows it (a crop, a flip, ...).")],
        )

    @classmethod
    def execute(cls, vae, samples, space) -> io.NodeOutput:
        decoded = vae.decode(view_latents(space, samples["samples"]))
        pixels = space.scaled(decoded.shape[1] // space.view_size[0])
        canvas, _ = pixels.unproject(decoded.movedim(-1, 1) * 2 - 1)
        to_image = lambda x: ((x.movedim(-3, -1) + 1) / 2).clamp(0, 1)  # noqa: E731
        return io.NodeOutput(to_image(canvas).unsqueeze(0), to_image(pixels.project(canvas)))
