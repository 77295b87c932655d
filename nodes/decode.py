"""Decoding views and stitching them into the canonical image, and encoding a canonical image into views."""
from __future__ import annotations

import torch
from comfy_api.v0_0_2 import io
from torch import Tensor

from ..synctweedies.canvas import ImageCanvas
from .frames import as_views, decode_views, encode_views, shaped_like
from .sockets import OUTPUT, SPACE_TOOLTIP, SyncSpace


def view_latents(space, latent: Tensor) -> Tensor:
    """A LATENT of views ``[N, C, h, w]`` or of the canonical canvas ``[1, C, H, W]`` (either with a time axis of
    one frame) → views ``[N, C, h, w]``."""
    latent = as_views(latent)
    if latent.shape[0] == 1 and tuple(latent.shape[2:]) == tuple(space.canonical_size):
        return space.project(latent[0])
    space.check_views(latent)
    return latent


class DecodeNode(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="SyncTweediesDecode",
            display_name="SyncTweedies Decode",
            category=OUTPUT,
            description="Decodes every view and stitches them into the canonical image (an image canvas: decodes "
                        "the canvas the views make, once).",
            inputs=[io.Vae.Input("vae"),
                    io.Latent.Input("samples", tooltip="The views from a SyncTweedies sampler (or its canvas)."),
                    SyncSpace.Input("space", tooltip=SPACE_TOOLTIP)],
            outputs=[io.Image.Output(display_name="canvas", tooltip="The canonical image, stitched from the views."),
                     io.Image.Output(display_name="views",
                                     tooltip="The canonical image as each view shows it (a crop, a flip, ...).")],
        )

    @classmethod
    def execute(cls, vae, samples, space) -> io.NodeOutput:
        to_image = lambda x: ((x.movedim(-3, -1) + 1) / 2).clamp(0, 1)  # noqa: E731
        views = view_latents(space, samples["samples"])
        if isinstance(space, ImageCanvas):  # one decode of the averaged canvas, not one per overlapping window
            decoded = decode_views(vae, space.unproject(views.float())[0][None]).float()
            canvas = decoded[0].movedim(-1, 0) * 2 - 1
            pixels = space.scaled(canvas.shape[-1] // space.width)
            return io.NodeOutput(to_image(space.crop(canvas)).unsqueeze(0), to_image(pixels.project(canvas)))
        decoded = decode_views(vae, views).float()
        pixels = space.scaled(decoded.shape[1] // space.view_size[0])
        canvas, _ = pixels.unproject_final(decoded.movedim(-1, 1) * 2 - 1)
        return io.NodeOutput(to_image(canvas).unsqueeze(0), to_image(pixels.project(canvas)))


class EncodeNode(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="SyncTweediesEncode",
            display_name="SyncTweedies Encode",
            category=OUTPUT,
            description="Cuts a canonical image (a canvas, a panorama, a mesh texture, an anagram) into the "
                        "space's views and encodes them: the start for editing with the sampler's denoise < 1 (an "
                        "image canvas: encodes the whole image once and cuts its latent).",
            inputs=[io.Vae.Input("vae"),
                    io.Image.Input("image", tooltip="The canonical image, at the space's decoded size."),
                    SyncSpace.Input("space", tooltip=SPACE_TOOLTIP)],
            outputs=[io.Latent.Output(display_name="views", tooltip="One latent per view."),
                     io.Image.Output(display_name="view_images",
                                     tooltip="The image as each view shows it, one per view: per-view ControlNet "
                                             "hints (a tile ControlNet for upscaling).")],
        )

    @classmethod
    def execute(cls, vae, image, space) -> io.NodeOutput:
        pixels = space.scaled(vae.spacial_compression_encode())
        height, width = pixels.canonical_size
        if isinstance(space, ImageCanvas):
            image = space.pad(image.movedim(-1, 1)).movedim(1, -1)
        if tuple(image.shape[1:3]) != (height, width):
            raise ValueError(f"The image is {image.shape[2]}x{image.shape[1]} px but the space's canonical image is "
                             f"{width}x{height}; resize it (e.g. with 'Upscale Image') to that size.")
        canonical = image[0, ..., :3].movedim(-1, 0) * 2 - 1
        views = ((pixels.project(canonical.to(torch.float32)) + 1) / 2).clamp(0, 1).movedim(1, -1)
        if isinstance(space, ImageCanvas):  # one encode of the whole image, cut into windows in latent space
            latent = encode_views(vae, image[:1, ..., :3])
            cut = space.project(as_views(latent).float()[0])
            return io.NodeOutput({"samples": shaped_like(cut, latent)}, views)
        return io.NodeOutput({"samples": encode_views(vae, views).float()}, views)
