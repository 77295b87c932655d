"""Saving frames as an animation in the output folder, previewed in the UI."""
from __future__ import annotations

import folder_paths
import torch
from comfy_api.v0_0_2 import io, ui
from PIL import Image

ANIMATION_FORMATS = ["webp", "gif"]


def turntable_inputs(filename_prefix: str) -> list[io.Input]:
    """The inputs of a turntable node after what it renders: frame count and size, elevation, speed, file."""
    return [io.Int.Input("frames", default=36, min=2, max=720),
            io.Int.Input("size", default=512, min=16, max=2048, step=8, tooltip="Frame side in pixels."),
            io.Float.Input("elevation", default=20.0, min=-89.0, max=89.0, step=1.0),
            io.Float.Input("fps", default=12.0, min=1.0, max=120.0, step=1.0),
            io.Combo.Input("format", options=ANIMATION_FORMATS, default="webp"),
            io.String.Input("filename_prefix", default=filename_prefix)]


def save_animation(node: type[io.ComfyNode], frames: torch.Tensor, filename_prefix: str, fps: float,
                   format: str) -> ui.SavedImages:
    """Frames ``[F, H, W, 3]`` in [0, 1] → an animated WebP or looping GIF next to (never over) earlier ones."""
    if format == "webp":
        return ui.ImageSaveHelper.get_save_animated_webp_ui(frames, filename_prefix, node, fps, lossless=False,
                                                            quality=90, method=4)
    folder, name, counter, subfolder, _ = folder_paths.get_save_image_path(
        filename_prefix, folder_paths.get_output_directory(), frames.shape[2], frames.shape[1])
    file = f"{name}_{counter:05}_.gif"
    images = [Image.fromarray((frame.numpy() * 255).round().astype("uint8")) for frame in frames]
    images[0].save(f"{folder}/{file}", save_all=True, append_images=images[1:], duration=round(1000 / fps), loop=0)
    return ui.SavedImages([ui.SavedResult(file, subfolder, io.FolderType.output)], is_animated=True)
