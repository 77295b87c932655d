"""A canvas of windows fitted to an image of any size: the image is padded to whole latent pixels for sampling and
the result cropped back (upscaling and refining images larger than the model's size)."""
from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from .wide_canvas import WideCanvas


class ImageCanvas(WideCanvas):
    """A latent canvas covering an ``image_size`` = ``(height, width)`` px image, rounded up to whole latent pixels
    of ``scale`` px, with windows of ``window`` px every ``stride`` px (both rounded down to whole latent pixels,
    and shrunk to the canvas when the image is smaller than a window)."""

    def __init__(self, height: int, width: int, window: int, stride: int, scale: int, weighting: str = "taper",
                 wrap: bool = False, wrap_vertical: bool = False):
        if height <= 0 or width <= 0:
            raise ValueError(f"The image is {width}x{height} px; it needs at least one pixel each way.")
        rows, cols = -(-height // scale), -(-width // scale)
        window = max(1, min(window // scale, rows, cols))
        super().__init__(rows, cols, window, max(1, min(stride // scale, window)), wrap, weighting, wrap_vertical)
        self.image_size, self.scale = (height, width), scale

    def pad(self, image: Tensor) -> Tensor:
        """The image ``[..., H, W]`` (``image_size``) padded on the bottom and right to whole latent pixels by
        repeating its edge pixels: ``[..., rows * scale, cols * scale]``."""
        if tuple(image.shape[-2:]) != self.image_size:
            raise ValueError(f"The image is {image.shape[-1]}x{image.shape[-2]} px but this canvas was fitted to "
                             f"{self.image_size[1]}x{self.image_size[0]}; connect the same image to both nodes.")
        rows, cols = self.height * self.scale - self.image_size[0], self.width * self.scale - self.image_size[1]
        if not rows and not cols:
            return image
        padded = F.pad(image.reshape(-1, 1, *image.shape[-2:]), (0, cols, 0, rows), mode="replicate")
        return padded.reshape(*image.shape[:-2], *padded.shape[-2:])

    def crop(self, canvas: Tensor) -> Tensor:
        """A decoded canvas ``[..., rows * scale, cols * scale]`` cut back to the image's ``[..., H, W]``."""
        return canvas[..., :self.image_size[0], :self.image_size[1]]

    def __repr__(self) -> str:
        return f"ImageCanvas({self.image_size[1]}x{self.image_size[0]} px, {super().__repr__()})"
